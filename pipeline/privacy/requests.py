"""The erasure request body: ``{"user_id", "reason", "requested_by"}``, checked field by field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from pipeline.contract.spec import USER_ID
from pipeline.privacy.errors import InvalidErasureRequest

MAX_REASON: Final = 500
MAX_REQUESTED_BY: Final = 256
FIELDS: Final = ("user_id", "reason", "requested_by")


@dataclass(frozen=True)
class ErasureRequest:
    """Erase ``user_id`` (the platform's raw user id; never stored or logged as given)."""

    user_id: str
    reason: str
    requested_by: str

    def __repr__(self) -> str:  # keeps the raw id out of tracebacks and logs
        return "ErasureRequest(user_id=<redacted>)"


def _text(body: Mapping[str, Any], name: str, limit: int) -> str:
    value = body.get(name)
    if value is None:
        raise InvalidErasureRequest(name, "required", "is required")
    if not isinstance(value, str):
        raise InvalidErasureRequest(name, "type", f"must be a string, not {type(value).__name__}")
    if not value.strip():
        raise InvalidErasureRequest(name, "blank", "must not be blank")
    if len(value) > limit:
        raise InvalidErasureRequest(name, "max_length",
                                    f"has {len(value)} characters; at most {limit} allowed")
    if "\x00" in value:
        raise InvalidErasureRequest(name, "nul_char", "must not contain the NUL character")
    return value


def erasure_request(body: Any) -> ErasureRequest:
    """The request in ``body`` (parsed JSON); raises naming the first field at fault."""
    if not isinstance(body, Mapping):
        raise InvalidErasureRequest("(body)", "type", "must be a JSON object with "
                                    + ", ".join(FIELDS))
    unknown = sorted(str(k) for k in body if k not in FIELDS)
    if unknown:
        raise InvalidErasureRequest(unknown[0], "unknown_field",
                                    f"is not a field of an erasure request ({', '.join(FIELDS)})")
    user_id = _text(body, "user_id", USER_ID.max_len)
    errors = list(USER_ID.check(user_id, "user_id"))
    if errors:
        raise InvalidErasureRequest("user_id", errors[0].rule, errors[0].message)
    return ErasureRequest(user_id, _text(body, "reason", MAX_REASON),
                          _text(body, "requested_by", MAX_REQUESTED_BY))
