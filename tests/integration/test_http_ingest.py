"""Events posted over HTTP arrive in PostgreSQL exactly once; bad requests get field-named 4xx."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import psycopg
import pytest

from pipeline.storage.tenants import create_key, revoke_key
from tests.integration.conftest import Process, Tenant, wait_until
from tests.integration.helpers import messages, stored_ids

pytestmark = pytest.mark.integration


def post(api: str, key: str | None, body: object | bytes, **headers: str) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    return httpx.post(f"{api}/v1/events", content=content, timeout=30,
                      headers={"Content-Type": "application/json", **headers})


def test_posted_events_reach_postgres_exactly_once(
    api: str, tenant: Tenant, db: psycopg.Connection, worker_factory: Callable[[], Process],
) -> None:
    events = messages(tenant.tenant_id, 30, prefix="h")
    single = post(api, tenant.api_key, events[0])
    assert single.status_code == 202, single.text
    assert single.json() == {"accepted": ["h-0"], "count": 1}
    batch = post(api, tenant.api_key, events[1:])
    assert batch.status_code == 202
    assert batch.json()["count"] == 29
    retry = post(api, tenant.api_key, events[:10])  # a client retrying after a timeout
    assert retry.status_code == 202

    worker = worker_factory().start()
    expected = sorted(e["event_id"] for e in events)
    wait_until(lambda: worker.running() and stored_ids(db, tenant.tenant_id) == expected, 120,
               "the 30 posted events in PostgreSQL")


def test_bad_requests_name_the_problem_and_accept_nothing(
    api: str, tenant: Tenant, db: psycopg.Connection,
) -> None:
    good = messages(tenant.tenant_id, 3, prefix="bad")

    invalid = post(api, tenant.api_key, [good[0], {**good[1], "channel": 7}, {**good[2], "x": 1}])
    assert invalid.status_code == 422
    body = invalid.json()
    assert body["error"] == "invalid_events"
    assert [(e["index"], e["field"], e["rule"]) for e in body["errors"]] == [
        (1, "channel", "type"), (2, "x", "unknown_field")]

    malformed = post(api, tenant.api_key, b'{"event_id": ')
    assert malformed.status_code == 400
    assert malformed.json()["field"] == "(record)"

    not_utf8 = post(api, tenant.api_key, b'{"event_id": "\xff"}')
    assert (not_utf8.status_code, not_utf8.json()["error"]) == (400, "malformed_body")

    nan = post(api, tenant.api_key, b'{"port": NaN}')
    assert nan.status_code == 400 and "finite" in nan.json()["message"]

    huge = post(api, tenant.api_key, b"[" + b" " * (10 * 1024 * 1024) + b"]")
    assert (huge.status_code, huge.json()["error"]) == (413, "body_too_large")

    too_many = post(api, tenant.api_key, [good[0]] * 1001)
    assert (too_many.status_code, too_many.json()["error"]) == (413, "batch_too_large")

    other = post(api, tenant.api_key, {**good[0], "tenant_id": "someone-else"})
    assert other.json()["errors"][0]["rule"] == "tenant_mismatch"

    far_future = post(api, tenant.api_key, {**good[0], "occurred_at": "2099-01-01T00:00:00Z"})
    assert far_future.json()["errors"][0]["rule"] == "in_future"

    assert stored_ids(db, tenant.tenant_id) == []


def test_keys_are_checked(api: str, tenant: Tenant, db: psycopg.Connection) -> None:
    event = messages(tenant.tenant_id, 1, prefix="auth")[0]
    assert post(api, None, event).status_code == 401
    assert post(api, "wsk_nope_nope", event).status_code == 401
    assert post(api, tenant.api_key + "x", event).status_code == 401

    read_only = create_key(db, tenant.tenant_id, ["read"])
    forbidden = post(api, read_only, event)
    assert (forbidden.status_code, forbidden.json()["error"]) == (403, "forbidden")

    revocable = create_key(db, tenant.tenant_id, ["ingest"])
    assert revoke_key(db, revocable.split("_")[1])
    assert post(api, revocable, event).status_code == 401

    stored = db.execute("SELECT key_hash FROM api_keys WHERE tenant_id = %s",
                        (tenant.tenant_id,)).fetchall()
    assert all(tenant.api_key.split("_", 2)[2].encode() not in bytes(r[0]) for r in stored)
