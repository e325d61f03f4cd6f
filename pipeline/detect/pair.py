"""Per-pair detector: how contact between two users develops, both directions in one state.

State (``PairState``, 297 bytes encoded, fixed size): first contact, first
shared group/public conversation and first private message; a 28-day ring
of daily buckets holding, per direction, messages and messages at night in
the recipient's local time; conversations started (first message after six
hours of silence) and reply latency (EWMA) per direction; per direction and
stage the moment it first appeared, how often, and a fast EWMA of the stage
probabilities; media sent after the other side asked for a picture.

Direction 0 is from the smaller pseudonym of the key to the larger, 1 back.
Counts, first-seen minima and day buckets are order-free; conversation
starts and reply latency need the previous message, so a message older than
the newest one seen (a late arrival) is counted but does not start a
conversation or give a latency.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Final

from pipeline.detect.annotate import StagedEvent
from pipeline.detect.bands import gate
from pipeline.detect.clock import (
    US_PER_HOUR,
    US_PER_MINUTE,
    US_PER_SECOND,
    day_index,
    is_night,
    local_offset_min,
)
from pipeline.detect.codec import Reader, check_version
from pipeline.detect.profiles import ProfileView, band_code_of
from pipeline.detect.signals import PairSignal
from pipeline.detect.stages import N_STAGES, STAGE_INDEX

FORMAT: Final = 1
RING_DAYS: Final = 28
SESSION_GAP_US: Final = 6 * US_PER_HOUR
NONE: Final = -1
_SLOT: Final = 4  # per day: messages dir 0, dir 1, night dir 0, night dir 1
_PHOTO: Final = STAGE_INDEX["photo_request"]
_NO_DIR: Final = 255
_MAX_BYTE: Final = 255

_VERSION: Final = struct.Struct("<B")
_HEAD: Final = struct.Struct("<qqqqBBiIIIIIIiiIIIIBB")
_STAGE_FIRST: Final = struct.Struct(f"<{2 * N_STAGES}i")


@dataclass(slots=True)
class PairState:
    """Everything the pair detector keeps about one unordered pair."""

    first_at_us: int = NONE
    first_shared_at_us: int = NONE
    first_private_at_us: int = NONE
    last_at_us: int = NONE
    first_private_dir: int = _NO_DIR
    last_dir: int = _NO_DIR
    head_day: int = NONE
    msgs: list[int] = field(default_factory=lambda: [0, 0])
    sessions: list[int] = field(default_factory=lambda: [0, 0])
    replies: list[int] = field(default_factory=lambda: [0, 0])
    latency_s: list[int] = field(default_factory=lambda: [NONE, NONE])
    media: list[int] = field(default_factory=lambda: [0, 0])
    media_after_request: list[int] = field(default_factory=lambda: [0, 0])
    # minutes since the epoch a stage first appeared, index direction * N_STAGES + stage
    stage_first_min: list[int] = field(default_factory=lambda: [NONE] * (2 * N_STAGES))
    stage_count: bytearray = field(default_factory=lambda: bytearray(2 * N_STAGES))
    recent: bytearray = field(default_factory=lambda: bytearray(2 * N_STAGES))
    ring: bytearray = field(default_factory=lambda: bytearray(RING_DAYS * _SLOT))
    emitted: int = 0  # bit d: a signal was sent for direction d
    blocked: int = 0  # bit d: direction d's sender blocked or removed the other


def encode_pair(state: PairState) -> bytes:
    """Fixed-size binary form of a pair state."""
    return b"".join((
        _VERSION.pack(FORMAT),
        _HEAD.pack(
            state.first_at_us, state.first_shared_at_us, state.first_private_at_us,
            state.last_at_us, state.first_private_dir, state.last_dir, state.head_day,
            *state.msgs, *state.sessions, *state.replies, *state.latency_s,
            *state.media, *state.media_after_request, state.emitted, state.blocked,
        ),
        _STAGE_FIRST.pack(*state.stage_first_min),
        bytes(state.stage_count), bytes(state.recent), bytes(state.ring),
    ))


def decode_pair(data: bytes) -> PairState:
    """Inverse of :func:`encode_pair`."""
    reader = Reader(data)
    check_version(reader, FORMAT, "pair state")
    head = reader.unpack(_HEAD)
    state = PairState(
        first_at_us=head[0], first_shared_at_us=head[1], first_private_at_us=head[2],
        last_at_us=head[3], first_private_dir=head[4], last_dir=head[5], head_day=head[6],
        msgs=list(head[7:9]), sessions=list(head[9:11]), replies=list(head[11:13]),
        latency_s=list(head[13:15]), media=list(head[15:17]),
        media_after_request=list(head[17:19]), emitted=head[19], blocked=head[20],
    )
    state.stage_first_min = list(reader.unpack(_STAGE_FIRST))
    state.stage_count = bytearray(reader.raw(2 * N_STAGES))
    state.recent = bytearray(reader.raw(2 * N_STAGES))
    state.ring = bytearray(reader.raw(RING_DAYS * _SLOT))
    reader.done()
    return state


def _min_time(current: int, candidate: int) -> int:
    return candidate if current == NONE or candidate < current else current


def _advance_ring(state: PairState, day: int) -> bool:
    """Move the ring's head to ``day`` if newer; False when ``day`` fell out of the window."""
    if state.head_day == NONE:
        state.head_day = day
        return True
    if day > state.head_day:
        ring = state.ring
        for d in range(state.head_day + 1, min(day, state.head_day + RING_DAYS) + 1):
            start = (d % RING_DAYS) * _SLOT
            ring[start : start + _SLOT] = b"\x00\x00\x00\x00"
        state.head_day = day
        return True
    return day > state.head_day - RING_DAYS


