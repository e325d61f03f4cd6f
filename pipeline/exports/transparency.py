"""A transparency report for one tenant and period: counts, medians, appeals (JSON)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from pipeline.exports.figures import PeriodFigures, median
from pipeline.exports.period import Period

APPEALS_NOTE: Final = (
    "wardstream records no appeals: an appeal against a restriction is handled in the "
    "platform's own complaint system (DSA Art. 20), which should report its figures beside "
    "these.")


def _median_entry(values: list[float]) -> dict[str, Any]:
    return {"median_seconds": median(values), "count": len(values)}


def transparency_report(tenant: str, period: Period, figures: PeriodFigures,
                        statements_of_reasons: int, generated_at: datetime) -> dict[str, Any]:
    """The report document; every count is for ``period`` (UTC days, both included)."""
    decisions = figures.decisions_by_kind()
    return {
        "kind": "transparency_report",
        "version": 1,
        "tenant": tenant,
        "period": period.as_dict(),
        "generated_at": generated_at.isoformat(),
        "alerts": figures.alerts,
        "review_queue": {
            "items_opened": figures.items_opened,
            "items_closed": figures.items_closed,
            "open_at_end": figures.open_at_end,
        },
        "decisions": {"by_kind": decisions, "total": sum(decisions.values())},
        "statements_of_reasons": statements_of_reasons,
        "ncmec_reports": {"by_state": figures.ncmec_states(), "filed": figures.ncmec_filed},
        "appeals": {"count": 0, "note": APPEALS_NOTE},
        "timings": {
            "alert_to_first_decision": _median_entry(list(figures.alert_to_decision_seconds)),
            "confirmation_to_report_filed": _median_entry(
                list(figures.confirmation_to_filed_seconds)),
        },
    }
