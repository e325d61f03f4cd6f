"""Snapshot tests of what moderators read: score explanations.

Expected renderings live in tests/unit/snapshots/*.txt. After a deliberate
change, refresh them with ``WARDSTREAM_UPDATE_SNAPSHOTS=1 pytest ...`` and
read the diff before committing: these sentences are the product.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline.core import Engine
from pipeline.detect.bands import ADULT, AGE_13_15, CLAIMED
from pipeline.detect.scenario import Scenario, at, grooming_sequence
from pipeline.detect.signals import ActorSignal, PairSignal, TargetSignal
from pipeline.score import RiskState, explanation_text, load_config, risk_step

SNAPSHOTS = Path(__file__).with_name("snapshots")
CONFIG = load_config()
DAY_US = 86_400_000_000


def check(name: str, text: str) -> None:
    path = SNAPSHOTS / f"{name}.txt"
    if os.environ.get("WARDSTREAM_UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"no snapshot {path}; run with WARDSTREAM_UPDATE_SNAPSHOTS=1 and review it")
    assert text + "\n" == path.read_text(encoding="utf-8")


def render(state: RiskState) -> str:
    lines = [f"score {state.score} max {state.max_score}"]
    lines += [f"{d.signal} {d.contribution}: {d.explanation}" for d in state.max_drivers]
    lines.append("alert: " + explanation_text(state.max_drivers))
    return "\n".join(lines)


def test_overt_grooming_explanation() -> None:
    sc = Scenario()
    sc.profile("adult", "18_plus")
    sc.profile("kid", "13_15", timezone="UTC")
    grooming_sequence(sc, "adult", "kid")
    engine = Engine(CONFIG)
    engine.run(sc.normalized())
    check("overt_grooming", render(engine.risks[sc.pseudonym("adult")]))


def test_unknown_recipient_age_explanation() -> None:
    sc = Scenario()
    sc.profile("adult", "18_plus")
    sc.profile("kid", "unknown", timezone="UTC")
    grooming_sequence(sc, "adult", "kid")
    engine = Engine(CONFIG)
    engine.run(sc.normalized())
    check("unknown_recipient_age", render(engine.risks[sc.pseudonym("adult")]))


def test_behaviour_without_stage_words_explanation() -> None:
    state, _ = risk_step("adult", None, [
        PairSignal(
            actor="adult", other="kid", tenant_id="t", event_id="e1", at_us=20 * DAY_US,
            sender_band=ADULT, other_band=AGE_13_15, stage_mask=0, reverse_mask=0,
            stage_order_pm=500, stage_span_min=0, stage_msgs=0, weekly=(2, 2, 3, 19),
            night_recent_pm=710, night_earlier_pm=120, recent_msgs=14, init_own=9,
            init_other=1, migrated_min=3 * 1440, latency_s=40, media_after_request=0,
            recent_stages=(0,) * 8),
        ActorSignal(
            actor="adult", tenant_id="t", event_id="e1", at_us=20 * DAY_US, band=ADULT,
            account_age_days=12, contacts_28=(0, 2, 6, 3, 1), minors_7=5, new_minors_7=4,
            requests_to_minors=15, declined_by_minors=6, reporters=3, minor_reporters=2,
            baseline=(0,) * 8, decision=0, decision_at_us=-1),
    ], CONFIG)
    check("behaviour_only", render(state))


def test_declared_teen_in_a_ring_explanation() -> None:
    signals = [
        PairSignal(
            actor="adult", other="kid", tenant_id="t", event_id="e1", at_us=5 * DAY_US,
            sender_band=AGE_13_15 | CLAIMED, other_band=AGE_13_15, stage_mask=0b1111,
            reverse_mask=0, stage_order_pm=1000, stage_span_min=4 * 1440, stage_msgs=4,
            weekly=(0, 0, 0, 9), night_recent_pm=0, night_earlier_pm=-1, recent_msgs=9,
            init_own=2, init_other=0, migrated_min=-1, latency_s=-1, media_after_request=0,
            recent_stages=(0,) * 8),
        TargetSignal(actor="adult", target="kid", tenant_id="t", event_id="e1",
                     at_us=5 * DAY_US, sender_band=AGE_13_15 | CLAIMED, target_band=AGE_13_15,
                     others_escalating=2, self_escalating=True),
    ]
    state, _ = risk_step("adult", None, signals, CONFIG)
    state, _ = risk_step("adult", state, [ActorSignal(
        actor="adult", tenant_id="t", event_id="e2", at_us=8 * DAY_US,
        band=AGE_13_15 | CLAIMED, account_age_days=-1, contacts_28=(0, 0, 1, 0, 0),
        minors_7=1, new_minors_7=1, requests_to_minors=0, declined_by_minors=0, reporters=0,
        minor_reporters=0, baseline=(0,) * 8, decision=0, decision_at_us=-1)], CONFIG)
    check("declared_teen_ring", render(state))


def test_quiet_user_explanation() -> None:
    sc = Scenario()
    sc.profile("a", "18_plus")
    sc.message("a", "b", at(0), "see you at work")
    engine = Engine(CONFIG)
    engine.run(sc.normalized())
    state = engine.risks[sc.pseudonym("a")]
    assert state.max_drivers == ()
    assert explanation_text(state.max_drivers) == "no risk signals"
