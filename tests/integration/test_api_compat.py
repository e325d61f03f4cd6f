"""The integration guide's paths and the client library's POST /v1/events, over real HTTP
against the real broker and database: what they produce, answer and refuse."""

from __future__ import annotations

import json
import secrets
from typing import Any

import httpx
import psycopg
import pytest

from pipeline.avro import load_schema_map
from pipeline.contract import validate_event
from pipeline.detect.routing import pair_key
from pipeline.detect.scenario import Scenario, at, grooming_sequence
from pipeline.ingest import Accepted, accept, event_key
from pipeline.kafka.read import read_to_end
from pipeline.normalize import normalize
from pipeline.pseudonym import Pseudonymizer
from pipeline.settings import Settings
from pipeline.storage.scores import ScoreBatch, ScoreRecord, write_scores
from pipeline.storage.sink import SinkBatch, write_batch
from pipeline.storage.tenants import add_tenant, create_key
from tests.integration.conftest import MASTER_KEY, Tenant
from tests.integration.helpers import messages

pytestmark = pytest.mark.integration

PSEUDONYMS = Pseudonymizer(MASTER_KEY.encode())
T0 = 1_772_000_000_000_000  # 2026-02-25, event time
DAY_US = 86_400_000_000


def produced(settings: Settings, topic: str, tenant_id: str) -> list[tuple[bytes, bytes]]:
    """Every (key, value) of the tenant on the raw JSON topic."""
    return [(m.key(), m.value()) for m in read_to_end(settings.kafka_bootstrap, topic)
            if json.loads(m.value()).get("tenant_id") == tenant_id]


def post(api: str, path: str, key: str | None, body: object, **headers: str) -> httpx.Response:
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(f"{api}{path}", content=content, timeout=30,
                      headers={"Content-Type": "application/json", **headers})


def get(api: str, path: str, key: str) -> httpx.Response:
    return httpx.get(f"{api}{path}", headers={"Authorization": f"Bearer {key}"}, timeout=60)


# --- POST /api/v1/events/message ----------------------------------------------------------


def guide_message(**changes: Any) -> dict[str, Any]:
    return {"platform_user_id": "p-1", "session_id": "s-9", "content": "did you finish it?",
            "timestamp": "2026-03-01T21:14:05+00:00", "recipient_ids": ["p-2"],
            "metadata": {"ip_address": "2001:db8::7", "user_agent": "app/1.2"}, **changes}


def test_guide_message_is_produced_as_a_contract_message(
    api: str, settings: Settings, raw_json_topic: str, tenant: Tenant,
) -> None:
    t = tenant.tenant_id
    answer = post(api, "/api/v1/events/message", tenant.api_key, guide_message(),
                  **{"Idempotency-Key": "m-1"})
    assert answer.status_code == 202, answer.text
    event_id = answer.json()["event_id"]
    [(key, value)] = produced(settings, raw_json_topic, t)
    assert key == event_key(t, event_id)
    record = json.loads(value)
    assert validate_event(record).fields == record  # as the contract gives it
    assert {k: v for k, v in record.items() if k != "content_sha256"} == {
        "event_id": event_id, "tenant_id": t, "type": "message",
        "occurred_at": "2026-03-01T21:14:05+00:00", "actor_id": "p-1",
        "conversation_id": "s-9", "recipient_ids": ["p-2"], "channel": "private",
        "content": "did you finish it?", "ip": "2001:db8::7", "user_agent": "app/1.2"}
    normalized = accept(value, "json", source="test", received_at_us=T0, pseudonyms=PSEUDONYMS,
                        schemas=load_schema_map())
    assert isinstance(normalized, Accepted)
    assert normalized.event.conversation == PSEUDONYMS.pseudonym(t, "conversation", "s-9")

    again = post(api, "/api/v1/events/message", tenant.api_key, guide_message(),
                 **{"Idempotency-Key": "m-1"})
    assert again.json()["event_id"] == event_id
    unix = post(api, "/api/v1/events/message", tenant.api_key,
                guide_message(timestamp=1_772_400_000, recipient_ids=["p-2", "p-3"]))
    assert unix.status_code == 202 and unix.json()["event_id"] != event_id
    records = {json.loads(v)["event_id"]: json.loads(v)
               for _, v in produced(settings, raw_json_topic, t)}
    assert len(records) == 2
    assert records[unix.json()["event_id"]]["occurred_at"] == "2026-03-01T21:20:00+00:00"
    assert records[unix.json()["event_id"]]["channel"] == "group"


