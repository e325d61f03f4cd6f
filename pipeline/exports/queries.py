"""Reads one tenant's figures for one period from PostgreSQL (every query filters on tenant).

Definitions (docs/exports.md): an alert counts on its event time (``raised_at``),
a review item opens on its first alert's event time (``opened_at``) and closes
on its decision's time (``closed_at``); an escalation counts when its evidence
package was keyed; an NCMEC report counts by its state now among reports created
in the period, and as filed when NCMEC gave it an id (``submitted_at``) in the period.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import psycopg

from pipeline.audit.events import SYSTEM_TENANT
from pipeline.exports.dsa import ClosedDecision
from pipeline.exports.figures import MeasureFacts, ModelDeployment, PeriodFigures
from pipeline.exports.period import Period


def _count(conn: psycopg.Connection, sql: str, params: dict[str, Any]) -> int:
    row = conn.execute(sql, params).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _params(tenant: str, period: Period) -> dict[str, Any]:
    return {"tenant": tenant, "start": period.start, "end": period.end}


def closed_decisions(conn: psycopg.Connection, tenant: str,
                     period: Period) -> list[ClosedDecision]:
    rows = conn.execute(
        "SELECT item_id, decision, tier, alert_count, opened_at, closed_at FROM review_queue"
        " WHERE tenant_id = %(tenant)s AND status = 'closed' AND decision IS NOT NULL"
        "   AND closed_at >= %(start)s AND closed_at < %(end)s ORDER BY closed_at, item_id",
        _params(tenant, period)).fetchall()
    return [ClosedDecision(int(r[0]), str(r[1]), str(r[2]), int(r[3]), r[4], r[5])
            for r in rows]


def _seconds(conn: psycopg.Connection, sql: str, params: dict[str, Any]) -> list[float]:
    return [float(r[0]) for r in conn.execute(sql, params).fetchall() if r[0] is not None]


def period_figures(conn: psycopg.Connection, tenant: str, period: Period) -> PeriodFigures:
    p = _params(tenant, period)
    decisions = {str(k): int(n) for k, n in conn.execute(
        "SELECT decision, count(*) FROM review_queue WHERE tenant_id = %(tenant)s"
        " AND status = 'closed' AND decision IS NOT NULL"
        " AND closed_at >= %(start)s AND closed_at < %(end)s GROUP BY decision", p)}
    escalated = _count(conn, "SELECT count(*) FROM evidence.package_keys"
                       " WHERE tenant_id = %(tenant)s AND trigger = 'escalation'"
                       " AND created_at >= %(start)s AND created_at < %(end)s", p)
    decisions["escalated"] = decisions.get("escalated", 0) + escalated
    return PeriodFigures(
        alerts=_count(conn, "SELECT count(*) FROM alerts WHERE tenant_id = %(tenant)s"
                      " AND raised_at >= %(start)s AND raised_at < %(end)s", p),
        items_opened=_count(conn, "SELECT count(*) FROM review_queue WHERE tenant_id ="
                            " %(tenant)s AND opened_at >= %(start)s AND opened_at < %(end)s",
                            p),
        items_closed=sum(n for k, n in decisions.items() if k != "escalated"),
        decisions=decisions,
        ncmec_by_state={str(k): int(n) for k, n in conn.execute(
            "SELECT state, count(*) FROM ncmec_reports WHERE tenant_id = %(tenant)s"
            " AND created_at >= %(start)s AND created_at < %(end)s GROUP BY state", p)},
        ncmec_filed=_count(conn, "SELECT count(*) FROM ncmec_reports"
                           " WHERE tenant_id = %(tenant)s AND submitted_at >= %(start)s"
                           " AND submitted_at < %(end)s", p),
        alert_to_decision_seconds=_seconds(
            conn, "SELECT extract(epoch FROM closed_at - opened_at) FROM review_queue"
            " WHERE tenant_id = %(tenant)s AND status = 'closed' AND decision IS NOT NULL"
            " AND closed_at >= %(start)s AND closed_at < %(end)s", p),
        confirmation_to_filed_seconds=_seconds(
            conn, "SELECT extract(epoch FROM n.submitted_at - q.closed_at)"
            " FROM ncmec_reports n JOIN review_queue q ON q.tenant_id = n.tenant_id"
            "  AND q.decision_event_id = n.confirmation_id"
            " WHERE n.tenant_id = %(tenant)s AND n.submitted_at >= %(start)s"
            "   AND n.submitted_at < %(end)s", p),
        open_at_end=_count(conn, "SELECT count(*) FROM review_queue WHERE tenant_id ="
                           " %(tenant)s AND opened_at < %(end)s"
                           " AND (closed_at IS NULL OR closed_at >= %(end)s)", p),
    )


def _deployment(leaf: bytes) -> ModelDeployment | None:
    record = json.loads(leaf)
    details = record.get("details", {})
    version = details.get("version") or details.get("model_version")
    if not isinstance(version, str):
        return None
    return ModelDeployment(version, datetime.fromisoformat(
        record["occurred_at"].replace("Z", "+00:00")))


def measure_facts(conn: psycopg.Connection, tenant: str, period: Period, sla_hours: int,
                  seed_model_version: str | None) -> MeasureFacts:
    p = {**_params(tenant, period), "sla": sla_hours * 3600}
    first = conn.execute(
        "SELECT (SELECT created_at FROM tenants WHERE tenant_id = %(tenant)s),"
        " (SELECT min(scored_at) FROM score_history WHERE tenant_id = %(tenant)s),"
        " (SELECT min(raised_at) FROM alerts WHERE tenant_id = %(tenant)s)", p).fetchone()
    leaves = conn.execute(
        "SELECT leaf FROM audit_leaves WHERE tenant_id IN (%(tenant)s, %(system)s)"
        " AND kind = 'model_deployment' AND created_at < %(end)s ORDER BY created_at, seq",
        {**p, "system": SYSTEM_TENANT}).fetchall()
    deployments = [d for d in (_deployment(bytes(r[0])) for r in leaves) if d is not None]
    return MeasureFacts(
        tenant_registered_at=first[0] if first else None,
        first_score_at=first[1] if first else None,
        first_alert_at=first[2] if first else None,
        seed_model_version=seed_model_version,
        deployments=deployments,
        closed_within_sla=_count(
            conn, "SELECT count(*) FROM review_queue WHERE tenant_id = %(tenant)s"
            " AND status = 'closed' AND decision IS NOT NULL"
            " AND closed_at >= %(start)s AND closed_at < %(end)s"
            " AND extract(epoch FROM closed_at - opened_at) <= %(sla)s", p),
    )
