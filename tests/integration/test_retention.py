"""The retention job on the real PostgreSQL: expired rows go, unexpired and held ones stay,
a dry run changes nothing, the report's numbers. The clock is injected throughout."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pipeline.privacy.policy import RetentionPolicy, load_policy
from pipeline.privacy.retention import report, run_once
from pipeline.settings import Settings
from tests.integration.conftest import Tenant

pytestmark = pytest.mark.integration

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
HELD = "u_" + "h" * 26
ACTIVE = "u_" + "a" * 26


def _policy(t: str, jurisdiction: str = "US") -> RetentionPolicy:
    return load_policy(tenant_jurisdictions={t: jurisdiction}, default_jurisdiction="US")


def _event(db: psycopg.Connection, t: str, event_id: str, actor: str, age_days: float,
           content: str | None = "hello") -> None:
    db.execute("INSERT INTO events (tenant_id, event_id, type, occurred_at, utc_offset_min,"
               " actor, record, content, source) VALUES (%s, %s, 'message', %s, 0, %s, '{}',"
               " %s, 'retention-test')", (t, event_id, NOW - age_days * DAY, actor, content))


def _score(db: psycopg.Connection, t: str, score_id: str, actor: str, age_days: float) -> None:
    db.execute("INSERT INTO score_history (score_id, tenant_id, actor, score, tier,"
               " previous_tier, scored_at, event_id, max_score, explanation, drivers)"
               " VALUES (%s, %s, %s, 10, 'none', 'none', %s, 'e', 10, 'x', '[]')",
               (f"{t}:{score_id}", t, actor, NOW - age_days * DAY))


def _alert(db: psycopg.Connection, t: str, actor: str, age_days: float, status: str) -> str:
    alert_id = secrets.token_hex(8)
    at = NOW - age_days * DAY
    db.execute("INSERT INTO alerts (alert_id, tenant_id, actor, tier, score, raised_at,"
               " event_id, explanation, drivers) VALUES (%s, %s, %s, 'restrict', 70, %s, 'e',"
               " 'x', '[]')", (alert_id, t, actor, at))
    db.execute("INSERT INTO review_queue (tenant_id, actor, status, score, tier, explanation,"
               " drivers, first_alert_id, latest_alert_id, opened_at, raised_at, closed_at)"
               " VALUES (%s, %s, %s, 70, 'restrict', 'x', '[]', %s, %s, %s, %s, %s)",
               (t, actor, status, alert_id, alert_id, at, at,
                at + DAY if status == "closed" else None))
    return alert_id


def _dead_letter(db: psycopg.Connection, t: str, age_days: float) -> None:
    db.execute("INSERT INTO dead_letters (dead_letter_id, source, received_at, tenant_id, field,"
               " rule, reason, errors, original, original_sha256) VALUES (%s, 'test', %s, %s,"
               " 'type', 'enum', 'bad', '[]', 'x', 'x')",
               (f"dl-{secrets.token_hex(6)}", NOW - age_days * DAY, t))


def _hold(db: psycopg.Connection, t: str, actor: str) -> None:
    """A package about ``actor`` under legal hold (inserted as the builder would)."""
    package_id = "pkg_" + secrets.token_hex(16)
    content = b'{"format":"test"}'
    db.execute("INSERT INTO evidence.package_keys (package_id, tenant_id, trigger, trigger_id)"
               " VALUES (%s, %s, 'alert', %s)", (package_id, t, secrets.token_hex(8)))
    db.execute("INSERT INTO evidence.packages (package_id, tenant_id, trigger, trigger_id,"
               " actor, incident_at, window_start, window_end, jurisdiction, content,"
               " content_sha256, built_at, retain_until, on_hold) SELECT package_id, tenant_id,"
               " trigger, trigger_id, %s, %s, %s, %s, 'US', %s, %s, %s, %s, true"
               " FROM evidence.package_keys WHERE package_id = %s",
               (actor, NOW - 500 * DAY, NOW - 501 * DAY, NOW - 499 * DAY, content,
                hashlib.sha256(content).digest(), NOW - 400 * DAY, NOW - 35 * DAY, package_id))


def _seed(db: psycopg.Connection, t: str) -> None:
    _event(db, t, "fresh", ACTIVE, 10)                   # kept whole
    _event(db, t, "text-expired", ACTIVE, 100)           # text cleared (90 days)
    _event(db, t, "ancient", ACTIVE, 400)                # row deleted (365 days)
    _event(db, t, "held-ancient", HELD, 400)             # kept: legal hold
    _score(db, t, "s-fresh", ACTIVE, 30)
    _score(db, t, "s-old", ACTIVE, 400)
    _score(db, t, "s-held", HELD, 400)
    _alert(db, t, ACTIVE, 800, "closed")                 # item and alert go (730 days)
    _alert(db, t, ACTIVE, 800, "open")                   # an open case stays
    _alert(db, t, ACTIVE, 100, "closed")                 # young: stays
    _dead_letter(db, t, 40)                              # goes (30 days)
    _dead_letter(db, t, 5)
    _hold(db, t, HELD)


def _snapshot(db: psycopg.Connection, t: str) -> dict[str, Any]:
    def rows(sql: str) -> list[tuple[Any, ...]]:
        return db.execute(sql, (t,)).fetchall()
    return {
        "events": rows("SELECT event_id, content FROM events WHERE tenant_id = %s"
                       " ORDER BY event_id"),
        "scores": rows("SELECT split_part(score_id, ':', 2) FROM score_history"
                       " WHERE tenant_id = %s ORDER BY 1"),
        "alerts": rows("SELECT raised_at, alert_id FROM alerts WHERE tenant_id = %s"
                       " ORDER BY 1, 2"),
        "review": rows("SELECT status, raised_at FROM review_queue WHERE tenant_id = %s"
                       " ORDER BY 2, 1"),
        "dead_letters": rows("SELECT received_at FROM dead_letters WHERE tenant_id = %s"
                             " ORDER BY 1"),
    }


def test_expired_rows_go_unexpired_and_held_stay_and_a_dry_run_changes_nothing(
        db: psycopg.Connection, tenant: Tenant) -> None:
    t = tenant.tenant_id
    _seed(db, t)
    policy = _policy(t)
    before = _snapshot(db, t)

    dry = run_once(db, NOW, policy, dry_run=True, tenants=[t])
    assert _snapshot(db, t) == before
    assert dry.run_id is None

    done = run_once(db, NOW, policy, tenants=[t])
    expected = {"raw_content": {"removed": 2, "held": 1},   # text-expired, ancient; held-ancient
                "events": {"removed": 1, "held": 1},
                "scores": {"removed": 1, "held": 1},
                "alerts": {"removed": 2, "held": 0},        # one closed item and its alert
                "dead_letters": {"removed": 1, "held": 0},
                "webhook_deliveries": {"removed": 0, "held": 0}}
    assert {n: r.as_dict() for n, r in dry.results.items()} == expected
    assert {n: r.as_dict() for n, r in done.results.items()} == expected
    after = _snapshot(db, t)
    assert after["events"] == [("fresh", "hello"), ("held-ancient", "hello"),
                               ("text-expired", None)]
    assert after["scores"] == [("s-fresh",), ("s-held",)]
    assert [status for status, _ in after["review"]] == ["open", "closed"]
    assert len(after["alerts"]) == 2
    assert after["dead_letters"] == [(NOW - 5 * DAY,)]
    stored = db.execute("SELECT ran_at, tenants, results FROM retention_runs WHERE run_id = %s",
                        (done.run_id,)).fetchone()
    assert stored == (NOW, [t], expected)

    again = run_once(db, NOW, policy, tenants=[t])
    assert all(r.removed == 0 for r in again.results.values())


def test_the_report_counts_what_is_past_its_limit_per_jurisdiction(
        db: psycopg.Connection, tenant: Tenant) -> None:
    t = tenant.tenant_id
    _seed(db, t)
    eu = _policy(t, "EU")                                 # text kept 30 days there
    shown = report(db, NOW, eu, tenants=[t])
    classes = shown["classes"]
    assert classes["raw_content"] == {"oldest_age_days": 400.0, "past_limit": 2, "held": 1,
                                      "limit_days": [30]}
    # EU keeps text 30 days: a 35-day-old text is past it there (not in the US: 90)
    _event(db, t, "month-old", ACTIVE, 35)
    assert report(db, NOW, eu, tenants=[t])["classes"]["raw_content"]["past_limit"] == 3
    assert classes["events"]["past_limit"] == 1 and classes["events"]["held"] == 1
    assert classes["scores"] == {"oldest_age_days": 400.0, "past_limit": 1, "held": 1,
                                 "limit_days": [365]}
    assert classes["dead_letters"]["oldest_age_days"] == 40.0
    assert classes["webhook_deliveries"] == {"oldest_age_days": None, "past_limit": 0,
                                             "held": 0, "limit_days": [90]}
    assert shown["last_run"] is None

    run_once(db, NOW - DAY, eu, tenants=[t])
    later = report(db, NOW, eu, tenants=[t])
    assert later["last_run"] == (NOW - DAY).isoformat()
    assert later["classes"]["raw_content"]["past_limit"] == 0
    assert later["classes"]["scores"]["past_limit"] == 0


def _cli(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("WARDSTREAM_")}
    environment.update(WARDSTREAM_PG_DSN=settings.pg_dsn.get_secret_value(),
                       WARDSTREAM_KAFKA_BOOTSTRAP=settings.kafka_bootstrap, **env)
    return subprocess.run([sys.executable, "-m", "pipeline.cli", "retention", *args],
                          capture_output=True, text=True, env=environment, timeout=120)


def test_the_commands_report_run_dry_and_name_a_bad_key(
        settings: Settings, db: psycopg.Connection, tenant: Tenant, tmp_path: Path) -> None:
    t = tenant.tenant_id
    _event(db, t, "ancient", ACTIVE, 4000)
    shown = _cli(settings, "report", "--tenant", t)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["classes"]["events"]["past_limit"] == 1
    dry = _cli(settings, "run", "--dry-run", "--tenant", t)
    assert dry.returncode == 0 and json.loads(dry.stdout)["classes"]["events"]["removed"] == 1
    assert db.execute("SELECT count(*) FROM events WHERE tenant_id = %s", (t,)).fetchone() == (1,)
    bad = tmp_path / "retention.yaml"
    bad.write_text("version: 1\ndefaults: {raw_content: 90, events: -1, scores: 1, alerts: 1,"
                   " dead_letters: 1, webhook_deliveries: 1}\n", encoding="utf-8")
    refused = _cli(settings, "run", "--tenant", t, WARDSTREAM_RETENTION_CONFIG_FILE=str(bad))
    assert refused.returncode == 2 and "defaults.events" in refused.stderr
    done = _cli(settings, "run", "--tenant", t)
    assert done.returncode == 0, done.stderr
    assert db.execute("SELECT count(*) FROM events WHERE tenant_id = %s", (t,)).fetchone() == (0,)
