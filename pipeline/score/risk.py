"""The risk step: one user's score from the newest signal of each source.

``risk_step(actor, state, signals, config)`` keeps, per source (a pair, the
actor's own state, a target), the signal with the newest event time, so its
final state does not depend on how signals of different sources interleave.
It then scores as of the newest event time seen:

    score = min(100, sum over signal names of
                min(cap, sum_k min(cap, weight * value_k * gate_k) * decay_k * repeat ** k))

where k ranks the sources with that signal by decayed points (the second
source counts ``repeat_factor``, the third its square...), ``decay`` halves
every ``half_life_days`` since the source's newest signal, and evidence
older than a reviewer's ``cleared`` decision is multiplied by
``cleared_factor``. Tiers follow with hysteresis; an alert is raised each
time the tier rises to the alert tier or above.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from pipeline.detect.clock import US_PER_DAY
from pipeline.detect.codec import Reader, check_version, pack_str
from pipeline.detect.signals import (
    DECISION_CODES,
    ActorSignal,
    PairSignal,
    Signal,
    encode_signal,
    read_signal,
)
from pipeline.score.config import ScoreConfig
from pipeline.score.explain import Context, explain
from pipeline.score.features import (
    PEER_EXEMPT,
    Term,
    pair_gate,
    peer_weight,
    register_term,
    seeks_out,
    terms,
)
from pipeline.score.tally import Tally, capped_points
from pipeline.score.tiers import next_tier, tier_name

FORMAT: Final = 2
NONE: Final = -1
MAX_DRIVERS: Final = 5
CLEARED: Final = DECISION_CODES["cleared"]
_VERSION: Final = struct.Struct("<B")
_HEAD: Final = struct.Struct("<qdBdqqIHB")
_LEN: Final = struct.Struct("<I")
_DRIVER: Final = struct.Struct("<d")


@dataclass(frozen=True, slots=True)
class Driver:
    """One signal's part in a score, largest first in lists."""

    signal: str
    contribution: float
    explanation: str

    def to_record(self) -> dict[str, object]:
        return {"signal": self.signal, "contribution": self.contribution,
                "explanation": self.explanation}


@dataclass(frozen=True, slots=True)
class Alert:
    """A user reached the alert tier (or a higher one) at an event."""

    actor: str
    tenant_id: str
    tier: str
    score: float
    raised_at_us: int
    event_id: str
    explanation: str
    drivers: tuple[Driver, ...]


@dataclass(slots=True)
class RiskState:
    """One user's risk: newest signal per source, score, tier and its history."""

    tenant_id: str = ""
    clock_us: int = NONE
    score: float = 0.0
    tier: int = 0
    max_score: float = 0.0
    max_at_us: int = NONE
    max_event_id: str = ""
    first_alert_at_us: int = NONE
    first_alert_event_id: str = ""
    alerts: int = 0
    sources: dict[str, Signal] = field(default_factory=dict)
    max_drivers: tuple[Driver, ...] = ()
    # Derived, not stored: undecayed terms per source for the current config, and
    # the incremental score over them.
    _terms: dict[str, list[Term]] = field(default_factory=dict, compare=False, repr=False)
    _tally: Tally = field(default_factory=Tally, compare=False, repr=False)
    # Pair sources whose other side (a possible minor) seeks the user out; None: not built.
    _peers: set[str] | None = field(default=None, compare=False, repr=False)


def encode_risk(state: RiskState) -> bytes:
    """Binary form of a risk state (derived caches are not stored)."""
    parts = [
        _VERSION.pack(FORMAT), pack_str(state.tenant_id),
        _HEAD.pack(state.clock_us, state.score, state.tier, state.max_score, state.max_at_us,
                   state.first_alert_at_us, state.alerts, len(state.sources),
                   len(state.max_drivers)),
        pack_str(state.max_event_id), pack_str(state.first_alert_event_id),
    ]
    for key in sorted(state.sources):
        data = encode_signal(state.sources[key])
        parts.append(_LEN.pack(len(data)) + data)
    for driver in state.max_drivers:
        parts.extend((pack_str(driver.signal), _DRIVER.pack(driver.contribution),
                      pack_str(driver.explanation)))
    return b"".join(parts)


