"""Small helpers for the compact binary encodings of states and signals.

Every encoded record starts with a one-byte format version; readers refuse
versions they do not know with :class:`StateFormatError`. Integers are
little-endian, strings are UTF-8 with a two-byte length.
"""

from __future__ import annotations

import struct
import zlib
from typing import Final

from pipeline.errors import WardstreamError

_STR_LEN: Final = struct.Struct("<H")


class StateFormatError(WardstreamError):
    """A stored state or signal could not be decoded.

    The bytes come from a newer or corrupted release. Restore the table from
    its changelog with the release that wrote it, or replay the input.
    """


def id_hash(pseudonym: str) -> int:
    """A stable 32-bit hash of a pseudonym, for small capped sets of ids."""
    return zlib.crc32(pseudonym.encode())


def pack_str(value: str) -> bytes:
    data = value.encode()
    if len(data) > 0xFFFF:
        raise ValueError("string too long for a state record")
    return _STR_LEN.pack(len(data)) + data


class Reader:
    """Reads fields in order from an encoded record."""

    __slots__ = ("_data", "_pos")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def unpack(self, layout: struct.Struct) -> tuple[int, ...]:
        end = self._pos + layout.size
        if end > len(self._data):
            raise StateFormatError("record is truncated")
        values = layout.unpack_from(self._data, self._pos)
        self._pos = end
        return values

    def raw(self, size: int) -> bytes:
        end = self._pos + size
        if end > len(self._data):
            raise StateFormatError("record is truncated")
        chunk = self._data[self._pos : end]
        self._pos = end
        return chunk

    def string(self) -> str:
        (size,) = self.unpack(_STR_LEN)
        try:
            return self.raw(size).decode()
        except UnicodeDecodeError:
            raise StateFormatError("record holds invalid UTF-8") from None

    def done(self) -> None:
        if self._pos != len(self._data):
            raise StateFormatError(f"{len(self._data) - self._pos} unexpected trailing bytes")


def check_version(reader: Reader, expected: int, what: str) -> None:
    (version,) = reader.unpack(struct.Struct("<B"))
    if version != expected:
        raise StateFormatError(f"{what} format {version}; this build reads {expected}")