@pytest.mark.parametrize(("changes", "field"), [
    ({"platform_user_id": None}, "platform_user_id"),
    ({"session_id": 12}, "session_id"),
    ({"recipient_ids": []}, "recipient_ids"),
    ({"timestamp": "last night"}, "timestamp"),
    ({"metadata": {"ip_address": "not-an-ip"}}, "metadata.ip_address"),
    ({"metadata": {"geo": "x"}}, "metadata.geo"),
    ({"content": "x" * 20_001}, "content"),
])
def test_bad_guide_messages_name_the_field_and_produce_nothing(
    api: str, settings: Settings, raw_json_topic: str, tenant: Tenant,
    changes: dict[str, Any], field: str,
) -> None:
    answer = post(api, "/api/v1/events/message", tenant.api_key, guide_message(**changes))
    assert answer.status_code == 422, answer.text
    assert (answer.json()["error"], answer.json()["field"]) == ("invalid_request", field)
    assert produced(settings, raw_json_topic, tenant.tenant_id) == []


def test_guide_message_needs_the_ingest_scope(
    api: str, db: psycopg.Connection, tenant: Tenant,
) -> None:
    reader = create_key(db, tenant.tenant_id, ["read"])
    assert post(api, "/api/v1/events/message", None, guide_message()).status_code == 401
    assert post(api, "/api/v1/events/message", reader, guide_message()).status_code == 403


# --- POST /v1/events in the client library's shape -----------------------------------------


def client_body(tenant_id: str, **changes: Any) -> dict[str, Any]:
    return {"idempotency_key": f"k-{secrets.token_hex(4)}", "tenant_id": tenant_id,
            "conversation_id": "c-1", "actor_external_id_hash": "h-adult",
            "target_actor_external_id_hashes": ["h-kid"], "event_type": "message",
            "timestamp": "2026-03-01T21:14:05+00:00", "content": "hey",
            "metadata": {"recipient_age_bands": ["13_15"], "recipient_timezone": "Europe/Paris"},
            **changes}


def seed_scores(db: psycopg.Connection, tenant_id: str, actor: str,
                values: list[tuple[float, str]]) -> None:
    write_scores(db, ScoreBatch(scores=[ScoreRecord.from_record({
        "score_id": secrets.token_hex(16), "tenant_id": tenant_id, "actor": actor,
        "score": value, "tier": tier, "previous_tier": "trusted", "at_us": T0 + i * DAY_US,
        "event_id": f"e-{i}", "max_score": value, "first_alert_at_us": None,
        "explanation": f"worth {value}", "drivers": [
            {"signal": "night_contact", "contribution": value * 0.6, "explanation": "late"},
            {"signal": "age_gap", "contribution": value * 0.4, "explanation": "adult-minor"}],
    }) for i, (value, tier) in enumerate(values)], alerts=[]))


@pytest.fixture
def client_key(db: psycopg.Connection, tenant: Tenant) -> str:
    return create_key(db, tenant.tenant_id, ["ingest", "read"])


