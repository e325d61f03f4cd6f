"""Validation of one platform event against the contract.

``validate_event`` collects every broken rule (not just the first) so a sender
can fix a record in one go. ``null`` for an optional field means "absent", the
way Avro decodes a missing optional field; it is never stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pipeline.contract.fields import EPOCH_CEILING, EPOCH_FLOOR, wrong_type
from pipeline.contract.parse import RECORD
from pipeline.contract.spec import COMMON_FIELDS, TIMESTAMP, TYPE_FIELDS
from pipeline.errors import FieldError, InvalidRecord

EARLIEST_EVENT_TIME = EPOCH_FLOOR
LATEST_EVENT_TIME = EPOCH_CEILING


@dataclass(frozen=True)
class ValidEvent:
    """An event that satisfies the contract.

    ``fields`` holds the sender's fields (``null`` optionals removed, and
    ``content_sha256`` filled in when ``content`` is present); ``occurred_at``
    is the parsed event time.
    """

    fields: dict[str, Any]
    occurred_at: datetime

    @property
    def tenant_id(self) -> str:
        return str(self.fields["tenant_id"])

    @property
    def event_id(self) -> str:
        return str(self.fields["event_id"])

    @property
    def type(self) -> str:
        return str(self.fields["type"])


def _check_fields(
    obj: dict[str, Any], specs: Iterable[tuple[str, Any]], errors: list[FieldError]
) -> None:
    for name, spec in specs:
        value = obj.get(name)
        if value is None:
            if spec.required:
                errors.append(FieldError(name, "required", "is required"))
            continue
        errors.extend(spec.checker.check(value, name))


def validate_event(
    obj: Any, *, known_tenants: frozenset[str] | None = None
) -> ValidEvent:
    """Check ``obj`` against the contract; raise :class:`InvalidRecord` with every error.

    ``known_tenants``, when given, is the set of registered tenants; an event
    from any other tenant is refused (it could never be resolved or erased).
    """
    if not isinstance(obj, dict):
        raise InvalidRecord([wrong_type(RECORD, "a JSON object", obj)])
    errors: list[FieldError] = []
    _check_fields(obj, COMMON_FIELDS.items(), errors)
    event_type = obj.get("type")
    type_fields = TYPE_FIELDS.get(event_type) if isinstance(event_type, str) else None
    if type_fields is not None:
        _check_fields(obj, type_fields.items(), errors)
        allowed = COMMON_FIELDS.keys() | type_fields.keys()
        for name in obj:
            if name not in allowed:
                shown = name if len(name) <= 64 else name[:64] + "…"
                errors.append(
                    FieldError(shown, "unknown_field", f"is not a field of a {event_type} event")
                )
    tenant = obj.get("tenant_id")
    if (
        known_tenants is not None
        and isinstance(tenant, str)
        and not any(e.field == "tenant_id" for e in errors)
        and tenant not in known_tenants
    ):
        errors.append(FieldError("tenant_id", "unknown_tenant", "is not a registered tenant"))
    fields = {k: v for k, v in obj.items() if v is not None}
    content = fields.get("content")
    if isinstance(content, str) and not any(e.field == "content" for e in errors):
        digest = hashlib.sha256(content.encode("utf-8")).hexdigest()
        given = fields.get("content_sha256")
        if given is not None and given != digest:
            errors.append(
                FieldError("content_sha256", "mismatch", "does not match the SHA-256 of content")
            )
        fields["content_sha256"] = digest
    if errors:
        raise InvalidRecord(errors)
    occurred_at = TIMESTAMP.parse(fields["occurred_at"])
    if occurred_at is None:  # unreachable: the checker accepted it
        raise InvalidRecord([FieldError("occurred_at", "timestamp", "could not be parsed")])
    return ValidEvent(fields, occurred_at)


def validate_batch_ids(events: Sequence[Any]) -> dict[int, FieldError]:
    """Errors for items of one batch that repeat an earlier item's event id.

    A repeated id across batches is a retry and is dropped downstream; inside one
    request it is a sender bug, so it is refused there with the first index named.
    """
    first_index: dict[tuple[str, str], int] = {}
    errors: dict[int, FieldError] = {}
    for index, item in enumerate(events):
        if not isinstance(item, dict):
            continue
        key = (str(item.get("tenant_id")), str(item.get("event_id")))
        if not isinstance(item.get("event_id"), str):
            continue
        if key in first_index:
            errors[index] = FieldError(
                "event_id", "duplicate", f"repeats the event_id of item {first_index[key]}"
            )
        else:
            first_index[key] = index
    return errors
