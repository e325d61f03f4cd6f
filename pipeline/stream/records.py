"""Records of the detection topics, in Avro with the Confluent framing.

``detect.*`` carry a :class:`Routed` event (the normalised event's own bytes,
its stage bytes and the profiles the step reads); ``signals`` carries a
:class:`SignalBatch`; ``scores``/``scores.latest`` and ``alerts`` carry what
risk decided. Ids of scores and alerts are derived from the event that moved
them, so a record emitted again after a crash is recognisably the same one.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipeline.avro import (
    ALERT_SCHEMA_ID,
    LABEL_SCHEMA_ID,
    MODEL_VERSION_SCHEMA_ID,
    NORMALIZED_EVENT_SCHEMA_ID,
    ROUTED_EVENT_SCHEMA_ID,
    SCORE_SCHEMA_ID,
    SIGNAL_BATCH_SCHEMA_ID,
    SchemaMap,
)
from pipeline.detect.annotate import StagedEvent
from pipeline.detect.codec import StateFormatError
from pipeline.detect.profiles import Profile
from pipeline.detect.signals import Signal, decode_signal, encode_signal
from pipeline.errors import FieldError, InvalidRecord
from pipeline.model import NormalizedEvent
from pipeline.score.risk import Alert, Driver

STEPS = ("pair", "actor", "target")


def record_id(*parts: str) -> str:
    """A stable 32-hex id of its parts (pseudonyms only, never raw ids)."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def score_key(tenant_id: str, actor: str) -> bytes:
    return f"{tenant_id}/{actor}".encode()


class SnapshotProfiles:
    """The profiles a routed event carries, as a ``ProfileView``."""

    __slots__ = ("_profiles",)

    def __init__(self, profiles: dict[str, Profile]) -> None:
        self._profiles = profiles

    def get(self, user: str) -> Profile | None:
        return self._profiles.get(user)


def _profile_record(user: str, profile: Profile) -> dict[str, Any]:
    return {"user": user, "age_band": profile.age_band, "age_trusted": profile.age_trusted,
            "timezone": profile.timezone, "account_created_at_us": profile.account_created_at_us,
            "updated_at_us": profile.updated_at_us}


def _profile(record: dict[str, Any]) -> Profile:
    return Profile(age_band=record["age_band"], age_trusted=record["age_trusted"],
                   timezone=record["timezone"],
                   account_created_at_us=record["account_created_at_us"],
                   updated_at_us=record["updated_at_us"])


@dataclass(frozen=True, slots=True)
class Routed:
    """One event for one step key, as the step agents read it."""

    key: str
    staged: StagedEvent
    profiles: SnapshotProfiles
    model_version: str


def encode_routed(schemas: SchemaMap, key: str, event_bytes: bytes,
                  stages: tuple[int, ...] | None, model_version: str,
                  profiles: Mapping[str, Profile]) -> bytes:
    return schemas.encode(ROUTED_EVENT_SCHEMA_ID, {
        "key": key, "event": event_bytes,
        "stages": None if stages is None else list(stages),
        "model_version": model_version,
        "profiles": [_profile_record(user, p) for user, p in profiles.items()],
    })


def _expect(schema_id: int, wanted: int, what: str) -> None:
    if schema_id != wanted:
        raise InvalidRecord([FieldError("(record)", "schema_id",
                                        f"schema {schema_id} where {what} ({wanted}) belongs")])


def decode_routed(schemas: SchemaMap, data: bytes) -> Routed:
    schema_id, record = schemas.decode(data)
    _expect(schema_id, ROUTED_EVENT_SCHEMA_ID, "a routed event")
    event_id, event_record = schemas.decode(record["event"])
    _expect(event_id, NORMALIZED_EVENT_SCHEMA_ID, "a normalised event")
    stages = record["stages"]
    staged = StagedEvent(NormalizedEvent.from_record(event_record),
                         None if stages is None else tuple(stages))
    profiles = {p["user"]: _profile(p) for p in record["profiles"]}
    return Routed(record["key"], staged, SnapshotProfiles(profiles), record["model_version"])


@dataclass(frozen=True, slots=True)
class SignalBatch:
    actor: str
    tenant_id: str
    step: str
    event_id: str
    at_us: int
    signals: tuple[Signal, ...]


def encode_signal_batch(schemas: SchemaMap, batch: SignalBatch) -> bytes:
    return schemas.encode(SIGNAL_BATCH_SCHEMA_ID, {
        "actor": batch.actor, "tenant_id": batch.tenant_id, "step": batch.step,
        "event_id": batch.event_id, "at_us": batch.at_us,
        "signals": [encode_signal(s) for s in batch.signals],
    })


