"""Regulatory exports against real PostgreSQL: figures seeded by SQL for a fresh tenant are
exported (service, CLI and HTTP API) and checked against values computed here, apart from
the code under test; every export leaves an audit record and no personal data."""

from __future__ import annotations

import json
import secrets
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from pipeline.cli import main
from pipeline.exports.period import parse_period
from pipeline.exports.service import run_export
from pipeline.settings import Settings
from pipeline.storage.tenants import add_tenant, create_key
from tests.integration.conftest import MASTER_KEY, Tenant

pytestmark = pytest.mark.integration

START = datetime(2026, 3, 1, tzinfo=UTC)
END = datetime(2026, 4, 1, tzinfo=UTC)  # the period is March 2026
NOTE = "reviewer note: he asked her to keep it secret"
EXPLANATION = "contact with one 13-15 account rose from 2 to 19 messages a week"
IP = "203.0.113.77"


def pseudonym() -> str:
    return "u_" + "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz234567") for _ in range(26))


@dataclass
class Item:
    actor: str
    opened_at: datetime
    closed_at: datetime | None
    decision: str | None
    item_id: int = 0
    event_id: str = field(default_factory=lambda: f"dec-{secrets.token_hex(8)}")


@dataclass
class Seeded:
    items: list[Item]
    alerts: list[datetime]
    escalations: list[datetime]
    reports: list[tuple[str, datetime, datetime | None, Item | None]]  # state, created, filed
    reviewers: list[str]


def seed_item(db: psycopg.Connection, tenant: str, item: Item, seeded: Seeded) -> None:
    alert_id = secrets.token_hex(16)
    db.execute(
        "INSERT INTO alerts (alert_id, tenant_id, actor, tier, score, raised_at, event_id,"
        " explanation, drivers) VALUES (%s, %s, %s, 'restrict', 71.5, %s, %s, %s, %s)",
        (alert_id, tenant, item.actor, item.opened_at, f"e-{alert_id}", EXPLANATION,
         json.dumps([{"signal": "night", "contribution": 18.0, "explanation": EXPLANATION,
                      "ip": IP}])))
    seeded.alerts.append(item.opened_at)
    reviewer = pseudonym()
    seeded.reviewers.append(reviewer)
    closed = item.closed_at is not None
    row = db.execute(
        "INSERT INTO review_queue (tenant_id, actor, status, score, tier, explanation, drivers,"
        " first_alert_id, latest_alert_id, alert_count, opened_at, raised_at, closed_at,"
        " closed_by, decision, decision_note, decision_event_id)"
        " VALUES (%s, %s, %s, 71.5, 'restrict', %s, '[]', %s, %s, 2, %s, %s, %s, %s, %s, %s, %s)"
        " RETURNING item_id",
        (tenant, item.actor, "closed" if closed else "open", EXPLANATION, alert_id, alert_id,
         item.opened_at, item.opened_at, item.closed_at, reviewer if closed else None,
         item.decision, NOTE if closed else None, item.event_id if closed else None)).fetchone()
    assert row is not None
    item.item_id = int(row[0])


def seed_report(db: psycopg.Connection, tenant: str, state: str, created: datetime,
                filed: datetime | None, item: Item | None, seeded: Seeded) -> None:
    confirmation = item.event_id if item is not None else f"dec-{secrets.token_hex(8)}"
    has_id = state in {"submitted", "files_uploaded", "finished", "retracting", "retracted"}
    db.execute(
        "INSERT INTO ncmec_reports (tenant_id, report_key, package_id, confirmation_id, state,"
        " xml_sha256, file_count, ncmec_report_id, created_at, submitted_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, 0, %s, %s, %s)",
        (tenant, secrets.token_hex(16), f"pkg_{secrets.token_hex(16)}", confirmation, state,
         secrets.token_bytes(32), secrets.randbelow(10**9) + 1 if has_id else None, created,
         filed))
    seeded.reports.append((state, created, filed, item))


