"""POST /v1/decisions over real HTTP: a moderation event on the raw topic, the review item
closed in PostgreSQL, idempotency, tenant isolation, and field-named refusals."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Any

import httpx
import psycopg
import pytest

from pipeline.avro import load_schema_map
from pipeline.contract import validate_event
from pipeline.ingest import Accepted, accept, event_key
from pipeline.kafka.read import read_to_end
from pipeline.pseudonym import Pseudonymizer
from pipeline.settings import Settings
from pipeline.storage.scores import AlertRecord, ScoreBatch, write_scores
from pipeline.storage.tenants import add_tenant, create_key
from tests.integration.conftest import MASTER_KEY, Tenant

pytestmark = pytest.mark.integration

PSEUDONYMS = Pseudonymizer(MASTER_KEY.encode())
T0 = 1_772_000_000_000_000  # 2026-02-25, event time
DAY_US = 86_400_000_000


def user(tenant_id: str, raw: str) -> str:
    return PSEUDONYMS.pseudonym(tenant_id, "user", raw)


def open_item(db: psycopg.Connection, tenant_id: str, raw_user: str, at_us: int = T0) -> str:
    """An alert about ``raw_user``, which opens (or raises) their review item; its id."""
    alert_id = secrets.token_hex(16)
    write_scores(db, ScoreBatch(scores=[], alerts=[AlertRecord.from_record({
        "alert_id": alert_id, "tenant_id": tenant_id, "actor": user(tenant_id, raw_user),
        "tier": "restrict", "score": 72.0, "raised_at_us": at_us, "event_id": f"e-{at_us}",
        "explanation": "stages seen", "drivers": [
            {"signal": "stages", "contribution": 72.0, "explanation": "stages seen"}],
    })]))
    return alert_id


def items(db: psycopg.Connection, tenant_id: str) -> list[tuple[Any, ...]]:
    return db.execute(
        "SELECT actor, status, decision, closed_by, closed_at, decision_note, decision_event_id"
        " FROM review_queue WHERE tenant_id = %s ORDER BY item_id", (tenant_id,)).fetchall()


def produced(settings: Settings, topic: str, tenant_id: str) -> list[tuple[bytes, bytes]]:
    """Every (key, value) of the tenant on the raw JSON topic (ordered within a partition
    only: records are keyed by event)."""
    return [(m.key(), m.value()) for m in read_to_end(settings.kafka_bootstrap, topic)
            if json.loads(m.value()).get("tenant_id") == tenant_id]


def decide(api: str, key: str | None, body: object, idempotency: str | None = None
           ) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    if idempotency is not None:
        headers["Idempotency-Key"] = idempotency
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(f"{api}/v1/decisions", content=content, headers=headers, timeout=30)


@pytest.fixture
def moderator(db: psycopg.Connection, tenant: Tenant) -> str:
    return create_key(db, tenant.tenant_id, ["moderate"])


def test_decision_is_a_moderation_event_and_closes_the_open_item(
    api: str, settings: Settings, raw_json_topic: str, db: psycopg.Connection, tenant: Tenant,
    moderator: str,
) -> None:
    t = tenant.tenant_id
    open_item(db, t, "suspect 1")
    open_item(db, t, "bystander")
    answer = decide(api, moderator, {
        "subject": "suspect 1", "decision": "confirmed_grooming", "reviewer": "rev-7",
        "note": "asked for photos", "occurred_at": "2026-03-03T10:00:00+01:00"})
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["queue_item_closed"] is True
    event_id = body["event_id"]

    [(key, value)] = produced(settings, raw_json_topic, t)
    assert key == event_key(t, event_id)
    record = json.loads(value)
    assert record == {
        "event_id": event_id, "tenant_id": t, "type": "moderation",
        "occurred_at": "2026-03-03T10:00:00+01:00", "actor_id": "rev-7",
        "subject_id": "suspect 1", "decision": "confirmed_grooming", "reviewer_id": "rev-7",
        "note": "asked for photos"}
    validate_event(record)
    # The normalize step takes it as it is and keys the subject as the actors step does.
    normalized = accept(value, "json", source="test", received_at_us=T0, pseudonyms=PSEUDONYMS,
                        schemas=load_schema_map())
    assert isinstance(normalized, Accepted)
    assert (normalized.event.subject, normalized.event.reviewer, normalized.event.decision) == (
        user(t, "suspect 1"), user(t, "rev-7"), "confirmed_grooming")

    closed, still_open = items(db, t)
    assert closed[:4] == (user(t, "suspect 1"), "closed", "confirmed_grooming", user(t, "rev-7"))
    assert closed[4] == datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    assert closed[5:] == ("asked for photos", event_id)
    assert still_open[:2] == (user(t, "bystander"), "open")

    reader = create_key(db, t, ["read"])
    queue = httpx.get(f"{api}/v1/queue", headers={"Authorization": f"Bearer {reader}"},
                      timeout=30).json()
    assert [i["user_id"] for i in queue["items"]] == [None]  # the bystander (no identity row)


def test_same_idempotency_key_gives_the_same_event_and_the_same_answer(
    api: str, settings: Settings, raw_json_topic: str, db: psycopg.Connection, tenant: Tenant,
    moderator: str,
) -> None:
    t = tenant.tenant_id
    open_item(db, t, "suspect 2")
    body = {"subject": "suspect 2", "decision": "cleared", "reviewer": "rev-1"}
    first = decide(api, moderator, body, idempotency="review-17")
    retry = decide(api, moderator, body, idempotency="review-17")
    assert first.status_code == retry.status_code == 202, (first.text, retry.text)
    assert first.json() == retry.json()
    assert first.json()["queue_item_closed"] is True
    records = [json.loads(v) for _, v in produced(settings, raw_json_topic, t)]
    assert [r["event_id"] for r in records] == [first.json()["event_id"]] * 2

    # The key reused for another decision is refused, and nothing more is produced.
    open_item(db, t, "suspect 3")
    reused = decide(api, moderator, {**body, "subject": "suspect 3"}, idempotency="review-17")
    assert reused.status_code == 409, reused.text
    assert reused.json()["field"] == "Idempotency-Key"
    assert len(produced(settings, raw_json_topic, t)) == 2

    # No key: a fresh random id each time.
    plain = [decide(api, moderator, {**body, "subject": "suspect 3"}).json()["event_id"]
             for _ in range(2)]
    assert len({*plain, first.json()["event_id"]}) == 3


def test_a_key_of_one_tenant_never_touches_another_tenants_items(
    api: str, settings: Settings, raw_json_topic: str, db: psycopg.Connection, tenant: Tenant,
    moderator: str,
) -> None:
    mine = tenant.tenant_id
    other = f"t-{secrets.token_hex(4)}"
    add_tenant(db, other, "integration test, other")
    open_item(db, mine, "same-name")
    their_alert = open_item(db, other, "same-name")

    foreign_alert = decide(api, moderator, {"subject": "same-name", "decision": "cleared",
                                            "reviewer": "rev-1", "alert_id": their_alert})
    assert foreign_alert.status_code == 404, foreign_alert.text
    assert foreign_alert.json()["field"] == "alert_id"
    assert produced(settings, raw_json_topic, mine) == []

    answer = decide(api, moderator, {"subject": "same-name", "decision": "cleared",
                                     "reviewer": "rev-1"})
    assert answer.json()["queue_item_closed"] is True
    assert [row[1] for row in items(db, mine)] == ["closed"]
    assert [row[1:3] for row in items(db, other)] == [("open", None)]
    assert produced(settings, raw_json_topic, other) == []
    [(_, value)] = produced(settings, raw_json_topic, mine)
    assert json.loads(value)["tenant_id"] == mine


def test_escalation_leaves_the_item_open_and_an_alert_id_picks_the_item(
    api: str, settings: Settings, raw_json_topic: str, db: psycopg.Connection, tenant: Tenant,
    moderator: str,
) -> None:
    t = tenant.tenant_id
    first = open_item(db, t, "suspect 4")
    later = open_item(db, t, "suspect 4", T0 + DAY_US)  # raises the same item
    escalated = decide(api, moderator, {"subject": "suspect 4", "decision": "escalated",
                                        "reviewer": "rev-1"})
    assert escalated.json()["queue_item_closed"] is False
    assert [row[1:3] for row in items(db, t)] == [("open", None)]

    by_alert = decide(api, moderator, {"subject": "suspect 4", "decision":
                                       "confirmed_other_harm", "reviewer": "rev-2",
                                       "alert_id": first})
    assert by_alert.json()["queue_item_closed"] is True
    assert [row[1:3] for row in items(db, t)] == [("closed", "confirmed_other_harm")]

    nothing_open = decide(api, moderator, {"subject": "suspect 4", "decision": "cleared",
                                           "reviewer": "rev-2", "alert_id": later})
    assert nothing_open.status_code == 202
    assert nothing_open.json()["queue_item_closed"] is False
    decisions = [json.loads(v)["decision"] for _, v in produced(settings, raw_json_topic, t)]
    assert sorted(decisions) == ["cleared", "confirmed_other_harm", "escalated"]


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"decision": "cleared", "reviewer": "r"}, 422, "subject"),
    ({"subject": "s", "decision": "banned", "reviewer": "r"}, 422, "decision"),
    ({"subject": "s", "decision": "cleared"}, 422, "reviewer"),
    ({"subject": ["s"], "decision": "cleared", "reviewer": "r"}, 422, "subject"),
    ({"subject": "s", "decision": "cleared", "reviewer": "r", "note": "n" * 2001}, 422, "note"),
    ({"subject": "s", "decision": "cleared", "reviewer": "r", "note": 5}, 422, "note"),
    ({"subject": "s", "decision": "cleared", "reviewer": "r", "alert_id": 5}, 422, "alert_id"),
    ({"subject": "s", "decision": "cleared", "reviewer": "r", "occurred_at": "today"}, 422,
     "occurred_at"),
    ({"subject": "s", "decision": "cleared", "reviewer": "r", "occurred_at":
      "2099-01-01T00:00:00Z"}, 422, "occurred_at"),
    ({"subject": "s", "decision": "cleared", "reviewer": "r", "tenant_id": "x"}, 422,
     "tenant_id"),
    (["s"], 422, "(body)"),
    (b'{"subject": ', 400, "(record)"),
])
def test_bad_decisions_name_the_field_and_produce_nothing(
    api: str, settings: Settings, raw_json_topic: str, db: psycopg.Connection, tenant: Tenant,
    moderator: str, body: object, status: int, field: str,
) -> None:
    open_item(db, tenant.tenant_id, "s")
    answer = decide(api, moderator, body)
    assert answer.status_code == status, answer.text
    error = answer.json()
    assert error["field"] == field
    assert error["error"] in {"invalid_request", "malformed_body"} and error["message"]
    assert produced(settings, raw_json_topic, tenant.tenant_id) == []
    assert [row[1] for row in items(db, tenant.tenant_id)] == ["open"]


def test_decisions_need_the_moderate_scope_and_a_sane_idempotency_key(
    api: str, settings: Settings, raw_json_topic: str, tenant: Tenant, moderator: str,
) -> None:
    body = {"subject": "s", "decision": "cleared", "reviewer": "r"}
    assert decide(api, None, body).status_code == 401
    forbidden = decide(api, tenant.api_key, body)  # ingest only
    assert (forbidden.status_code, forbidden.json()["error"]) == (403, "forbidden")
    bad_key = decide(api, moderator, body, idempotency="x" * 300)
    assert (bad_key.status_code, bad_key.json()["field"]) == (400, "Idempotency-Key")
    assert produced(settings, raw_json_topic, tenant.tenant_id) == []
