"""From a signal's figures to signal values in [0, 1] and their points.

A *term* is one named signal from one source: its value (0..1), the age
gate (1 for a known adult and a known minor, the unknown-age factor per
unknown side, 0 when a minor is ruled out) and the points it adds before
decay and caps: ``weight * value * gate``. The formulas are written out in
docs/detection.md; each needs more than one message to reach its top.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from pipeline.detect.bands import ADULT, UNKNOWN, gate, is_claimed, is_minor
from pipeline.detect.signals import ActorSignal, PairSignal, Signal, TargetSignal
from pipeline.detect.stages import N_STAGES
from pipeline.score.config import ScoreConfig

MINUTES_PER_DAY = 1440.0
# Signals the peer discount leaves alone: what others did about the user, and account age.
PEER_EXEMPT = frozenset({"reports", "declined_requests", "new_account"})


@dataclass(frozen=True, slots=True)
class Term:
    name: str
    value: float
    gate: float
    points: float


def _clamp(value: float) -> float:
    return 0.0 if value <= 0.0 else 1.0 if value >= 1.0 else value


def stage_value(signal: PairSignal, config: ScoreConfig) -> float:
    """Breadth of stages (by severity), times order, speed and a one-message damper."""
    if not signal.stage_mask:
        return 0.0
    severity = config.stage_severity
    total = sum(severity) or 1.0
    breadth = sum(severity[i] for i in range(N_STAGES) if signal.stage_mask >> i & 1) / total
    if signal.stage_mask & (signal.stage_mask - 1):  # two stages or more
        order = _clamp((signal.stage_order_pm - 500) / 500.0)
    else:
        order = 0.5
    span_days = signal.stage_span_min / MINUTES_PER_DAY
    speed = 1.0 / (1.0 + max(0.0, span_days - 14.0) / 42.0)
    single = 0.4 if signal.stage_msgs <= 1 else 1.0
    mutual = (signal.stage_mask & signal.reverse_mask).bit_count() / signal.stage_mask.bit_count()
    return _clamp(breadth * (0.2 + 0.8 * order) * (0.6 + 0.4 * speed) * single
                  * (1.0 - 0.7 * mutual))


def earlier_weekly(signal: PairSignal) -> tuple[float, int]:
    """Mean messages a week before the last week, from the first active week; and how many weeks."""
    weekly = signal.weekly
    first = next((k for k in range(3) if weekly[k]), 3)
    if first == 3:
        return 0.0, 0
    return sum(weekly[first:3]) / (3 - first), 3 - first


def escalation_value(signal: PairSignal) -> float:
    """Growth of the last week over the weeks before (2x = 0, 8x = 1) times volume."""
    earlier, weeks = earlier_weekly(signal)
    last = signal.weekly[3]
    if weeks == 0 or last <= earlier:
        return 0.0
    growth = math.log2((last + 1) / (earlier + 1))
    return _clamp((growth - 1.0) / 2.0) * _clamp(last / 14.0)


def night_value(signal: PairSignal) -> float:
    """Share of the last week's messages at night, times how far it rose, times volume."""
    if signal.recent_msgs < 5:
        return 0.0
    recent = signal.night_recent_pm / 1000.0
    level = _clamp((recent - 0.15) / 0.5)
    if signal.night_earlier_pm < 0:
        rise = 0.5
    else:
        rise = _clamp((recent - signal.night_earlier_pm / 1000.0) / 0.3)
    return level * rise * _clamp(signal.recent_msgs / 10.0)


def sender_share(signal: PairSignal) -> float | None:
    """The sender's share of the pair's messages in 28 days (None below 10 messages)."""
    total = signal.own_28 + signal.other_28
    if total < 10:
        return None
    return signal.own_28 / total


def asymmetry_value(signal: PairSignal) -> float:
    """One side doing the talking: sender's share 55% -> 0, 70% -> 1, times volume."""
    share = sender_share(signal)
    if share is None:
        return 0.0
    return _clamp((share - 0.55) / 0.15) * _clamp((signal.own_28 + signal.other_28) / 40.0)


def reciprocity_factor(signal: PairSignal) -> float:
    """How far a pair's volume and timing signals count: 1 when one side does the
    talking, down to 0.4 when both write about as much (peers, family, couples)."""
    share = sender_share(signal)
    if share is None:
        return 1.0
    return 0.4 + 0.6 * _clamp((share - 0.52) / 0.1)


def seeks_out(signal: PairSignal) -> bool:
    """The other side starts conversations too: at least two, and at least a quarter as
    many as the sender (friends, classmates and family do; a pursued child rarely does)."""
    return signal.init_other >= 2 and 4 * signal.init_other >= signal.init_own


def peer_contacts(sources: Iterable[Signal], config: ScoreConfig) -> int:
    """Possible minors among the user's pair sources who seek the user out themselves."""
    return sum(1 for s in sources
               if isinstance(s, PairSignal) and seeks_out(s) and pair_gate(s, config) > 0.0)


def peer_weight(peers: int, config: ScoreConfig) -> float:
    """Weight of contact evidence for a user whom ``peers`` minors seek out: 1 up to one
    such contact, falling to ``peer_factor`` at four (the pattern of a peer or a relative,
    not of someone pursuing children who do not write first)."""
    if peers <= 1:
        return 1.0
    return 1.0 - (1.0 - config.peer_factor) * _clamp((peers - 1) / 3.0)


