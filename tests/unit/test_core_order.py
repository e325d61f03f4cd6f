"""The harness: order independence across keys, and stream/replay agreement via codecs."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.core import Engine
from pipeline.detect.profiles import ProfileTable
from pipeline.detect.routing import route
from pipeline.detect.scenario import Scenario, at, grooming_sequence
from pipeline.detect.text.model import load_model
from pipeline.model import NormalizedEvent
from pipeline.score import load_config

CONFIG = load_config()
MODEL = load_model()


def world() -> list[NormalizedEvent]:
    """Two groomers sharing a victim, a coach with a team, teenagers, adults."""
    sc = Scenario()
    for user, band in (("g1", "18_plus"), ("g2", "unknown"), ("coach", "18_plus"),
                       ("k1", "13_15"), ("k2", "under_13"), ("k3", "16_17"),
                       ("a1", "18_plus")):
        sc.profile(user, band, timezone="UTC")
    grooming_sequence(sc, "g1", "k1", days=10)
    grooming_sequence(sc, "g2", "k1", first_day=2, days=8)
    for day in range(6):
        sc.message("coach", ["k1", "k2", "k3"], at(day, 16), "practice at 5", channel="group",
                   conversation="team")
        sc.message("coach", "k2", at(day, 17), "great game today")
        sc.message("k2", "k3", at(day, 20), "lol did u see that")
        sc.message("a1", "g1", at(day, 21), "drinks friday?")
    sc.contact("g1", "k3", "request", at(1, 9))
    sc.contact("k3", "g1", "block", at(1, 10))
    sc.report("k1", "g1", at(8, 9))
    sc.moderation("g2", "cleared", at(9, 9))
    return sc.normalized()


EVENTS = world()


def keys_of(events: list[NormalizedEvent]) -> list[set[str]]:
    """The detector keys each event touches (and whose profile it reads or writes)."""
    profiles = ProfileTable()
    result = []
    for event in events:
        if event.type == "profile":
            profiles.apply(event)
        r = route(event, profiles)
        keys = {"pair:" + "|".join(k) for k in r.pairs}
        keys |= {"actor:" + a for a in r.actors} | {"target:" + t for t in r.targets}
        keys |= {"profile:" + u for u in r.reads}
        result.append(keys)
    return result


KEYS = keys_of(EVENTS)


def interleave(seed: int) -> list[NormalizedEvent]:
    """A random order that keeps the relative order of events sharing any key."""
    rng = random.Random(seed)
    remaining = list(range(len(EVENTS)))
    order: list[int] = []
    while remaining:
        blocked: set[str] = set()
        ready = []
        for index in remaining:
            if not KEYS[index] & blocked:
                ready.append(index)
            blocked |= KEYS[index]
            if len(ready) >= 8:
                break
        pick = rng.choice(ready)
        order.append(pick)
        remaining.remove(pick)
    return [EVENTS[i] for i in order]


def results(engine: Engine, alerts: list[Any]) -> tuple[Any, ...]:
    risks = tuple(sorted(
        (actor, r.score, r.tier, r.max_score, r.first_alert_at_us, r.first_alert_event_id,
         r.max_drivers) for actor, r in engine.risks.items()))
    raised = sorted((a.actor, a.tier, a.score, a.event_id, a.explanation) for a in alerts)
    return risks, tuple(raised)


def run(events: list[NormalizedEvent], **options: bool) -> tuple[Any, ...]:
    engine = Engine(CONFIG, MODEL, **options)
    return results(engine, engine.run(events))


BASELINE = run(EVENTS)


def test_world_raises_an_alert() -> None:
    assert BASELINE[1], "the scenario should alert on at least one groomer"


@settings(max_examples=15, deadline=None)
@given(st.integers(min_value=0, max_value=2**32))
def test_interleaving_events_of_different_keys_changes_nothing(seed: int) -> None:
    shuffled = interleave(seed)
    assert shuffled != EVENTS or len(EVENTS) < 2
    assert run(shuffled) == BASELINE


def test_states_through_their_codecs_give_the_same_results() -> None:
    """The stream saves every state to RocksDB between events; replay keeps objects."""
    assert run(EVENTS, roundtrip_states=True) == BASELINE


def test_every_risk_signal_comes_from_an_event_under_that_users_actor_key() -> None:
    engine = Engine(CONFIG, MODEL)
    for event, keys in zip(EVENTS, KEYS, strict=True):
        before = {a: r.clock_us for a, r in engine.risks.items()}
        engine.process(event)
        for actor, risk in engine.risks.items():
            if before.get(actor) != risk.clock_us:
                assert "actor:" + actor in keys


def test_online_learning_updates_the_model() -> None:
    engine = Engine(CONFIG, MODEL, learn_online=True)
    engine.run(EVENTS)
    assert engine.model is not MODEL
    assert engine.model.version.startswith("seed-1+")
