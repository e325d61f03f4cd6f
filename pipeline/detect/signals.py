"""What detectors tell the risk step: figures, not verdicts.

A signal names the actor whose risk it feeds, the *source* it comes from
(one pair, the actor's own state, one target) and the event that produced
it. It carries the source's current figures in full, not an increment, so
the risk step only keeps the newest signal of each source (by event time)
and its result does not depend on how signals of different sources
interleave. All figures are integers, so a signal survives a round trip
through its codec exactly.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

from pipeline.detect.codec import Reader, StateFormatError, pack_str
from pipeline.detect.stages import N_STAGES

PAIR: Final = 1
ACTOR: Final = 2
TARGET: Final = 3

NO_DECISION: Final = 0
DECISION_CODES: Final[dict[str, int]] = {
    "confirmed_grooming": 1,
    "confirmed_other_harm": 2,
    "cleared": 3,
    "escalated": 4,
}


@dataclass(frozen=True, slots=True)
class PairSignal:
    """The pair's figures for one direction: ``actor`` writing to ``other``."""

    actor: str
    other: str
    tenant_id: str
    event_id: str
    at_us: int
    sender_band: int
    other_band: int
    stage_mask: int  # stages seen from actor to other (bit i = STAGES[i])
    reverse_mask: int  # stages seen from other to actor (mutual flirting between peers)
    stage_order_pm: int  # per mille of stage pairs first seen in the usual order
    stage_span_min: int  # minutes from first contact to the newest stage
    stage_msgs: int  # distinct moments at which a new stage appeared
    weekly: tuple[int, ...]  # messages both ways in each of the last 4 weeks, oldest first
    night_recent_pm: int  # per mille of actor's last-7-day messages at night for other
    night_earlier_pm: int  # the same for the 21 days before (-1: no messages then)
    recent_msgs: int  # actor's messages to other in the last 7 days
    init_own: int  # conversations (after >= 6 h silence) actor started
    init_other: int  # conversations other started
    migrated_min: int  # minutes from first shared group to first private message (-1: none)
    latency_s: int  # actor's reply latency, EWMA in seconds (-1: unknown)
    media_after_request: int  # media other sent after actor first asked for a picture
    recent_stages: tuple[int, ...]  # EWMA of actor's per-message stage bytes for other
    own_28: int = 0  # actor's messages to other in the 28-day ring
    other_28: int = 0  # other's messages to actor in the 28-day ring

    @property
    def source(self) -> str:
        return "p:" + self.other


@dataclass(frozen=True, slots=True)
class ActorSignal:
    """The actor's own figures: contacts, requests, reports, usual style, decisions."""

    actor: str
    tenant_id: str
    event_id: str
    at_us: int
    band: int
    account_age_days: int  # -1: unknown
    contacts_28: tuple[int, ...]  # distinct private contacts in 28 days, by band code
    minors_7: int  # distinct minor contacts in the last 7 days
    new_minors_7: int  # minors first contacted in the last 7 days
    requests_to_minors: int
    declined_by_minors: int  # of those, declined or blocked by the minor
    reporters: int  # distinct users who reported the actor
    minor_reporters: int
    baseline: tuple[int, ...]  # slow EWMA of the actor's stage bytes over all private messages
    decision: int  # newest moderation decision code (DECISION_CODES), 0: none
    decision_at_us: int

    @property
    def source(self) -> str:
        return "a"


@dataclass(frozen=True, slots=True)
class TargetSignal:
    """How many adults are escalating towards ``target``, told to one of them."""

    actor: str
    target: str
    tenant_id: str
    event_id: str
    at_us: int
    sender_band: int
    target_band: int
    others_escalating: int  # other adults escalating towards target in the window
    self_escalating: bool

    @property
    def source(self) -> str:
        return "t:" + self.target


Signal = PairSignal | ActorSignal | TargetSignal

_PAIR_NUMBERS: Final = struct.Struct(f"<qBBBBHIH4HhhHHHiiH{N_STAGES}BHH")
_ACTOR_NUMBERS: Final = struct.Struct("<qBi5HHHHHHH8BBq")
_TARGET_NUMBERS: Final = struct.Struct("<qBBHB")
_KIND: Final = struct.Struct("<B")


def _clamp16(value: int) -> int:
    return 0xFFFF if value > 0xFFFF else value