def decode_signal_batch(schemas: SchemaMap, data: bytes) -> SignalBatch:
    schema_id, record = schemas.decode(data)
    _expect(schema_id, SIGNAL_BATCH_SCHEMA_ID, "a signal batch")
    try:
        signals = tuple(decode_signal(s) for s in record["signals"])
    except (StateFormatError, struct.error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidRecord([FieldError("signals", "signal_codec",
                                        f"a signal does not decode ({type(exc).__name__})")],
                            ) from None
    return SignalBatch(record["actor"], record["tenant_id"], record["step"],
                       record["event_id"], record["at_us"], signals)


def group_signals(step: str, event: NormalizedEvent,
                  signals: list[Signal]) -> list[SignalBatch]:
    """One batch per user the signals are about, in first-seen order."""
    by_actor: dict[str, list[Signal]] = {}
    for signal in signals:
        by_actor.setdefault(signal.actor, []).append(signal)
    return [SignalBatch(actor, event.tenant_id, step, event.event_id, event.occurred_at_us,
                        tuple(items)) for actor, items in by_actor.items()]


def drivers_record(drivers: tuple[Driver, ...]) -> list[dict[str, Any]]:
    return [{"signal": d.signal, "contribution": d.contribution,
             "explanation": d.explanation} for d in drivers]


def alert_record(alert: Alert) -> dict[str, Any]:
    return {
        "alert_id": record_id(alert.tenant_id, alert.actor, alert.event_id, alert.tier),
        "tenant_id": alert.tenant_id, "actor": alert.actor, "tier": alert.tier,
        "score": alert.score, "raised_at_us": alert.raised_at_us, "event_id": alert.event_id,
        "explanation": alert.explanation, "drivers": drivers_record(alert.drivers),
    }


def encode_alert(schemas: SchemaMap, alert: Alert) -> bytes:
    return schemas.encode(ALERT_SCHEMA_ID, alert_record(alert))


def encode_score(schemas: SchemaMap, record: dict[str, Any]) -> bytes:
    return schemas.encode(SCORE_SCHEMA_ID, record)


def encode_label(schemas: SchemaMap, record: dict[str, Any]) -> bytes:
    return schemas.encode(LABEL_SCHEMA_ID, record)


def encode_model_version(schemas: SchemaMap, record: dict[str, Any]) -> bytes:
    return schemas.encode(MODEL_VERSION_SCHEMA_ID, record)


def decode_as(schemas: SchemaMap, data: bytes, wanted: int, what: str) -> dict[str, Any]:
    schema_id, record = schemas.decode(data)
    _expect(schema_id, wanted, what)
    return record


_PROFILE = struct.Struct(">b?qq")
_UNSET = -(2**63)


def encode_profile(profile: Profile) -> bytes:
    """A profile as a profiles-table value: band, trusted, created, updated, time zone."""
    created = _UNSET if profile.account_created_at_us is None else profile.account_created_at_us
    zone = (profile.timezone or "").encode()
    return _PROFILE.pack(profile.age_band, profile.age_trusted, created,
                         profile.updated_at_us) + zone


def decode_profile(data: bytes) -> Profile:
    band, trusted, created, updated = _PROFILE.unpack_from(data)
    zone = data[_PROFILE.size:].decode()
    return Profile(age_band=band, age_trusted=trusted, timezone=zone or None,
                   account_created_at_us=None if created == _UNSET else created,
                   updated_at_us=updated)


PROFILE_VERSIONS = 8
_LENGTH = struct.Struct(">H")


def encode_profile_history(versions: list[Profile]) -> bytes:
    """A user's profile after each of their newest profile events, oldest first."""
    parts = []
    for profile in versions[-PROFILE_VERSIONS:]:
        encoded = encode_profile(profile)
        parts.append(_LENGTH.pack(len(encoded)) + encoded)
    return b"".join(parts)


def decode_profile_history(data: bytes) -> list[Profile]:
    versions, at = [], 0
    while at < len(data):
        (length,) = _LENGTH.unpack_from(data, at)
        at += _LENGTH.size
        versions.append(decode_profile(data[at:at + length]))
        at += length
    return versions


def profile_as_of(versions: list[Profile], at_us: int) -> Profile | None:
    """The profile as it stood at ``at_us``: the newest version not after it.

    Replay folds profile events in event-time order, so a message sees the
    profile as of its own time; keeping a few versions lets the stream do the
    same when an update is processed before an earlier message of another key.
    """
    found = None
    for profile in versions:
        if profile.updated_at_us <= at_us:
            found = profile
    return found


def add_profile_version(versions: list[Profile], updated: Profile) -> list[Profile]:
    """``versions`` with ``updated`` (the fold of a new profile event) in time order."""
    kept = [p for p in versions if p.updated_at_us != updated.updated_at_us]
    kept.append(updated)
    kept.sort(key=lambda p: p.updated_at_us)
    return kept[-PROFILE_VERSIONS:]
