"""Minors who seek a user out themselves (peers, family) discount the user's contact evidence."""

from __future__ import annotations

import dataclasses

from pipeline.detect.bands import ADULT, AGE_13_15
from pipeline.detect.signals import ActorSignal, PairSignal, Signal
from pipeline.score import RiskState, decode_risk, encode_risk, load_config, risk_step
from pipeline.score.config import ScoreConfig
from pipeline.score.features import peer_contacts, peer_weight, seeks_out
from pipeline.score.risk import evaluate

CONFIG = load_config()


def pursued(other: str, init_other: int = 0, at_us: int = 0,
            other_band: int = AGE_13_15) -> PairSignal:
    """A pair the adult drives: rising volume, night messages, most conversations started."""
    return PairSignal(
        actor="adult", other=other, tenant_id="t", event_id=f"e-{other}-{at_us}", at_us=at_us,
        sender_band=ADULT, other_band=other_band, stage_mask=0, reverse_mask=0,
        stage_order_pm=500, stage_span_min=0, stage_msgs=0, weekly=(0, 2, 4, 30),
        night_recent_pm=700, night_earlier_pm=100, recent_msgs=20, init_own=8,
        init_other=init_other, migrated_min=-1, latency_s=-1, media_after_request=0,
        recent_stages=(0,) * 8, own_28=30, other_28=12,
    )


def reported(at_us: int = 0) -> ActorSignal:
    return ActorSignal(
        actor="adult", tenant_id="t", event_id="a", at_us=at_us, band=ADULT,
        account_age_days=-1, contacts_28=(0, 0, 4, 0, 0), minors_7=4, new_minors_7=0,
        requests_to_minors=0, declined_by_minors=0, reporters=2, minor_reporters=2,
        baseline=(0,) * 8, decision=0, decision_at_us=-1,
    )


def fold(signals: list[Signal], config: ScoreConfig = CONFIG) -> RiskState:
    state = None
    for signal in signals:
        state, _ = risk_step("adult", state, [signal], config)
    assert state is not None
    return state


def test_a_contact_who_starts_conversations_too_counts_as_seeking_the_user_out() -> None:
    assert not seeks_out(pursued("a", init_other=0))
    assert not seeks_out(pursued("a", init_other=1))  # one start may be a late reply
    assert seeks_out(pursued("a", init_other=2))  # 2 of 10, a quarter of the user's 8
    assert not seeks_out(dataclasses.replace(pursued("a", init_other=2), init_own=9))
    adults_only = pursued("a", init_other=5, other_band=ADULT)
    assert peer_contacts([adults_only, pursued("b", init_other=5)], CONFIG) == 1


def test_weight_is_full_up_to_one_such_contact_and_falls_to_the_factor_at_four() -> None:
    weights = [peer_weight(n, CONFIG) for n in range(6)]
    assert weights[:2] == [1.0, 1.0]
    assert weights[1] > weights[2] > weights[3] > weights[4]
    assert weights[4] == weights[5] == CONFIG.peer_factor


def test_the_same_pairs_score_lower_when_the_minors_write_first_too() -> None:
    off = dataclasses.replace(CONFIG, peer_factor=1.0)  # 1 switches the discount off
    names = ["k1", "k2", "k3", "k4"]
    seeking = [pursued(n, init_other=3) for n in names]
    assert 0.0 < fold(seeking).score < 0.8 * fold(seeking, off).score
    one = [pursued("k1", init_other=3), *(pursued(n) for n in names[1:])]
    assert fold(one).score == fold(one, off).score > 0.0


def test_reports_are_not_discounted() -> None:
    alone = fold([reported()])
    with_peers = fold([reported(), *(pursued(n, init_other=3) for n in ("k1", "k2", "k3"))])
    reports = {d.signal: d.contribution for d in evaluate(with_peers, CONFIG)[1]}
    assert reports["reports"] == {d.signal: d.contribution
                                  for d in evaluate(alone, CONFIG)[1]}["reports"]


def test_explanations_name_the_discount_and_decoded_states_score_the_same() -> None:
    state = fold([pursued(n, init_other=3) for n in ("k1", "k2", "k3", "k4")])
    _, drivers = evaluate(state, CONFIG)
    assert drivers
    assert all("4 accounts that may be minors start conversations with this account "
               "themselves" in d.explanation and "40% weight" in d.explanation
               for d in drivers)
    decoded = decode_risk(encode_risk(state))
    newer = pursued("k1", init_other=3, at_us=1)
    again, _ = risk_step("adult", decoded, [newer], CONFIG)
    direct, _ = risk_step("adult", state, [newer], CONFIG)
    assert again.score == direct.score
    assert evaluate(again, CONFIG) == evaluate(direct, CONFIG)
