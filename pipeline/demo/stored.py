"""Reading back what the pipeline stored: events, dead letters, and who the stream flagged."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from pipeline.model import NormalizedEvent


@dataclass(frozen=True)
class Flagged:
    actor_id: str
    tier: str
    score: float
    max_score: float
    first_alert_us: int
    explanation: str


def counts(conn: psycopg.Connection, tenant_id: str, since: Any) -> tuple[int, int]:
    """Stored events of the tenant, and dead letters written since ``since``."""
    events = conn.execute("SELECT count(*) FROM events WHERE tenant_id = %s",
                          (tenant_id,)).fetchone()
    letters = conn.execute("SELECT count(*) FROM dead_letters WHERE stored_at >= %s",
                           (since,)).fetchone()
    return (int(events[0]) if events else 0, int(letters[0]) if letters else 0)


def dead_letter_reasons(conn: psycopg.Connection, since: Any) -> list[str]:
    rows = conn.execute("SELECT reason FROM dead_letters WHERE stored_at >= %s"
                        " ORDER BY dead_letter_id", (since,)).fetchall()
    return [r[0] for r in rows]


def load_events(conn: psycopg.Connection, tenant_id: str) -> list[NormalizedEvent]:
    """The tenant's normalised events as the pipeline stored them, in event-time order."""
    rows = conn.execute(
        "SELECT record, content FROM events WHERE tenant_id = %s"
        " ORDER BY occurred_at, event_id", (tenant_id,)).fetchall()
    return [NormalizedEvent.from_record({**record, "content": content})
            for record, content in rows]


def raw_user_ids(conn: psycopg.Connection, tenant_id: str) -> dict[str, str]:
    """Pseudonym -> the platform's own id: the owning tenant's view, from the identity map."""
    rows = conn.execute("SELECT pseudonym, value FROM identity_map"
                        " WHERE tenant_id = %s AND kind = 'user'", (tenant_id,)).fetchall()
    return {pseudonym: value for pseudonym, value in rows}


def flagged_by_stream(conn: psycopg.Connection, tenant_id: str,
                      raw_ids: dict[str, str]) -> list[Flagged]:
    """Users with an item in the review queue, with their newest score and first alert."""
    rows = conn.execute(
        """SELECT q.actor, coalesce(l.tier, q.tier), coalesce(l.score, q.score),
                  coalesce(l.max_score, q.score), first.raised_at, first.explanation
           FROM review_queue q
           JOIN alerts first ON first.alert_id = q.first_alert_id
           LEFT JOIN scores_latest l ON l.tenant_id = q.tenant_id AND l.actor = q.actor
           WHERE q.tenant_id = %s""", (tenant_id,)).fetchall()
    flagged: dict[str, Flagged] = {}
    for actor, tier, score, max_score, raised_at, explanation in rows:
        first_us = int(raised_at.timestamp() * 1_000_000)
        known = flagged.get(actor)
        if known is None or first_us < known.first_alert_us:
            flagged[actor] = Flagged(raw_ids.get(actor) or actor, tier, score, max_score,
                                     first_us, explanation)
    return sorted(flagged.values(), key=lambda f: (-f.max_score, f.actor_id))
