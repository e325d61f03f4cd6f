"""Reviewers' decisions on the review queue (``POST /v1/decisions``).

Every function takes the tenant and filters on it, so a decision of one
tenant can never touch another tenant's items. An item is closed at most once:
the update only matches an open item, and the closing event's id stays on the
item (migration 0005) so a retry of the same decision finds it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg


@dataclass(frozen=True, slots=True)
class EarlierDecision:
    """The item a decision event already closed, and about whom."""

    item_id: int
    actor: str
    decision: str | None


def alert_of(conn: psycopg.Connection, tenant_id: str, alert_id: str, actor: str) -> bool:
    """True when ``alert_id`` is one of the tenant's alerts about ``actor``."""
    row = conn.execute(
        "SELECT 1 FROM alerts WHERE alert_id = %s AND tenant_id = %s AND actor = %s",
        (alert_id, tenant_id, actor)).fetchone()
    return row is not None


def closed_by_event(conn: psycopg.Connection, tenant_id: str,
                    event_id: str) -> EarlierDecision | None:
    """The item the decision event ``event_id`` closed, if any."""
    row = conn.execute(
        "SELECT item_id, actor, decision FROM review_queue"
        " WHERE tenant_id = %s AND decision_event_id = %s ORDER BY item_id LIMIT 1",
        (tenant_id, event_id)).fetchone()
    return None if row is None else EarlierDecision(int(row[0]), str(row[1]), row[2])


_CLOSE = """
UPDATE review_queue q
SET status = 'closed', closed_at = %(at)s, closed_by = %(reviewer)s, decision = %(decision)s,
    decision_note = %(note)s, decision_event_id = %(event)s, updated_at = now()
WHERE q.tenant_id = %(tenant)s AND q.actor = %(actor)s AND q.status = 'open'
  AND (%(alert)s::text IS NULL OR q.first_alert_id = %(alert)s OR q.latest_alert_id = %(alert)s
       OR EXISTS (SELECT 1 FROM alerts a
                  WHERE a.alert_id = %(alert)s AND a.tenant_id = q.tenant_id
                    AND a.actor = q.actor AND a.raised_at BETWEEN q.opened_at AND q.raised_at))
RETURNING q.item_id
"""


def close_open_item(conn: psycopg.Connection, tenant_id: str, actor: str, *, decision: str,
                    reviewer: str, note: str | None, decided_at: datetime, event_id: str,
                    alert_id: str | None = None) -> bool:
    """Close the user's open item (only the one holding ``alert_id``, when given).

    True when an item is closed by this decision now or was closed by the same
    decision event before (a retry); False when nothing open matched.
    """
    row = conn.execute(_CLOSE, {
        "at": decided_at, "reviewer": reviewer, "decision": decision, "note": note,
        "event": event_id, "tenant": tenant_id, "actor": actor, "alert": alert_id,
    }).fetchone()
    if row is not None:
        return True
    earlier = closed_by_event(conn, tenant_id, event_id)
    return earlier is not None and earlier.actor == actor
