"""Typed shapes of the API's answers (``TypedDict``: the parsed JSON, typed).

Field names and meanings are the API's (docs/openapi.json, docs/integration.md).
Timestamps are RFC 3339 strings in UTC.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

Tier = Literal["trusted", "watch", "restrict", "critical"]
Decision = Literal["confirmed_grooming", "confirmed_other_harm", "cleared", "escalated"]
Event = dict[str, Any]
"""A contract event (shared/spec/events.md) as a JSON object."""


class IngestResult(TypedDict):
    """``POST /v1/events``: the event ids accepted (broker-acknowledged)."""

    accepted: list[str]
    count: int


class DecisionResult(TypedDict):
    """``POST /v1/decisions``."""

    event_id: str
    queue_item_closed: bool
    evidence_package_id: NotRequired[str]


class Driver(TypedDict):
    signal: str
    contribution: float
    explanation: str


class ScoreEntry(TypedDict):
    score_id: str
    score: float
    tier: Tier
    previous_tier: Tier | None
    max_score: float
    explanation: str
    drivers: list[Driver]
    scored_at: str | None
    event_id: str | None
    first_alert_at: str | None


class ActorScore(ScoreEntry):
    """``GET /v1/actors/{actor}/score``: the newest score of a user."""

    actor: str
    user_id: str | None
    updated_at: str | None


class ScoreHistory(TypedDict):
    """``GET /v1/actors/{actor}/history``: newest first; ``next_before`` pages on."""

    actor: str
    items: list[ScoreEntry]
    next_before: str | None


class QueueItem(TypedDict):
    item_id: int
    actor: str
    user_id: str | None
    score: float
    tier: Tier
    explanation: str
    drivers: list[Driver]
    alert_count: int
    first_alert_id: str | None
    latest_alert_id: str | None
    opened_at: str | None
    raised_at: str | None
    current_score: float | None
    current_tier: Tier | None


class QueuePage(TypedDict):
    """``GET /v1/queue``: open review items, highest score first; ``next_after`` pages on."""

    items: list[QueueItem]
    next_after: str | None


PairDirection = TypedDict("PairDirection", {
    "from": str, "to": str, "signalled": bool, "points": float,
    "signals": list[dict[str, Any]], "figures": dict[str, Any]})


class PairAnalysis(TypedDict):
    """``GET /v1/pairs/{a}/{b}/analysis``: the pair's behaviour from its stored events."""

    pair: list[str]
    events: int
    truncated: bool
    first_contact_at: str | None
    first_shared_at: str | None
    first_private_at: str | None
    first_private_from: str | None
    last_at: str | None
    directions: list[PairDirection]
    note: str
