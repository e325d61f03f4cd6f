"""Checking an ingest request body, without any HTTP: testable on its own.

A body is one event object or an array of 1..N event objects. Every item is
validated against the contract, must belong to the caller's tenant, must not
lie further in the future than the allowed clock skew, and must not repeat an
earlier item's event id. The result is either every item ready to produce, or
every problem found, each with its index and field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pipeline.contract import ValidEvent, validate_batch_ids, validate_event
from pipeline.errors import FieldError, InvalidRecord
from pipeline.ingest import event_key


@dataclass(frozen=True)
class BatchRejected(Exception):
    status: int
    code: str
    message: str
    items: list[dict[str, Any]]


def _item_error(index: int, item: Any, error: FieldError) -> dict[str, Any]:
    event_id = item.get("event_id") if isinstance(item, dict) else None
    return {
        "index": index,
        "event_id": event_id if isinstance(event_id, str) and len(event_id) <= 128 else None,
        **error.as_dict(),
    }


def check_batch(
    body: Any, *, tenant_id: str, now: datetime, max_items: int, max_future: timedelta
) -> list[ValidEvent]:
    """The validated events of ``body``, or :class:`BatchRejected` naming every problem."""
    items = body if isinstance(body, list) else [body]
    if isinstance(body, list) and not body:
        raise BatchRejected(400, "empty_batch", "the batch holds no events", [])
    if len(items) > max_items:
        raise BatchRejected(
            413, "batch_too_large",
            f"the batch holds {len(items)} events; at most {max_items} per request", [],
        )
    problems: list[dict[str, Any]] = []
    valid: list[ValidEvent] = []
    duplicates = validate_batch_ids(items)
    for index, item in enumerate(items):
        try:
            event = validate_event(item)
        except InvalidRecord as exc:
            problems.extend(_item_error(index, item, e) for e in exc.errors)
            continue
        if event.tenant_id != tenant_id:
            problems.append(_item_error(index, item, FieldError(
                "tenant_id", "tenant_mismatch", "is not the tenant this API key belongs to")))
        elif event.occurred_at > now + max_future:
            problems.append(_item_error(index, item, FieldError(
                "occurred_at", "in_future",
                f"is more than {int(max_future.total_seconds())}s ahead of the server clock")))
        elif index in duplicates:
            problems.append(_item_error(index, item, duplicates[index]))
        else:
            valid.append(event)
    if problems:
        raise BatchRejected(
            422, "invalid_events",
            f"{len({p['index'] for p in problems})} of {len(items)} events are invalid; "
            "nothing was accepted",
            problems,
        )
    return valid


def to_records(events: list[ValidEvent]) -> list[tuple[bytes, bytes]]:
    """``(key, value)`` pairs for the raw JSON topic, keyed by event for dedupe."""
    return [
        (
            event_key(e.tenant_id, e.event_id),
            json.dumps(e.fields, separators=(",", ":"), ensure_ascii=False).encode(),
        )
        for e in events
    ]