def encode_signal(signal: Signal) -> bytes:
    """The compact binary form of a signal (kind byte, strings, fixed numbers)."""
    if isinstance(signal, PairSignal):
        return b"".join((
            _KIND.pack(PAIR), pack_str(signal.actor), pack_str(signal.other),
            pack_str(signal.tenant_id), pack_str(signal.event_id),
            _PAIR_NUMBERS.pack(
                signal.at_us, signal.sender_band, signal.other_band, signal.stage_mask,
                signal.reverse_mask,
                signal.stage_order_pm, signal.stage_span_min, _clamp16(signal.stage_msgs),
                *(_clamp16(w) for w in signal.weekly),
                signal.night_recent_pm, signal.night_earlier_pm, _clamp16(signal.recent_msgs),
                _clamp16(signal.init_own), _clamp16(signal.init_other), signal.migrated_min,
                signal.latency_s, _clamp16(signal.media_after_request), *signal.recent_stages,
                _clamp16(signal.own_28), _clamp16(signal.other_28),
            ),
        ))
    if isinstance(signal, ActorSignal):
        return b"".join((
            _KIND.pack(ACTOR), pack_str(signal.actor), pack_str(signal.tenant_id),
            pack_str(signal.event_id),
            _ACTOR_NUMBERS.pack(
                signal.at_us, signal.band, signal.account_age_days,
                *(_clamp16(c) for c in signal.contacts_28), _clamp16(signal.minors_7),
                _clamp16(signal.new_minors_7), _clamp16(signal.requests_to_minors),
                _clamp16(signal.declined_by_minors), _clamp16(signal.reporters),
                _clamp16(signal.minor_reporters), *signal.baseline, signal.decision,
                signal.decision_at_us,
            ),
        ))
    return b"".join((
        _KIND.pack(TARGET), pack_str(signal.actor), pack_str(signal.target),
        pack_str(signal.tenant_id), pack_str(signal.event_id),
        _TARGET_NUMBERS.pack(signal.at_us, signal.sender_band, signal.target_band,
                             _clamp16(signal.others_escalating), int(signal.self_escalating)),
    ))


def read_signal(reader: Reader) -> Signal:
    """Decode one signal written by :func:`encode_signal` from ``reader``."""
    (kind,) = reader.unpack(_KIND)
    if kind == PAIR:
        actor, other, tenant, event_id = (reader.string() for _ in range(4))
        n = reader.unpack(_PAIR_NUMBERS)
        return PairSignal(
            actor=actor, other=other, tenant_id=tenant, event_id=event_id, at_us=n[0],
            sender_band=n[1], other_band=n[2], stage_mask=n[3], reverse_mask=n[4],
            stage_order_pm=n[5], stage_span_min=n[6], stage_msgs=n[7], weekly=tuple(n[8:12]),
            night_recent_pm=n[12], night_earlier_pm=n[13], recent_msgs=n[14], init_own=n[15],
            init_other=n[16], migrated_min=n[17], latency_s=n[18], media_after_request=n[19],
            recent_stages=tuple(n[20 : 20 + N_STAGES]), own_28=n[20 + N_STAGES],
            other_28=n[21 + N_STAGES],
        )
    if kind == ACTOR:
        actor, tenant, event_id = (reader.string() for _ in range(3))
        n = reader.unpack(_ACTOR_NUMBERS)
        return ActorSignal(
            actor=actor, tenant_id=tenant, event_id=event_id, at_us=n[0], band=n[1],
            account_age_days=n[2], contacts_28=tuple(n[3:8]), minors_7=n[8], new_minors_7=n[9],
            requests_to_minors=n[10], declined_by_minors=n[11], reporters=n[12],
            minor_reporters=n[13], baseline=tuple(n[14:22]), decision=n[22],
            decision_at_us=n[23],
        )
    if kind == TARGET:
        actor, target, tenant, event_id = (reader.string() for _ in range(4))
        at_us, sender_band, target_band, others, own = reader.unpack(_TARGET_NUMBERS)
        return TargetSignal(actor, target, tenant, event_id, at_us, sender_band, target_band,
                            others, bool(own))
    raise StateFormatError(f"unknown signal kind {kind}")


def decode_signal(data: bytes) -> Signal:
    reader = Reader(data)
    signal = read_signal(reader)
    reader.done()
    return signal
