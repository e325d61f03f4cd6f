"""The text an evaluation prints: metrics side by side, then the targets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pipeline.evaluate.metrics import Report

Check = tuple[str, str, bool]


def _num(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def target_checks(reports: Mapping[str, Report]) -> list[Check]:
    """The detection issue's quality targets, each with the value found."""
    full = reports["all"]
    behaviour = reports["behaviour only"]
    early = full.earliness.summary()["share_flagged_before_first_photo_or_meeting_request"]
    careful = behaviour.careful_recall
    gap = full.largest_cohort_gap[1]
    return [
        ("F0.5 >= 0.90", _num(full.f05), full.f05 >= 0.90),
        ("false alarms <= 5 per 10k benign adults",
         _num(full.false_alarms_per_10k_benign_adults, 1),
         full.false_alarms_per_10k_benign_adults <= 5),
        ("median groomer flagged before first photo/meeting request", _share(early),
         early is not None and early > 0.5),
        ("behaviour-only recall on careful groomers >= 0.6", _num(careful),
         careful is not None and careful >= 0.6),
        ("largest cohort FPR gap <= 0.02", _num(gap), gap <= 0.02),
    ]


def render(
    label: str,
    events: int,
    rejected: int,
    truth: Sequence[Mapping[str, Any]],
    reports: Mapping[str, Report],
    checks: Sequence[Check],
) -> str:
    groomers = [t for t in truth if t.get("is_groomer")]
    careful = sum(1 for t in groomers if t.get("careful"))
    adults = next(iter(reports.values())).benign_adults
    names = list(reports)
    rows: list[tuple[str, list[str]]] = []

    def row(title: str, values: list[str]) -> None:
        rows.append((title, values))

    row("users flagged", [str(r.counts.true_positive + r.counts.false_positive)
                          for r in reports.values()])
    row("precision", [_num(r.counts.precision) for r in reports.values()])
    row("recall", [_num(r.counts.recall) for r in reports.values()])
    row("F0.5", [_num(r.f05) for r in reports.values()])
    row("F1", [_num(r.f1) for r in reports.values()])
    row("false alarms / 10k benign adults",
        [_num(r.false_alarms_per_10k_benign_adults, 1) for r in reports.values()])
    row("median days, first contact -> flag",
        [_num(r.earliness.summary()["median_days_after_first_contact"], 1)
         for r in reports.values()])
    row("median messages to victims before flag",
        [_num(r.earliness.summary()["median_messages_before_alert"], 0)
         for r in reports.values()])
    row("flagged before first photo/meeting ask",
        [_share(r.earliness.summary()["share_flagged_before_first_photo_or_meeting_request"])
         for r in reports.values()])
    row("recall on careful groomers", [_num(r.careful_recall) for r in reports.values()])
    row("largest cohort FPR gap",
        [f"{_num(r.largest_cohort_gap[1])} ({r.largest_cohort_gap[0] or '-'})"
         for r in reports.values()])
    width = max(len(title) for title, _ in rows) + 2
    col = max(16, *(len(n) + 2 for n in names))
    lines = [
        f"wardstream evaluate: {label}",
        f"{events:,} events ({rejected:,} rejected or repeated), {len(truth):,} users, "
        f"{len(groomers)} groomers ({careful} careful), {adults:,} benign adults",
        "",
        " " * width + "".join(n.rjust(col) for n in names),
    ]
    lines += [title.ljust(width) + "".join(v.rjust(col) for v in values)
              for title, values in rows]
    main_run, full = next(iter(reports.items()))
    lines += [
        "",
        f"missed ({main_run}): " + (", ".join(f"{role} {n}" for role, n in
                                              full.missed_roles.items()) or "none"),
        f"false alarms ({main_run}): " + (", ".join(
            f"{role} {n}" for role, n in full.false_positive_roles.items()) or "none"),
    ]
    if checks:
        lines += ["", "targets:"]
        lines += [f"  [{'met' if ok else 'MISSED'}] {target}: {value}"
                  for target, value, ok in checks]
    return "\n".join(lines)
