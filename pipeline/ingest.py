"""The first step of the pipeline, pure: raw bytes in, normalised event or dead letter out.

The Faust ``normalize`` agent, the HTTP door and ``replay`` all call
:func:`accept`; only where the bytes come from differs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pipeline.avro import SchemaMap
from pipeline.contract import parse_json, validate_event
from pipeline.errors import FieldError, InvalidRecord
from pipeline.model import DeadLetter, IdentityEntry, NormalizedEvent
from pipeline.normalize import normalize
from pipeline.pseudonym import Pseudonymizer

RawFormat = Literal["json", "avro"]


@dataclass(frozen=True)
class Accepted:
    event: NormalizedEvent
    identities: list[IdentityEntry]


def event_key(tenant_id: str, event_id: str) -> bytes:
    """The repartition key that puts every copy of one event on one partition."""
    # Length-prefixed so no (tenant, id) pair can collide with another's concatenation.
    material = f"{len(tenant_id)}:{tenant_id}{event_id}".encode()
    return hashlib.sha256(material).hexdigest()[:32].encode()


def decode_avro(data: bytes, schemas: SchemaMap) -> dict[str, Any]:
    """A raw Avro event as the same dict JSON would give (absent optionals dropped)."""
    schema_id, record = schemas.decode(data)
    expected_type = next((t for t, i in schemas.event_type_ids.items() if i == schema_id), None)
    if expected_type is None:
        raise InvalidRecord(
            [FieldError("(record)", "schema_id", f"schema {schema_id} is not a platform event")]
        )
    if record.get("type") != expected_type:
        raise InvalidRecord(
            [FieldError("type", "mismatch", f"schema {schema_id} carries {expected_type} events")]
        )
    return {k: v for k, v in record.items() if v is not None}


def _tenant_hint(obj: Any) -> str | None:
    tenant = obj.get("tenant_id") if isinstance(obj, dict) else None
    return tenant if isinstance(tenant, str) and 0 < len(tenant) <= 64 else None


def accept(
    data: bytes,
    fmt: RawFormat,
    *,
    source: str,
    received_at_us: int,
    pseudonyms: Pseudonymizer,
    schemas: SchemaMap,
    is_known_tenant: Callable[[str], bool] | None = None,
) -> Accepted | DeadLetter:
    """Parse, validate and normalise one raw record; never raise for bad input."""
    obj: Any = None
    try:
        obj = decode_avro(data, schemas) if fmt == "avro" else parse_json(data)
        valid = validate_event(obj)
        if is_known_tenant is not None and not is_known_tenant(valid.tenant_id):
            raise InvalidRecord(
                [FieldError("tenant_id", "unknown_tenant", "is not a registered tenant")]
            )
    except InvalidRecord as exc:
        return dead_letter(exc.errors, data, source, received_at_us, _tenant_hint(obj))
    event, identities = normalize(valid, pseudonyms, source)
    return Accepted(event, identities)


def dead_letter(
    errors: tuple[FieldError, ...] | list[FieldError],
    data: bytes,
    source: str,
    received_at_us: int,
    tenant_id: str | None = None,
) -> DeadLetter:
    first = errors[0]
    return DeadLetter(
        dead_letter_id=source,
        source=source,
        received_at_us=received_at_us,
        tenant_id=tenant_id,
        field=first.field,
        rule=first.rule,
        reason=f"{first.field}: {first.message}",
        errors=[e.as_dict() for e in errors],
        original=data,
    )


def is_replayed_copy(first_seen_at: str | None, position: str) -> bool | None:
    """Dedupe decision for one event key.

    ``first_seen_at`` is the stored source position of the first copy (None if
    never seen). Returns None for a new event, True when this *is* that first
    copy being processed again after a crash (emit again: the earlier output may
    have been lost), False for a genuine duplicate (drop it).
    """
    if first_seen_at is None:
        return None
    return first_seen_at == position
