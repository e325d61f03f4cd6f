"""The package document: canonical bytes, hashes, ids and the integrity check (pure).

A package is one JSON document (format ``wardstream.evidence.v1``) holding the
events of the window, each with the SHA-256 of its original as first stored,
the subject's account facts, score history and explanation, prior actions,
and network and session facts. It is stored as canonical JSON, the same
encoding the audit log hashes (keys sorted, no whitespace, ASCII with
``\\uXXXX`` escapes, no NaN), with the SHA-256 of exactly those bytes beside it.

What an event's hash covers: the ``events`` table keeps no raw bytes and no
hash of what the platform sent (migration 0001 stores the normalised record
as ``record`` jsonb and its text as ``content``), so the hash is over the
normalised record as first stored (rows are never overwritten: replays are
``ON CONFLICT DO NOTHING``), rebuilt as ``record`` with ``content`` put back
under the key ``"content"``, i.e. ``NormalizedEvent.to_record()`` of the
event, in canonical JSON. Anyone holding the package can recompute it from
the ``original`` beside it.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

from pipeline.audit.records import canonical_json, format_time
from pipeline.evidence.policy import Window

FORMAT: Final = "wardstream.evidence.v1"
Trigger = Literal["alert", "escalation"]
TRIGGERS: Final[tuple[Trigger, ...]] = ("alert", "escalation")
HASH_RULE: Final = (
    "sha256 (hex) of the canonical JSON (keys sorted, no whitespace, non-ASCII as \\uXXXX, "
    "no NaN) of the normalised event record as first stored: the events row's record with "
    "its content column put back under \"content\"; it is the 'original' beside it")
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def package_id_of(tenant_id: str, trigger: Trigger, trigger_id: str) -> str:
    """Deterministic: the same alert (or escalation event) always names the same package."""
    digest = hashlib.sha256("\x00".join(
        ("wardstream/evidence-package", tenant_id, trigger, trigger_id)).encode()).hexdigest()
    return f"pkg_{digest[:32]}"


def original_of(record: Mapping[str, Any], content: str | None) -> dict[str, Any]:
    """The normalised record as first stored: the jsonb record with its content put back."""
    original = dict(record)
    original["content"] = content
    return original


def event_sha256(original: Mapping[str, Any]) -> str:
    """The SHA-256 (hex) of an event's original, as :data:`HASH_RULE` says."""
    return sha256_hex(canonical_json(original))


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An ``events`` row as the package needs it."""

    event_id: str
    type: str
    occurred_at: datetime
    actor: str
    stored_at: datetime
    original: Mapping[str, Any]

    def entry(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id, "type": self.type, "actor": self.actor,
            "occurred_at": format_time(self.occurred_at),
            "stored_at": format_time(self.stored_at),
            "sha256": event_sha256(self.original), "original": dict(self.original),
        }


@dataclass(frozen=True, slots=True)
class Incident:
    """Why a package is built: an alert, or a reviewer's escalation, about ``actor``."""

    tenant_id: str
    trigger: Trigger
    trigger_id: str
    actor: str
    incident_at: datetime

    @property
    def package_id(self) -> str:
        return package_id_of(self.tenant_id, self.trigger, self.trigger_id)


@dataclass(frozen=True)
class Gathered:
    """What the database holds about an incident; every row JSON-ready except events."""

    events: Sequence[StoredEvent] = ()
    events_truncated: bool = False
    profiles: Sequence[StoredEvent] = ()
    identities: Sequence[Mapping[str, Any]] = ()
    scores: Sequence[Mapping[str, Any]] = ()
    alerts: Sequence[Mapping[str, Any]] = ()
    review_items: Sequence[Mapping[str, Any]] = ()
    moderation: Sequence[StoredEvent] = ()
    trigger_alert: Mapping[str, Any] | None = field(default=None)
    counterparts: Sequence[Mapping[str, Any]] = ()


def _time_us(micros: object) -> str | None:
    if isinstance(micros, bool) or not isinstance(micros, int):
        return None
    return format_time(_EPOCH + timedelta(microseconds=micros))