def seed(db: psycopg.Connection, tenant: str) -> Seeded:
    seeded = Seeded([], [], [], [], [])
    day = timedelta(days=1)
    hour = timedelta(hours=1)
    plan = [
        # opened, closed, decision
        (START + 2 * day, START + 2 * day + 3 * hour, "confirmed_grooming"),
        (START + 4 * day, START + 5 * day, "confirmed_grooming"),
        (START + 6 * day, START + 6 * day + 30 * timedelta(minutes=1), "cleared"),
        (START + 7 * day, START + 9 * day, "confirmed_other_harm"),
        (START - 3 * day, START + 1 * hour, "confirmed_grooming"),  # opened before, closed in
        (END - 2 * day, END + 2 * day, "confirmed_grooming"),       # closed after the period
        (START - 10 * day, START - 9 * day, "cleared"),               # wholly before
        (START + 20 * day, None, None),                               # still open
        (END - hour, None, None),                                     # open, last hour
        (END + hour, None, None),                                     # after the period
    ]
    for opened, closed, decision in plan:
        item = Item(pseudonym(), opened, closed, decision)
        seed_item(db, tenant, item, seeded)
        seeded.items.append(item)
    for created in (START + 3 * day, START + 8 * day, END + day):
        db.execute(
            "INSERT INTO evidence.package_keys (package_id, tenant_id, trigger, trigger_id,"
            " created_at) VALUES (%s, %s, 'escalation', %s, %s)",
            (f"pkg_{secrets.token_hex(16)}", tenant, f"esc-{secrets.token_hex(6)}", created))
        seeded.escalations.append(created)
    first, second, _, fourth, early = seeded.items[:5]
    seed_report(db, tenant, "finished", START + 3 * day, START + 3 * day + 2 * hour, first,
                seeded)
    seed_report(db, tenant, "submitted", START + 6 * day, START + 6 * day, second, seeded)
    seed_report(db, tenant, "failed", START + 10 * day, None, fourth, seeded)
    seed_report(db, tenant, "needs_reconciliation", START + 11 * day, None, None, seeded)
    seed_report(db, tenant, "finished", START - 5 * day, START + 4 * hour, early, seeded)
    return seeded


def within(moment: datetime | None) -> bool:
    return moment is not None and START <= moment < END


def expected_transparency(s: Seeded) -> dict[str, Any]:
    closed = [i for i in s.items if within(i.closed_at)]
    kinds = {"confirmed_grooming": 0, "confirmed_other_harm": 0, "cleared": 0, "escalated": 0}
    for item in closed:
        kinds[str(item.decision)] += 1
    kinds["escalated"] += sum(1 for e in s.escalations if within(e))
    states: dict[str, int] = {}
    for state, created, _, _ in s.reports:
        if within(created):
            states[state] = states.get(state, 0) + 1
    waits = [(i.closed_at - i.opened_at).total_seconds() for i in closed if i.closed_at]
    filing = [(filed - item.closed_at).total_seconds() for _, _, filed, item in s.reports
              if filed is not None and within(filed) and item is not None
              and item.closed_at is not None]
    return {
        "alerts": sum(1 for a in s.alerts if within(a)),
        "opened": sum(1 for i in s.items if within(i.opened_at)),
        "closed": len(closed),
        "open_at_end": sum(1 for i in s.items if i.opened_at < END
                           and (i.closed_at is None or i.closed_at >= END)),
        "kinds": kinds, "states": states,
        "filed": sum(1 for _, _, filed, _ in s.reports if within(filed)),
        "wait_median": statistics.median(waits), "wait_count": len(waits),
        "filing_median": statistics.median(filing), "filing_count": len(filing),
        "sors": sum(1 for i in closed if str(i.decision).startswith("confirmed_")),
    }


@pytest.fixture
def seeded(db: psycopg.Connection, tenant: Tenant) -> Seeded:
    return seed(db, tenant.tenant_id)


PERIOD = parse_period("2026-03-01", "2026-03-31")


def assert_no_personal_data(text: str, s: Seeded) -> None:
    for item in s.items:
        assert item.actor not in text
        assert item.event_id not in text
    for reviewer in s.reviewers:
        assert reviewer not in text
    for forbidden in (NOTE, EXPLANATION, IP, "secret", "13-15"):
        assert forbidden not in text


def export_leaves(db: psycopg.Connection, tenant: str) -> list[dict[str, Any]]:
    return [json.loads(bytes(r[0])) for r in db.execute(
        "SELECT leaf FROM audit_leaves WHERE tenant_id = %s AND kind = 'export' ORDER BY seq",
        (tenant,))]