def test_client_library_shape_is_answered_with_the_actors_score(
    api: str, settings: Settings, raw_json_topic: str, db: psycopg.Connection, tenant: Tenant,
    client_key: str,
) -> None:
    t = tenant.tenant_id
    adult = PSEUDONYMS.pseudonym(t, "user", "h-adult")
    seed_scores(db, t, adult, [(41.0, "watch"), (67.6, "restrict")])
    body = client_body(t)
    answer = post(api, "/v1/events", client_key, body)
    assert answer.status_code == 202, answer.text
    result = answer.json()
    assert result == {"event_id": result["event_id"], "current_score": 68, "tier": "restrict",
                      "delta": 27, "signals": ["night_contact", "age_gap"]}

    records = {json.loads(v)["event_id"]: json.loads(v)
               for _, v in produced(settings, raw_json_topic, t)}
    message = records.pop(result["event_id"])
    assert validate_event(message).fields["type"] == "message"
    assert (message["actor_id"], message["recipient_ids"], message["conversation_id"],
            message["channel"], message["content"]) == ("h-adult", ["h-kid"], "c-1", "private",
                                                        "hey")
    [profile] = records.values()
    assert validate_event(profile).fields["type"] == "profile"
    assert (profile["actor_id"], profile["age_band"], profile["timezone"]) == (
        "h-kid", "13_15", "Europe/Paris")

    # A retry is the same event; an actor without scores is answered as trusted.
    retry = post(api, "/v1/events", client_key, body)
    assert retry.json()["event_id"] == result["event_id"]
    stranger = post(api, "/v1/events", client_key, client_body(
        t, actor_external_id_hash="h-new", event_type="friend_request", content=None,
        metadata=None))
    assert stranger.status_code == 202, stranger.text
    assert {k: v for k, v in stranger.json().items() if k != "event_id"} == {
        "current_score": 0, "tier": "trusted", "delta": 0, "signals": []}
    request = next(json.loads(v) for _, v in produced(settings, raw_json_topic, t)
                   if json.loads(v)["event_id"] == stranger.json()["event_id"])
    assert (request["type"], request["action"], request["target_id"]) == (
        "contact", "request", "h-kid")


def test_client_library_shape_is_refused_for_another_tenant_or_without_read(
    api: str, settings: Settings, raw_json_topic: str, db: psycopg.Connection, tenant: Tenant,
    client_key: str,
) -> None:
    other = f"t-{secrets.token_hex(4)}"
    add_tenant(db, other, "integration test, other")
    foreign = post(api, "/v1/events", client_key, client_body(other))
    assert foreign.status_code == 403, foreign.text
    assert (foreign.json()["error"], foreign.json()["field"]) == ("tenant_mismatch", "tenant_id")
    ingest_only = post(api, "/v1/events", tenant.api_key, client_body(tenant.tenant_id))
    assert (ingest_only.status_code, ingest_only.json()["error"]) == (403, "forbidden")
    bad = post(api, "/v1/events", client_key, client_body(tenant.tenant_id,
                                                          event_type="wink"))
    assert (bad.status_code, bad.json()["field"]) == (422, "event_type")
    missing = post(api, "/v1/events", client_key, client_body(tenant.tenant_id,
                                                              actor_external_id_hash=None))
    assert (missing.status_code, missing.json()["field"]) == (422, "actor_external_id_hash")
    assert produced(settings, raw_json_topic, tenant.tenant_id) == []
    assert produced(settings, raw_json_topic, other) == []


def test_contract_bodies_still_take_the_contract_path(
    api: str, settings: Settings, raw_json_topic: str, tenant: Tenant,
) -> None:
    events = messages(tenant.tenant_id, 2, prefix="compat")
    answer = post(api, "/v1/events", tenant.api_key, events)
    assert answer.json() == {"accepted": ["compat-0", "compat-1"], "count": 2}
    # A contract event that happens to carry event_type is judged by the contract.
    odd = post(api, "/v1/events", tenant.api_key,
               {**events[0], "idempotency_key": "x", "event_type": "message"})
    assert odd.status_code == 422
    assert {e["field"] for e in odd.json()["errors"]} == {"idempotency_key", "event_type"}
    stored = sorted(json.loads(v)["event_id"]
                    for _, v in produced(settings, raw_json_topic, tenant.tenant_id))
    assert stored == ["compat-0", "compat-1"]


