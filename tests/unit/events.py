"""Small builders of contract events for unit tests (no sexual content, ever)."""

from __future__ import annotations

from typing import Any


def message(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_id": "e-1",
        "tenant_id": "acme",
        "type": "message",
        "occurred_at": "2026-03-01T21:14:05+00:00",
        "actor_id": "u-17",
        "conversation_id": "c-9",
        "recipient_ids": ["u-42"],
        "channel": "private",
        "content": "did you finish the level?",
    }
    event.update(overrides)
    return event


def profile(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_id": "p-1",
        "tenant_id": "acme",
        "type": "profile",
        "occurred_at": "2026-03-01T09:00:00-05:00",
        "actor_id": "u-42",
        "age_band": "13_15",
        "age_source": "declared",
        "account_created_at": "2025-11-02T10:00:00Z",
        "country": "US",
        "language": "en-US",
        "timezone": "America/New_York",
        "email": "kid@example.org",
        "cohort": {"region": "north"},
    }
    event.update(overrides)
    return event