def test_transparency_report_matches_independent_counts(
    db: psycopg.Connection, tenant: Tenant, seeded: Seeded,
) -> None:
    want = expected_transparency(seeded)
    export = run_export(db, "transparency", tenant.tenant_id, PERIOD, requested_by="test")
    doc = export.document
    assert doc["alerts"] == want["alerts"] == 7
    assert doc["review_queue"] == {"items_opened": want["opened"],
                                   "items_closed": want["closed"],
                                   "open_at_end": want["open_at_end"]}
    assert doc["decisions"]["by_kind"] == want["kinds"]
    assert {k: v for k, v in doc["ncmec_reports"]["by_state"].items() if v} == want["states"]
    assert doc["ncmec_reports"]["filed"] == want["filed"] == 3
    timings = doc["timings"]
    assert timings["alert_to_first_decision"] == {"median_seconds": want["wait_median"],
                                                  "count": want["wait_count"]}
    assert timings["confirmation_to_report_filed"] == {"median_seconds": want["filing_median"],
                                                       "count": want["filing_count"]}
    assert doc["statements_of_reasons"] == want["sors"] == 4
    assert doc["appeals"]["count"] == 0
    assert_no_personal_data(json.dumps(doc) + export.render("md"), seeded)
    leaves = export_leaves(db, tenant.tenant_id)
    assert len(leaves) == 1 and leaves[0]["seq"] == export.audit_seq
    assert leaves[0]["details"]["content_sha256"] == export.sha256
    assert leaves[0]["details"]["export_kind"] == "transparency_report"


def test_dsa_statements_for_restricting_decisions_only(
    db: psycopg.Connection, tenant: Tenant, seeded: Seeded,
) -> None:
    export = run_export(db, "dsa", tenant.tenant_id, PERIOD, requested_by="test")
    sors = export.document["statements"]
    restricting = [i for i in seeded.items
                   if within(i.closed_at) and str(i.decision).startswith("confirmed_")]
    assert len(sors) == len(restricting) == 4
    assert sorted(s["application_date"] for s in sors) == sorted(
        i.closed_at.date().isoformat() for i in restricting if i.closed_at)
    assert sorted(s["content_date"] for s in sors) == sorted(
        i.opened_at.date().isoformat() for i in restricting)
    assert len({s["puid"] for s in sors}) == 4
    assert {s["automated_decision"] for s in sors} == {"AUTOMATED_DECISION_NOT_AUTOMATED"}
    assert_no_personal_data(json.dumps(sors), seeded)


def test_osa_record_pack(db: psycopg.Connection, tenant: Tenant, seeded: Seeded) -> None:
    want = expected_transparency(seeded)
    export = run_export(db, "osa", tenant.tenant_id, PERIOD, requested_by="test")
    measures = export.document["measures"]
    closed = [i for i in seeded.items if within(i.closed_at) and i.closed_at]
    within_sla = sum(1 for i in closed if i.closed_at
                     and (i.closed_at - i.opened_at) <= timedelta(hours=24))
    assert measures["human_review"]["closed_within_sla"] == within_sla == 3
    assert measures["human_review"]["items_closed"] == want["closed"]
    assert measures["detection"]["first_alert_at"] == min(seeded.alerts).isoformat()
    assert measures["reports"]["ncmec_filed"] == want["filed"]
    assert measures["models"]["seed_model_version"]
    assert export.document["risk_assessment"]["risks"][0]["id"] == "grooming"
    assert_no_personal_data(json.dumps(export.document) + export.render("md"), seeded)


def test_another_tenant_sees_none_of_it(db: psycopg.Connection, seeded: Seeded) -> None:
    other = f"t-{secrets.token_hex(4)}"
    add_tenant(db, other, "integration test")
    doc = run_export(db, "transparency", other, PERIOD, requested_by="test").document
    assert doc["alerts"] == 0 and doc["decisions"]["total"] == 0
    assert run_export(db, "dsa", other, PERIOD, requested_by="test").document == {
        "statements": []}


