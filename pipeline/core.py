"""The in-process harness: routes events to the per-key steps exactly as the stream does.

:class:`Engine` keeps every state in a dict keyed like the Faust tables
(pair state by unordered pair, actor state by actor, target state by target,
risk state by actor) and, for each event in event-time order:

1. folds ``profile`` events into the profile view (a GlobalTable in the stream);
2. attaches stage probabilities to private messages (``annotate``);
3. asks ``route`` which keys the event reaches and runs ``pair_step``,
   ``target_step`` and ``actor_step`` on those keys;
4. hands each user's signals of this event to ``risk_step`` under that user's key.

The Faust agents call the same functions with states loaded from and saved
to RocksDB; ``roundtrip_states=True`` makes the harness do the same through
the codecs, which tests use to show that stream and replay agree.
"""

from __future__ import annotations

import gc
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Final

from pipeline.detect.actor import ActorState, actor_step, decode_actor, encode_actor
from pipeline.detect.annotate import StagedEvent, annotate
from pipeline.detect.pair import PairState, decode_pair, encode_pair, pair_step
from pipeline.detect.profiles import ProfileTable
from pipeline.detect.routing import route
from pipeline.detect.signals import Signal
from pipeline.detect.target import TargetState, decode_target, encode_target, target_step
from pipeline.detect.text.learning import learn
from pipeline.detect.text.model import StageModel, load_model
from pipeline.model import NormalizedEvent
from pipeline.score.config import ScoreConfig, load_config
from pipeline.score.risk import Alert, RiskState, decode_risk, encode_risk, risk_step

RECENT_TEXTS: Final = 32
# First-generation threshold of the garbage collector while ``Engine.run`` works (the
# default is 700): see ``_fewer_young_collections``.
GC_YOUNG_THRESHOLD: Final = 20_000


@contextmanager
def _fewer_young_collections() -> Iterator[None]:
    """Run the collector's youngest generation less often, then restore its thresholds.

    A run allocates many short-lived objects (signals, terms, routes) beside states that
    live for the whole run; at the default threshold the collector spent about a fifth
    of the run walking them. Collections still happen, only less often; results do not
    depend on it.
    """
    young, middle, old = gc.get_threshold()
    gc.set_threshold(max(young, GC_YOUNG_THRESHOLD), middle, old)
    try:
        yield
    finally:
        gc.set_threshold(young, middle, old)


class Engine:
    """All detection state of one run, and the routing between the steps."""

    def __init__(
        self,
        config: ScoreConfig | None = None,
        model: StageModel | None = None,
        *,
        learn_online: bool = False,
        roundtrip_states: bool = False,
    ) -> None:
        """``learn_online`` updates the text model at each moderation decision, as the
        trainer would; it makes later scores depend on where decisions fall among
        other users' events, so replay leaves it off."""
        self.config = config if config is not None else load_config()
        self.model = model if model is not None else load_model()
        self.learn_online = learn_online
        self.roundtrip_states = roundtrip_states
        self.profiles = ProfileTable()
        self.pairs: dict[tuple[str, str], PairState] = {}
        self.actors: dict[str, ActorState] = {}
        self.targets: dict[str, TargetState] = {}
        self.risks: dict[str, RiskState] = {}
        self.events = 0
        self._recent_texts: dict[str, deque[str]] = {}
        self._threshold = self.config.stage_threshold_byte

    def process(self, event: NormalizedEvent) -> list[Alert]:
        """Run one event through every step it reaches; return the alerts it raised."""
        self.events += 1
        profiles = self.profiles
        if event.type == "session":
            return self._own_only(event)
        if event.type == "profile":
            profiles.apply(event)
        staged = annotate(event, self.model, profiles)
        keys = route(event, profiles)
        signals: dict[str, list[Signal]] = {}
        threshold = self._threshold
        shared_only = event.type == "message" and event.channel != "private"
        at_us = event.occurred_at_us
        for key in keys.pairs:
            current = self.pairs.get(key)
            if (shared_only and current is not None
                    and 0 <= current.first_shared_at_us <= at_us):
                continue  # pair_step would change nothing: an earlier shared post is known
            state, p_emitted = pair_step(key, current, staged, profiles, threshold)
            self.pairs[key] = decode_pair(encode_pair(state)) if self.roundtrip_states else state
            for p_signal in p_emitted:
                signals.setdefault(p_signal.actor, []).append(p_signal)
        for target in keys.targets:
            t_state, t_emitted = target_step(target, self.targets.get(target), staged,
                                             profiles, threshold)
            self.targets[target] = (decode_target(encode_target(t_state))
                                    if self.roundtrip_states else t_state)
            for t_signal in t_emitted:
                signals.setdefault(t_signal.actor, []).append(t_signal)
        for actor in keys.actors:
            a_state, a_emitted = actor_step(actor, self.actors.get(actor), staged, profiles)
            self.actors[actor] = (decode_actor(encode_actor(a_state))
                                  if self.roundtrip_states else a_state)
            for a_signal in a_emitted:
                signals.setdefault(a_signal.actor, []).append(a_signal)
        alerts: list[Alert] = []
        for actor, batch in signals.items():
            r_state, raised = risk_step(actor, self.risks.get(actor), batch, self.config)
            self.risks[actor] = (decode_risk(encode_risk(r_state))
                                 if self.roundtrip_states else r_state)
            alerts.extend(raised)
        if self.learn_online:
            self._learn(event)
        return alerts

    def _own_only(self, event: NormalizedEvent) -> list[Alert]:
        """An event that reaches only its actor's key (what ``route`` gives a session)."""
        actor = event.actor
        a_state, emitted = actor_step(actor, self.actors.get(actor), StagedEvent(event),
                                      self.profiles)
        self.actors[actor] = (decode_actor(encode_actor(a_state))
                              if self.roundtrip_states else a_state)
        if not emitted:
            return []
        r_state, raised = risk_step(actor, self.risks.get(actor), emitted, self.config)
        self.risks[actor] = decode_risk(encode_risk(r_state)) if self.roundtrip_states else r_state
        return raised

    def run(self, events: Iterable[NormalizedEvent]) -> list[Alert]:
        """Process events in the order given; return every alert in the order raised."""
        alerts: list[Alert] = []
        process = self.process
        with _fewer_young_collections():
            for event in events:
                alerts.extend(process(event))
        return alerts

    def _learn(self, event: NormalizedEvent) -> None:
        if event.type == "message" and event.channel == "private" and event.content:
            recent = self._recent_texts.get(event.actor)
            if recent is None:
                recent = self._recent_texts[event.actor] = deque(maxlen=RECENT_TEXTS)
            recent.append(event.content)
        elif event.type == "moderation" and event.subject is not None and event.decision:
            texts = list(self._recent_texts.get(event.subject, ()))
            self.model = learn(self.model, texts, event.decision,
                               self.config.stage_threshold)
