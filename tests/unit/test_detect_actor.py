"""The actor and target detectors, routing, and profile updates."""

from __future__ import annotations

from pipeline.detect.actor import (
    MAX_CONTACTS,
    ActorState,
    actor_step,
    decode_actor,
    encode_actor,
)
from pipeline.detect.annotate import StagedEvent
from pipeline.detect.bands import AGE_13_15, CLAIMED, UNKNOWN, gate
from pipeline.detect.profiles import ProfileTable, band_code_of
from pipeline.detect.routing import pair_key, route
from pipeline.detect.scenario import Scenario, at
from pipeline.detect.signals import DECISION_CODES, ActorSignal, TargetSignal
from pipeline.detect.stages import N_STAGES, STAGE_INDEX
from pipeline.detect.target import TargetState, decode_target, encode_target, target_step
from pipeline.model import NormalizedEvent


def fold_actor(sc: Scenario, user: str) -> tuple[ActorState, list[ActorSignal]]:
    profiles = ProfileTable()
    me = sc.pseudonym(user)
    state: ActorState | None = None
    signals: list[ActorSignal] = []
    for event in sc.normalized():
        if event.type == "profile":
            profiles.apply(event)
        if me in route(event, profiles).actors:
            state, emitted = actor_step(me, state, StagedEvent(event), profiles)
            signals.extend(emitted)
    assert state is not None
    return state, signals


def test_contacts_by_band_in_sliding_windows() -> None:
    sc = Scenario()
    sc.profile("adult", "18_plus", created=at(-3))
    for n in range(5):
        sc.profile(f"kid{n}", "13_15")
    sc.profile("grown", "18_plus")
    for n in range(5):
        sc.message("adult", f"kid{n}", at(n * 8, 12), "hi")
    sc.message("adult", "grown", at(32, 12), "hello")
    sc.message("adult", ["kid0", "kid1", "kid2"], at(33, 12), "hi all", channel="group",
               conversation="g")
    _, signals = fold_actor(sc, "adult")
    last = signals[-1]
    # kid0 (day 0) left the 28-day window; kid1..kid4 at days 8..32 are in it.
    assert last.contacts_28[AGE_13_15] == 4
    assert last.contacts_28[4] == 1
    assert last.minors_7 == 1 and last.new_minors_7 == 1
    assert last.account_age_days == 36


def test_requests_declines_and_reports_reach_the_target_actor() -> None:
    sc = Scenario()
    sc.profile("adult", "18_plus")
    for n in range(3):
        sc.profile(f"kid{n}", "13_15")
        sc.contact("adult", f"kid{n}", "request", at(n, 10))
    sc.contact("kid0", "adult", "decline", at(3, 10))
    sc.contact("kid1", "adult", "block", at(3, 11))
    sc.report("kid2", "adult", at(4, 10))
    sc.report("kid2", "adult", at(4, 11))  # the same reporter twice
    sc.moderation("adult", "cleared", at(5, 10))
    _, signals = fold_actor(sc, "adult")
    last = signals[-1]
    assert last.requests_to_minors == 3
    assert last.declined_by_minors == 2
    assert last.reporters == 1 and last.minor_reporters == 1
    assert last.decision == DECISION_CODES["cleared"]


def test_contact_set_is_capped() -> None:
    sc = Scenario()
    sc.profile("adult", "18_plus")
    for n in range(MAX_CONTACTS + 10):
        sc.message("adult", f"user{n}", at(n / 10, 10), "hi")
    state, _ = fold_actor(sc, "adult")
    assert len(state.contacts) == MAX_CONTACTS
    assert decode_actor(encode_actor(state)) == state


def test_baseline_follows_scored_messages() -> None:
    sc = Scenario()
    sc.profile("adult", "18_plus")
    event = sc.normalized()[0]
    profiles = ProfileTable()
    profiles.apply(event)
    message = NormalizedEvent.from_record({**event.to_record(), "type": "message",
                                           "channel": "private", "recipients": ["u_x"]})
    stages = tuple(255 if i == STAGE_INDEX["gifts"] else 0 for i in range(N_STAGES))
    state = None
    for _ in range(32):
        state, _ = actor_step(event.actor, state, StagedEvent(message, stages), profiles)
    assert state is not None
    assert 100 < state.baseline[STAGE_INDEX["gifts"]] < 255
    assert state.baseline_n == 32


