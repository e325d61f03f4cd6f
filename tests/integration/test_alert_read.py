"""``GET /v1/alerts/{alert_id}`` over real HTTP: the alert, its user and its evidence id."""

from __future__ import annotations

import secrets

import httpx
import psycopg
import pytest

from pipeline.evidence.builder import build_pending
from pipeline.evidence.package import package_id_of
from pipeline.storage.tenants import add_tenant, create_key
from tests.integration.conftest import Tenant
from tests.integration.evidence_seed import scene

pytestmark = pytest.mark.integration


def _get(api: str, key: str, alert_id: str) -> httpx.Response:
    return httpx.get(f"{api}/v1/alerts/{alert_id}", headers={"Authorization": f"Bearer {key}"},
                     timeout=30)


def test_an_alert_reads_back_with_its_user_and_then_its_evidence_package(
        api: str, db: psycopg.Connection, tenant: Tenant) -> None:
    t = tenant.tenant_id
    seeded = scene(db, t)
    reader = create_key(db, t, ["read"])

    before = _get(api, reader, seeded.alert_id)
    assert before.status_code == 200, before.text
    body = before.json()
    assert (body["alert_id"], body["actor"], body["user_id"]) == (
        seeded.alert_id, seeded.subject, "suspect")
    assert (body["tier"], body["score"]) == ("restrict", 72.0)
    assert body["drivers"][0]["signal"] == "escalation"
    assert body["evidence_package_id"] is None  # not preserved yet

    build_pending(db, tenant_id=t)
    after = _get(api, reader, seeded.alert_id).json()
    assert after["evidence_package_id"] == package_id_of(t, "alert", seeded.alert_id)


def test_another_tenants_alert_and_bad_ids_are_refused(
        api: str, db: psycopg.Connection, tenant: Tenant) -> None:
    seeded = scene(db, tenant.tenant_id)
    other = f"t-{secrets.token_hex(4)}"
    add_tenant(db, other)
    outsider = create_key(db, other, ["read"])
    hidden = _get(api, outsider, seeded.alert_id)
    assert (hidden.status_code, hidden.json()["field"]) == (404, "alert_id")

    reader = create_key(db, tenant.tenant_id, ["read"])
    bad = _get(api, reader, "a%20b")
    assert (bad.status_code, bad.json()["field"]) == (400, "alert_id")
    ingest_only = _get(api, tenant.api_key, seeded.alert_id)
    assert ingest_only.status_code == 403
