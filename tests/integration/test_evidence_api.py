"""The evidence endpoints over real HTTP: escalations build a package, reads need a reason
and are logged (access table and audit log), holds and extensions, tenant isolation, and
field-named refusals."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest

from pipeline.audit import store as audit_store
from pipeline.evidence.builder import build_pending
from pipeline.evidence.package import package_id_of
from pipeline.storage.tenants import add_tenant, create_key
from tests.integration.conftest import Tenant
from tests.integration.evidence_seed import scene, user

pytestmark = pytest.mark.integration

BUILT_AT = datetime.now(UTC).replace(microsecond=0)  # injected into the builder
REASON = "case review 17: checking the reported conversation"


def call(method: str, url: str, key: str | None, body: object = None,
         **headers: str) -> httpx.Response:
    sent = dict(headers)
    if key is not None:
        sent["Authorization"] = f"Bearer {key}"
    content = None
    if body is not None:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        sent["Content-Type"] = "application/json"
    return httpx.request(method, url, content=content, headers=sent, timeout=30)


def accesses(db: psycopg.Connection, package_id: str) -> list[tuple[Any, ...]]:
    return db.execute("SELECT access_id, tenant_id, reader, reason FROM evidence.access_log"
                      " WHERE package_id = %s ORDER BY access_id", (package_id,)).fetchall()


@pytest.fixture
def package(db: psycopg.Connection, tenant: Tenant) -> str:
    seeded = scene(db, tenant.tenant_id)
    [built] = build_pending(db, clock=lambda: BUILT_AT, tenant_id=tenant.tenant_id)
    assert built.package_id == package_id_of(tenant.tenant_id, "alert", seeded.alert_id)
    return built.package_id


def test_reads_need_a_reason_and_each_read_is_logged_and_audited(
        api: str, db: psycopg.Connection, tenant: Tenant, package: str) -> None:
    t = tenant.tenant_id
    reader = create_key(db, t, ["read"])
    url = f"{api}/v1/evidence/{package}"
    for query in ["", "?reason=", "?reason=%20%20", f"?reason={'x' * 501}"]:
        refused = call("GET", url + query, reader)
        assert refused.status_code == 422, (query, refused.text)
        assert refused.json()["error"] == "invalid_request"
        assert refused.json()["field"] == "reason"
    assert accesses(db, package) == []

    answer = httpx.get(url, params={"reason": REASON},
                       headers={"Authorization": f"Bearer {reader}"}, timeout=30)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["package_id"] == package
    assert body["subject"] == user(t, "suspect")
    assert body["integrity"]["intact"] is True
    assert body["integrity"]["matches_audit_log"] is True
    assert body["on_hold"] is False
    assert body["package"]["package_id"] == package
    assert len(body["package"]["events"]) == 6

    key_id = reader.split("_")[1]
    [(access_id, tenant_id, logged_reader, reason)] = accesses(db, package)
    assert (access_id, tenant_id, logged_reader, reason) == (body["access_id"], t, key_id, REASON)
    row = db.execute("SELECT seq, leaf FROM audit_leaves WHERE tenant_id = %s AND record_id = %s",
                     (t, f"evidence:access:{access_id}")).fetchone()
    assert row is not None
    leaf = json.loads(bytes(row[1]))
    assert leaf["kind"] == "evidence_access"
    assert leaf["details"] == {"action": "read", "package_id": package, "key_id": key_id,
                               "access_id": access_id}
    assert REASON not in bytes(row[1]).decode()
    assert user(t, "suspect") not in bytes(row[1]).decode()
    openings = audit_store.commitment_openings(db, t, row[0])
    assert {name: value for name, (_, value) in openings.items()} == {
        "reason": REASON, "subject": user(t, "suspect")}


def test_another_tenants_package_is_not_found_and_nothing_is_logged(
        api: str, db: psycopg.Connection, tenant: Tenant, package: str) -> None:
    other = f"t-{secrets.token_hex(4)}"
    add_tenant(db, other, "integration test, other")
    their_admin = create_key(db, other, ["admin"])
    read = httpx.get(f"{api}/v1/evidence/{package}", params={"reason": REASON},
                     headers={"Authorization": f"Bearer {their_admin}"}, timeout=30)
    assert (read.status_code, read.json()["field"]) == (404, "package_id"), read.text
    for action, body in [("hold", {"reference": "LE-1"}),
                         ("release", {"reference": "LE-1"}),
                         ("extend", {"days": 90, "reference": "LE-1"})]:
        refused = call("POST", f"{api}/v1/evidence/{package}/{action}", their_admin, body)
        assert (refused.status_code, refused.json()["field"]) == (404, "package_id")
    assert accesses(db, package) == []
    assert db.execute("SELECT count(*) FROM evidence.retention_actions WHERE package_id = %s",
                      (package,)).fetchone() == (0,)
    assert db.execute("SELECT on_hold FROM evidence.packages WHERE package_id = %s",
                      (package,)).fetchone() == (False,)


def test_hold_release_and_extend_need_admin_and_move_the_clock(
        api: str, db: psycopg.Connection, tenant: Tenant, package: str) -> None:
    t = tenant.tenant_id
    admin = create_key(db, t, ["admin"])
    reader = create_key(db, t, ["read"])
    base = f"{api}/v1/evidence/{package}"
    forbidden = call("POST", f"{base}/hold", reader, {"reference": "LE-1"})
    assert forbidden.status_code == 403

    held = call("POST", f"{base}/hold", admin, {"reference": "LE-2026-0042"})
    assert held.status_code == 200, held.text
    start = BUILT_AT + timedelta(days=365)
    assert held.json()["on_hold"] is True
    assert datetime.fromisoformat(held.json()["retain_until"]) == start

    extended = call("POST", f"{base}/extend", admin, {"days": 90, "reference": "2703f-7"})
    assert extended.status_code == 200, extended.text
    assert datetime.fromisoformat(extended.json()["retain_until"]) == start + timedelta(days=90)
    assert extended.json()["on_hold"] is True

    released = call("POST", f"{base}/release", admin, {"reference": "matter closed"})
    assert released.json()["on_hold"] is False
    row = db.execute("SELECT retain_until, on_hold FROM evidence.packages WHERE package_id = %s",
                     (package,)).fetchone()
    assert row == (start + timedelta(days=90), False)
    actions = db.execute("SELECT action FROM evidence.retention_actions WHERE package_id = %s"
                         " ORDER BY action_id", (package,)).fetchall()
    assert [a[0] for a in actions] == ["hold", "extend", "release"]
    kinds = db.execute("SELECT record_id FROM audit_leaves WHERE tenant_id = %s AND record_id"
                       " ~ '^evidence:(hold|extend|release):' ORDER BY seq", (t,)).fetchall()
    assert [k[0].split(":")[1] for k in kinds] == ["hold", "extend", "release"]


@pytest.mark.parametrize(("method", "path", "body", "status", "field"), [
    ("GET", "/v1/evidence/pkg_XYZ?reason=r", None, 400, "package_id"),
    ("GET", "/v1/evidence/12345?reason=r", None, 400, "package_id"),
    ("POST", "/v1/evidence/pkg_0/hold", {"reference": "r"}, 400, "package_id"),
    ("POST", "/v1/evidence/{id}/hold", b'{"reference": ', 400, "(record)"),
    ("POST", "/v1/evidence/{id}/hold", {}, 422, "reference"),
    ("POST", "/v1/evidence/{id}/hold", {"reference": "r", "until": "x"}, 422, "until"),
    ("POST", "/v1/evidence/{id}/hold", ["r"], 422, "(body)"),
    ("POST", "/v1/evidence/{id}/extend", {"days": "90", "reference": "r"}, 422, "days"),
    ("POST", "/v1/evidence/{id}/extend", {"days": 0, "reference": "r"}, 422, "days"),
    ("POST", "/v1/evidence/{id}/extend", {"days": 90}, 422, "reference"),
])
def test_malformed_ids_and_bodies_name_the_field(
        api: str, db: psycopg.Connection, tenant: Tenant, package: str, method: str,
        path: str, body: object, status: int, field: str) -> None:
    admin = create_key(db, tenant.tenant_id, ["admin"])
    answer = call(method, api + path.replace("{id}", package), admin, body)
    assert answer.status_code == status, answer.text
    assert answer.json()["field"] == field
    assert answer.json()["error"] in {"invalid_parameter", "invalid_request", "malformed_body"}
    assert db.execute("SELECT on_hold FROM evidence.packages WHERE package_id = %s",
                      (package,)).fetchone() == (False,)


def test_an_escalation_builds_a_package_at_once_and_a_retry_finds_it(
        api: str, db: psycopg.Connection, tenant: Tenant) -> None:
    t = tenant.tenant_id
    scene(db, t)
    moderator = create_key(db, t, ["moderate"])
    body = {"subject": "suspect", "decision": "escalated", "reviewer": "rev-1",
            "occurred_at": "2026-02-26T09:00:00+00:00"}
    first = call("POST", f"{api}/v1/decisions", moderator, body, **{"Idempotency-Key": "esc-1"})
    assert first.status_code == 202, first.text
    package = first.json()["evidence_package_id"]
    assert package == package_id_of(t, "escalation", first.json()["event_id"])
    retry = call("POST", f"{api}/v1/decisions", moderator, body, **{"Idempotency-Key": "esc-1"})
    assert retry.json() == first.json()

    rows = db.execute("SELECT trigger, actor, incident_at FROM evidence.packages"
                      " WHERE tenant_id = %s AND trigger = 'escalation'", (t,)).fetchall()
    assert rows == [("escalation", user(t, "suspect"), datetime(2026, 2, 26, 9, tzinfo=UTC))]
    reader = create_key(db, t, ["read"])
    read = httpx.get(f"{api}/v1/evidence/{package}", params={"reason": REASON},
                     headers={"Authorization": f"Bearer {reader}"}, timeout=30).json()
    doc = read["package"]
    assert doc["trigger"]["kind"] == "escalation"
    assert "m-subject-3" in {e["event_id"] for e in doc["events"]}  # within a day after
    assert doc["explanation"]["explanation"].startswith("contact with one 13-15 account")
    # The alert itself is still pending for the outbox builder: its own package, once.
    assert len(build_pending(db, clock=lambda: BUILT_AT, tenant_id=t)) == 1
