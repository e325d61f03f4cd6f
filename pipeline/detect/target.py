"""Per-target detector: how many adults are escalating towards one minor at once.

State (``TargetState``, 3 bytes plus 12 per adult): up to ``MAX_ADULTS``
adults (hashed id, age band, first and last day of the current run, how many
stage-bearing private messages they sent in it, which stages, and what they
were last told). An adult
is *escalating* when, within ``WINDOW_DAYS``, their messages to the target
showed at least ``ESCALATING_STAGES`` different stages. Each adult's own
messages to the target carry back
how many *other* adults are escalating at the same time (coordinated
targeting); an adult learns of a change on their next message to the target.
A signal is only sent when what the adult is told changed (an adult who never
sent a stage-bearing message has nothing to be told).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Final

from pipeline.detect.annotate import StagedEvent
from pipeline.detect.bands import is_claimed
from pipeline.detect.clock import day_index
from pipeline.detect.codec import Reader, check_version, id_hash
from pipeline.detect.profiles import ProfileView, band_code_of
from pipeline.detect.signals import TargetSignal

FORMAT: Final = 2
MAX_ADULTS: Final = 8
WINDOW_DAYS: Final = 14
ESCALATING_STAGES: Final = 4
_VERSION: Final = struct.Struct("<B")
_COUNT: Final = struct.Struct("<H")
_ENTRY: Final = struct.Struct("<IBHHBBB")
_UNTOLD: Final = 0xFF


@dataclass(slots=True)
class TargetState:
    """Adults who sent stage-bearing messages to one target: hashed id -> entry."""

    # hashed id -> [band, first day, last day, stage messages, stage mask, last told]
    # (last told: others escalating * 2 + self escalating, capped; _UNTOLD before any)
    adults: dict[int, list[int]] = field(default_factory=dict)


def encode_target(state: TargetState) -> bytes:
    parts = [_VERSION.pack(FORMAT), _COUNT.pack(len(state.adults))]
    parts.extend(_ENTRY.pack(key, *entry) for key, entry in state.adults.items())
    return b"".join(parts)


def decode_target(data: bytes) -> TargetState:
    reader = Reader(data)
    check_version(reader, FORMAT, "target state")
    (count,) = reader.unpack(_COUNT)
    state = TargetState()
    for _ in range(count):
        key, band, first, last, messages, mask, told = reader.unpack(_ENTRY)
        state.adults[key] = [band, first, last, messages, mask, told]
    reader.done()
    return state


def _escalating(entry: list[int], day: int) -> bool:
    return entry[2] > day - WINDOW_DAYS and entry[4].bit_count() >= ESCALATING_STAGES


def _record(state: TargetState, key: int, band: int, day: int, mask: int) -> None:
    entry = state.adults.get(key)
    if entry is not None:
        if entry[2] <= day - WINDOW_DAYS:
            entry[1], entry[3], entry[4] = day, 0, 0
        entry[0] = band
        entry[2] = max(entry[2], day)
        entry[3] = min(entry[3] + 1, 255)
        entry[4] |= mask
        return
    if len(state.adults) >= MAX_ADULTS:
        weakest = min(state.adults, key=lambda k: (state.adults[k][2], state.adults[k][3], k))
        del state.adults[weakest]
    state.adults[key] = [band, day, day, 1, mask, _UNTOLD]


def target_step(
    target: str,
    state: TargetState | None,
    staged: StagedEvent,
    profiles: ProfileView,
    stage_threshold: int,
) -> tuple[TargetState, list[TargetSignal]]:
    """Fold one private message to ``target``; tell the sender how many others escalate."""
    state = TargetState() if state is None else state
    event = staged.event
    sender = event.actor
    day = day_index(event.occurred_at_us)
    sender_profile = profiles.get(sender)
    sender_band = band_code_of(sender_profile)
    key = id_hash(sender)
    stages = staged.stages
    if stages is not None:
        mask = 0
        for i, value in enumerate(stages):
            if value >= stage_threshold:
                mask |= 1 << i
        if mask:
            _record(state, key, sender_band, day, mask)
    own = state.adults.get(key)
    if own is None:
        return state, []
    others = sum(1 for k, entry in state.adults.items()
                 if k != key and not is_claimed(entry[0]) and _escalating(entry, day))
    own_escalating = _escalating(own, day)
    told = min(others, 0x7E) * 2 + own_escalating
    target_profile = profiles.get(target)
    target_band = band_code_of(target_profile)
    if told == own[5] and sender_band == own[0]:
        return state, []
    own[5] = told
    return state, [TargetSignal(
        actor=sender, target=target, tenant_id=event.tenant_id, event_id=event.event_id,
        at_us=event.occurred_at_us, sender_band=sender_band,
        target_band=target_band, others_escalating=others, self_escalating=own_escalating,
    )]
