"""Readable Markdown renderings of the export documents (the JSON stays the record)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def duration(seconds: float | None) -> str:
    """``None`` -> "n/a"; otherwise days, hours and minutes ("1 d 2 h 5 min", "45 s")."""
    if seconds is None:
        return "n/a"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    days, rest = divmod(whole, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "",
             f"{minutes} min" if minutes else ""]
    return " ".join(p for p in parts if p)


def _table(rows: Mapping[str, Any], head: tuple[str, str]) -> list[str]:
    lines = [f"| {head[0]} | {head[1]} |", "|---|---:|"]
    lines.extend(f"| {key} | {value} |" for key, value in rows.items())
    return lines


def _period(doc: Mapping[str, Any]) -> str:
    return f"{doc['period']['from']} to {doc['period']['to']} (UTC, both days included)"


def transparency_markdown(doc: Mapping[str, Any]) -> str:
    timings = doc["timings"]
    lines = [
        f"# Transparency report: {doc['tenant']}", "",
        f"Period: {_period(doc)}. Generated {doc['generated_at']}.", "",
        "## Detection and review", "",
        *_table({"Alerts raised": doc["alerts"],
                 "Review items opened": doc["review_queue"]["items_opened"],
                 "Review items closed": doc["review_queue"]["items_closed"],
                 "Review items open at the end": doc["review_queue"]["open_at_end"],
                 "Statements of reasons": doc["statements_of_reasons"]}, ("Measure", "Count")),
        "", "## Decisions by kind", "",
        *_table({**doc["decisions"]["by_kind"], "total": doc["decisions"]["total"]},
                ("Decision", "Count")),
        "", "## NCMEC CyberTipline reports", "",
        f"Filed in the period: {doc['ncmec_reports']['filed']}.", "",
        *_table(doc["ncmec_reports"]["by_state"], ("State now (reports created in the period)",
                                                   "Count")),
        "", "## Appeals", "", f"{doc['appeals']['count']}. {doc['appeals']['note']}",
        "", "## Timings (medians)", "",
        *_table({
            "Alert to first review decision": _timing(timings["alert_to_first_decision"]),
            "Confirmation to report filed": _timing(timings["confirmation_to_report_filed"]),
        }, ("Interval", "Median")),
    ]
    return "\n".join(lines) + "\n"


def _timing(entry: Mapping[str, Any]) -> str:
    return f"{duration(entry['median_seconds'])} (n={entry['count']})"


def osa_markdown(doc: Mapping[str, Any]) -> str:
    ra, measures = doc["risk_assessment"], doc["measures"]
    lines = [
        f"# Online Safety Act record pack: {doc['tenant']}", "",
        f"Period: {_period(doc)}. Generated {doc['generated_at']}.", "",
        "## Risk assessment", "",
        f"Service: {ra['service']}. Completed {ra['completed_on']}; next review due "
        f"{ra['next_review_due']}; owner: {ra['owner_role']}. Method: {ra['method']}.", "",
    ]
    for risk in ra["risks"]:
        lines += [f"### {risk['name']} (`{risk['id']}`)", "", risk["description"], "",
                  f"Likelihood {risk['likelihood']}, impact {risk['impact']}; assessed "
                  f"{risk['assessed_on']}. Measures: {', '.join(risk['measures']) or 'none'}.",
                  "", "Indicators:", ""]
        lines += [f"- `{i['id']}`: {i['description']}" for i in risk["indicators"]]
        lines.append("")
    detection, models = measures["detection"], measures["models"]
    review, reports = measures["human_review"], measures["reports"]
    lines += [
        "## Measures that ran", "",
        f"- Detection: tenant registered {detection['tenant_registered_at'] or 'n/a'}; "
        f"scoring active since {detection['active_since'] or 'n/a'}; first alert "
        f"{detection['first_alert_at'] or 'n/a'}; {detection['alerts_in_period']} alert(s) "
        "in the period.",
        f"- Models: seed model {models['seed_model_version'] or 'n/a'}; "
        f"{len(models['deployments'])} deployment(s) recorded up to the end of the period"
        + "".join(f"\n  - {d['version']} at {d['deployed_at']}" for d in models["deployments"]),
        f"- Human review (SLA {review['sla_hours']} h): {review['items_opened']} opened, "
        f"{review['items_closed']} closed, {review['closed_within_sla']} within the SLA, "
        f"median {duration(review['median_seconds_to_decision'])}, "
        f"{review['open_at_end']} open at the end.",
        f"- Reports: {reports['ncmec_filed']} NCMEC report(s) filed; median confirmation to "
        f"filing {duration(reports['median_seconds_confirmation_to_filed'])}.",
    ]
    return "\n".join(lines) + "\n"


def dsa_markdown(doc: Mapping[str, Any]) -> str:
    sors = doc["statements"]
    lines = [f"# DSA statements of reasons ({len(sors)})", "",
             "The JSON export is the body for POST /api/v1/statements (100 per call).", "",
             "| puid | ground | restriction | category | application date |",
             "|---|---|---|---|---|"]
    for sor in sors:
        restriction = (sor.get("decision_account") or sor.get("decision_provision")
                       or ", ".join(sor.get("decision_visibility", [])))
        lines.append(f"| {sor['puid']} | {sor['decision_ground']} | {restriction} | "
                     f"{sor['category']} | {sor['application_date']} |")
    return "\n".join(lines) + "\n"
