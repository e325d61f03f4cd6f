"""Risk scoring: limits, decay, hysteresis, age gates, order of signals, codec."""

from __future__ import annotations

import itertools

import pytest

from pipeline.core import Engine
from pipeline.detect.bands import ADULT, AGE_13_15, UNKNOWN
from pipeline.detect.scenario import STAGE_LINES, Scenario, at, grooming_sequence
from pipeline.detect.signals import ActorSignal, PairSignal, Signal
from pipeline.score import RiskState, decode_risk, encode_risk, load_config, risk_step
from pipeline.score.config import ScoreConfig
from pipeline.score.tiers import next_tier, tier_of

DAY_US = 86_400_000_000
CONFIG = load_config()


def pair_signal(other: str = "kid", at_us: int = 0, **figures: object) -> PairSignal:
    values: dict[str, object] = dict(
        actor="adult", other=other, tenant_id="t", event_id=f"e{at_us}", at_us=at_us,
        sender_band=ADULT, other_band=AGE_13_15, stage_mask=0, reverse_mask=0,
        stage_order_pm=500, stage_span_min=0, stage_msgs=0, weekly=(0, 0, 0, 0),
        night_recent_pm=0, night_earlier_pm=-1, recent_msgs=0, init_own=0, init_other=0,
        migrated_min=-1, latency_s=-1, media_after_request=0, recent_stages=(0,) * 8,
    )
    values.update(figures)
    return PairSignal(**values)  # type: ignore[arg-type]


def actor_signal(at_us: int = 0, **figures: object) -> ActorSignal:
    values: dict[str, object] = dict(
        actor="adult", tenant_id="t", event_id=f"a{at_us}", at_us=at_us, band=ADULT,
        account_age_days=-1, contacts_28=(0, 0, 0, 0, 0), minors_7=0, new_minors_7=0,
        requests_to_minors=0, declined_by_minors=0, reporters=0, minor_reporters=0,
        baseline=(0,) * 8, decision=0, decision_at_us=-1,
    )
    values.update(figures)
    return ActorSignal(**values)  # type: ignore[arg-type]


def fold(signals: list[Signal], config: ScoreConfig = CONFIG) -> RiskState:
    state = None
    for signal in signals:
        state, _ = risk_step("adult", state, [signal], config)
    assert state is not None
    return state


def engine_for(scenario: Scenario) -> Engine:
    engine = Engine(CONFIG)
    engine.run(scenario.normalized())
    return engine


def test_a_single_message_with_every_stage_stays_below_alert() -> None:
    sc = Scenario()
    sc.profile("adult", "18_plus")
    sc.profile("kid", "13_15")
    sc.message("adult", "kid", at(0, 23), ". ".join(STAGE_LINES))
    risk = engine_for(sc).risks[sc.pseudonym("adult")]
    assert risk.max_score < CONFIG.tier_bounds[CONFIG.alert_tier]
    assert risk.first_alert_at_us == -1


def test_every_signal_at_its_top_alone_stays_below_alert() -> None:
    full = pair_signal(stage_mask=0xFF, stage_order_pm=1000, stage_msgs=8,
                       weekly=(1, 2, 4, 60), night_recent_pm=1000, night_earlier_pm=0,
                       recent_msgs=40, init_own=20, migrated_min=10, latency_s=5,
                       media_after_request=9, recent_stages=(255,) * 8)
    for name, _ in CONFIG.signals.items():
        only = ScoreConfig(**{**{f: getattr(CONFIG, f) for f in CONFIG.__slots__},
                              "signals": {n: w if n == name else type(w)(0.0, 0.0)
                                          for n, w in CONFIG.signals.items()}})
        state = fold([full, actor_signal(contacts_28=(0, 9, 9, 9, 0), declined_by_minors=9,
                                         reporters=9, minor_reporters=9, account_age_days=1)],
                     only)
        assert state.max_score < 60, name


def test_repeating_one_signal_is_capped() -> None:
    """Stage evidence from twenty pairs cannot stack past the stage cap."""
    signals: list[Signal] = [
        pair_signal(other=f"kid{n}", at_us=n, stage_mask=0xFF, stage_order_pm=1000,
                    stage_msgs=8) for n in range(20)
    ]
    state = fold(signals)
    assert state.score == pytest.approx(CONFIG.signals["stages"].cap)
    assert state.tier < CONFIG.alert_tier


def test_contributions_decay_with_event_time() -> None:
    strong = pair_signal(stage_mask=0xFF, stage_order_pm=1000, stage_msgs=8)
    state = fold([strong])
    fresh = state.score
    half_life = int(CONFIG.half_life_days * DAY_US)
    state = fold([strong, actor_signal(at_us=half_life)])
    assert state.score == pytest.approx(fresh / 2, abs=0.1)
    assert state.max_score == fresh


