"""Safe JSON parsing for records that arrive from outside.

Python's ``json`` accepts ``NaN``, ``Infinity`` and repeated keys, and lets a
deeply nested document exhaust the stack; none of that may reach validation.
"""

from __future__ import annotations

import json
from typing import Any

from pipeline.errors import FieldError, InvalidRecord

# One event is at most 20,000 chars of content plus small fields; 1 MiB leaves
# room for 4-byte UTF-8 and escapes while refusing megabyte-scale abuse early.
MAX_RECORD_BYTES = 1_048_576
_MAX_DEPTH = 8

RECORD = "(record)"


def _reject_constant(name: str) -> Any:
    raise InvalidRecord(
        [FieldError(RECORD, "not_finite", f"{name} is not allowed; numbers must be finite")]
    )


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise InvalidRecord(
                [FieldError(key, "duplicate_key", f"key {key!r} appears more than once")]
            )
        obj[key] = value
    return obj


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of a parsed document, stopping early past ``limit``."""
    if limit < 0:
        return 0
    if isinstance(value, dict):
        return 1 + max((_depth(v, limit - 1) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v, limit - 1) for v in value), default=0)
    return 0


def parse_json(data: bytes, *, max_bytes: int = MAX_RECORD_BYTES) -> Any:
    """Decode UTF-8 JSON strictly; raise :class:`InvalidRecord` naming what is wrong."""
    if len(data) > max_bytes:
        raise InvalidRecord(
            [FieldError(RECORD, "too_large", f"record is {len(data)} bytes; limit is {max_bytes}")]
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRecord(
            [FieldError(RECORD, "utf8", f"not valid UTF-8 at byte {exc.start}")]
        ) from None
    try:
        value = json.loads(
            text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicate_keys
        )
    except json.JSONDecodeError as exc:
        raise InvalidRecord(
            [FieldError(RECORD, "json", f"not valid JSON: {exc.msg} at char {exc.pos}")]
        ) from None
    except RecursionError:
        raise InvalidRecord([FieldError(RECORD, "too_deep", "JSON nested too deeply")]) from None
    if _depth(value, _MAX_DEPTH + 1) > _MAX_DEPTH:
        raise InvalidRecord(
            [FieldError(RECORD, "too_deep", f"JSON nested deeper than {_MAX_DEPTH} levels")]
        )
    return value
