"""The incremental tally gives the score the written formula gives, cache or no cache."""

from __future__ import annotations

import random

from pipeline.detect.bands import ADULT, AGE_13_15, UNKNOWN
from pipeline.detect.signals import ActorSignal, PairSignal, Signal, TargetSignal
from pipeline.score import decode_risk, encode_risk, load_config, risk_step
from pipeline.score.risk import _score_only as score_only
from pipeline.score.risk import evaluate

CONFIG = load_config()
DAY_US = 86_400_000_000


def random_signal(rng: random.Random, at_us: int) -> Signal:
    kind = rng.randrange(3)
    if kind == 0:
        return PairSignal(
            actor="adult", other=f"kid{rng.randrange(20)}", tenant_id="t", event_id=f"e{at_us}",
            at_us=at_us, sender_band=ADULT, other_band=rng.choice((AGE_13_15, UNKNOWN)),
            stage_mask=rng.randrange(256), reverse_mask=rng.randrange(4),
            stage_order_pm=rng.randrange(1001), stage_span_min=rng.randrange(60_000),
            stage_msgs=rng.randrange(9), weekly=tuple(rng.randrange(60) for _ in range(4)),
            night_recent_pm=rng.randrange(1001), night_earlier_pm=rng.randrange(-1, 1001),
            recent_msgs=rng.randrange(50), init_own=rng.randrange(20),
            init_other=rng.randrange(10), migrated_min=rng.choice((-1, 30)),
            latency_s=rng.randrange(-1, 600), media_after_request=rng.randrange(3),
            recent_stages=tuple(rng.randrange(256) for _ in range(8)),
            own_28=rng.randrange(200), other_28=rng.randrange(200),
        )
    if kind == 1:
        return ActorSignal(
            actor="adult", tenant_id="t", event_id=f"a{at_us}", at_us=at_us, band=ADULT,
            account_age_days=rng.randrange(-1, 60),
            contacts_28=tuple(rng.randrange(12) for _ in range(5)), minors_7=rng.randrange(5),
            new_minors_7=rng.randrange(3), requests_to_minors=rng.randrange(30),
            declined_by_minors=rng.randrange(8), reporters=rng.randrange(4),
            minor_reporters=rng.randrange(2), baseline=tuple(rng.randrange(80) for _ in range(8)),
            decision=rng.choice((0, 3)), decision_at_us=at_us - DAY_US,
        )
    return TargetSignal(actor="adult", target=f"kid{rng.randrange(20)}", tenant_id="t",
                        event_id=f"t{at_us}", at_us=at_us, sender_band=ADULT,
                        target_band=AGE_13_15, others_escalating=rng.randrange(3),
                        self_escalating=rng.random() < 0.7)


def test_tally_matches_the_formula_and_a_fresh_cache() -> None:
    rng = random.Random(7)
    state = None
    at_us = 1_770_000_000_000_000
    for _ in range(400):
        at_us += rng.randrange(0, 3 * DAY_US)
        state, _ = risk_step("adult", state, [random_signal(rng, at_us)], CONFIG)
        reference, _ = evaluate(state, CONFIG)
        assert abs(state.score - reference) <= 0.1 + 1e-9
        # a decoded state starts with an empty cache and must score the same
        assert score_only(decode_risk(encode_risk(state)), CONFIG) == state.score
