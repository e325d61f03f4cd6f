"""Checking ingest bodies (pipeline.api.batch), without HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from pipeline.api.batch import BatchRejected, check_batch, to_records
from pipeline.ingest import event_key
from tests.unit.events import message

NOW = datetime(2026, 3, 2, tzinfo=UTC)


def check(body: object, max_items: int = 1000) -> list[str]:
    events = check_batch(body, tenant_id="acme", now=NOW, max_items=max_items,
                         max_future=timedelta(hours=24))
    return [e.event_id for e in events]


def rejected(body: object, max_items: int = 1000) -> BatchRejected:
    with pytest.raises(BatchRejected) as caught:
        check(body, max_items)
    return caught.value


def test_one_event_or_a_batch() -> None:
    assert check(message()) == ["e-1"]
    assert check([message(event_id="a"), message(event_id="b")]) == ["a", "b"]


def test_batch_over_the_limit_is_413() -> None:
    error = rejected([message(event_id=str(i)) for i in range(3)], max_items=2)
    assert (error.status, error.code) == (413, "batch_too_large")


def test_empty_batch_is_400() -> None:
    assert rejected([]).status == 400


def test_every_bad_item_is_named_and_nothing_accepted() -> None:
    error = rejected([message(event_id="ok"), message(event_id="bad", channel=3),
                      message(event_id="ok")])
    assert error.status == 422
    assert [(i["index"], i["event_id"], i["field"], i["rule"]) for i in error.items] == [
        (1, "bad", "channel", "type"),
        (2, "ok", "event_id", "duplicate"),
    ]
    assert error.message == "2 of 3 events are invalid; nothing was accepted"


def test_other_tenants_events_are_refused() -> None:
    error = rejected(message(tenant_id="someone-else"))
    assert error.items[0]["rule"] == "tenant_mismatch"


def test_events_from_the_far_future_are_refused() -> None:
    future = (NOW + timedelta(days=2)).isoformat()
    assert rejected(message(occurred_at=future)).items[0]["rule"] == "in_future"
    assert check(message(occurred_at=(NOW + timedelta(hours=1)).isoformat())) == ["e-1"]


def test_records_are_keyed_by_event_and_carry_the_content_hash() -> None:
    events = check_batch(message(), tenant_id="acme", now=NOW, max_items=5,
                         max_future=timedelta(0))
    ((key, value),) = to_records(events)
    assert key == event_key("acme", "e-1")
    assert len(json.loads(value)["content_sha256"]) == 64
