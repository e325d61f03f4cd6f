"""Checks of the evidence endpoints' parameters and bodies (pure).

Each raises :class:`InvalidEvidenceRequest` naming the field and the rule.
"""

from __future__ import annotations

import re
from typing import Any, Final

from pipeline.evidence.errors import InvalidEvidenceRequest

PACKAGE_ID: Final = re.compile(r"pkg_[0-9a-f]{32}")
MAX_REASON: Final = 500
MAX_REFERENCE: Final = 256
MAX_EXTENSION_DAYS: Final = 3650


def package_id(value: str) -> str:
    if not PACKAGE_ID.fullmatch(value):
        raise InvalidEvidenceRequest("package_id", "format",
                                     "a package id is pkg_ and 32 lowercase hex digits")
    return value


def _text(value: object, field: str, limit: int, what: str) -> str:
    if value is None:
        raise InvalidEvidenceRequest(field, "required", f"give {what}")
    if not isinstance(value, str):
        raise InvalidEvidenceRequest(field, "type", "must be a string")
    if not value.strip():
        raise InvalidEvidenceRequest(field, "required", f"give {what}; it must not be blank")
    if len(value) > limit:
        raise InvalidEvidenceRequest(field, "max_length",
                                     f"{len(value)} characters; at most {limit}")
    if not value.isprintable():
        raise InvalidEvidenceRequest(field, "characters", "control or non-printable characters")
    return value.strip()


def reason(value: object) -> str:
    """Why the package is read: required, 1..500 printable characters."""
    return _text(value, "reason", MAX_REASON, "the reason for reading this package")


def _object(body: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidEvidenceRequest("(body)", "type", "the body must be a JSON object")
    for name in sorted(body):
        if name not in allowed:
            raise InvalidEvidenceRequest(name, "unknown", f"unknown field; allowed: "
                                         f"{', '.join(sorted(allowed))}")
    return body


def hold_body(body: Any) -> str:
    """``{"reference": ...}``: the law-enforcement request behind the hold."""
    fields = _object(body, {"reference"})
    return _text(fields.get("reference"), "reference", MAX_REFERENCE,
                 "the reference of the request behind the hold")


def extend_body(body: Any) -> tuple[str, int]:
    """``{"days": 1..3650, "reference": ...}``: how much later, and why."""
    fields = _object(body, {"days", "reference"})
    days = fields.get("days")
    if days is None:
        raise InvalidEvidenceRequest("days", "required", "give the days to extend by")
    if isinstance(days, bool) or not isinstance(days, int):
        raise InvalidEvidenceRequest("days", "type", "must be a whole number")
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        raise InvalidEvidenceRequest("days", "range",
                                     f"{days} is not from 1 to {MAX_EXTENSION_DAYS}")
    reference = _text(fields.get("reference"), "reference", MAX_REFERENCE,
                      "the reference of the preservation request")
    return reference, days
