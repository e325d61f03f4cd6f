"""Per-user detection metrics from predictions and the simulator's ground truth.

Pure functions over plain records, so the same numbers come out of
``wardstream evaluate``, the tests and any notebook. Definitions:

- a user is *predicted* when they reached the alert tier at least once;
- precision, recall, F0.5 and F1 count users, not events;
- false alarms are per 10,000 benign adults (true band ``18_plus``, not a groomer);
- earliness compares the first alert with the groomer's first contact, first
  photo request and first meeting request (the earliest over their victims);
- cohort fairness is the false-positive rate among benign users per value of
  each cohort attribute, and the largest gap between values of one attribute.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

EXCLUDED_ROLES = frozenset({"moderator"})


@dataclass(frozen=True)
class Prediction:
    actor_id: str
    first_alert_at: datetime | None


def _parse(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def f_beta(precision: float, recall: float, beta: float) -> float:
    if precision == 0 and recall == 0:
        return 0.0
    b2 = beta * beta
    return (1 + b2) * precision * recall / (b2 * precision + recall)


@dataclass
class Counts:
    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0
    true_negative: int = 0

    @property
    def precision(self) -> float:
        flagged = self.true_positive + self.false_positive
        return self.true_positive / flagged if flagged else 0.0

    @property
    def recall(self) -> float:
        actual = self.true_positive + self.false_negative
        return self.true_positive / actual if actual else 0.0


@dataclass
class Earliness:
    days_after_first_contact: list[float] = field(default_factory=list)
    messages_before_alert: list[int] = field(default_factory=list)
    before_first_request: list[bool] = field(default_factory=list)

    def summary(self) -> dict[str, float | None]:
        def median(values: list[Any]) -> float | None:
            return float(statistics.median(values)) if values else None

        share = (sum(self.before_first_request) / len(self.before_first_request)
                 if self.before_first_request else None)
        return {
            "median_days_after_first_contact": median(self.days_after_first_contact),
            "median_messages_before_alert": median(self.messages_before_alert),
            "share_flagged_before_first_photo_or_meeting_request": share,
        }


@dataclass
class Report:
    counts: Counts
    f05: float
    f1: float
    benign_adults: int
    false_alarms_benign_adults: int
    earliness: Earliness
    cohort_fpr: dict[str, dict[str, float]]
    largest_cohort_gap: tuple[str, float]
    false_positive_roles: dict[str, int]
    missed_roles: dict[str, int]
    careful_recall: float | None

    @property
    def false_alarms_per_10k_benign_adults(self) -> float:
        if not self.benign_adults:
            return 0.0
        return 10_000 * self.false_alarms_benign_adults / self.benign_adults

    def as_dict(self) -> dict[str, Any]:
        return {
            "users_flagged": self.counts.true_positive + self.counts.false_positive,
            "true_positive": self.counts.true_positive,
            "false_positive": self.counts.false_positive,
            "false_negative": self.counts.false_negative,
            "precision": self.counts.precision,
            "recall": self.counts.recall,
            "f05": self.f05,
            "f1": self.f1,
            "false_alarms_per_10k_benign_adults": self.false_alarms_per_10k_benign_adults,
            "benign_adults": self.benign_adults,
            "earliness": self.earliness.summary(),
            "careful_groomer_recall": self.careful_recall,
            "cohort_fpr": self.cohort_fpr,
            "largest_cohort_fpr_gap": {"attribute": self.largest_cohort_gap[0],
                                       "gap": self.largest_cohort_gap[1]},
            "false_positives_by_role": self.false_positive_roles,
            "misses_by_role": self.missed_roles,
        }


def messages_towards_victims(
    events: Iterable[Mapping[str, Any]], truth: Iterable[Mapping[str, Any]]
) -> dict[str, list[datetime]]:
    """Event times of each groomer's messages that reach one of their victims."""
    victims = {t["actor_id"]: set(t.get("victims") or []) for t in truth if t.get("is_groomer")}
    times: dict[str, list[datetime]] = defaultdict(list)
    for event in events:
        targets = victims.get(event.get("actor_id", ""))
        if targets and event.get("type") == "message" and targets & set(
            event.get("recipient_ids") or []
        ):
            times[event["actor_id"]].append(datetime.fromisoformat(event["occurred_at"]))
    return times


def evaluate(
    predictions: Iterable[Prediction],
    truth: Iterable[Mapping[str, Any]],
    groomer_messages: Mapping[str, list[datetime]] | None = None,
) -> Report:
    by_actor = {p.actor_id: p for p in predictions}
    counts = Counts()
    earliness = Earliness()
    benign_adults = false_alarm_adults = 0
    careful_total = careful_found = 0
    # attribute -> value -> [false positives, benign users]
    cohort_counts: dict[str, dict[str, list[int]]] = defaultdict(
        lambda: defaultdict(lambda: [0, 0])
    )
    fp_roles: dict[str, int] = defaultdict(int)
    missed_roles: dict[str, int] = defaultdict(int)
    for row in truth:
        if row.get("role") in EXCLUDED_ROLES:
            continue
        prediction = by_actor.get(row["actor_id"])
        alert_at = prediction.first_alert_at if prediction else None
        flagged = alert_at is not None
        if row["is_groomer"]:
            if row.get("careful"):
                careful_total += 1
                careful_found += flagged
            if alert_at is not None:
                counts.true_positive += 1
                _add_earliness(earliness, row, alert_at, (groomer_messages or {}).get(
                    row["actor_id"], []))
            else:
                counts.false_negative += 1
                missed_roles[row["role"]] += 1
            continue
        if flagged:
            counts.false_positive += 1
            fp_roles[row["role"]] += 1
        else:
            counts.true_negative += 1
        if row.get("age_band") == "18_plus":
            benign_adults += 1
            false_alarm_adults += flagged
        for attribute, value in (row.get("cohort") or {}).items():
            cohort_counts[attribute][value][0] += flagged
            cohort_counts[attribute][value][1] += 1
    cohort_fpr = {
        attribute: {value: fp / total for value, (fp, total) in sorted(values.items()) if total}
        for attribute, values in sorted(cohort_counts.items())
    }
    gaps = [(a, max(v.values()) - min(v.values())) for a, v in cohort_fpr.items() if v]
    largest = max(gaps, key=lambda g: g[1], default=("", 0.0))
    return Report(
        counts=counts,
        f05=f_beta(counts.precision, counts.recall, 0.5),
        f1=f_beta(counts.precision, counts.recall, 1.0),
        benign_adults=benign_adults,
        false_alarms_benign_adults=false_alarm_adults,
        earliness=earliness,
        cohort_fpr=cohort_fpr,
        largest_cohort_gap=largest,
        false_positive_roles=dict(sorted(fp_roles.items())),
        missed_roles=dict(sorted(missed_roles.items())),
        careful_recall=careful_found / careful_total if careful_total else None,
    )


def _add_earliness(
    earliness: Earliness, row: Mapping[str, Any], alert_at: datetime, sent: list[datetime]
) -> None:
    first_contact = _parse(row.get("first_contact_at"))
    if first_contact is not None:
        earliness.days_after_first_contact.append(
            (alert_at - first_contact).total_seconds() / 86_400)
    earliness.messages_before_alert.append(sum(1 for t in sent if t <= alert_at))
    requests = [t for t in (_parse(row.get("first_photo_request_at")),
                            _parse(row.get("first_meeting_request_at"))) if t is not None]
    if requests:
        earliness.before_first_request.append(alert_at < min(requests))
