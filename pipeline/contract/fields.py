"""Checkers for single fields of the event contract.

Each checker is a small value object whose ``check(value, path)`` yields
:class:`FieldError` for every rule the value breaks. ``path`` names the field
as the sender wrote it, so an error always says where to look.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Protocol
from zoneinfo import available_timezones

from pipeline.contract.countries import ISO_3166_ALPHA2
from pipeline.errors import FieldError

# RFC 3339 date-time: offset required; 'T' or space; fraction up to nanoseconds.
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def wrong_type(path: str, expected: str, value: Any) -> FieldError:
    return FieldError(path, "type", f"must be {expected}, got {_type_name(value)}")


class Checker(Protocol):
    def check(self, value: Any, path: str) -> Iterator[FieldError]: ...


@dataclass(frozen=True)
class Text:
    """A string of ``min_len..max_len`` characters, optionally matching a pattern."""

    min_len: int = 1
    max_len: int = 256
    pattern: re.Pattern[str] | None = None
    pattern_says: str = ""

    def check(self, value: Any, path: str) -> Iterator[FieldError]:
        if not isinstance(value, str):
            yield wrong_type(path, "a string", value)
            return
        if len(value) < self.min_len:
            yield FieldError(path, "min_length", f"must have at least {self.min_len} characters")
            return
        if len(value) > self.max_len:
            yield FieldError(
                path,
                "max_length",
                f"has {len(value)} characters; at most {self.max_len} allowed",
            )
            return
        if "\x00" in value:
            yield FieldError(path, "nul_char", "must not contain the NUL character")
            return
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                yield FieldError(path, "unicode", "contains an unpaired UTF-16 surrogate")
                return
        if self.pattern is not None and not self.pattern.fullmatch(value):
            yield FieldError(path, "pattern", f"must be {self.pattern_says}")


@dataclass(frozen=True)
class Choice:
    """One of a fixed set of strings."""

    values: tuple[str, ...]

    def check(self, value: Any, path: str) -> Iterator[FieldError]:
        if not isinstance(value, str):
            yield wrong_type(path, "a string", value)
        elif value not in self.values:
            shown = value if len(value) <= 40 else value[:40] + "…"
            yield FieldError(
                path, "enum", f"{shown!r} is not one of: {', '.join(self.values)}"
            )


@dataclass(frozen=True)
class Timestamp:
    """An RFC 3339 date-time with an explicit offset, inside a sane range."""

    earliest: datetime
    latest: datetime

    def parse(self, value: str) -> datetime | None:
        """The aware datetime for a valid value, else None (``check`` says why)."""
        match = _RFC3339.match(value)
        if match is None:
            return None
        fraction = match.group(7) or ""
        micros = fraction[1:7].ljust(6, "0") if fraction else "000000"
        offset = match.group(8).upper().replace("Z", "+00:00")
        base = value[:19].replace("t", "T").replace(" ", "T")
        try:
            return datetime.fromisoformat(f"{base}.{micros}{offset}")
        except ValueError:
            return None

    def check(self, value: Any, path: str) -> Iterator[FieldError]:
        if not isinstance(value, str):
            yield wrong_type(path, "an RFC 3339 timestamp string", value)
            return
        if len(value) > 40 or _RFC3339.match(value) is None:
            yield FieldError(
                path,
                "timestamp",
                "must be an RFC 3339 timestamp with an offset, e.g. 2026-03-01T21:14:05+00:00",
            )
            return
        parsed = self.parse(value)
        if parsed is None:
            yield FieldError(path, "timestamp", "is not a real calendar date and time")
            return
        if parsed.utcoffset() is not None and abs(parsed.utcoffset().total_seconds()) > 18 * 3600:  # type: ignore[union-attr]
            yield FieldError(path, "timestamp", "offset must be within ±18:00")
            return
        if not self.earliest <= parsed < self.latest:
            yield FieldError(
                path,
                "out_of_range",
                f"must be between {self.earliest.year} and {self.latest.year - 1}",
            )


@dataclass(frozen=True)
class Integer:
    """A whole number (JSON booleans are not numbers here) in a range."""

    minimum: int
    maximum: int

    def check(self, value: Any, path: str) -> Iterator[FieldError]:
        if isinstance(value, bool) or not isinstance(value, int):
            yield wrong_type(path, "an integer", value)
        elif not self.minimum <= value <= self.maximum:
            yield FieldError(
                path, "out_of_range", f"must be between {self.minimum} and {self.maximum}"
            )


@dataclass(frozen=True)
class Hex:
    """Exactly ``length`` hexadecimal digits."""

    length: int
    lowercase_only: bool = True

    def check(self, value: Any, path: str) -> Iterator[FieldError]:
        if not isinstance(value, str):
            yield wrong_type(path, "a hex string", value)
            return
        digits = "0123456789abcdef" if self.lowercase_only else "0123456789abcdefABCDEF"
        if len(value) != self.length or any(c not in digits for c in value):
            case = "lowercase " if self.lowercase_only else ""
            yield FieldError(path, "hex", f"must be exactly {self.length} {case}hex digits")


@dataclass(frozen=True)
class TextList:
    """An array of ``min_items..max_items`` distinct strings."""

    item: Text
    min_items: int
    max_items: int

    def check(self, value: Any, path: str) -> Iterator[FieldError]:
        if not isinstance(value, list):
            yield wrong_type(path, "an array of strings", value)
            return
        if not self.min_items <= len(value) <= self.max_items:
            yield FieldError(
                path,
                "items",
                f"has {len(value)} items; must have {self.min_items} to {self.max_items}",
            )
            return
        seen: dict[str, int] = {}
        for index, entry in enumerate(value):
            entry_path = f"{path}[{index}]"
            errors = list(self.item.check(entry, entry_path))
            if errors:
                yield from errors
                continue
            if entry in seen:
                yield FieldError(entry_path, "unique", f"repeats {path}[{seen[entry]}]")
            else:
                seen[entry] = index


@dataclass(frozen=True)
class Mapping:
    """An object with at most ``max_entries`` keys, each value checked by ``values``."""

    values: Checker
    max_entries: int = 32
    key: Text = field(default_factory=lambda: Text(1, 64))

    def check(self, value: Any, path: str) -> Iterator[FieldError]:
        if not isinstance(value, dict):
            yield wrong_type(path, "an object", value)
            return
        if len(value) > self.max_entries:
            yield FieldError(
                path, "items", f"has {len(value)} keys; at most {self.max_entries} allowed"
            )
            return
        for name, entry in value.items():
            key_errors = list(self.key.check(name, f"{path} key"))
            if key_errors:
                yield from key_errors
                continue
            yield from self.values.check(entry, f"{path}.{name}")


@dataclass(frozen=True)
class UnitNumber:
    """A finite number in [0, 1]."""

    def check(self, value: Any, path: str) -> Iterator[FieldError]:
        if isinstance(value, bool) or not isinstance(value, int | float):
            yield wrong_type(path, "a number", value)
        elif not math.isfinite(value) or not 0.0 <= value <= 1.0:
            yield FieldError(path, "out_of_range", "must be a number between 0 and 1")


@dataclass(frozen=True)
class IpAddress:
    """An IPv4 or IPv6 address in its usual text form."""

    def check(self, value: Any, path: str) -> Iterator[FieldError]:
        if not isinstance(value, str):
            yield wrong_type(path, "an IP address string", value)
            return
        try:
            ipaddress.ip_address(value if len(value) <= 64 else "")
        except ValueError:
            yield FieldError(path, "ip", "must be an IPv4 or IPv6 address")


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


@dataclass(frozen=True)
class Timezone:
    """An IANA time zone name known to the tz database."""

    def check(self, value: Any, path: str) -> Iterator[FieldError]:
        if not isinstance(value, str):
            yield wrong_type(path, "an IANA time zone name", value)
        elif value not in _timezones():
            yield FieldError(path, "timezone", "must be an IANA time zone, e.g. Europe/Berlin")


@dataclass(frozen=True)
class Country:
    """An assigned ISO 3166-1 alpha-2 code, upper case."""

    def check(self, value: Any, path: str) -> Iterator[FieldError]:
        if not isinstance(value, str):
            yield wrong_type(path, "an ISO 3166-1 alpha-2 code", value)
        elif value not in ISO_3166_ALPHA2:
            yield FieldError(path, "country", "must be an ISO 3166-1 alpha-2 code, e.g. DE")


EPOCH_FLOOR = datetime(1990, 1, 1, tzinfo=UTC)
EPOCH_CEILING = datetime(2100, 1, 1, tzinfo=UTC)