def decode_risk(data: bytes) -> RiskState:
    """Inverse of :func:`encode_risk`."""
    reader = Reader(data)
    check_version(reader, FORMAT, "risk state")
    tenant = reader.string()
    clock, score, tier, max_score, max_at, alert_at, alerts, n_sources, n_drivers = (
        reader.unpack(_HEAD))
    state = RiskState(tenant_id=tenant, clock_us=clock, score=score, tier=tier,
                      max_score=max_score, max_at_us=max_at, first_alert_at_us=alert_at,
                      alerts=alerts)
    state.max_event_id = reader.string()
    state.first_alert_event_id = reader.string()
    for _ in range(n_sources):
        (size,) = reader.unpack(_LEN)
        nested = Reader(reader.raw(size))
        signal = read_signal(nested)
        nested.done()
        state.sources[signal.source] = signal
    drivers = []
    for _ in range(n_drivers):
        name = reader.string()
        (contribution,) = reader.unpack(_DRIVER)
        drivers.append(Driver(name, contribution, reader.string()))
    state.max_drivers = tuple(drivers)
    reader.done()
    return state


@dataclass(frozen=True, slots=True)
class _Part:
    points: float  # decayed, before the cap
    term: Term
    source: str


def _baseline(state: RiskState) -> tuple[int, ...] | None:
    own = state.sources.get("a")
    return own.baseline if isinstance(own, ActorSignal) else None


def _cleared_at(state: RiskState) -> int:
    own = state.sources.get("a")
    if isinstance(own, ActorSignal) and own.decision == CLEARED:
        return own.decision_at_us
    return NONE


def _is_peer(signal: Signal, config: ScoreConfig) -> bool:
    return isinstance(signal, PairSignal) and seeks_out(signal) and pair_gate(signal, config) > 0


def _peers(state: RiskState, config: ScoreConfig) -> set[str]:
    """The pair sources counted by ``features.peer_contacts`` (rebuilt after decoding)."""
    if state._peers is None:
        state._peers = {k for k, s in state.sources.items() if _is_peer(s, config)}
    return state._peers


def _peer_weight(state: RiskState, config: ScoreConfig) -> float:
    return peer_weight(len(_peers(state, config)), config)


def _source_terms(state: RiskState, key: str, config: ScoreConfig) -> list[Term]:
    cached = state._terms.get(key)
    if cached is None:
        cached = terms(state.sources[key], config)
        state._terms[key] = cached
    return cached


