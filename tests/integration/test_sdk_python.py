"""The Python SDK (``wardstream.client``) against the real API: privacy mode checked on
the raw topic against the pipeline's own signals, a retried send that repeats its event
id, reads of a seeded user, a decision with its idempotent retry, refusals; the async
client too."""

from __future__ import annotations

import asyncio
import json
import secrets
from datetime import UTC, datetime
from typing import Any

import httpx
import psycopg
import pytest
from wardstream import ApiError, AsyncClient, Client, NotFound, RetryPolicy

from pipeline.settings import Settings
from tests.integration.conftest import Tenant
from tests.integration.sdk_seed import (
    PRIVACY_TEXT,
    assert_private_record,
    raw_records,
    sdk_key,
    seed_user,
)

pytestmark = pytest.mark.integration

RETRY = RetryPolicy(max_attempts=3, base_delay=0.1, max_delay=1.0)


def message(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "message", "occurred_at": datetime.now(UTC).isoformat(),
            "actor_id": "py-sdk-adult", "conversation_id": "py-conv-1",
            "recipient_ids": ["py-sdk-kid"], "channel": "private", "content": text, **extra}


class LoseFirstAnswer(httpx.BaseTransport):
    """Sends every request, but the first answer is lost (a read timeout)."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.sent = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        self.sent += 1
        if self.sent == 1:
            response.read()
            response.close()
            raise httpx.ReadTimeout("answer lost (test)", request=request)
        return response

    def close(self) -> None:
        self.inner.close()


def test_privacy_mode_sends_the_pipeline_s_signals_and_no_text(
    api: str, settings: Settings, raw_json_topic: str, db: psycopg.Connection, tenant: Tenant,
) -> None:
    event_id = f"py-privacy-{secrets.token_hex(6)}"
    with Client(api, sdk_key(db, tenant.tenant_id), tenant_id=tenant.tenant_id,
                privacy=True, retry=RETRY) as client:
        assert client.send_event(message(PRIVACY_TEXT, event_id=event_id)) == {
            "accepted": [event_id], "count": 1}
    records = raw_records(settings, raw_json_topic, tenant.tenant_id)
    [sent] = [r for r in records if r["event_id"] == event_id]
    assert_private_record(sent, PRIVACY_TEXT)
    assert not any(PRIVACY_TEXT in json.dumps(r) for r in records)


def test_a_send_whose_answer_is_lost_is_retried_with_the_same_event_id(
    api: str, settings: Settings, raw_json_topic: str, db: psycopg.Connection, tenant: Tenant,
) -> None:
    transport = LoseFirstAnswer()
    with Client(api, sdk_key(db, tenant.tenant_id), tenant_id=tenant.tenant_id, retry=RETRY,
                http=httpx.Client(transport=transport, timeout=30)) as client:
        result = client.send_event(message("see you at practice tomorrow"))
    assert transport.sent == 2 and result["count"] == 1
    copies = [r for r in raw_records(settings, raw_json_topic, tenant.tenant_id)
              if r["event_id"] == result["accepted"][0]]
    # Two deliveries of one event (same id, so the pipeline's dedupe keeps one).
    assert len(copies) == 2 and copies[0] == copies[1]


def test_reads_decisions_and_refusals(api: str, db: psycopg.Connection, tenant: Tenant) -> None:
    user = seed_user(db, tenant.tenant_id)
    key = sdk_key(db, tenant.tenant_id)
    with Client(api, key, tenant_id=tenant.tenant_id, retry=RETRY) as client:
        score = client.actor_score(user.pseudonym)
        assert (score["actor"], score["user_id"], score["score"]) == (
            user.pseudonym, user.raw_id, 60.0)
        assert client.actor_score(user.raw_id)["score_id"] == score["score_id"]
        page = client.actor_history(user.pseudonym, limit=2)
        assert [i["score"] for i in page["items"]] == [60.0, 50.0]
        assert page["next_before"] is not None
        rest = client.actor_history(user.pseudonym, limit=2, before=page["next_before"])
        assert [i["score"] for i in rest["items"]] == [40.0]
        assert [i["actor"] for i in client.queue(limit=10)["items"]] == [user.pseudonym]

        with pytest.raises(NotFound) as missing:
            client.actor_score("nobody-at-all")
        assert missing.value.field == "actor"
        with pytest.raises(NotFound):
            client.pair_analysis(user.raw_id, "nobody-at-all")

        first = client.post_decision(user.raw_id, "cleared", "mod-py", note="sdk test",
                                     idempotency_key="py-decision-1")
        again = client.post_decision(user.raw_id, "cleared", "mod-py", note="sdk test",
                                     idempotency_key="py-decision-1")
        assert first["queue_item_closed"] is True and again == first
        assert client.queue()["items"] == []

        with pytest.raises(ApiError) as refused:
            client.send_event(message("x", channel="secret"))
        assert (refused.value.status, refused.value.code) == (422, "invalid_events")
        assert refused.value.errors[0]["field"] == "channel"
    with Client(api, "wsk_nope_nope", retry=RETRY) as stranger, \
            pytest.raises(ApiError) as denied:
        stranger.queue()
    assert denied.value.status == 401


def test_the_async_client_and_batcher(api: str, db: psycopg.Connection,
                                      tenant: Tenant) -> None:
    user = seed_user(db, tenant.tenant_id)

    async def run() -> tuple[list[str], float]:
        async with AsyncClient(api, sdk_key(db, tenant.tenant_id), tenant_id=tenant.tenant_id,
                               privacy=True, retry=RETRY) as client:
            batcher = client.batcher(max_events=2, max_delay=0.05)
            ids = [await batcher.add(message(f"gg {i}")) for i in range(3)]
            await batcher.close()
            score = await client.actor_score(user.pseudonym)
            return ids, score["score"]

    ids, score = asyncio.run(run())
    assert len(set(ids)) == 3 and score == 60.0
