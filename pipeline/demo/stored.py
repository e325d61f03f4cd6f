"""Reading back what the pipeline stored, and running the detection core on it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from pipeline.core import Engine
from pipeline.model import NormalizedEvent
from pipeline.score.risk import Alert
from pipeline.score.tiers import tier_name


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


def detect(events: list[NormalizedEvent], raw_ids: dict[str, str]) -> list[Flagged]:
    engine = Engine()
    first_alert: dict[str, Alert] = {}
    for alert in engine.run(events):
        first_alert.setdefault(alert.actor, alert)
    flagged = [
        Flagged(
            actor_id=raw_ids.get(actor, actor),
            tier=tier_name(engine.risks[actor].tier),
            score=engine.risks[actor].score,
            max_score=engine.risks[actor].max_score,
            first_alert_us=alert.raised_at_us,
            explanation=alert.explanation,
        )
        for actor, alert in first_alert.items()
    ]
    return sorted(flagged, key=lambda f: (-f.max_score, f.actor_id))

