"""The Python SDK without services: signing, privacy mode against the shared vectors,
retries and idempotency against a scripted stand-in server, batching."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from wardstream import (
    ApiError,
    AsyncClient,
    Client,
    NotFound,
    RetryPolicy,
    SignatureError,
    StageExtractor,
    TransportError,
    is_valid_signature,
    normalise,
    private_message,
    sign,
    verify_signature,
)
from wardstream.retry import parse_retry_after

from pipeline.detect.stages import quantise
from pipeline.webhooks import signing as pipeline_signing
from tests.unit.sdk_standin import stand_in
from tests.unit.sdk_vectors import VECTORS, WEBHOOK_VECTORS

SECRET = "whsec_sdk-test-secret"
BODY = b'{"event":"alert.raised","alert_id":"a1","score":72.0}'
T = 1_772_000_000
FAST = RetryPolicy(max_attempts=4, base_delay=0.001, max_delay=0.01)
VECTOR_DOC: dict[str, Any] = json.loads(VECTORS.read_text(encoding="utf-8"))
WEBHOOK_DOC: dict[str, Any] = json.loads(WEBHOOK_VECTORS.read_text(encoding="utf-8"))


def message(text: str | None = "how old are you?", **extra: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "tenant_id": "acme", "type": "message", "occurred_at": "2026-03-01T21:14:05+00:00",
        "actor_id": "u-17", "conversation_id": "c-9", "recipient_ids": ["u-42"],
        "channel": "private", **extra}
    if text is not None:
        event["content"] = text
    return event


# ---- webhook signatures


def test_signature_round_trip_and_the_pipeline_agrees() -> None:
    header = sign(SECRET, BODY, T)
    assert header == pipeline_signing.signature_header(SECRET, T, BODY)
    assert verify_signature(SECRET, BODY, header, now=T + 5) == T
    expected = hmac.new(SECRET.encode(), f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert header == f"t={T},v1={expected}"
    # the pipeline verifies what the SDK signs, and the SDK what the pipeline signs
    assert pipeline_signing.verify(SECRET, BODY, header, now=T) == T


@pytest.mark.parametrize("body", [BODY + b" ", BODY.replace(b"72", b"12"), b""])
def test_a_tampered_body_is_refused(body: bytes) -> None:
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature(SECRET, body, sign(SECRET, BODY, T), now=T)
    assert not is_valid_signature(SECRET, body, sign(SECRET, BODY, T), now=T)


def test_the_tolerance_window_refuses_stale_and_future_timestamps() -> None:
    header = sign(SECRET, BODY, T)
    assert verify_signature(SECRET, BODY, header, now=T + 300) == T
    for now in (T + 301, T - 301):
        with pytest.raises(SignatureError, match="from now"):
            verify_signature(SECRET, BODY, header, now=now)
    assert verify_signature(SECRET, BODY, header, now=T + 1000, tolerance=1000) == T


def test_any_of_several_v1_signatures_may_match_and_case_is_ignored() -> None:
    good = sign(SECRET, BODY, T).split("v1=")[1]
    assert verify_signature(SECRET, BODY, f"t={T},v1={'0' * 64},v1={good.upper()}",
                            now=T) == T
    with pytest.raises(SignatureError):
        verify_signature("whsec_other", BODY, sign(SECRET, BODY, T), now=T)


@pytest.mark.parametrize("case", WEBHOOK_DOC["cases"], ids=lambda c: c["name"])
def test_the_shared_webhook_vectors(case: dict[str, Any]) -> None:
    assert is_valid_signature(WEBHOOK_DOC["secret"], WEBHOOK_DOC["body"].encode(),
                              case["header"], now=case["now"]) is case["valid"]


@pytest.mark.parametrize("header", [None, "", "garbage", f"v1={'0' * 64}", f"t={T}",
                                    f"t=abc,v1={'0' * 64}", f"t=1{'0' * 20},v1=00"])
def test_missing_or_malformed_headers_are_refused(header: str | None) -> None:
    with pytest.raises(SignatureError):
        verify_signature(SECRET, BODY, header, now=T)


# ---- privacy mode


@pytest.fixture(scope="module")
def extractor() -> StageExtractor:
    return StageExtractor.bundled()


@pytest.mark.parametrize("vector", VECTOR_DOC["vectors"], ids=lambda v: repr(v["text"][:30]))
def test_the_extractor_matches_the_pipeline_vectors(extractor: StageExtractor,
                                                   vector: dict[str, Any]) -> None:
    text = vector["text"]
    assert normalise(text) == vector["normalised"]
    signals = extractor.signals(text)
    assert list(signals) == VECTOR_DOC["stages"]
    for stage, expected in vector["content_signals"].items():
        assert signals[stage] == pytest.approx(expected, abs=VECTOR_DOC["tolerance"])
    assert [quantise(signals[s]) for s in VECTOR_DOC["stages"]] == vector["stage_bytes"]


def test_a_private_message_carries_hash_and_signals_never_text(
        extractor: StageExtractor) -> None:
    text = "don't tell your parents we talk"
    sent = private_message(message(text), extractor)
    assert "content" not in sent
    assert sent["content_sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert sent["content_signals"] == extractor.signals(text)
    assert text not in json.dumps(sent)


def test_private_message_edge_cases(extractor: StageExtractor) -> None:
    assert private_message(message(None), extractor) == message(None)
    empty = private_message(message(""), extractor)
    assert "content_signals" not in empty and "content" not in empty
    given = private_message(message("hi", content_signals={"secrecy": 0.5}), extractor)
    assert given["content_signals"] == {"secrecy": 0.5}
    with pytest.raises(ValueError, match="only allowed on message"):
        private_message({"type": "report", "content": "x"}, extractor)


def test_a_privacy_client_sends_no_content() -> None:
    with stand_in() as api, Client(api.url, "wsk_k_s", privacy=True, retry=FAST) as client:
        result = client.send_event(message("add me on another app", event_id="e-1"))
    assert result == {"accepted": ["e-1"], "count": 1}
    [sent] = api.seen[0].body
    assert "content" not in sent and "add me" not in json.dumps(sent)
    assert set(sent["content_signals"]) == set(VECTOR_DOC["stages"])


# ---- retries and idempotency


def test_retries_through_errors_and_a_dropped_connection_repeat_the_same_ids() -> None:
    with stand_in(["503", "drop", "429", "500"]) as api, \
            Client(api.url, "wsk_k_s", tenant_id="acme", retry=RetryPolicy(
                max_attempts=5, base_delay=0.001, max_delay=0.01)) as client:
        result = client.send_events([message("a"), message("b")])
    ids = api.posted_ids()
    assert len(ids) == 5
    assert all(attempt == ids[0] for attempt in ids)
    assert result["accepted"] == ids[0] and result["count"] == 2
    assert all(i.startswith("sdk-") for i in ids[0])
    assert api.seen[0].headers["authorization"] == "Bearer wsk_k_s"


def test_a_refusal_is_not_retried_and_names_the_field() -> None:
    with stand_in(["422"]) as api, Client(api.url, "wsk_k_s", retry=FAST) as client, \
            pytest.raises(ApiError) as caught:
        client.send_event(message("x"))
    assert caught.value.status == 422 and caught.value.field == "event_id"
    assert len(api.seen) == 1


def test_retries_run_out_with_the_last_error() -> None:
    with stand_in(["503"] * 4) as api, Client(api.url, "wsk_k_s", retry=FAST) as client, \
            pytest.raises(ApiError) as caught:
        client.send_event(message("x"))
    assert caught.value.status == 503 and caught.value.retry_after == 0
    assert len(api.seen) == 4


def test_an_unreachable_api_is_a_transport_error() -> None:
    with stand_in() as api:
        url = api.url
    with Client(url, "wsk_k_s", retry=FAST) as client, pytest.raises(TransportError):
        client.send_event(message("x"))


def test_a_decision_keeps_one_idempotency_key_across_retries() -> None:
    with stand_in(["503", "drop"]) as api, Client(api.url, "wsk_k_s", retry=FAST) as client:
        answer = client.post_decision("u-17", "cleared", "mod-3", note="fine")
    keys = [s.headers["idempotency-key"] for s in api.seen]
    assert len(keys) == 3 and len(set(keys)) == 1
    assert answer["queue_item_closed"] is True
    assert api.seen[0].body == {"subject": "u-17", "decision": "cleared", "reviewer": "mod-3",
                                "note": "fine"}


def test_reads_encode_path_segments_and_map_404() -> None:
    with stand_in(["404"]) as api, Client(api.url, "wsk_k_s", retry=FAST) as client:
        with pytest.raises(NotFound):
            client.actor_score("user/1 2")
        client.queue(limit=5)
    assert api.seen[0].path == "/v1/actors/user%2F1%202/score"
    assert api.seen[1].path == "/v1/queue"


def test_retry_after_seconds_and_http_dates() -> None:
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True),
                             now=now) == 30.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
    assert RetryPolicy(max_delay=5).delay(1, retry_after=3600) == 5
    assert 0 <= RetryPolicy(base_delay=1, max_delay=4).delay(10) <= 4


def test_the_async_client_retries_with_the_same_ids() -> None:
    async def run(url: str) -> dict[str, Any]:
        async with AsyncClient(url, "wsk_k_s", retry=FAST) as client:
            result = await client.send_events([message("a", event_id="e-a")])
            decision = await client.post_decision("u-1", "escalated", "mod-1")
            return {"result": result, "decision": decision}

    with stand_in(["drop", "503", "429", "ok", "503"]) as api:
        out = asyncio.run(run(api.url))
    assert api.posted_ids() == [["e-a"]] * 4
    assert out["result"] == {"accepted": ["e-a"], "count": 1}
    decisions = [s.headers["idempotency-key"] for s in api.seen if s.path == "/v1/decisions"]
    assert len(decisions) == 2 and decisions[0] == decisions[1]
    assert out["decision"]["queue_item_closed"] is True


def test_send_events_splits_into_requests_of_max_batch() -> None:
    with stand_in() as api, Client(api.url, "wsk_k_s", max_batch=2) as client:
        result = client.send_events([message(str(i)) for i in range(5)])
    assert [len(ids) for ids in api.posted_ids()] == [2, 2, 1]
    assert result["count"] == 5


# ---- batching


def test_the_batcher_sends_by_size_and_on_close() -> None:
    with stand_in() as api, Client(api.url, "wsk_k_s", retry=FAST) as client:
        with client.batcher(max_events=3, max_delay=60) as batcher:
            ids = [batcher.add(message(str(i))) for i in range(4)]
            assert api.posted_ids() == [ids[:3]]
            assert batcher.pending() == 1
        assert api.posted_ids() == [ids[:3], ids[3:]]


def test_the_batcher_sends_by_age() -> None:
    with stand_in() as api, Client(api.url, "wsk_k_s", retry=FAST) as client:
        batcher = client.batcher(max_events=100, max_delay=0.05)
        event_id = batcher.add(message("x"))
        deadline = time.monotonic() + 5
        while not api.posted_ids() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert api.posted_ids() == [[event_id]]
        batcher.close()


def test_a_failed_batch_is_kept_and_resent_with_the_same_ids() -> None:
    failures: list[tuple[list[str], Exception]] = []
    lock = threading.Lock()

    def on_error(events: list[dict[str, Any]], exc: Exception) -> None:
        with lock:
            failures.append(([e["event_id"] for e in events], exc))

    with stand_in(["503"] * 4) as api, Client(api.url, "wsk_k_s", retry=FAST) as client:
        batcher = client.batcher(max_events=100, max_delay=60, on_error=on_error)
        ids = [batcher.add(message(str(i))) for i in range(2)]
        with pytest.raises(ApiError):
            batcher.flush()
        assert batcher.pending() == 2 and failures[0][0] == ids
        assert batcher.flush() == {"accepted": ids, "count": 2}
        batcher.close()
    assert all(attempt == ids for attempt in api.posted_ids())


def test_a_refused_batch_goes_to_on_error_and_is_not_kept() -> None:
    refused: list[list[dict[str, Any]]] = []
    with stand_in(["422"]) as api, Client(api.url, "wsk_k_s", retry=FAST) as client:
        batcher = client.batcher(max_events=100, max_delay=60,
                                 on_error=lambda events, _: refused.append(events))
        batcher.add(message("x"))
        with pytest.raises(ApiError):
            batcher.flush()
        assert batcher.pending() == 0 and len(refused) == 1
        batcher.close()
    assert len(api.posted_ids()) == 1


def test_the_async_batcher_sends_by_size_age_and_close() -> None:
    async def run(url: str) -> list[str]:
        async with AsyncClient(url, "wsk_k_s", retry=FAST) as client:
            batcher = client.batcher(max_events=2, max_delay=0.05)
            ids = [await batcher.add(message(str(i))) for i in range(3)]
            await asyncio.sleep(0.3)
            ids.append(await batcher.add(message("last")))
            await batcher.close()
            return ids

    with stand_in() as api:
        ids = asyncio.run(run(api.url))
    assert api.posted_ids() == [ids[:2], ids[2:3], ids[3:]]