def _bump(ring: bytearray, index: int) -> None:
    if ring[index] < _MAX_BYTE:
        ring[index] += 1


def _record_contact(state: PairState, direction: int, at_us: int, night: bool) -> None:
    """Count one private message or media item from ``direction`` at ``at_us``."""
    state.first_at_us = _min_time(state.first_at_us, at_us)
    if state.first_private_at_us == NONE or at_us < state.first_private_at_us:
        state.first_private_at_us = at_us
        state.first_private_dir = direction
    state.msgs[direction] += 1
    day = day_index(at_us)
    if _advance_ring(state, day):
        base = (day % RING_DAYS) * _SLOT
        _bump(state.ring, base + direction)
        if night:
            _bump(state.ring, base + 2 + direction)
    last = state.last_at_us
    if last == NONE or at_us >= last:
        gap = SESSION_GAP_US if last == NONE else at_us - last
        if gap >= SESSION_GAP_US:
            state.sessions[direction] += 1
        elif state.last_dir == 1 - direction:
            latency = (at_us - last) // US_PER_SECOND
            previous = state.latency_s[direction]
            state.latency_s[direction] = latency if previous == NONE else (
                previous * 7 + latency) // 8
            state.replies[direction] += 1
        state.last_at_us = at_us
        state.last_dir = direction


def _record_stages(state: PairState, direction: int, at_us: int, stages: tuple[int, ...],
                   threshold: int) -> None:
    minute = at_us // US_PER_MINUTE
    base = direction * N_STAGES
    for i, value in enumerate(stages):
        index = base + i
        state.recent[index] = (state.recent[index] * 3 + value) // 4
        if value >= threshold:
            if state.stage_count[index] < _MAX_BYTE:
                state.stage_count[index] += 1
            first = state.stage_first_min[index]
            if first == NONE or minute < first:
                state.stage_first_min[index] = minute


