"""From a valid contract event to a normalised event plus identity-map entries.

Pure: the same input and master key give the same output on every worker and
in ``replay``. Raw identifiers leave this function only inside
:class:`IdentityEntry` values, which go to the erasable identity map.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pipeline.contract import ValidEvent
from pipeline.contract.spec import TIMESTAMP
from pipeline.model import IdentityEntry, NormalizedEvent
from pipeline.pseudonym import IdKind, Pseudonymizer

# Contract fields copied unchanged into the normalised event.
_COPIED = (
    "channel",
    "content",
    "content_sha256",
    "content_signals",
    "language",
    "port",
    "user_agent",
    "action",
    "age_band",
    "age_source",
    "country",
    "timezone",
    "cohort",
    "media_type",
    "sha256",
    "pdq",
    "reason",
    "decision",
    "note",
)

# Personal data of a profile that detection never needs: identity map only.
_PROFILE_PERSONAL: tuple[tuple[str, IdKind], ...] = (
    ("email", "email"),
    ("phone", "phone"),
    ("display_name", "display_name"),
)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_micros(moment: datetime) -> int:
    """UTC microseconds since the epoch, exact (no float rounding)."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def normalize(
    event: ValidEvent, pseudonyms: Pseudonymizer, source: str
) -> tuple[NormalizedEvent, list[IdentityEntry]]:
    """Pseudonymise ``event``; return it normalised and the identity entries it revealed."""
    fields = event.fields
    tenant = event.tenant_id
    at_us = to_micros(event.occurred_at)
    offset = event.occurred_at.utcoffset()
    identities: dict[str, IdentityEntry] = {}

    def pseudo(kind: IdKind, raw: str, owner: str | None = None) -> str:
        name = pseudonyms.pseudonym(tenant, kind, raw)
        entry = IdentityEntry(tenant, kind, name, raw, owner or name, at_us)
        identities.setdefault(entry.key, entry)
        return name

    actor = pseudo("user", fields["actor_id"])
    values: dict[str, Any] = {name: fields[name] for name in _COPIED if name in fields}
    if "conversation_id" in fields:
        values["conversation"] = pseudo("conversation", fields["conversation_id"])
    if "recipient_ids" in fields:
        values["recipients"] = tuple(pseudo("user", r) for r in fields["recipient_ids"])
    for raw_field, out_field in (("target_id", "target"), ("subject_id", "subject"),
                                 ("reviewer_id", "reviewer")):
        if raw_field in fields:
            values[out_field] = pseudo("user", fields[raw_field])
    if "ip" in fields:
        values["ip"] = pseudo("ip", fields["ip"], actor)
    if "device_id" in fields:
        values["device"] = pseudo("device", fields["device_id"], actor)
    if "account_created_at" in fields:
        created = TIMESTAMP.parse(fields["account_created_at"])
        if created is not None:
            values["account_created_at_us"] = to_micros(created)
    for raw_field, kind in _PROFILE_PERSONAL:
        if raw_field in fields:
            pseudo(kind, fields[raw_field], actor)
    normalized = NormalizedEvent(
        event_id=event.event_id,
        tenant_id=tenant,
        type=event.type,
        occurred_at_us=at_us,
        utc_offset_min=int(offset.total_seconds() // 60) if offset is not None else 0,
        actor=actor,
        source=source,
        **values,
    )
    return normalized, list(identities.values())
