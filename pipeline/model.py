"""The normalised event: what every agent after ``normalize`` reads.

Identifiers are pseudonyms (``pipeline.pseudonym``); times are UTC
microseconds since the epoch with the sender's offset kept beside them, so
detectors can reason about local hours without parsing strings. The Avro
schema ``schemas/normalized_event.v1.avsc`` mirrors this class field by field.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from dataclasses import field as dataclass_field
from typing import Any


@dataclass(frozen=True, slots=True)
class NormalizedEvent:
    event_id: str
    tenant_id: str
    type: str
    occurred_at_us: int
    utc_offset_min: int
    actor: str
    source: str
    conversation: str | None = None
    recipients: tuple[str, ...] = ()
    channel: str | None = None
    content: str | None = None
    content_sha256: str | None = None
    content_signals: dict[str, float] | None = None
    language: str | None = None
    ip: str | None = None
    port: int | None = None
    user_agent: str | None = None
    device: str | None = None
    action: str | None = None
    target: str | None = None
    age_band: str | None = None
    age_source: str | None = None
    account_created_at_us: int | None = None
    country: str | None = None
    timezone: str | None = None
    cohort: dict[str, str] | None = None
    media_type: str | None = None
    sha256: str | None = None
    pdq: str | None = None
    reason: str | None = None
    subject: str | None = None
    decision: str | None = None
    reviewer: str | None = None
    note: str | None = None

    def to_record(self) -> dict[str, Any]:
        """A plain dict for Avro or JSON (tuples become lists)."""
        record = asdict(self)
        record["recipients"] = list(self.recipients)
        return record

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> NormalizedEvent:
        values = dict(record)
        values["recipients"] = tuple(values.get("recipients") or ())
        return cls(**values)


@dataclass(frozen=True, slots=True)
class IdentityEntry:
    """One pseudonym and the raw value behind it, for the owning tenant only.

    ``owner`` is the user pseudonym the value belongs to (the user itself for
    kind ``user``; the actor for an ip, device, email, phone or display name),
    so erasing a person finds every entry that names them.
    """

    tenant_id: str
    kind: str
    pseudonym: str
    value: str
    owner: str
    first_seen_at_us: int

    @property
    def key(self) -> str:
        return f"{self.tenant_id}/{self.kind}/{self.pseudonym}"

    def to_record(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A record that could not be accepted, with why and the original bytes.

    ``dead_letter_id`` is deterministic (source topic/partition/offset, or
    ``file:line`` in replay), so replaying the input never adds a second row.
    """

    dead_letter_id: str
    source: str
    received_at_us: int
    tenant_id: str | None
    field: str
    rule: str
    reason: str
    errors: list[dict[str, str]] = dataclass_field(default_factory=list)
    original: bytes = b""

    def to_record(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> DeadLetter:
        return cls(**record)
