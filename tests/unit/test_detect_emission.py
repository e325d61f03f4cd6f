"""Detectors only signal when what they tell the risk step may have changed.

The risk step keeps the newest signal per source, so a signal repeating the
same figures only moves the user's clock. The actor step signals again on a
change, a new band, or the first event of a newer day; the target step only
when what an adult is told (others escalating, themselves escalating) changes.
"""

from __future__ import annotations

from pipeline.detect.actor import ActorState, actor_step, decode_actor, encode_actor
from pipeline.detect.annotate import StagedEvent
from pipeline.detect.profiles import ProfileTable
from pipeline.detect.routing import route
from pipeline.detect.scenario import Scenario, at
from pipeline.detect.signals import ActorSignal, TargetSignal
from pipeline.detect.stages import N_STAGES
from pipeline.detect.target import TargetState, target_step


def actor_signals(sc: Scenario, user: str) -> list[tuple[str, ActorSignal]]:
    """(event id, signal) for every signal the actor step sent for ``user``."""
    profiles = ProfileTable()
    me = sc.pseudonym(user)
    state: ActorState | None = None
    sent = []
    for event in sc.normalized():
        if event.type == "profile":
            profiles.apply(event)
        if me in route(event, profiles).actors:
            state, emitted = actor_step(me, state, StagedEvent(event), profiles)
            state = decode_actor(encode_actor(state))
            sent.extend((event.event_id, s) for s in emitted)
    return sent


def test_repeated_activity_on_one_day_is_signalled_once() -> None:
    sc = Scenario()
    sc.profile("adult", "18_plus")
    sc.profile("kid", "13_15")
    sc.message("adult", "kid", at(1, 10), "hi")
    for minute in range(1, 6):
        sc.message("adult", "kid", at(1, 10, minute), "how was school")
    sc.message("adult", "kid", at(2, 9), "morning")
    sent = actor_signals(sc, "adult")
    # the profile, the first message (a new contact), the next day's first message
    assert len(sent) == 3
    assert [s.minors_7 for _, s in sent] == [0, 1, 1]


def test_refusals_and_reports_are_signalled_even_on_the_same_day() -> None:
    sc = Scenario()
    sc.profile("adult", "18_plus")
    sc.profile("kid", "13_15")
    sc.contact("adult", "kid", "request", at(1, 10))
    sc.contact("kid", "adult", "decline", at(1, 11))
    sc.report("kid", "adult", at(1, 12))
    sent = actor_signals(sc, "adult")
    last = sent[-1][1]
    assert last.requests_to_minors == 1 and last.declined_by_minors == 1
    assert last.reporters == 1
    assert len(sent) == 4


def test_target_tells_an_adult_only_what_changed() -> None:
    sc = Scenario()
    sc.profile("kid", "13_15")
    sc.profile("a1", "18_plus")
    sc.profile("a2", "18_plus")
    sc.profile("plain", "18_plus")
    for n in range(3):
        sc.message("a1", "kid", at(1, 10, n), "x")
        sc.message("plain", "kid", at(1, 11, n), "y")
    sc.message("a2", "kid", at(2, 10), "x")
    sc.message("a1", "kid", at(2, 11), "x")
    profiles = ProfileTable()
    kid = sc.pseudonym("kid")
    four = tuple(255 if i < 4 else 0 for i in range(N_STAGES))
    state: TargetState | None = None
    told: list[tuple[str, TargetSignal]] = []
    for event in sc.normalized():
        if event.type == "profile":
            profiles.apply(event)
            continue
        stages = (0,) * N_STAGES if event.actor == sc.pseudonym("plain") else four
        state, emitted = target_step(kid, state, StagedEvent(event, stages), profiles, 128)
        told.extend((event.actor, s) for s in emitted)
    # a1 once when escalating starts, once when a2 also escalates; a2 once; plain never
    assert [(actor == sc.pseudonym("a1"), s.others_escalating) for actor, s in told] == [
        (True, 0), (False, 1), (True, 1)]
    assert all(s.self_escalating for _, s in told)