def test_cli_writes_the_file_and_logs_it(
    db: psycopg.Connection, tenant: Tenant, seeded: Seeded, settings: Settings,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("WARDSTREAM_PG_DSN", settings.pg_dsn.get_secret_value())
    monkeypatch.setenv("WARDSTREAM_PSEUDONYM_MASTER_KEY", MASTER_KEY)
    out = tmp_path / "report.md"
    code = main(["export", "transparency", "--tenant", tenant.tenant_id, "--from",
                 "2026-03-01", "--to", "2026-03-31", "--out", str(out), "--format", "md"])
    assert code == 0, capsys.readouterr().err
    text = out.read_text(encoding="utf-8")
    assert f"| Alerts raised | {expected_transparency(seeded)['alerts']} |" in text
    assert len(export_leaves(db, tenant.tenant_id)) == 1
    assert main(["export", "dsa", "--tenant", "nobody-here", "--from", "2026-03-01", "--to",
                 "2026-03-31", "--out", str(tmp_path / "x.json")]) == 2
    assert "--tenant" in capsys.readouterr().err


def get(api: str, key: str, path: str, **params: str) -> httpx.Response:
    return httpx.get(f"{api}{path}", params=params, timeout=60,
                     headers={"Authorization": f"Bearer {key}"})


def test_api_exports_for_the_key_s_tenant(
    api: str, db: psycopg.Connection, tenant: Tenant, seeded: Seeded,
) -> None:
    admin = create_key(db, tenant.tenant_id, ["admin"])
    want = expected_transparency(seeded)
    answer = get(api, admin, "/v1/exports/transparency", **{"from": "2026-03-01",
                                                            "to": "2026-03-31"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["tenant"] == tenant.tenant_id
    assert body["alerts"] == want["alerts"]
    assert body["decisions"]["by_kind"] == want["kinds"]
    seq = int(answer.headers["X-Audit-Seq"])
    leaves = export_leaves(db, tenant.tenant_id)
    assert [leaf["seq"] for leaf in leaves] == [seq]
    assert leaves[0]["details"]["content_sha256"] == answer.headers["X-Export-SHA256"]

    sors = get(api, admin, "/v1/exports/dsa", **{"from": "2026-03-01", "to": "2026-03-31"})
    assert sors.status_code == 200 and len(sors.json()["statements"]) == want["sors"]
    assert_no_personal_data(sors.text, seeded)
    md = get(api, admin, "/v1/exports/osa", **{"from": "2026-03-01", "to": "2026-03-31",
                                               "format": "md"})
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    assert md.text.startswith("# Online Safety Act record pack")
    assert len(export_leaves(db, tenant.tenant_id)) == 3


@pytest.mark.parametrize(("path", "params", "field"), [
    ("/v1/exports/transparency", {"from": "2026-3-1", "to": "2026-03-31"}, "from"),
    ("/v1/exports/transparency", {"to": "2026-03-31"}, "from"),
    ("/v1/exports/transparency", {"from": "2026-03-01", "to": "2026-02-30"}, "to"),
    ("/v1/exports/transparency", {"from": "2026-03-01", "to": "2026-02-01"}, "to"),
    ("/v1/exports/dsa", {"from": "2020-01-01", "to": "2026-01-01"}, "to"),
    ("/v1/exports/gdpr", {"from": "2026-03-01", "to": "2026-03-31"}, "kind"),
    ("/v1/exports/dsa", {"from": "2026-03-01", "to": "2026-03-31", "format": "pdf"}, "format"),
])
def test_api_refusals_name_the_parameter(
    api: str, db: psycopg.Connection, tenant: Tenant, path: str, params: dict[str, str],
    field: str,
) -> None:
    admin = create_key(db, tenant.tenant_id, ["admin"])
    answer = get(api, admin, path, **params)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "invalid_parameter"
    assert answer.json()["field"] == field
    assert export_leaves(db, tenant.tenant_id) == []


def test_api_needs_the_admin_scope(api: str, db: psycopg.Connection, tenant: Tenant) -> None:
    reader = create_key(db, tenant.tenant_id, ["read"])
    answer = get(api, reader, "/v1/exports/dsa", **{"from": "2026-03-01", "to": "2026-03-31"})
    assert answer.status_code == 403