def _ring_figures(state: PairState, direction: int) -> tuple[list[int], int, int, int, int, int]:
    """One pass over the ring for ``direction``: (messages both ways per week oldest
    first, recent night per mille, earlier night per mille or -1, recent messages,
    own messages in 28 days, the other side's messages in 28 days)."""
    weeks = [0, 0, 0, 0]
    recent = recent_night = earlier = earlier_night = others = 0
    ring = state.ring
    head = state.head_day
    night_index = 2 + direction
    other_index = 1 - direction
    for back in range(RING_DAYS):
        base = ((head - back) % RING_DAYS) * _SLOT
        sent = ring[base + direction]
        received = ring[base + other_index]
        others += received
        weeks[3 - back // 7] += sent + received
        if back < 7:
            recent += sent
            recent_night += ring[base + night_index]
        else:
            earlier += sent
            earlier_night += ring[base + night_index]
    recent_pm = recent_night * 1000 // recent if recent else 0
    earlier_pm = earlier_night * 1000 // earlier if earlier else NONE
    return weeks, recent_pm, earlier_pm, recent, recent + earlier, others


def _stage_figures(state: PairState, direction: int) -> tuple[int, int, int, int]:
    """(mask, order per mille, span in minutes from first contact, distinct moments)."""
    base = direction * N_STAGES
    seen = [(i, state.stage_first_min[base + i]) for i in range(N_STAGES)
            if state.stage_first_min[base + i] != NONE]
    if not seen:
        return 0, 500, 0, 0
    mask = 0
    for i, _ in seen:
        mask |= 1 << i
    pairs = agree = 0
    for a in range(len(seen)):
        for b in range(a + 1, len(seen)):
            pairs += 1
            if seen[a][1] <= seen[b][1]:
                agree += 1
    order_pm = agree * 1000 // pairs if pairs else 500
    newest = max(minute for _, minute in seen)
    start = state.first_at_us // US_PER_MINUTE if state.first_at_us != NONE else newest
    return mask, order_pm, max(0, newest - start), len({minute for _, minute in seen})


def _signal(state: PairState, direction: int, sender: str, other: str, staged: StagedEvent,
            sender_band: int, other_band: int) -> PairSignal:
    event = staged.event
    mask, order_pm, span_min, moments = _stage_figures(state, direction)
    reverse = _stage_figures(state, 1 - direction)[0]
    weeks, night_recent, night_earlier, recent_msgs, own_28, other_28 = _ring_figures(
        state, direction)
    migrated = NONE
    if (state.first_shared_at_us != NONE and state.first_private_at_us != NONE
            and state.first_shared_at_us < state.first_private_at_us
            and state.first_private_dir == direction):
        migrated = (state.first_private_at_us - state.first_shared_at_us) // US_PER_MINUTE
    base = direction * N_STAGES
    return PairSignal(
        actor=sender, other=other, tenant_id=event.tenant_id, event_id=event.event_id,
        at_us=event.occurred_at_us, sender_band=sender_band, other_band=other_band,
        stage_mask=mask, reverse_mask=reverse, stage_order_pm=order_pm,
        stage_span_min=min(span_min, 0xFFFFFFFF), stage_msgs=moments, weekly=tuple(weeks),
        night_recent_pm=night_recent, night_earlier_pm=night_earlier,
        recent_msgs=recent_msgs, init_own=state.sessions[direction],
        init_other=state.sessions[1 - direction], migrated_min=min(migrated, 0x7FFFFFFF),
        latency_s=min(state.latency_s[direction], 0x7FFFFFFF),
        media_after_request=state.media_after_request[1 - direction],
        recent_stages=tuple(state.recent[base : base + N_STAGES]),
        own_28=own_28, other_28=other_28,
    )


def _band(profiles: ProfileView, user: str) -> int:
    return band_code_of(profiles.get(user))


def pair_step(
    key: tuple[str, str],
    state: PairState | None,
    staged: StagedEvent,
    profiles: ProfileView,
    stage_threshold: int,
) -> tuple[PairState, list[PairSignal]]:
    """Fold one event into the pair state of ``key``; signal the sender's risk.

    The state is updated in place and returned (pass a copy to keep the old
    one). A signal for the sender follows each private message or media item
    when the pair could be adult-to-minor (or already signalled before).
    """
    state = PairState() if state is None else state
    event = staged.event
    sender = event.actor
    if sender not in key:
        return state, []
    direction = 0 if sender == key[0] else 1
    other = key[1 - direction]
    at_us = event.occurred_at_us
    kind = event.type
    if kind == "contact":
        if event.action in ("request", "accept", "follow"):
            state.first_at_us = _min_time(state.first_at_us, at_us)
        elif event.action in ("block", "remove"):
            state.blocked |= 1 << direction
        return state, []
    if kind == "message" and event.channel != "private":
        state.first_shared_at_us = _min_time(state.first_shared_at_us, at_us)
        return state, []
    other_profile = profiles.get(other)
    offset = local_offset_min(
        other_profile.timezone if other_profile is not None else None,
        at_us, event.utc_offset_min,
    )
    _record_contact(state, direction, at_us, is_night(at_us, offset))
    if kind == "media":
        state.media[direction] += 1
        asked = state.stage_first_min[(1 - direction) * N_STAGES + _PHOTO]
        if asked != NONE and asked <= at_us // US_PER_MINUTE:
            state.media_after_request[direction] += 1
    elif staged.stages is not None:
        _record_stages(state, direction, at_us, staged.stages, stage_threshold)
    sender_band = _band(profiles, sender)
    other_band = band_code_of(other_profile)
    if gate(sender_band, other_band, 1.0, 1.0) == 0.0 and not state.emitted >> direction & 1:
        return state, []
    state.emitted |= 1 << direction
    return state, [_signal(state, direction, sender, other, staged, sender_band, other_band)]
