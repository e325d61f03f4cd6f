"""Who does the talking: one-sided contact counts, two-way conversation is discounted."""

from __future__ import annotations

from pipeline.detect.bands import ADULT
from pipeline.detect.signals import PairSignal
from pipeline.score import load_config
from pipeline.score.explain import Context, explain
from pipeline.score.features import asymmetry_value, pair_terms, reciprocity_factor

CONFIG = load_config()


def signal(own: int, other: int, **figures: object) -> PairSignal:
    values: dict[str, object] = dict(
        actor="adult", other="kid", tenant_id="t", event_id="e", at_us=0,
        sender_band=ADULT, other_band=2, stage_mask=0, reverse_mask=0,
        stage_order_pm=500, stage_span_min=0, stage_msgs=0, weekly=(2, 4, 8, 40),
        night_recent_pm=800, night_earlier_pm=100, recent_msgs=30, init_own=8,
        init_other=1, migrated_min=-1, latency_s=-1, media_after_request=0,
        recent_stages=(0,) * 8, own_28=own, other_28=other,
    )
    values.update(figures)
    return PairSignal(**values)  # type: ignore[arg-type]


def points(s: PairSignal) -> dict[str, float]:
    return {t.name: t.points for t in pair_terms(s, CONFIG)}


def test_one_sided_contact_is_a_signal_and_keeps_full_weight() -> None:
    one_sided = signal(70, 30)
    assert asymmetry_value(one_sided) > 0.99
    assert reciprocity_factor(one_sided) == 1.0
    assert points(one_sided)["asymmetry"] > 0


def test_two_way_conversation_discounts_volume_and_timing() -> None:
    two_way, one_sided = points(signal(50, 50)), points(signal(70, 30))
    assert "asymmetry" not in two_way
    for name in ("escalation", "night", "initiation"):
        assert two_way[name] < 0.5 * one_sided[name]


def test_too_few_messages_say_nothing_either_way() -> None:
    few = signal(6, 0)
    assert asymmetry_value(few) == 0.0
    assert reciprocity_factor(few) == 1.0


def test_explanations_name_the_share_and_the_discount() -> None:
    s = signal(50, 50)
    night = next(t for t in pair_terms(s, CONFIG) if t.name == "night")
    text = explain(night, s, Context(age_days=0.0, cleared=False, more_sources=0,
                                     baseline=None), CONFIG)
    assert "two-way conversation (50 of 100 messages in 28 days came back)" in text
    assert "40% weight" in text
    one = signal(70, 30)
    asym = next(t for t in pair_terms(one, CONFIG) if t.name == "asymmetry")
    text = explain(asym, one, Context(age_days=0.0, cleared=False, more_sources=0,
                                      baseline=None), CONFIG)
    assert text.startswith("wrote 70% of the 100 messages exchanged with one 13-15 account")