def _trim(state: RiskState, config: ScoreConfig) -> None:
    """Keep at most the configured number of pair (and target) sources, strongest first."""
    for prefix, limit in (("p:", config.max_pair_sources),
                          ("t:", max(1, config.max_pair_sources // 4))):
        keys = [k for k in state.sources if k.startswith(prefix)]
        if len(keys) <= limit:
            continue
        ranked = sorted(keys, key=lambda k: (
            -sum(t.points for t in _source_terms(state, k, config)), k))
        for key in ranked[limit:]:
            del state.sources[key]
            state._terms.pop(key, None)
            if state._peers is not None:
                state._peers.discard(key)


def _parts(state: RiskState, config: ScoreConfig) -> dict[str, list[_Part]]:
    by_name: dict[str, list[_Part]] = {}
    clock = state.clock_us
    cleared_at = _cleared_at(state)
    half_life_us = config.half_life_days * US_PER_DAY
    baseline = _baseline(state)
    peers = _peer_weight(state, config)
    for key, signal in state.sources.items():
        found = _source_terms(state, key, config)
        if isinstance(signal, PairSignal) and found:
            shift = register_term(signal, baseline, config)
            if shift is not None:
                found = [*found, shift]
        if not found:
            continue
        factor = 0.5 ** ((clock - signal.at_us) / half_life_us)
        if signal.at_us <= cleared_at:
            factor *= config.cleared_factor
        for term in found:
            points = capped_points(term, config, peers) * factor
            by_name.setdefault(term.name, []).append(_Part(points, term, key))
    return by_name


def _contributions(by_name: dict[str, list[_Part]],
                   config: ScoreConfig) -> list[tuple[str, float, list[_Part]]]:
    result = []
    repeat = config.repeat_factor
    for name, parts in by_name.items():
        parts.sort(key=lambda p: (-p.points, p.source))
        total = sum(p.points * repeat**k for k, p in enumerate(parts))
        result.append((name, min(config.signals[name].cap, total), parts))
    result.sort(key=lambda item: (-item[1], item[0]))
    return result


def _drivers(state: RiskState, contributions: list[tuple[str, float, list[_Part]]],
             config: ScoreConfig) -> tuple[Driver, ...]:
    drivers = []
    cleared_at = _cleared_at(state)
    baseline = _baseline(state)
    peers = len(_peers(state, config))
    weight = peer_weight(peers, config)
    for name, contribution, parts in contributions[:MAX_DRIVERS]:
        rounded = round(contribution, 1)
        if rounded <= 0.0:
            break
        top = parts[0]
        signal = state.sources[top.source]
        ctx = Context(age_days=(state.clock_us - signal.at_us) / US_PER_DAY,
                      cleared=signal.at_us <= cleared_at,
                      more_sources=sum(1 for p in parts[1:] if p.points >= 0.05),
                      baseline=baseline,
                      peers=0 if name in PEER_EXEMPT else peers,
                      peer_weight=1.0 if name in PEER_EXEMPT else weight)
        drivers.append(Driver(name, rounded, explain(top.term, signal, ctx, config)))
    return tuple(drivers)


def evaluate(state: RiskState, config: ScoreConfig) -> tuple[float, tuple[Driver, ...]]:
    """The score as of the state's clock and its drivers (largest first)."""
    contributions = _contributions(_parts(state, config), config)
    score = round(min(100.0, sum(c for _, c, _ in contributions)), 1)
    return score, _drivers(state, contributions, config)


def explanation_text(drivers: Sequence[Driver]) -> str:
    """The drivers as one paragraph a moderator reads."""
    if not drivers:
        return "no risk signals"
    text = "; ".join(d.explanation for d in drivers)
    return text[0].upper() + text[1:] + "."


def _score_only(state: RiskState, config: ScoreConfig) -> float:
    """The score as of the state's clock (what ``evaluate`` gives, without drivers)."""
    return state._tally.score(state.sources, state.clock_us, _baseline(state),
                              _cleared_at(state),
                              lambda key: _source_terms(state, key, config), config,
                              _peer_weight(state, config))


def risk_step(
    actor: str, state: RiskState | None, signals: Sequence[Signal], config: ScoreConfig
) -> tuple[RiskState, list[Alert]]:
    """Fold the signals of one event (or any batch) into ``actor``'s risk state.

    Updates ``state`` in place and returns it with the alerts raised. A state
    object caches terms computed with ``config``; use one config per state
    object (a decoded state starts with an empty cache).
    """
    state = RiskState() if state is None else state
    newest: Signal | None = None
    for signal in signals:
        if signal.actor != actor:
            continue
        if not state.tenant_id:
            state.tenant_id = signal.tenant_id
        key = signal.source
        current = state.sources.get(key)
        if current is None or signal.at_us >= current.at_us:
            state.sources[key] = signal
            state._terms.pop(key, None)
            if state._peers is not None:
                if _is_peer(signal, config):
                    state._peers.add(key)
                else:
                    state._peers.discard(key)
        if newest is None or signal.at_us >= newest.at_us:
            newest = signal
    if newest is None:
        return state, []
    state.clock_us = max(state.clock_us, newest.at_us)
    _trim(state, config)
    score = _score_only(state, config)
    previous = state.tier
    state.tier = next_tier(previous, score, config.tier_bounds, config.hysteresis_margin)
    state.score = score
    alerts: list[Alert] = []
    drivers: tuple[Driver, ...] | None = None
    if score > state.max_score:
        drivers = evaluate(state, config)[1]
        state.max_score = score
        state.max_at_us = newest.at_us
        state.max_event_id = newest.event_id
        state.max_drivers = drivers
    if state.tier > previous and state.tier >= config.alert_tier:
        if drivers is None:
            drivers = evaluate(state, config)[1]
        alerts.append(Alert(actor, state.tenant_id, tier_name(state.tier), score,
                            newest.at_us, newest.event_id, explanation_text(drivers), drivers))
        state.alerts += 1
        if state.first_alert_at_us == NONE:
            state.first_alert_at_us = newest.at_us
            state.first_alert_event_id = newest.event_id
    return state, alerts

