"""Apply one routed event or signal batch to a stored state, exactly once.

A table value is a *guarded* state: the offset of the newest input record
applied to it, then the state's own bytes. Every record of one key comes from
one partition of one topic, in order, so a record at or below that offset has
already been applied: after a crash the agent reads it again and skips it.
The agents write a state only once everything the step emitted for it was
delivered (``agents/acks.py``), so a skipped record never hides lost output.
"""

from __future__ import annotations

import struct
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pipeline.detect.actor import actor_step, decode_actor, encode_actor
from pipeline.detect.pair import decode_pair, encode_pair, pair_step
from pipeline.detect.signals import Signal
from pipeline.detect.target import decode_target, encode_target, target_step
from pipeline.score.config import ScoreConfig
from pipeline.score.risk import (
    Alert,
    RiskState,
    decode_risk,
    encode_risk,
    evaluate,
    explanation_text,
    risk_step,
)
from pipeline.score.tiers import tier_name
from pipeline.stream.records import Routed, SignalBatch, drivers_record, record_id

_OFFSET = struct.Struct(">q")
# Risk values also remember the last published score (tenths) and tier.
_PUBLISHED = struct.Struct(">qib")
NOTHING_APPLIED = -1

S = TypeVar("S")


def split_guarded(value: bytes | None) -> tuple[int, bytes | None]:
    """(offset of the newest applied record, state bytes) of a table value."""
    if value is None:
        return NOTHING_APPLIED, None
    return _OFFSET.unpack_from(value)[0], value[_OFFSET.size:]


def join_guarded(offset: int, state: bytes) -> bytes:
    return _OFFSET.pack(offset) + state


# Step values also carry tags of the newest events applied: an event can reach a
# step twice at different offsets when an upstream agent re-sent its output after a
# crash (it cannot know whether its first send was delivered). Such a copy comes soon
# after the original, so a short list catches it.
RECENT_EVENTS = 24
_COUNT = struct.Struct(">B")


def event_tag(tenant_id: str, event_id: str) -> int:
    """A 32-bit tag of an event's identity (collisions only cost a skipped event
    among the last few of one key, about one in 180 million)."""
    return zlib.crc32(f"{tenant_id}\x1f{event_id}".encode())


def split_step_value(value: bytes | None) -> tuple[int, tuple[int, ...], bytes | None]:
    """(offset applied, tags of the newest events applied, state bytes)."""
    if value is None:
        return NOTHING_APPLIED, (), None
    offset, body = split_guarded(value)
    assert body is not None
    (count,) = _COUNT.unpack_from(body)
    end = _COUNT.size + 4 * count
    tags = struct.unpack_from(f">{count}I", body, _COUNT.size)
    return offset, tags, body[end:]


def join_step_value(offset: int, tags: tuple[int, ...], state: bytes) -> bytes:
    kept = tags[-RECENT_EVENTS:]
    return join_guarded(offset, _COUNT.pack(len(kept)) + struct.pack(f">{len(kept)}I", *kept)
                        + state)


class DecodedCache(Generic[S]):
    """Decoded states by key, valid while the stored bytes are the ones they came from.

    Decoding a state for every event costs more than the step itself; a cached
    object is reused only when the table still holds the exact bytes it was
    stored as, so a state changed elsewhere (another worker before a
    rebalance) is decoded again.
    """

    def __init__(self, capacity: int = 50_000) -> None:
        self._capacity = capacity
        self._items: OrderedDict[str, tuple[bytes, S]] = OrderedDict()

    def get(self, key: str, stored: bytes) -> S | None:
        hit = self._items.get(key)
        if hit is None or hit[0] != stored:
            return None
        self._items.move_to_end(key)
        return hit[1]

    def put(self, key: str, stored: bytes, state: S) -> None:
        self._items[key] = (stored, state)
        self._items.move_to_end(key)
        if len(self._items) > self._capacity:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()


def step_pair(routed: Routed, state: bytes | None, threshold: int) -> tuple[bytes | None,
                                                                            list[Signal]]:
    """The pair step on stored bytes; the same shortcut for shared posts as the harness."""
    first, _, second = routed.key.partition("|")
    current = decode_pair(state) if state is not None else None
    event = routed.staged.event
    if (event.type == "message" and event.channel != "private" and current is not None
            and 0 <= current.first_shared_at_us <= event.occurred_at_us):
        return state, []
    new_state, signals = pair_step((first, second), current, routed.staged, routed.profiles,
                                   threshold)
    return encode_pair(new_state), list(signals)


def step_target(routed: Routed, state: bytes | None,
                threshold: int) -> tuple[bytes | None, list[Signal]]:
    current = decode_target(state) if state is not None else None
    new_state, signals = target_step(routed.key, current, routed.staged, routed.profiles,
                                     threshold)
    return encode_target(new_state), list(signals)


def step_actor(routed: Routed, state: bytes | None,
               threshold: int) -> tuple[bytes | None, list[Signal]]:
    del threshold  # the actor step reads no stage threshold
    current = decode_actor(state) if state is not None else None
    new_state, signals = actor_step(routed.key, current, routed.staged, routed.profiles)
    return encode_actor(new_state), list(signals)


@dataclass(frozen=True, slots=True)
class Published:
    """What a user's score records last said (tenths of a point, tier index)."""

    tenths: int = -1
    tier: int = 0


@dataclass(slots=True)
class RiskOutcome:
    state: RiskState
    published: Published
    alerts: list[Alert]
    score: dict[str, Any] | None  # a Score record when the published score moved


def split_risk(state: bytes) -> tuple[Published, bytes]:
    tenths, tier, _ = _PUBLISHED.unpack_from(state)
    return Published(tenths, tier), state[_PUBLISHED.size:]


def join_risk(published: Published, state: RiskState) -> bytes:
    return _PUBLISHED.pack(published.tenths, published.tier, 0) + encode_risk(state)


def decode_risk_value(state: bytes) -> tuple[Published, RiskState]:
    published, body = split_risk(state)
    return published, decode_risk(body)


def step_risk(batch: SignalBatch, state: RiskState | None, published: Published,
              config: ScoreConfig) -> RiskOutcome:
    """Fold a signal batch into the user's risk; a score record when the shown score moved.

    Scores are published to a tenth of a point: a record is emitted when that
    figure or the tier changes, so ``scores.latest`` always shows the state's
    current score at that precision without one record per signal.
    """
    previous_tier = state.tier if state is not None else 0
    new_state, alerts = risk_step(batch.actor, state, batch.signals, config)
    tenths = round(new_state.score * 10)
    if tenths == published.tenths and new_state.tier == published.tier:
        return RiskOutcome(new_state, published, alerts, None)
    _, drivers = evaluate(new_state, config)
    record = {
        "score_id": record_id(batch.tenant_id, batch.actor, batch.event_id, batch.step),
        "tenant_id": new_state.tenant_id or batch.tenant_id,
        "actor": batch.actor,
        "score": tenths / 10,
        "tier": tier_name(new_state.tier),
        "previous_tier": tier_name(previous_tier),
        "at_us": batch.at_us,
        "event_id": batch.event_id,
        "max_score": round(new_state.max_score, 1),
        "first_alert_at_us": (new_state.first_alert_at_us
                              if new_state.first_alert_at_us >= 0 else None),
        "explanation": explanation_text(drivers),
        "drivers": drivers_record(drivers),
    }
    return RiskOutcome(new_state, Published(tenths, new_state.tier), alerts, record)