def initiation_value(signal: PairSignal) -> float:
    sessions = signal.init_own + signal.init_other
    if sessions < 3:
        return 0.0
    share = signal.init_own / sessions
    return _clamp((share - 0.55) / 0.35) * _clamp(sessions / 6.0)


def attention_value(signal: PairSignal) -> float:
    """Replies within five minutes on average, over a busy week."""
    if signal.latency_s < 0 or signal.recent_msgs < 10:
        return 0.0
    return _clamp(1.0 - signal.latency_s / 300.0)


def register_shift(signal: PairSignal, baseline: tuple[int, ...] | None,
                   config: ScoreConfig) -> float:
    """Severity-weighted rise of recent stage levels over the sender's usual (0..1)."""
    recent = signal.recent_stages
    if not any(recent):  # nothing recent: no rise (the sum below would be 0.0 too)
        return 0.0
    severity = config.stage_severity
    usual = baseline if baseline is not None else (0,) * N_STAGES
    total = sum(severity) or 1.0
    rise = sum(severity[i] * max(0, recent[i] - usual[i])
               for i in range(N_STAGES)) / 255.0
    return rise / total


def register_value(signal: PairSignal, baseline: tuple[int, ...] | None,
                   config: ScoreConfig) -> float:
    if signal.recent_msgs < 3:
        return 0.0
    return _clamp(register_shift(signal, baseline, config) / 0.25)


def pair_gate(signal: PairSignal, config: ScoreConfig) -> float:
    return gate(signal.sender_band, signal.other_band, config.unknown_age_factor,
                config.claimed_minor_factor)


def actor_gate(band: int, config: ScoreConfig) -> float:
    """Weight of minor-related actor signals: adult 1, unknown or declared minor less."""
    if band == ADULT:
        return 1.0
    if band == UNKNOWN:
        return config.unknown_age_factor
    return config.claimed_minor_factor if is_claimed(band) else 0.0


def _term(name: str, value: float, gate_: float, config: ScoreConfig) -> Term:
    return Term(name, value, gate_, config.signals[name].weight * value * gate_)


def _terms(values: list[tuple[str, float]], gate_: float, config: ScoreConfig) -> list[Term]:
    return [_term(name, value, gate_, config) for name, value in values if value > 0.0]


def pair_terms(signal: PairSignal, config: ScoreConfig) -> list[Term]:
    """The pair's terms except the register shift, which also needs the actor's baseline."""
    g = pair_gate(signal, config)
    if g == 0.0:
        return []
    found = _terms([
        ("stages", stage_value(signal, config)),
        ("escalation", escalation_value(signal)),
        ("night", night_value(signal)),
        ("initiation", initiation_value(signal)),
        ("migration", 1.0 if signal.migrated_min >= 0 else 0.0),
        ("media_after_request", _clamp(signal.media_after_request / 2.0)),
        ("attention", attention_value(signal)),
    ], g * reciprocity_factor(signal), config)
    return found + _terms([("asymmetry", asymmetry_value(signal))], g, config)


def register_term(signal: PairSignal, baseline: tuple[int, ...] | None,
                  config: ScoreConfig) -> Term | None:
    g = pair_gate(signal, config)
    value = register_value(signal, baseline, config) if g > 0.0 else 0.0
    return _term("register_shift", value, g, config) if value > 0.0 else None


def minor_contacts(signal: ActorSignal) -> int:
    return sum(signal.contacts_28[1:4])


def actor_terms(signal: ActorSignal, config: ScoreConfig) -> list[Term]:
    g = actor_gate(signal.band, config)
    minors = minor_contacts(signal)
    reporters = signal.minor_reporters + 0.5 * (signal.reporters - signal.minor_reporters)
    new_account = 0.0
    if 0 <= signal.account_age_days < 30 and minors > 0:
        new_account = (30 - signal.account_age_days) / 30.0
    found = _terms([("reports", _clamp(reporters / 3.0))],
                   0.5 if is_minor(signal.band) else 1.0, config)
    if g > 0.0:
        found += _terms([
            ("minor_fanout", _clamp((minors - 3) / 9.0)),
            ("declined_requests", _clamp(signal.declined_by_minors / 5.0)),
            ("new_account", new_account),
        ], g, config)
    return found


def target_terms(signal: TargetSignal, config: ScoreConfig) -> list[Term]:
    g = gate(signal.sender_band, signal.target_band, config.unknown_age_factor,
             config.claimed_minor_factor)
    if g == 0.0 or not signal.self_escalating:
        return []
    return _terms([("coordinated", _clamp(signal.others_escalating / 2.0))], g, config)


def terms(signal: Signal, config: ScoreConfig) -> list[Term]:
    """Every non-zero term of one source's newest signal (register shift aside)."""
    if isinstance(signal, PairSignal):
        found = pair_terms(signal, config)
    elif isinstance(signal, ActorSignal):
        found = actor_terms(signal, config)
    else:
        found = target_terms(signal, config)
    return [t for t in found if t.points > 0.0]
