"""A pair's analysis from its own events agrees with the full harness, in any input order."""

from __future__ import annotations

import random

from pipeline.core import Engine
from pipeline.detect.pair import NONE
from pipeline.detect.routing import pair_key
from pipeline.detect.scenario import Scenario, at, grooming_sequence
from pipeline.detect.signals import PairSignal
from pipeline.detect.text.model import load_model
from pipeline.model import NormalizedEvent
from pipeline.pair_analysis import analyse_pair
from pipeline.score import load_config
from pipeline.score.features import pair_terms

CONFIG = load_config()
MODEL = load_model()


def world() -> Scenario:
    sc = Scenario()
    for user, band in (("g1", "18_plus"), ("k1", "13_15"), ("k2", "under_13"),
                       ("a1", "18_plus")):
        sc.profile(user, band, timezone="UTC")
    grooming_sequence(sc, "g1", "k1", days=10)
    for day in range(4):
        sc.message("g1", ["k1", "k2"], at(day, 16), "practice at 5", channel="group",
                   conversation="team")
        sc.message("k1", "g1", at(day, 18), "ok see you")
        sc.message("a1", "g1", at(day, 21), "drinks friday?")
        sc.message("k2", "k1", at(day, 20), "lol did u see that")
    sc.contact("k1", "g1", "block", at(11, 9))
    return sc


def pair_subset(events: list[NormalizedEvent], a: str, b: str) -> list[NormalizedEvent]:
    """What the API loads from PostgreSQL: events between a and b, and their profiles."""
    def between(e: NormalizedEvent, x: str, y: str) -> bool:
        return e.actor == x and (y in e.recipients or e.target == y)
    return [e for e in events
            if (e.type == "profile" and e.actor in (a, b)) or between(e, a, b) or between(e, b, a)]


def test_figures_match_the_harness_on_the_whole_world() -> None:
    sc = world()
    events = sc.normalized()
    engine = Engine(CONFIG, MODEL)
    engine.run(sorted(events, key=lambda e: e.occurred_at_us))
    g1, k1 = sc.pseudonym("g1"), sc.pseudonym("k1")
    key = pair_key(g1, k1)
    state = engine.pairs[key]

    result = analyse_pair(k1, g1, pair_subset(events, g1, k1), MODEL, CONFIG)

    assert (result.a, result.b) == key
    for d, view in enumerate(result.directions):
        assert view.sender == key[d]
        assert view.figures["messages"] == state.msgs[d]
        assert view.figures["conversations_started"] == state.sessions[d]
        assert view.figures["media"] == state.media[d]
        assert view.figures["blocked_the_other"] == bool(state.blocked >> d & 1)
    assert result.first_private_at_us == state.first_private_at_us
    assert result.first_shared_at_us == (None if state.first_shared_at_us == NONE
                                         else state.first_shared_at_us)
    # The groomer's direction carries the same terms the risk step scored.
    source = engine.risks[g1].sources["p:" + k1]
    assert isinstance(source, PairSignal)
    expected = {t.name: min(t.points, CONFIG.signals[t.name].cap)
                for t in pair_terms(source, CONFIG) if t.points > 0}
    groomer = result.directions[key.index(g1)]
    assert expected and groomer.signalled
    assert min(state.msgs) > 0 and state.blocked
    assert {t.signal: t.points for t in groomer.terms} == {
        name: round(points, 2) for name, points in expected.items()}
    assert [t.points for t in groomer.terms] == sorted((t.points for t in groomer.terms),
                                                       reverse=True)
    assert all(t.explanation for t in groomer.terms)
    assert groomer.figures["recipient_age_band"] == "13-15"
    # The minor writing back to an adult raises no signal about the minor.
    assert not result.directions[key.index(k1)].signalled


def test_input_order_does_not_matter() -> None:
    sc = world()
    events = sc.normalized()
    g1, k1 = sc.pseudonym("g1"), sc.pseudonym("k1")
    subset = pair_subset(events, g1, k1)
    shuffled = list(subset)
    random.Random(7).shuffle(shuffled)
    assert analyse_pair(g1, k1, shuffled, MODEL, CONFIG) == analyse_pair(g1, k1, subset, MODEL,
                                                                         CONFIG)


def test_events_of_other_pairs_are_ignored() -> None:
    sc = world()
    events = sc.normalized()
    g1, k1 = sc.pseudonym("g1"), sc.pseudonym("k1")
    alone = analyse_pair(g1, k1, pair_subset(events, g1, k1), MODEL, CONFIG)
    assert analyse_pair(g1, k1, events, MODEL, CONFIG) == alone
    strangers = analyse_pair(sc.pseudonym("a1"), k1, pair_subset(events, sc.pseudonym("a1"), k1),
                             MODEL, CONFIG)
    assert strangers.events == 0
    assert not any(d.signalled for d in strangers.directions)
