"""Reads behind the HTTP API: scores, score history, the review queue, a pair's events.

Every function takes the tenant as an argument and filters on it, so a caller
can only ever see its own tenant's rows: another tenant's user is simply not
found. Paging is by keyset (the last row's sort key), so rows added between
two pages neither repeat nor vanish.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg

from pipeline.model import NormalizedEvent
from pipeline.storage.scores import DriverRecord, drivers_of

_LATEST = """
SELECT score_id, actor, score, tier, previous_tier, scored_at, event_id, max_score,
       first_alert_at, explanation, drivers, updated_at
FROM scores_latest WHERE tenant_id = %s AND actor = %s
"""
_HISTORY = """
SELECT score_id, actor, score, tier, previous_tier, scored_at, event_id, max_score,
       first_alert_at, explanation, drivers
FROM score_history
WHERE tenant_id = %s AND actor = %s AND (scored_at, score_id) < (%s, %s)
ORDER BY scored_at DESC, score_id DESC
LIMIT %s
"""
# Sorts after every stored row: the first page of a history.
_NEWEST = (datetime(9999, 12, 31, tzinfo=UTC), "")


@dataclass(frozen=True, slots=True)
class StoredScore:
    score_id: str
    actor: str
    score: float
    tier: str
    previous_tier: str
    scored_at: datetime
    event_id: str
    max_score: float
    first_alert_at: datetime | None
    explanation: str
    drivers: tuple[DriverRecord, ...]
    updated_at: datetime | None = None  # when the row was last written (latest score only)


@dataclass(frozen=True, slots=True)
class QueueItem:
    item_id: int
    actor: str
    score: float
    tier: str
    explanation: str
    drivers: tuple[DriverRecord, ...]
    alert_count: int
    first_alert_id: str
    latest_alert_id: str
    opened_at: datetime
    raised_at: datetime
    current_score: float | None
    current_tier: str | None
    user_id: str | None  # the platform's id, from the identity map (None once erased)


@dataclass(frozen=True, slots=True)
class QueueCursor:
    """Where a queue page ended: the last item's score, opening time and id."""

    score: float
    opened_at: datetime
    item_id: int


def _score(row: tuple[Any, ...]) -> StoredScore:
    return StoredScore(
        score_id=row[0], actor=row[1], score=row[2], tier=row[3], previous_tier=row[4],
        scored_at=row[5], event_id=row[6], max_score=row[7], first_alert_at=row[8],
        explanation=row[9], drivers=drivers_of(row[10]),
        updated_at=row[11] if len(row) > 11 else None,
    )


@dataclass(frozen=True, slots=True)
class StoredAlert:
    alert_id: str
    actor: str
    tier: str
    score: float
    raised_at: datetime
    event_id: str
    explanation: str
    drivers: tuple[DriverRecord, ...]
    evidence_package_id: str | None  # None until the evidence builder has preserved it


_ALERT = """
SELECT a.alert_id, a.actor, a.tier, a.score, a.raised_at, a.event_id, a.explanation, a.drivers,
       k.package_id
FROM alerts a
LEFT JOIN evidence.package_keys k
  ON k.tenant_id = a.tenant_id AND k.trigger = 'alert' AND k.trigger_id = a.alert_id
WHERE a.tenant_id = %s AND a.alert_id = %s
"""


def alert_of(conn: psycopg.Connection, tenant_id: str, alert_id: str) -> StoredAlert | None:
    """One of the tenant's alerts and the id of its evidence package, if built."""
    row = conn.execute(_ALERT, (tenant_id, alert_id)).fetchone()
    if row is None:
        return None
    return StoredAlert(alert_id=row[0], actor=row[1], tier=row[2], score=row[3],
                       raised_at=row[4], event_id=row[5], explanation=row[6],
                       drivers=drivers_of(row[7]), evidence_package_id=row[8])


def user_id_of(conn: psycopg.Connection, tenant_id: str, pseudonym: str) -> str | None:
    """The platform's user id behind a pseudonym, from the tenant's identity map (None
    when the tenant never sent it or it was erased)."""
    row = conn.execute(
        "SELECT value FROM identity_map WHERE tenant_id = %s AND kind = 'user' AND pseudonym = %s",
        (tenant_id, pseudonym)).fetchone()
    return None if row is None else str(row[0])


