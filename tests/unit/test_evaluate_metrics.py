"""Evaluation metrics computed by hand on tiny populations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from pipeline.evaluate.baseline import word_list_predictions
from pipeline.evaluate.metrics import Prediction, evaluate, f_beta, messages_towards_victims


def at(day: int, hour: int = 12) -> datetime:
    return datetime.fromisoformat(f"2026-03-{day:02d}T{hour:02d}:00:00+00:00")


def user(actor: str, role: str, *, groomer: bool = False, band: str = "18_plus",
         cohort: str = "a", **extra: Any) -> dict[str, Any]:
    return {"actor_id": actor, "role": role, "is_groomer": groomer, "age_band": band,
            "cohort": {"dialect": cohort}, **extra}


TRUTH = [
    user("g1", "groomer_overt", groomer=True, victims=["m1"],
         first_contact_at="2026-03-01T12:00:00+00:00",
         first_photo_request_at="2026-03-10T12:00:00+00:00", first_meeting_request_at=None),
    user("g2", "groomer_careful", groomer=True, careful=True, victims=["m1"],
         first_contact_at="2026-03-02T12:00:00+00:00"),
    user("c1", "coach", cohort="a"),
    user("c2", "coach", cohort="b"),
    user("a1", "adult", cohort="b"),
    user("a2", "adult", cohort="b"),
    user("m1", "minor", band="13_15", cohort="a"),
    user("mod", "moderator"),
]


def test_counts_scores_and_false_alarms() -> None:
    report = evaluate(
        [Prediction("g1", at(5)), Prediction("g2", None), Prediction("c2", at(3)),
         Prediction("mod", at(1))],
        TRUTH,
    )
    assert (report.counts.true_positive, report.counts.false_positive,
            report.counts.false_negative) == (1, 1, 1)
    assert report.counts.precision == 0.5 and report.counts.recall == 0.5
    assert report.f05 == pytest.approx(0.5) and report.f1 == pytest.approx(0.5)
    # benign adults: c1, c2, a1, a2 (the moderator is not scored); one flagged
    assert report.false_alarms_per_10k_benign_adults == pytest.approx(2500.0)
    assert report.careful_recall == 0.0
    assert report.false_positive_roles == {"coach": 1}
    assert report.missed_roles == {"groomer_careful": 1}


def test_cohort_gap_is_between_values_of_one_attribute() -> None:
    report = evaluate([Prediction("c2", at(3))], TRUTH)
    # benign dialect a: c1, m1 -> 0/2 ; dialect b: c2, a1, a2 -> 1/3
    assert report.cohort_fpr == {"dialect": {"a": 0.0, "b": pytest.approx(1 / 3)}}
    assert report.largest_cohort_gap == ("dialect", pytest.approx(1 / 3))


def test_earliness_against_first_contact_and_first_request() -> None:
    events = [
        {"type": "message", "actor_id": "g1", "recipient_ids": ["m1"],
         "occurred_at": f"2026-03-0{d}T10:00:00+00:00"} for d in (1, 2, 3, 8)
    ]
    sent = messages_towards_victims(events, TRUTH)
    report = evaluate([Prediction("g1", at(5))], TRUTH, sent)
    summary = report.earliness.summary()
    assert summary["median_days_after_first_contact"] == pytest.approx(4.0)
    assert summary["median_messages_before_alert"] == 3
    assert summary["share_flagged_before_first_photo_or_meeting_request"] == 1.0
    late = evaluate([Prediction("g1", at(11))], TRUTH, sent).earliness.summary()
    assert late["share_flagged_before_first_photo_or_meeting_request"] == 0.0


def test_f_beta_weights_precision_more_at_half() -> None:
    assert f_beta(1.0, 0.5, 0.5) > f_beta(0.5, 1.0, 0.5)
    assert f_beta(0.0, 0.0, 1.0) == 0.0


def test_word_list_flags_on_first_listed_word_only() -> None:
    events = [
        {"type": "message", "actor_id": "x", "content": "good game", "occurred_at":
         "2026-03-01T10:00:00+00:00"},
        {"type": "message", "actor_id": "x", "content": "Send a PIC", "occurred_at":
         "2026-03-02T10:00:00+00:00"},
        {"type": "message", "actor_id": "y", "content": "see you at practice", "occurred_at":
         "2026-03-02T10:00:00+00:00"},
        {"type": "profile", "actor_id": "z", "occurred_at": "2026-03-02T10:00:00+00:00"},
    ]
    predictions = {p.actor_id: p.first_alert_at for p in word_list_predictions(events)}
    assert predictions == {"x": at(2, 10), "y": None, "z": None}
