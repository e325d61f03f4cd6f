"""A pair's behavioural analysis, recomputed from its stored events with the pure core.

:func:`analyse_pair` folds the events between two users, in event-time order,
through the same functions the stream runs: ``profile`` events into a profile
view, ``route`` to decide whether an event reaches the pair, ``annotate`` for
a message's stage probabilities, and ``pair_step`` on the pair key (with the
same shortcut for shared posts as :class:`pipeline.core.Engine`). It returns
the pair state's figures and, for each direction that produced a signal, the
signal's figures and the points and sentence of every term it would add to
the sender's score (before decay and the other sources a score combines).

The register-shift term needs the sender's own baseline (their actor state),
which a pair alone does not have, so it is not part of this analysis.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pipeline.detect.annotate import annotate
from pipeline.detect.bands import BAND_LABELS, band_of
from pipeline.detect.clock import US_PER_DAY
from pipeline.detect.pair import NONE, PairState, pair_step
from pipeline.detect.profiles import ProfileTable
from pipeline.detect.routing import pair_key, route
from pipeline.detect.signals import PairSignal
from pipeline.detect.stages import N_STAGES, STAGE_LABELS
from pipeline.detect.text.model import StageModel
from pipeline.model import NormalizedEvent
from pipeline.score.config import ScoreConfig
from pipeline.score.explain import Context, explain
from pipeline.score.features import pair_terms


@dataclass(frozen=True, slots=True)
class TermView:
    signal: str
    points: float  # weight * value * age gate, capped, before decay
    value: float
    explanation: str


@dataclass(frozen=True, slots=True)
class DirectionView:
    """What one side's behaviour towards the other adds up to."""

    sender: str
    recipient: str
    signalled: bool
    points: float
    terms: tuple[TermView, ...]
    figures: dict[str, Any]


@dataclass(frozen=True, slots=True)
class PairAnalysis:
    a: str
    b: str
    events: int  # events that reached the pair
    first_contact_at_us: int | None
    first_shared_at_us: int | None
    first_private_at_us: int | None
    first_private_from: str | None
    last_at_us: int | None
    directions: tuple[DirectionView, ...]


def _time(value: int) -> int | None:
    return None if value == NONE else value


def _band(code: int) -> str:
    return BAND_LABELS[band_of(code)]


def _signal_figures(s: PairSignal) -> dict[str, Any]:
    return {
        "sender_age_band": _band(s.sender_band),
        "recipient_age_band": _band(s.other_band),
        "stages_seen": [STAGE_LABELS[i] for i in range(N_STAGES) if s.stage_mask >> i & 1],
        "stages_seen_from_recipient": [STAGE_LABELS[i] for i in range(N_STAGES)
                                       if s.reverse_mask >> i & 1],
        "stage_order_per_mille": s.stage_order_pm,
        "stage_span_minutes": s.stage_span_min,
        "messages_per_week": list(s.weekly),
        "night_share_last_7_days_per_mille": s.night_recent_pm,
        "night_share_before_per_mille": None if s.night_earlier_pm < 0 else s.night_earlier_pm,
        "messages_last_7_days": s.recent_msgs,
        "messages_28_days": s.own_28,
        "replies_28_days": s.other_28,
        "conversations_started": s.init_own,
        "conversations_started_by_recipient": s.init_other,
        "minutes_from_group_to_private": None if s.migrated_min < 0 else s.migrated_min,
        "reply_latency_seconds": None if s.latency_s < 0 else s.latency_s,
        "media_after_request": s.media_after_request,
    }


def _state_figures(state: PairState, direction: int) -> dict[str, Any]:
    return {
        "messages": state.msgs[direction],
        "conversations_started": state.sessions[direction],
        "replies": state.replies[direction],
        "reply_latency_seconds": _time(state.latency_s[direction]),
        "media": state.media[direction],
        "blocked_the_other": bool(state.blocked >> direction & 1),
    }


def _direction(state: PairState, direction: int, sender: str, recipient: str,
               signal: PairSignal | None, clock_us: int, config: ScoreConfig) -> DirectionView:
    figures = _state_figures(state, direction)
    if signal is None:
        return DirectionView(sender, recipient, False, 0.0, (), figures)
    ctx = Context(age_days=(clock_us - signal.at_us) / US_PER_DAY, cleared=False,
                  more_sources=0, baseline=None)
    views = []
    for term in pair_terms(signal, config):
        if term.points <= 0.0:
            continue
        points = min(term.points, config.signals[term.name].cap)
        views.append(TermView(term.name, round(points, 2), round(term.value, 3),
                              explain(term, signal, ctx, config)))
    views.sort(key=lambda v: (-v.points, v.signal))
    figures.update(_signal_figures(signal))
    return DirectionView(sender, recipient, True, round(sum(v.points for v in views), 2),
                         tuple(views), figures)


def analyse_pair(a: str, b: str, events: Iterable[NormalizedEvent], model: StageModel,
                 config: ScoreConfig) -> PairAnalysis:
    """Fold ``events`` (any order; sorted here by event time, then id) into the pair a-b."""
    key = pair_key(a, b)
    profiles = ProfileTable()
    state = PairState()
    reached = 0
    clock = NONE
    newest: dict[str, PairSignal] = {}
    threshold = config.stage_threshold_byte
    for event in sorted(events, key=lambda e: (e.occurred_at_us, e.event_id)):
        if event.type == "session":
            continue  # reaches only its actor's key
        if event.type == "profile":
            profiles.apply(event)
        if key not in route(event, profiles).pairs:
            continue
        reached += 1
        clock = max(clock, event.occurred_at_us)
        if (event.type == "message" and event.channel != "private"
                and 0 <= state.first_shared_at_us <= event.occurred_at_us):
            continue  # pair_step would change nothing: an earlier shared post is known
        state, emitted = pair_step(key, state, annotate(event, model, profiles), profiles,
                                   threshold)
        for signal in emitted:
            newest[signal.actor] = signal
    first_from = None
    if state.first_private_at_us != NONE:
        first_from = key[state.first_private_dir]
    directions = tuple(
        _direction(state, d, key[d], key[1 - d], newest.get(key[d]), clock, config)
        for d in (0, 1)
    )
    return PairAnalysis(
        a=key[0], b=key[1], events=reached,
        first_contact_at_us=_time(state.first_at_us),
        first_shared_at_us=_time(state.first_shared_at_us),
        first_private_at_us=_time(state.first_private_at_us),
        first_private_from=first_from,
        last_at_us=_time(state.last_at_us),
        directions=directions,
    )
