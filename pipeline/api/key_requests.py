"""Checking the bodies of the key-management requests, without HTTP."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipeline.contract.fields import Checker, Integer, Text, TextList, wrong_type
from pipeline.errors import FieldError, InvalidRecord
from pipeline.storage.tenants import (
    DEFAULT_BURST,
    DEFAULT_RATE_PER_SECOND,
    MAX_GRACE_SECONDS,
    SCOPES,
)

DEFAULT_GRACE_SECONDS = 86_400


@dataclass(frozen=True)
class NewKey:
    scopes: list[str]
    label: str
    rate_per_second: float
    burst: int


def _check(body: Any, fields: Mapping[str, tuple[Checker, bool]]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidRecord([wrong_type("(body)", "a JSON object", body)])
    errors: list[FieldError] = []
    for name in body:
        if name not in fields:
            errors.append(FieldError(str(name)[:64], "unknown_field", "is not a field here"))
    for name, (checker, required) in fields.items():
        if body.get(name) is None:
            if required:
                errors.append(FieldError(name, "required", "is required"))
            continue
        errors.extend(checker.check(body[name], name))
    if errors:
        raise InvalidRecord(errors)
    return body


class _Rate:
    def check(self, value: Any, path: str) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            yield wrong_type(path, "a number", value)
        elif not 0 < value <= 10_000:
            yield FieldError(path, "out_of_range", "must be above 0 and at most 10000")


class _Scopes:
    def check(self, value: Any, path: str) -> Any:
        errors = list(TextList(Text(1, 16), 1, len(SCOPES)).check(value, path))
        if errors:
            yield from errors
            return
        for index, scope in enumerate(value):
            if scope not in SCOPES:
                yield FieldError(f"{path}[{index}]", "enum",
                                 f"{scope!r} is not one of: {', '.join(SCOPES)}")


def new_key(body: Any) -> NewKey:
    checked = _check(body, {
        "scopes": (_Scopes(), True),
        "label": (Text(0, 100), False),
        "rate_per_second": (_Rate(), False),
        "burst": (Integer(1, 100_000), False),
    })
    return NewKey(
        scopes=list(checked["scopes"]),
        label=str(checked.get("label") or ""),
        rate_per_second=float(checked.get("rate_per_second") or DEFAULT_RATE_PER_SECOND),
        burst=int(checked.get("burst") or DEFAULT_BURST),
    )


def grace_seconds(body: Any) -> int:
    checked = _check(body if body is not None else {}, {
        "grace_seconds": (Integer(0, MAX_GRACE_SECONDS), False),
    })
    value = checked.get("grace_seconds")
    return DEFAULT_GRACE_SECONDS if value is None else int(value)
