"""Property-based fuzz of the ingest endpoints over real HTTP: no input gets a 5xx.

Hypothesis sends arbitrary JSON, valid events with one field broken, and raw
bytes to every path a platform writes to, against a running API backed by the
real broker and PostgreSQL. Every answer must be a 2xx or a 4xx whose body is
the project's JSON error shape; a 5xx, a hang or a non-JSON error fails.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.storage.tenants import create_key
from tests.integration.conftest import Tenant
from tests.unit.events import message

pytestmark = pytest.mark.integration

PATHS = ["/v1/events", "/api/v1/events/message", "/v1/decisions"]
FUZZ = settings(max_examples=120, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70),
                    st.floats(allow_nan=False, allow_infinity=False),
                    st.text(max_size=40), st.sampled_from(["", "private", "message", "z" * 300]))
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=12), inner, max_size=5)),
    max_leaves=20)


def _valid(tenant_id: str) -> dict[str, Any]:
    return message(tenant_id=tenant_id, event_id="fuzz-base", occurred_at="2026-03-01T21:14:05Z")


def broken_events(tenant_id: str) -> st.SearchStrategy[Any]:
    """A valid event as it is, or with one field replaced, removed, or one added."""
    base = _valid(tenant_id)
    replace = st.tuples(st.sampled_from(sorted(base)), json_values).map(
        lambda kv: {**base, kv[0]: kv[1]})
    remove = st.sampled_from(sorted(base)).map(
        lambda k: {f: v for f, v in base.items() if f != k})
    add = st.tuples(st.text(max_size=12), json_values).map(lambda kv: {**base, kv[0]: kv[1]})
    valid = st.integers(0, 10**6).map(lambda i: {**base, "event_id": f"fuzz-{i}"})
    return st.one_of(valid, replace, remove, add, st.lists(replace, min_size=1, max_size=3))


@pytest.fixture
def fuzz_key(db: psycopg.Connection, tenant: Tenant) -> str:
    # Every scope and a generous rate, so the fuzz reaches the handlers, not the limiter.
    return create_key(db, tenant.tenant_id, ["ingest", "read", "moderate"],
                      rate_per_second=10_000.0, burst=10_000)


def _check(response: httpx.Response, sent: str) -> None:
    assert response.status_code < 500, f"{response.status_code} for {sent[:300]}"
    if response.status_code >= 400:
        body = response.json()  # a non-JSON error body fails here
        assert isinstance(body, dict) and isinstance(body.get("error"), str), body


def test_no_json_body_gets_a_server_error(api: str, tenant: Tenant, fuzz_key: str) -> None:
    headers = {"Authorization": f"Bearer {fuzz_key}", "Content-Type": "application/json"}
    statuses: set[int] = set()
    with httpx.Client(base_url=api, headers=headers, timeout=30) as client:

        @FUZZ
        @given(path=st.sampled_from(PATHS),
               body=st.one_of(json_values, broken_events(tenant.tenant_id)))
        def post(path: str, body: Any) -> None:
            sent = json.dumps(body)
            response = client.post(path, content=sent.encode())
            _check(response, f"{path} {sent}")
            statuses.add(response.status_code)

        post()
    # The fuzz reached the handlers: some bodies were accepted, others refused by field.
    assert statuses & {200, 202} and 422 in statuses, statuses


def test_no_byte_string_gets_a_server_error(api: str, fuzz_key: str) -> None:
    headers = {"Authorization": f"Bearer {fuzz_key}"}
    statuses: set[int] = set()
    with httpx.Client(base_url=api, headers=headers, timeout=30) as client:

        @FUZZ
        @given(path=st.sampled_from(PATHS), body=st.binary(max_size=300),
               content_type=st.sampled_from(["application/json", "text/plain", "",
                                             "application/json; charset=latin-1"]))
        def post(path: str, body: bytes, content_type: str) -> None:
            response = client.post(path, content=body, headers={"Content-Type": content_type})
            _check(response, f"{path} {body!r}")
            statuses.add(response.status_code)

        post()
    assert 400 in statuses, statuses