def test_tiers_and_hysteresis() -> None:
    bounds = CONFIG.tier_bounds
    assert [tier_of(s, bounds) for s in (0, 29.9, 30, 59.9, 60, 84.9, 85, 100)] == [
        0, 0, 1, 1, 2, 2, 3, 3]
    assert next_tier(2, 57.0, bounds, 5) == 2  # within the margin: stays
    assert next_tier(2, 54.9, bounds, 5) == 1  # below the margin: drops one
    assert next_tier(3, 10.0, bounds, 5) == 0  # far below: drops to where it is
    assert next_tier(1, 85.0, bounds, 5) == 3  # up is immediate


def test_full_overt_sequence_alerts_with_drivers() -> None:
    sc = Scenario()
    sc.profile("adult", "18_plus")
    sc.profile("kid", "13_15", timezone="UTC")
    grooming_sequence(sc, "adult", "kid")
    risk = engine_for(sc).risks[sc.pseudonym("adult")]
    assert risk.max_score >= 60
    assert risk.first_alert_at_us > 0
    names = [d.signal for d in risk.max_drivers]
    assert names[0] == "stages" and "night" in names


def test_between_adults_the_full_sequence_stays_silent() -> None:
    sc = Scenario()
    sc.profile("adult", "18_plus")
    sc.profile("kid", "18_plus", timezone="UTC")
    grooming_sequence(sc, "adult", "kid")
    engine = engine_for(sc)
    assert engine.risks[sc.pseudonym("adult")].max_score < 30
    assert engine.risks[sc.pseudonym("adult")].first_alert_at_us == -1


def test_teenagers_among_themselves_stay_silent() -> None:
    sc = Scenario()
    sc.profile("adult", "16_17")
    sc.profile("kid", "13_15", timezone="UTC")
    grooming_sequence(sc, "adult", "kid")
    assert engine_for(sc).risks[sc.pseudonym("adult")].max_score == 0.0


@pytest.mark.parametrize(("adult_band", "kid_band"), [("unknown", "13_15"), ("18_plus", "unknown")])
def test_unknown_age_counts_less_and_says_so(adult_band: str, kid_band: str) -> None:
    sc = Scenario()
    sc.profile("adult", adult_band)
    sc.profile("kid", kid_band, timezone="UTC")
    grooming_sequence(sc, "adult", "kid")
    risk = engine_for(sc).risks[sc.pseudonym("adult")]
    known = Scenario()
    known.profile("adult", "18_plus")
    known.profile("kid", "13_15", timezone="UTC")
    grooming_sequence(known, "adult", "kid")
    full = engine_for(known).risks[known.pseudonym("adult")]
    factor = CONFIG.unknown_age_factor
    assert factor < 1.0
    assert 0 < risk.max_score < full.max_score * (factor + 0.1)
    weight = f"unknown; counted at {round(factor * 100)}% weight"
    assert all(weight in d.explanation for d in risk.max_drivers
               if d.signal not in ("declined_requests", "reports", "minor_fanout"))
    assert all("unknown" in d.explanation for d in risk.max_drivers)


def test_newest_signal_per_source_wins_whatever_the_order() -> None:
    signals: list[Signal] = [
        pair_signal("kid", 1 * DAY_US, stage_mask=0b11, stage_msgs=2, stage_order_pm=1000),
        pair_signal("kid", 3 * DAY_US, stage_mask=0b111, stage_msgs=3, stage_order_pm=1000),
        pair_signal("kid2", 2 * DAY_US, weekly=(1, 1, 1, 30), recent_msgs=20,
                    night_recent_pm=900, night_earlier_pm=100),
        actor_signal(2 * DAY_US, contacts_28=(0, 3, 4, 0, 0)),
    ]
    finals = set()
    for order in itertools.permutations(signals):
        state = fold(list(order))
        finals.add((state.score, state.clock_us, tuple(sorted(state.sources))))
    assert len(finals) == 1


def test_cleared_decision_discounts_older_evidence() -> None:
    strong = pair_signal(stage_mask=0xFF, stage_order_pm=1000, stage_msgs=8)
    before = fold([strong]).score
    after = fold([strong, actor_signal(at_us=1, decision=3, decision_at_us=1)]).score
    assert after == pytest.approx(before * CONFIG.cleared_factor, abs=0.1)


def test_risk_codec_round_trip() -> None:
    state = fold([pair_signal(stage_mask=0xFF, stage_order_pm=1000, stage_msgs=8),
                  actor_signal(5, band=UNKNOWN, reporters=2, minor_reporters=1)])
    again = decode_risk(encode_risk(state))
    assert again == state
    assert encode_risk(again) == encode_risk(state)
