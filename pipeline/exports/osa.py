"""A UK Online Safety Act record pack: the risks assessed and the measures that ran.

The risk assessment comes from a file kept in the repository
(``osa_risk_assessment.yaml`` beside this module, or one given with
``--risk-assessment``); the measures from what wardstream recorded in the
period: detection, model versions, the review queue against its SLA, reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

import yaml

from pipeline.exports.errors import InvalidRiskAssessment
from pipeline.exports.figures import ExportInputs, iso, median
from pipeline.exports.period import Period

DEFAULT_RISK_ASSESSMENT: Final = Path(__file__).with_name("osa_risk_assessment.yaml")
LEVELS: Final = ("low", "medium", "high")


def _text(obj: Mapping[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidRiskAssessment(f"{where}{key}: must be non-empty text")
    return value


def _day(obj: Mapping[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidRiskAssessment(f"{where}{key}: must be a date (YYYY-MM-DD)")
    return value.isoformat()


def _risk(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise InvalidRiskAssessment(f"{where}: must be a mapping")
    level = {}
    for key in ("likelihood", "impact"):
        if raw.get(key) not in LEVELS:
            raise InvalidRiskAssessment(f"{where}.{key}: must be one of {', '.join(LEVELS)}")
        level[key] = str(raw[key])
    indicators = raw.get("indicators")
    if not isinstance(indicators, list) or not indicators:
        raise InvalidRiskAssessment(f"{where}.indicators: must be a non-empty list")
    measures = raw.get("measures", [])
    if not isinstance(measures, list) or not all(isinstance(m, str) for m in measures):
        raise InvalidRiskAssessment(f"{where}.measures: must be a list of names")
    return {
        "id": _text(raw, "id", f"{where}."), "name": _text(raw, "name", f"{where}."),
        "description": _text(raw, "description", f"{where}."), **level,
        "assessed_on": _day(raw, "assessed_on", f"{where}."),
        "indicators": [{"id": _text(i, "id", f"{where}.indicators[{n}]."),
                        "description": _text(i, "description", f"{where}.indicators[{n}].")}
                       if isinstance(i, Mapping) else _bad(f"{where}.indicators[{n}]")
                       for n, i in enumerate(indicators)],
        "measures": list(measures),
    }


def _bad(where: str) -> dict[str, str]:
    raise InvalidRiskAssessment(f"{where}: must be a mapping with id and description")


def parse_risk_assessment(raw: Any) -> dict[str, Any]:
    """The checked assessment document; InvalidRiskAssessment names the first bad key."""
    if not isinstance(raw, Mapping) or raw.get("version") != 1:
        raise InvalidRiskAssessment("version: must be 1")
    assessment = raw.get("assessment")
    if not isinstance(assessment, Mapping):
        raise InvalidRiskAssessment("assessment: must be a mapping")
    sla = raw.get("review_queue_sla_hours")
    if isinstance(sla, bool) or not isinstance(sla, int) or not 1 <= sla <= 24 * 30:
        raise InvalidRiskAssessment("review_queue_sla_hours: must be an integer of 1..720")
    risks = raw.get("risks")
    if not isinstance(risks, list) or not risks:
        raise InvalidRiskAssessment("risks: must be a non-empty list")
    return {
        "service": _text(raw, "service", ""),
        "completed_on": _day(assessment, "completed_on", "assessment."),
        "next_review_due": _day(assessment, "next_review_due", "assessment."),
        "owner_role": _text(assessment, "owner_role", "assessment."),
        "method": _text(assessment, "method", "assessment."),
        "review_queue_sla_hours": sla,
        "risks": [_risk(r, f"risks[{n}]") for n, r in enumerate(risks)],
    }


def load_risk_assessment(path: Path = DEFAULT_RISK_ASSESSMENT) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidRiskAssessment(f"{path}: cannot be read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise InvalidRiskAssessment(f"{path}: not YAML ({type(exc).__name__})") from None
    return parse_risk_assessment(raw)


def osa_record_pack(tenant: str, period: Period, assessment: Mapping[str, Any],
                    inputs: ExportInputs, generated_at: datetime) -> dict[str, Any]:
    """The record pack: the assessment as kept, and the measures of ``period``."""
    figures, facts = inputs.figures, inputs.measures
    waits = list(figures.alert_to_decision_seconds)
    return {
        "kind": "osa_record_pack",
        "version": 1,
        "tenant": tenant,
        "period": period.as_dict(),
        "generated_at": generated_at.isoformat(),
        "risk_assessment": dict(assessment),
        "measures": {
            "detection": {
                "tenant_registered_at": iso(facts.tenant_registered_at),
                "active_since": iso(facts.first_score_at),
                "first_alert_at": iso(facts.first_alert_at),
                "alerts_in_period": figures.alerts,
            },
            "models": {
                "seed_model_version": facts.seed_model_version,
                "deployments": [{"version": d.version, "deployed_at": d.deployed_at.isoformat()}
                                for d in facts.deployments],
            },
            "human_review": {
                "sla_hours": assessment["review_queue_sla_hours"],
                "items_opened": figures.items_opened,
                "items_closed": figures.items_closed,
                "closed_within_sla": facts.closed_within_sla,
                "median_seconds_to_decision": median(waits),
                "open_at_end": figures.open_at_end,
            },
            "reports": {"ncmec_filed": figures.ncmec_filed,
                        "ncmec_by_state": figures.ncmec_states(),
                        "median_seconds_confirmation_to_filed": median(
                            figures.confirmation_to_filed_seconds)},
        },
    }