def test_target_counts_other_adults_escalating() -> None:
    sc = Scenario()
    sc.profile("kid", "13_15")
    for name in ("a1", "a2", "a3"):
        sc.profile(name, "18_plus")
    for day, name in enumerate(("a1", "a2", "a3")):
        for n in range(4):
            sc.message(name, "kid", at(day, 10, n), "x")
    profiles = ProfileTable()
    kid = sc.pseudonym("kid")
    state: TargetState | None = None
    signals: list[TargetSignal] = []
    four = tuple(255 if i < 4 else 0 for i in range(N_STAGES))
    for event in sc.normalized():
        if event.type == "profile":
            profiles.apply(event)
            continue
        assert route(event, profiles).targets == (kid,)
        state, emitted = target_step(kid, state, StagedEvent(event, four), profiles, 128)
        signals.extend(emitted)
    assert state is not None
    assert signals[-1].others_escalating == 2 and signals[-1].self_escalating
    assert signals[0].others_escalating == 0
    assert decode_target(encode_target(state)) == state


def test_routing_of_each_event_type() -> None:
    sc = Scenario()
    sc.profile("adult", "18_plus")
    sc.profile("kid", "13_15")
    sc.profile("teen", "16_17", age_source="verified")
    sc.message("adult", "kid", at(0, 1), "hi")
    sc.message("adult", ["kid", "teen", "adult2"], at(0, 2), "hi", channel="group",
               conversation="g")
    sc.message("kid", "teen", at(0, 3), "hi")
    sc.contact("kid", "adult", "block", at(0, 4))
    sc.report("kid", "adult", at(0, 5))
    sc.moderation("adult", "cleared", at(0, 6))
    profiles = ProfileTable()
    routes = []
    for event in sc.normalized():
        if event.type == "profile":
            profiles.apply(event)
        else:
            routes.append(route(event, profiles))
    p = sc.pseudonym
    private, group, teens, block, report, moderation = routes
    assert private.pairs == (pair_key(p("adult"), p("kid")),)
    assert private.targets == (p("kid"),)
    # a broadcast: no target, co-presence only where one side may be a minor
    assert group.targets == () and group.actors == (p("adult"),)
    # (adult2 has no profile: of unknown age, so possibly a minor)
    assert set(group.pairs) == {pair_key(p("adult"), p(u)) for u in ("kid", "teen", "adult2")}
    assert teens.targets == () and teens.pairs == (pair_key(p("kid"), p("teen")),)
    assert block.actors == (p("kid"), p("adult"))
    assert report.actors == (p("kid"), p("adult"))
    assert moderation.actors == (p("mod-1"), p("adult"))


def test_profile_newest_wins_and_declared_minors_are_flagged() -> None:
    sc = Scenario()
    sc.profile("u", "13_15", at(1), age_source="declared", timezone="Europe/Paris")
    sc.profile("u", "18_plus", at(0), age_source="verified")  # older: only fills gaps
    profiles = ProfileTable()
    for event in sorted(sc.normalized(), key=lambda e: -e.occurred_at_us):
        profiles.apply(event)
    profile = profiles.get(sc.pseudonym("u"))
    assert profile is not None
    assert profile.timezone == "Europe/Paris"
    assert band_code_of(profile) == AGE_13_15 | CLAIMED


def test_gate() -> None:
    adult, kid = 4, AGE_13_15
    assert gate(adult, kid, 0.5) == 1.0
    assert gate(adult, adult, 0.5) == 0.0
    assert gate(kid, kid, 0.5) == 0.0
    assert gate(kid | CLAIMED, kid, 0.5, 0.25) == 0.25
    assert gate(UNKNOWN, kid, 0.5) == 0.5
    assert gate(UNKNOWN, UNKNOWN, 0.5) == 0.25
