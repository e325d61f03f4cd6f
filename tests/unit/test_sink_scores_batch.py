"""sink_scores decodes scores and alerts, keeps undecodable records as dead letters, and
writes each user's newest score once per batch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agents.sink_scores import to_batch
from pipeline.avro import (
    ALERT_SCHEMA_ID,
    NORMALIZED_EVENT_SCHEMA_ID,
    SCORE_SCHEMA_ID,
    load_schema_map,
)
from pipeline.storage.scores import ScoreRecord, newest_per_actor

SCHEMAS = load_schema_map()
DRIVERS = [{"signal": "night", "contribution": 12.5, "explanation": "late messages"}]


@dataclass
class Message:
    value: bytes | None
    offset: int
    topic: str = "scores"
    partition: int = 0


def score(actor: str, at_us: int, score_id: str, value: float = 40.0) -> dict[str, Any]:
    return {"score_id": score_id, "tenant_id": "acme", "actor": actor, "score": value,
            "tier": "watch", "previous_tier": "trusted", "at_us": at_us, "event_id": "e-1",
            "max_score": value, "first_alert_at_us": None, "explanation": "late messages",
            "drivers": DRIVERS}


def alert(actor: str) -> dict[str, Any]:
    return {"alert_id": "a1", "tenant_id": "acme", "actor": actor, "tier": "restrict",
            "score": 70.0, "raised_at_us": 5, "event_id": "e-9", "explanation": "x",
            "drivers": DRIVERS}


def test_scores_alerts_and_dead_letters() -> None:
    messages = [
        Message(SCHEMAS.encode(SCORE_SCHEMA_ID, score("u_a", 1, "s1")), 0),
        Message(b"\x00\x00\x00\x00\x09garbage", 1),
        Message(SCHEMAS.encode(ALERT_SCHEMA_ID, alert("u_a")), 7, topic="alerts"),
        Message(None, 2),
        Message(b"", 3),
    ]
    batch = to_batch(SCHEMAS, messages)
    assert [s.score_id for s in batch.scores] == ["s1"]
    assert batch.scores[0].drivers[0].contribution == 12.5
    assert [a.alert_id for a in batch.alerts] == ["a1"]
    assert [d.dead_letter_id for d in batch.dead_letters] == [
        "scores/0/1", "scores/0/2", "scores/0/3"]
    assert batch.dead_letters[0].original == b"\x00\x00\x00\x00\x09garbage"
    assert len(batch) == 5


def test_a_record_of_another_kind_is_a_dead_letter() -> None:
    event = {"event_id": "e", "tenant_id": "acme", "type": "session", "occurred_at_us": 1,
             "utc_offset_min": 0, "actor": "u_a", "source": "test"}
    framed = SCHEMAS.encode(NORMALIZED_EVENT_SCHEMA_ID, {**_blank_event(), **event})
    batch = to_batch(SCHEMAS, [Message(framed, 4)])
    assert not batch.scores and not batch.alerts
    assert batch.dead_letters[0].rule == "schema_id"


def _blank_event() -> dict[str, Any]:
    fields = SCHEMAS.by_id[NORMALIZED_EVENT_SCHEMA_ID]["fields"]
    return {f["name"]: None for f in fields} | {"recipients": []}


def test_newest_score_per_user_later_input_wins_a_tie() -> None:
    records = [ScoreRecord.from_record(r) for r in (
        score("u_a", 5, "s1"), score("u_b", 3, "s2"), score("u_a", 4, "s3"),
        score("u_a", 5, "s4"), score("u_b", 9, "s5"))]
    assert sorted(r.score_id for r in newest_per_actor(records)) == ["s4", "s5"]


def test_records_of_an_unregistered_tenant_are_dead_letters_naming_the_field() -> None:
    messages = [
        Message(SCHEMAS.encode(SCORE_SCHEMA_ID, score("u_a", 1, "s1")), 0),
        Message(SCHEMAS.encode(SCORE_SCHEMA_ID, {**score("u_b", 2, "s2"),
                                                 "tenant_id": "nobody"}), 1),
        Message(SCHEMAS.encode(ALERT_SCHEMA_ID, {**alert("u_b"), "tenant_id": "nobody"}), 2,
                topic="alerts"),
        Message(b"\x00\x00\x00\x00\x09garbage", 3),
        Message(None, 4),
    ]
    batch = to_batch(SCHEMAS, messages, known_tenants={"acme"})
    assert [s.score_id for s in batch.scores] == ["s1"]
    assert batch.alerts == []
    letters = {d.dead_letter_id: (d.field, d.rule) for d in batch.dead_letters}
    assert letters["scores/0/1"] == ("tenant_id", "unknown_tenant")
    assert letters["alerts/0/2"] == ("tenant_id", "unknown_tenant")
    assert len(letters) == 4
    # Without a directory (the unit of decoding alone), every tenant passes.
    assert len(to_batch(SCHEMAS, messages).scores) == 2
