"""Evidence packages in PostgreSQL: built once per alert, the window's events with their
hashes, immutable, destroyed when the clock runs out (never under hold), with audit records."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg import errors

from pipeline.audit import store as audit_store
from pipeline.evidence.builder import build_pending
from pipeline.evidence.package import package_id_of
from pipeline.evidence.policy import EvidenceConfig, RetentionPolicy
from pipeline.evidence.retention import expire
from pipeline.evidence.store import extend_retention, place_hold, read_package
from pipeline.settings import Settings
from tests.integration.conftest import Tenant
from tests.integration.evidence_seed import INCIDENT, alert, expected_sha256, scene, user

pytestmark = pytest.mark.integration

CONFIG = EvidenceConfig()
BUILT_AT = datetime.now(UTC).replace(microsecond=0)  # injected: nothing below reads a clock
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)  # clocks that started here have run out


def at(moment: datetime) -> Any:
    return lambda: moment


def packages(db: psycopg.Connection, tenant_id: str) -> list[tuple[Any, ...]]:
    return db.execute(
        "SELECT package_id, trigger, trigger_id, actor, retain_until, on_hold"
        " FROM evidence.packages WHERE tenant_id = %s ORDER BY package_id",
        (tenant_id,)).fetchall()


def pending(db: psycopg.Connection, tenant_id: str) -> int:
    row = db.execute(
        "SELECT count(*) FROM alerts a WHERE a.tenant_id = %s AND NOT EXISTS (SELECT 1 FROM"
        " evidence.package_keys k WHERE k.tenant_id = a.tenant_id AND k.trigger_id = a.alert_id)",
        (tenant_id,)).fetchone()
    return int(row[0]) if row else 0


def leaves(db: psycopg.Connection, tenant_id: str, prefix: str) -> list[dict[str, Any]]:
    rows = db.execute("SELECT leaf FROM audit_leaves WHERE tenant_id = %s AND record_id LIKE %s"
                      " ORDER BY seq", (tenant_id, prefix + "%")).fetchall()
    return [json.loads(bytes(r[0])) for r in rows]


def document(db: psycopg.Connection, tenant_id: str, package_id: str) -> dict[str, Any]:
    found = read_package(db, tenant_id, package_id, reader="test", reason="integration test")
    assert found.integrity.intact, found.integrity
    parsed: dict[str, Any] = found.document()
    return parsed


def test_a_package_is_built_once_per_alert_even_twice_or_concurrently(
        settings: Settings, db: psycopg.Connection, tenant: Tenant) -> None:
    t = tenant.tenant_id
    subject = user(t, "suspect")
    first = [alert(db, t, subject, INCIDENT + timedelta(hours=h)) for h in range(3)]
    built = build_pending(db, CONFIG, clock=at(BUILT_AT), tenant_id=t)
    assert sorted(b.package_id for b in built if b.created) == sorted(
        package_id_of(t, "alert", a) for a in first)
    assert build_pending(db, CONFIG, clock=at(BUILT_AT), tenant_id=t) == []

    more = [alert(db, t, subject, INCIDENT + timedelta(days=1, hours=h)) for h in range(6)]
    barrier = threading.Barrier(3)
    created: list[str] = []

    def builder() -> None:
        with psycopg.connect(settings.pg_dsn.get_secret_value(), autocommit=True) as conn:
            barrier.wait()
            for _ in range(100):  # until nothing is pending (others may hold some alerts)
                created.extend(b.package_id for b in build_pending(
                    conn, CONFIG, clock=at(BUILT_AT), tenant_id=t, limit=2) if b.created)
                if pending(conn, t) == 0:
                    return

    threads = [threading.Thread(target=builder) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(created) == sorted(package_id_of(t, "alert", a) for a in more)
    rows = packages(db, t)
    assert len(rows) == len({r[0] for r in rows}) == 9
    assert sorted(r[2] for r in rows) == sorted(first + more)
    assert len(leaves(db, t, "evidence:built:")) == 9


def test_the_package_holds_the_windows_events_with_their_hashes_and_the_facts(
        db: psycopg.Connection, tenant: Tenant) -> None:
    t = tenant.tenant_id
    seeded = scene(db, t)
    [built] = build_pending(db, CONFIG, clock=at(BUILT_AT), tenant_id=t)
    assert built.package_id == package_id_of(t, "alert", seeded.alert_id)
    doc = document(db, t, built.package_id)

    assert doc["subject"] == seeded.subject
    assert doc["trigger"] == {"kind": "alert", "id": seeded.alert_id}
    assert doc["window"] == {"start": "2026-01-26T20:00:00.000000Z",
                             "end": "2026-02-26T20:00:00.000000Z"}
    assert doc["built_at"] == BUILT_AT.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    got = {e["event_id"]: e for e in doc["events"]}
    assert set(got) == set(seeded.inside)
    assert not set(got) & set(seeded.outside)
    for event_id, event in seeded.inside.items():
        assert got[event_id]["sha256"] == expected_sha256(event), event_id
        assert got[event_id]["original"] == event.to_record()
    assert doc["events_truncated"] is False

    account = doc["account"]
    assert [p["event_id"] for p in account["profiles"]] == ["profile-1"]
    assert account["account_created_at"] == "2025-11-17T20:00:00.000000Z"
    assert {(i["kind"], i["value"]) for i in account["identities"]} == {
        ("user", "suspect"), ("ip", "203.0.113.7")}
    assert [s["score_id"] for s in doc["scores"]["history"]] == [f"{t}-s-3", f"{t}-s-0"]
    assert doc["explanation"]["alert_id"] == seeded.alert_id
    assert doc["explanation"]["drivers"][0]["signal"] == "escalation"
    prior = doc["prior_actions"]
    assert [m["event_id"] for m in prior["moderation_events"]] == ["moderation-1"]
    assert [(r["status"], r["first_alert_id"]) for r in prior["review_items"]] == [
        ("open", seeded.alert_id)]
    network = doc["network"]
    assert [(i["events"], i["first_seen_at"]) for i in network["ips"]] == [
        (3, "2026-02-05T20:00:00.000000Z")]
    assert [s["event_id"] for s in network["sessions"]] == ["session-1"]


def test_a_small_cap_truncates_and_says_so(db: psycopg.Connection, tenant: Tenant) -> None:
    seeded = scene(db, tenant.tenant_id)
    [built] = build_pending(db, EvidenceConfig(max_events=2), clock=at(BUILT_AT),
                            tenant_id=tenant.tenant_id)
    doc = document(db, tenant.tenant_id, built.package_id)
    assert doc["events_truncated"] is True
    assert [e["event_id"] for e in doc["events"]] == sorted(
        seeded.inside, key=lambda i: (seeded.inside[i].occurred_at_us, i))[:2]


def test_packages_refuse_update_and_delete(db: psycopg.Connection, tenant: Tenant) -> None:
    t = tenant.tenant_id
    alert(db, t, user(t, "suspect"), INCIDENT)
    [built] = build_pending(db, CONFIG, clock=at(LONG_AGO), tenant_id=t)  # already expired
    document(db, t, built.package_id)  # one access row
    where = {"id": built.package_id}
    for sql in [
        "UPDATE evidence.packages SET content = 'x' WHERE package_id = %(id)s",
        "UPDATE evidence.packages SET retain_until = retain_until + interval '1 day'"
        " WHERE package_id = %(id)s",
        "UPDATE evidence.packages SET on_hold = true WHERE package_id = %(id)s",
        "DELETE FROM evidence.packages WHERE package_id = %(id)s",
        "DELETE FROM evidence.package_keys WHERE package_id = %(id)s",
        "UPDATE evidence.access_log SET reason = 'x' WHERE package_id = %(id)s",
        "TRUNCATE evidence.packages",
    ]:
        with pytest.raises(errors.RestrictViolation), db.transaction(force_rollback=True):
            db.execute(sql, where)
    # The retention flag alone does not let content change.
    with pytest.raises(errors.RestrictViolation), db.transaction(force_rollback=True):
        db.execute("SELECT set_config('evidence.retention_path', 'retention', true)")
        db.execute("UPDATE evidence.packages SET content = 'x' WHERE package_id = %(id)s", where)
    assert [r[0] for r in packages(db, t)] == [built.package_id]


def test_a_package_under_hold_or_on_the_clock_is_never_deleted(
        db: psycopg.Connection, tenant: Tenant) -> None:
    t = tenant.tenant_id
    subject = user(t, "suspect")
    alert(db, t, subject, INCIDENT)
    [current] = build_pending(db, CONFIG, clock=at(BUILT_AT), tenant_id=t)
    alert(db, t, subject, INCIDENT + timedelta(hours=1))
    [held] = build_pending(db, CONFIG, clock=at(LONG_AGO), tenant_id=t)
    place_hold(db, t, held.package_id, by="test", reference="LE-1")
    for package in (current, held):
        with pytest.raises(errors.RestrictViolation, match="hold or its clock"), \
                db.transaction(force_rollback=True):
            db.execute("SELECT set_config('evidence.retention_path', 'destroy', true)")
            db.execute("DELETE FROM evidence.packages WHERE package_id = %s",
                       (package.package_id,))


def test_expire_destroys_an_expired_package_with_an_audit_record_and_keeps_a_held_one(
        db: psycopg.Connection, tenant: Tenant) -> None:
    t = tenant.tenant_id
    subject = user(t, "suspect")
    expired_alert = alert(db, t, subject, INCIDENT)
    [expired] = build_pending(db, CONFIG, clock=at(LONG_AGO), tenant_id=t)
    alert(db, t, subject, INCIDENT + timedelta(hours=1))
    [held] = build_pending(db, CONFIG, clock=at(LONG_AGO), tenant_id=t)
    alert(db, t, subject, INCIDENT + timedelta(hours=2))
    [current] = build_pending(db, CONFIG, clock=at(BUILT_AT), tenant_id=t)
    place_hold(db, t, held.package_id, by="test", reference="LE-2026-0042")

    gone = [g for g in expire(db) if g.tenant_id == t]
    assert [g.package_id for g in gone] == [expired.package_id]
    assert gone[0].retain_until == LONG_AGO + timedelta(days=365)
    assert sorted(r[0] for r in packages(db, t)) == sorted(
        [held.package_id, current.package_id])
    tombstone = db.execute("SELECT tenant_id, encode(content_sha256, 'hex') FROM"
                           " evidence.destructions WHERE package_id = %s",
                           (expired.package_id,)).fetchone()
    assert tombstone == (t, gone[0].content_sha256)

    [leaf] = leaves(db, t, "evidence:destroyed:")
    assert leaf["kind"] == "erasure"
    assert leaf["actor"] == "system:evidence-retention"
    assert leaf["details"]["package_id"] == expired.package_id
    assert leaf["details"]["package_sha256"] == gone[0].content_sha256
    assert subject not in json.dumps(leaf)  # committed, never written out
    assert "subject" in leaf["commitments"]
    # The alert keeps its key: the builder does not build it again.
    assert build_pending(db, CONFIG, clock=at(BUILT_AT), tenant_id=t) == []
    assert expired_alert in {r[0] for r in db.execute(
        "SELECT trigger_id FROM evidence.package_keys WHERE tenant_id = %s", (t,))}


def test_extension_moves_the_clock_by_whole_days_and_is_audited(
        db: psycopg.Connection, tenant: Tenant) -> None:
    t = tenant.tenant_id
    alert(db, t, user(t, "suspect"), INCIDENT)
    [built] = build_pending(db, EvidenceConfig(retention=RetentionPolicy({"US": 30})),
                            clock=at(BUILT_AT), tenant_id=t)
    first = extend_retention(db, t, built.package_id, by="k1", reference="2703f-1", days=90)
    assert first.retain_until == BUILT_AT + timedelta(days=120)
    again = extend_retention(db, t, built.package_id, by="k1", reference="2703f-2", days=90)
    assert again.retain_until == BUILT_AT + timedelta(days=210)
    assert packages(db, t)[0][4] == again.retain_until
    actions = db.execute("SELECT action, days, retain_until_before, retain_until_after FROM"
                         " evidence.retention_actions WHERE tenant_id = %s ORDER BY action_id",
                         (t,)).fetchall()
    assert actions == [("extend", 90, BUILT_AT + timedelta(days=30), first.retain_until),
                       ("extend", 90, first.retain_until, again.retain_until)]
    extended = leaves(db, t, "evidence:extend:")
    assert [leaf["details"]["days"] for leaf in extended] == [90, 90]
    assert "2703f-1" not in json.dumps(extended)
    seq = db.execute("SELECT seq FROM audit_leaves WHERE tenant_id = %s AND record_id = %s",
                     (t, f"evidence:extend:{first.action_id}")).fetchone()
    assert seq is not None
    assert audit_store.commitment_openings(db, t, seq[0])["reference"][1] == "2703f-1"
