"""Transparency report, OSA record pack, periods, medians and Markdown renderings (pure)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.exports import osa, render
from pipeline.exports.errors import InvalidExportRequest, InvalidRiskAssessment
from pipeline.exports.figures import (
    ExportInputs,
    MeasureFacts,
    ModelDeployment,
    PeriodFigures,
    median,
)
from pipeline.exports.period import MAX_SPAN_DAYS, Period, parse_period
from pipeline.exports.transparency import transparency_report

NOW = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
PERIOD = Period(date(2026, 1, 1), date(2026, 6, 30))
FIGURES = PeriodFigures(
    alerts=12, items_opened=9, items_closed=7,
    decisions={"confirmed_grooming": 4, "cleared": 3, "escalated": 2},
    ncmec_by_state={"finished": 2, "failed": 1}, ncmec_filed=2,
    alert_to_decision_seconds=[3600.0, 7200.0, 60.0, 86400.0],
    confirmation_to_filed_seconds=[600.0, 1200.0, 300.0], open_at_end=2,
)


@pytest.mark.parametrize(("values", "expected"), [
    ([], None), ([5.0], 5.0), ([3.0, 1.0, 2.0], 2.0), ([4.0, 1.0, 3.0, 2.0], 2.5),
    ([10.0, 20.0], 15.0),
])
def test_median_odd_and_even_counts(values: list[float], expected: float | None) -> None:
    assert median(values) == expected


def test_transparency_report_counts_and_medians() -> None:
    doc = transparency_report("acme", PERIOD, FIGURES, 4, NOW)
    assert doc["period"] == {"from": "2026-01-01", "to": "2026-06-30"}
    assert doc["alerts"] == 12
    assert doc["review_queue"] == {"items_opened": 9, "items_closed": 7, "open_at_end": 2}
    assert doc["decisions"]["by_kind"] == {"confirmed_grooming": 4, "confirmed_other_harm": 0,
                                           "cleared": 3, "escalated": 2}
    assert doc["decisions"]["total"] == 9
    assert doc["statements_of_reasons"] == 4
    states = doc["ncmec_reports"]["by_state"]
    assert states["finished"] == 2 and states["failed"] == 1 and states["built"] == 0
    assert doc["ncmec_reports"]["filed"] == 2
    assert doc["appeals"]["count"] == 0 and "appeal" in doc["appeals"]["note"]
    assert doc["timings"]["alert_to_first_decision"] == {"median_seconds": 5400.0, "count": 4}
    assert doc["timings"]["confirmation_to_report_filed"] == {"median_seconds": 600.0,
                                                              "count": 3}


def test_transparency_markdown_reads_well() -> None:
    text = render.transparency_markdown(transparency_report("acme", PERIOD, FIGURES, 4, NOW))
    assert text.startswith("# Transparency report: acme\n")
    assert "| Alerts raised | 12 |" in text
    assert "| confirmed_grooming | 4 |" in text
    assert "| Alert to first review decision | 1 h 30 min (n=4) |" in text
    assert "| Confirmation to report filed | 10 min (n=3) |" in text


@pytest.mark.parametrize(("seconds", "text"), [
    (None, "n/a"), (12.4, "12 s"), (60, "1 min"), (3600, "1 h"), (90061, "1 d 1 h 1 min")])
def test_duration(seconds: float | None, text: str) -> None:
    assert render.duration(seconds) == text


@pytest.mark.parametrize(("first", "last", "field", "rule"), [
    (None, "2026-01-01", "from", "required"),
    ("2026-1-1", "2026-01-31", "from", "format"),
    ("2026-02-30", "2026-03-01", "from", "format"),
    ("2026-01-01", "yesterday", "to", "format"),
    ("2026-02-01", "2026-01-31", "to", "order"),
    ("2020-01-01", "2023-01-02", "to", "span"),
    ("1999-12-31", "2000-01-05", "from", "range"),
])
def test_malformed_periods_name_the_field(first: str | None, last: str, field: str,
                                          rule: str) -> None:
    with pytest.raises(InvalidExportRequest) as caught:
        parse_period(first, last)
    assert (caught.value.field, caught.value.rule) == (field, rule)


def test_period_bounds() -> None:
    period = parse_period("2026-01-01", "2026-01-01")
    assert period.start == datetime(2026, 1, 1, tzinfo=UTC)
    assert period.end == datetime(2026, 1, 2, tzinfo=UTC)
    longest = parse_period("2023-01-01", "2025-12-31")
    assert (longest.last - longest.first).days + 1 <= MAX_SPAN_DAYS


def test_the_repository_risk_assessment_loads() -> None:
    assessment = osa.load_risk_assessment()
    grooming = next(r for r in assessment["risks"] if r["id"] == "grooming")
    assert grooming["assessed_on"] == "2026-01-15"
    assert {"stages", "escalation", "night"} <= {i["id"] for i in grooming["indicators"]}
    assert assessment["review_queue_sla_hours"] == 24


def _raw() -> dict[str, Any]:
    loaded = yaml.safe_load(osa.DEFAULT_RISK_ASSESSMENT.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.mark.parametrize(("change", "where"), [
    (lambda r: r.pop("risks"), "risks"),
    (lambda r: r["risks"][0].update(likelihood="extreme"), "risks[0].likelihood"),
    (lambda r: r["risks"][0].update(assessed_on="soon"), "risks[0].assessed_on"),
    (lambda r: r["risks"][0]["indicators"].append("x"), "risks[0].indicators[8]"),
    (lambda r: r.update(review_queue_sla_hours=0), "review_queue_sla_hours"),
    (lambda r: r.update(version=2), "version"),
])
def test_a_bad_risk_assessment_names_the_key(change: Any, where: str) -> None:
    raw = _raw()
    change(raw)
    with pytest.raises(InvalidRiskAssessment, match=rf"^{re.escape(where)}"):
        osa.parse_risk_assessment(raw)


def test_unreadable_risk_assessment(tmp_path: Path) -> None:
    with pytest.raises(InvalidRiskAssessment, match="cannot be read"):
        osa.load_risk_assessment(tmp_path / "missing.yaml")


def test_osa_record_pack_and_markdown() -> None:
    assessment = osa.load_risk_assessment()
    facts = MeasureFacts(
        tenant_registered_at=datetime(2025, 12, 1, tzinfo=UTC),
        first_score_at=datetime(2025, 12, 2, tzinfo=UTC), first_alert_at=None,
        seed_model_version="seed-1",
        deployments=[ModelDeployment("m-7", datetime(2026, 2, 1, tzinfo=UTC))],
        closed_within_sla=5)
    doc = osa.osa_record_pack("acme", PERIOD, assessment,
                              ExportInputs(figures=FIGURES, measures=facts), NOW)
    assert doc["risk_assessment"] == assessment
    measures = doc["measures"]
    assert measures["detection"]["active_since"] == "2025-12-02T00:00:00+00:00"
    assert measures["detection"]["first_alert_at"] is None
    assert measures["models"]["deployments"] == [
        {"version": "m-7", "deployed_at": "2026-02-01T00:00:00+00:00"}]
    assert measures["human_review"]["closed_within_sla"] == 5
    assert measures["human_review"]["median_seconds_to_decision"] == 5400.0
    assert measures["reports"]["ncmec_filed"] == 2
    text = render.osa_markdown(doc)
    assert "### Grooming of children" in text
    assert "- `stages`:" in text
    assert "SLA 24 h" in text and "m-7 at 2026-02-01" in text
