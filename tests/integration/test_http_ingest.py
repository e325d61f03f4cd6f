"""Events posted over HTTP arrive in PostgreSQL exactly once; bad requests get field-named 4xx."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import psycopg
import pytest

from pipeline.storage.tenants import add_tenant, create_key, revoke_key
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


def test_admin_key_manages_its_tenants_keys_only(
    api: str, tenant: Tenant, db: psycopg.Connection,
) -> None:
    admin = create_key(db, tenant.tenant_id, ["admin"])
    headers = {"Authorization": f"Bearer {admin}"}
    created = httpx.post(f"{api}/v1/keys", json={"scopes": ["ingest"], "label": "app"},
                         headers=headers, timeout=30)
    assert created.status_code == 201
    new_key = created.json()["key"]
    event = messages(tenant.tenant_id, 1, prefix="mk")[0]
    assert post(api, new_key, event).status_code == 202

    listed = httpx.get(f"{api}/v1/keys", headers=headers, timeout=30).json()["keys"]
    assert {k["key_id"] for k in listed} >= {created.json()["key_id"]}
    assert all("hash" not in k and "key" not in k for k in listed)

    bad = httpx.post(f"{api}/v1/keys", json={"scopes": ["root"], "x": 1}, headers=headers,
                     timeout=30)
    assert bad.status_code == 422
    assert {(e["field"], e["rule"]) for e in bad.json()["errors"]} == {
        ("scopes[0]", "enum"), ("x", "unknown_field")}

    other = f"t-other-{tenant.tenant_id}"
    add_tenant(db, other)
    foreign = create_key(db, other, ["ingest"])
    gone = httpx.delete(f"{api}/v1/keys/{foreign.split('_')[1]}", headers=headers, timeout=30)
    assert gone.status_code == 404
    assert post(api, foreign, {**event, "tenant_id": other}).status_code == 202

    assert httpx.get(f"{api}/v1/keys", headers={"Authorization": f"Bearer {new_key}"},
                     timeout=30).status_code == 403
    revoked = httpx.delete(f"{api}/v1/keys/{created.json()['key_id']}", headers=headers,
                           timeout=30)
    assert revoked.status_code == 204
    assert post(api, new_key, event).status_code == 401


def test_rotation_keeps_the_old_key_for_the_grace_period(
    api: str, tenant: Tenant, db: psycopg.Connection,
) -> None:
    admin = create_key(db, tenant.tenant_id, ["admin"])
    headers = {"Authorization": f"Bearer {admin}"}
    event = messages(tenant.tenant_id, 1, prefix="rot")[0]
    old = tenant.api_key
    old_id = old.split("_")[1]
    rotated = httpx.post(f"{api}/v1/keys/{old_id}/rotate", json={"grace_seconds": 3600},
                         headers=headers, timeout=30)
    assert rotated.status_code == 201
    body = rotated.json()
    assert body["previous_key_id"] == old_id
    assert post(api, old, event).status_code == 202          # still inside the grace period
    assert post(api, body["key"], event).status_code == 202
    now = httpx.post(f"{api}/v1/keys/{body['key_id']}/rotate", json={"grace_seconds": 0},
                     headers=headers, timeout=30)
    assert now.status_code == 201
    assert post(api, body["key"], event).status_code == 401  # no grace: gone at once
    assert post(api, now.json()["key"], event).status_code == 202


def test_rate_limit_answers_429_with_retry_after(
    api: str, tenant: Tenant, db: psycopg.Connection,
) -> None:
    slow = create_key(db, tenant.tenant_id, ["ingest"], rate_per_second=0.05, burst=2)
    event = messages(tenant.tenant_id, 1, prefix="rl")[0]
    answers = [post(api, slow, event) for _ in range(3)]
    assert [a.status_code for a in answers] == [202, 202, 429]
    assert answers[2].json()["error"] == "rate_limited"
    assert 1 <= int(answers[2].headers["Retry-After"]) <= 20
    # other keys of the tenant are not affected
    assert post(api, tenant.api_key, event).status_code == 202