def latest_score(conn: psycopg.Connection, tenant_id: str, actor: str) -> StoredScore | None:
    row = conn.execute(_LATEST, (tenant_id, actor)).fetchone()
    return None if row is None else _score(row)


def score_history(conn: psycopg.Connection, tenant_id: str, actor: str, limit: int,
                  before: tuple[datetime, str] | None = None) -> list[StoredScore]:
    """The user's scores, newest first (event time, then score id), older than ``before``."""
    at, score_id = before if before is not None else _NEWEST
    rows = conn.execute(_HISTORY, (tenant_id, actor, at, score_id, limit)).fetchall()
    return [_score(r) for r in rows]


_QUEUE_SELECT = """
SELECT q.item_id, q.actor, q.score, q.tier, q.explanation, q.drivers, q.alert_count,
       q.first_alert_id, q.latest_alert_id, q.opened_at, q.raised_at, s.score, s.tier, i.value
FROM review_queue q
LEFT JOIN scores_latest s ON s.tenant_id = q.tenant_id AND s.actor = q.actor
LEFT JOIN identity_map i ON i.tenant_id = q.tenant_id AND i.kind = 'user' AND i.pseudonym = q.actor
WHERE q.tenant_id = %s AND q.status = 'open'
"""
_QUEUE_AFTER = " AND (q.score < %s OR (q.score = %s AND (q.opened_at, q.item_id) > (%s, %s)))"
_QUEUE_ORDER = " ORDER BY q.score DESC, q.opened_at, q.item_id LIMIT %s"


def open_queue(conn: psycopg.Connection, tenant_id: str, limit: int,
               after: QueueCursor | None = None) -> list[QueueItem]:
    """Open review items, highest score first, then the oldest (by first alert)."""
    if after is None:
        rows = conn.execute(_QUEUE_SELECT + _QUEUE_ORDER, (tenant_id, limit)).fetchall()
    else:
        rows = conn.execute(
            _QUEUE_SELECT + _QUEUE_AFTER + _QUEUE_ORDER,
            (tenant_id, after.score, after.score, after.opened_at, after.item_id, limit),
        ).fetchall()
    return [
        QueueItem(item_id=r[0], actor=r[1], score=r[2], tier=r[3], explanation=r[4],
                  drivers=drivers_of(r[5]), alert_count=r[6], first_alert_id=r[7],
                  latest_alert_id=r[8], opened_at=r[9], raised_at=r[10], current_score=r[11],
                  current_tier=r[12], user_id=r[13])
        for r in rows
    ]


_PAIR_EVENTS = """
SELECT record, content FROM events
WHERE tenant_id = %(tenant)s AND actor = ANY(%(both)s) AND type <> 'profile'
  AND ((actor = %(a)s AND (record->'recipients' ? %(b)s OR record->>'target' = %(b)s))
    OR (actor = %(b)s AND (record->'recipients' ? %(a)s OR record->>'target' = %(a)s)))
ORDER BY occurred_at DESC, event_id DESC
LIMIT %(limit)s
"""
_PROFILE_EVENTS = """
SELECT record, content FROM events
WHERE tenant_id = %(tenant)s AND actor = ANY(%(both)s) AND type = 'profile'
ORDER BY occurred_at DESC, event_id DESC
LIMIT %(limit)s
"""


def _event(record: dict[str, Any], content: str | None) -> NormalizedEvent:
    return NormalizedEvent.from_record({**record, "content": content})


def pair_events(conn: psycopg.Connection, tenant_id: str, a: str, b: str,
                limit: int) -> tuple[list[NormalizedEvent], bool]:
    """The newest ``limit`` events between ``a`` and ``b`` (either direction) and both
    users' profile events, oldest first (event time, then event id); True when older
    pair events were left out."""
    params = {"tenant": tenant_id, "both": [a, b], "a": a, "b": b, "limit": limit + 1}
    rows = conn.execute(_PAIR_EVENTS, params).fetchall()
    truncated = len(rows) > limit
    rows = rows[:limit]
    profiles = conn.execute(_PROFILE_EVENTS, {**params, "limit": limit}).fetchall()
    events = [_event(r[0], r[1]) for r in rows + profiles]
    events.sort(key=lambda e: (e.occurred_at_us, e.event_id))
    return events, truncated