# --- GET /api/v1/sessions/{session_id}/analysis --------------------------------------------


def test_session_analysis_is_the_analysis_of_the_pairs_in_it(
    api: str, db: psycopg.Connection, tenant: Tenant,
) -> None:
    t = tenant.tenant_id
    sc = Scenario(tenant=t)
    for name, band in (("g1", "18_plus"), ("k1", "13_15"), ("k2", "16_17")):
        sc.profile(name, band, timezone="UTC")
    grooming_sequence(sc, "g1", "k1", days=8)
    for day in range(3):
        sc.message("k1", "k2", at(day, 19), "see you at school", conversation="class chat")
    events = [normalize(validate_event(e), PSEUDONYMS, "test")[0] for e in sc.events]
    write_batch(db, SinkBatch(events=events))
    reader = create_key(db, t, ["read"])
    g1, k1 = (PSEUDONYMS.pseudonym(t, "user", n) for n in ("g1", "k1"))

    answer = get(api, "/api/v1/sessions/dm-g1-k1/analysis", reader)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["conversation"] == PSEUDONYMS.pseudonym(t, "conversation", "dm-g1-k1")
    [pair] = body["pairs"]
    assert pair["pair"] == list(pair_key(g1, k1))
    assert pair == get(api, f"/v1/pairs/{g1}/{k1}/analysis", reader).json()
    groomer = pair["directions"][pair_key(g1, k1).index(g1)]
    assert groomer["signalled"] and groomer["signals"]

    school = get(api, "/api/v1/sessions/class%20chat/analysis", reader).json()
    assert [len(p["pair"]) for p in school["pairs"]] == [2]

    unknown = get(api, "/api/v1/sessions/nobody-talked-here/analysis", reader)
    assert (unknown.status_code, unknown.json()["field"]) == (404, "session_id")
    other = f"t-{secrets.token_hex(4)}"
    add_tenant(db, other, "integration test, other")
    outsider = get(api, "/api/v1/sessions/dm-g1-k1/analysis", create_key(db, other, ["read"]))
    assert outsider.status_code == 404
    assert get(api, "/api/v1/sessions/" + "s" * 300 + "/analysis", reader).status_code == 400
    assert get(api, "/api/v1/sessions/dm-g1-k1/analysis", tenant.api_key).status_code == 403


# --- POST /api/v1/reports/generate ---------------------------------------------------------


def test_report_generation_checks_the_request_and_names_missing_settings(
    api: str, settings: Settings, raw_json_topic: str, db: psycopg.Connection, tenant: Tenant,
) -> None:
    # The full generation (a preserved package, a built report) is in test_ncmec_generate.py;
    # this API runs without the reporter settings a report needs.
    moderator = create_key(db, tenant.tenant_id, ["read", "moderate"])
    answer = post(api, "/api/v1/reports/generate", moderator,
                  {"session_id": "s-9", "confirmed_by": "rev-1"})
    assert answer.status_code == 503, answer.text
    error = answer.json()
    assert error["error"] == "not_configured"
    assert "WARDSTREAM_NCMEC_REPORTER_ESP_NAME" in error["message"]
    assert "WARDSTREAM_NCMEC_SERVICE" in error["message"]

    bad = post(api, "/api/v1/reports/generate", moderator, {"session_id": 9})
    assert bad.status_code == 422
    assert {(e["field"], e["rule"]) for e in bad.json()["errors"]} == {
        ("session_id", "type"), ("confirmed_by", "required")}
    assert post(api, "/api/v1/reports/generate", tenant.api_key,
                {"session_id": "s", "confirmed_by": "r"}).status_code == 403
    moderate_only = create_key(db, tenant.tenant_id, ["moderate"])
    refused = post(api, "/api/v1/reports/generate", moderate_only,
                   {"session_id": "s", "confirmed_by": "r"})
    assert (refused.status_code, refused.json()["error"]) == (403, "forbidden")
    assert produced(settings, raw_json_topic, tenant.tenant_id) == []