def network_facts(events: Iterable[StoredEvent], actor: str) -> dict[str, Any]:
    """The subject's sessions and the IPs, devices and user agents its events came from.

    Only what the platform sent: the ``ip``, ``port``, ``device`` and
    ``user_agent`` fields of the subject's own message and session events (IPs
    and devices as tenant-keyed pseudonyms; the account facts resolve the
    subject's own through the identity map).
    """
    seen: dict[str, dict[str, dict[str, Any]]] = {"ip": {}, "device": {}, "user_agent": {}}
    sessions: list[dict[str, Any]] = []
    for event in sorted(events, key=lambda e: (e.occurred_at, e.event_id)):
        if event.actor != actor or event.type not in ("message", "session"):
            continue
        at = format_time(event.occurred_at)
        for name, values in seen.items():
            value = event.original.get(name)
            if not isinstance(value, str) or not value:
                continue
            fact = values.setdefault(value, {name: value, "first_seen_at": at, "events": 0})
            fact["last_seen_at"] = at
            fact["events"] += 1
        if event.type == "session":
            sessions.append({
                "event_id": event.event_id, "occurred_at": at,
                "action": event.original.get("action"), "ip": event.original.get("ip"),
                "port": event.original.get("port"), "device": event.original.get("device"),
                "user_agent": event.original.get("user_agent"),
            })
    return {
        "ips": list(seen["ip"].values()),
        "devices": list(seen["device"].values()),
        "user_agents": list(seen["user_agent"].values()),
        "sessions": sessions,
    }


def _counts(events: Sequence[StoredEvent]) -> dict[str, int]:
    return dict(sorted(Counter(e.type for e in events).items()))


def assemble(incident: Incident, window: Window, built_at: datetime, jurisdiction: str,
             gathered: Gathered) -> dict[str, Any]:
    """The package document of ``incident`` (everything but the retention clock, which moves)."""
    return {
        "format": FORMAT,
        "package_id": incident.package_id,
        "tenant_id": incident.tenant_id,
        "trigger": {"kind": incident.trigger, "id": incident.trigger_id},
        "subject": incident.actor,
        "incident_at": format_time(incident.incident_at),
        "built_at": format_time(built_at),
        "jurisdiction": jurisdiction,
        "window": {"start": format_time(window.start), "end": format_time(window.end)},
        "hash_rule": HASH_RULE,
        "events": [e.entry() for e in gathered.events],
        "events_truncated": gathered.events_truncated,
        "event_counts": _counts(gathered.events),
        "account": {
            "profiles": [e.entry() for e in gathered.profiles],
            "identities": [dict(i) for i in gathered.identities],
            "account_created_at": next(
                (_time_us(e.original.get("account_created_at_us")) for e in
                 reversed(gathered.profiles) if e.original.get("account_created_at_us")), None),
        },
        "scores": {"history": [dict(s) for s in gathered.scores],
                   "alerts": [dict(a) for a in gathered.alerts]},
        "explanation": None if gathered.trigger_alert is None else dict(gathered.trigger_alert),
        "prior_actions": {
            "review_items": [dict(r) for r in gathered.review_items],
            "moderation_events": [e.entry() for e in gathered.moderation],
        },
        "network": network_facts(gathered.events, incident.actor),
        "counterparts": [dict(c) for c in gathered.counterparts],
    }


def encode(document: Mapping[str, Any]) -> tuple[bytes, bytes]:
    """The canonical bytes of ``document`` and their SHA-256 (raw 32 bytes)."""
    content = canonical_json(document)
    return content, hashlib.sha256(content).digest()


@dataclass(frozen=True, slots=True)
class Integrity:
    """What :func:`verify_package` found; ``intact`` only when every check passes."""

    content_sha256: str
    matches_stored_hash: bool
    canonical: bool
    matches_audit_log: bool | None  # None: no audit record to compare with

    @property
    def intact(self) -> bool:
        return self.matches_stored_hash and self.canonical and self.matches_audit_log is not False

    def as_dict(self) -> dict[str, Any]:
        return {"sha256": self.content_sha256, "intact": self.intact,
                "matches_stored_hash": self.matches_stored_hash, "canonical": self.canonical,
                "matches_audit_log": self.matches_audit_log}


def verify_package(content: bytes, stored_sha256: bytes,
                   anchored_sha256: str | None = None) -> Integrity:
    """Check a package's bytes against the hash stored beside them and the audit log's.

    ``anchored_sha256`` is the hex hash written to the tenant's audit log when
    the package was built: changing both the content and the stored hash in
    the database still fails against it (and the log's signed heads).
    """
    actual = hashlib.sha256(content).digest()
    try:
        canonical = canonical_json(json.loads(content)) == content
    except (ValueError, TypeError):
        canonical = False
    return Integrity(
        content_sha256=actual.hex(),
        matches_stored_hash=actual == stored_sha256,
        canonical=canonical,
        matches_audit_log=None if anchored_sha256 is None else actual.hex() == anchored_sha256,
    )
