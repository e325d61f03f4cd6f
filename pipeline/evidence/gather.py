"""Read what a package holds from the normal tables (PostgreSQL, read only).

Every query is filtered on the incident's tenant. Events of the window are
the subject's own, those naming the subject (as a recipient, a contact
target or a moderation subject) and every event of a conversation the
subject wrote in during the window, so both sides of an exchange are kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import psycopg

from pipeline.audit.records import format_time
from pipeline.evidence.package import Gathered, Incident, StoredEvent, original_of
from pipeline.evidence.policy import Window

MAX_PROFILES: Final = 200
MAX_ROWS: Final = 2000

_WINDOW_EVENTS = """
WITH own_conversations AS (
    SELECT DISTINCT record->>'conversation' AS conversation FROM events
    WHERE tenant_id = %(tenant)s AND actor = %(actor)s
      AND occurred_at BETWEEN %(start)s AND %(end)s AND record->>'conversation' IS NOT NULL
)
SELECT e.event_id, e.type, e.occurred_at, e.actor, e.stored_at, e.record, e.content FROM events e
WHERE e.tenant_id = %(tenant)s AND e.occurred_at BETWEEN %(start)s AND %(end)s
  AND (e.actor = %(actor)s
       OR e.record->'recipients' ? %(actor)s
       OR e.record->>'target' = %(actor)s
       OR e.record->>'subject' = %(actor)s
       OR e.record->>'conversation' IN (SELECT conversation FROM own_conversations))
ORDER BY e.occurred_at, e.event_id
LIMIT %(limit)s
"""
_PROFILES = """
SELECT * FROM (
    SELECT e.event_id, e.type, e.occurred_at, e.actor, e.stored_at, e.record, e.content
    FROM events e
    WHERE e.tenant_id = %(tenant)s AND e.actor = %(actor)s AND e.type = 'profile'
      AND e.occurred_at <= %(end)s
    ORDER BY e.occurred_at DESC, e.event_id DESC LIMIT %(limit)s
) newest ORDER BY occurred_at, event_id
"""
_MODERATION = """
SELECT e.event_id, e.type, e.occurred_at, e.actor, e.stored_at, e.record, e.content FROM events e
WHERE e.tenant_id = %(tenant)s AND e.type = 'moderation' AND e.record->>'subject' = %(actor)s
  AND e.occurred_at <= %(end)s
ORDER BY e.occurred_at, e.event_id LIMIT %(limit)s
"""
_IDENTITIES = """
SELECT kind, pseudonym, value, first_seen_at FROM identity_map
WHERE tenant_id = %(tenant)s AND owner = %(actor)s
ORDER BY kind, pseudonym LIMIT %(limit)s
"""
# The people the subject exchanged messages with, as the platform knows them: kept in
# the package so a report can name the intended recipient even after they are erased.
_COUNTERPART_IDS = """
SELECT pseudonym, value FROM identity_map
WHERE tenant_id = %(tenant)s AND kind = 'user' AND pseudonym = ANY(%(people)s)
"""
_COUNTERPART_BANDS = """
SELECT DISTINCT ON (actor) actor, record->>'age_band' FROM events
WHERE tenant_id = %(tenant)s AND type = 'profile' AND actor = ANY(%(people)s)
  AND occurred_at <= %(end)s AND record->>'age_band' IS NOT NULL
ORDER BY actor, occurred_at DESC, event_id DESC
"""
_SCORES = """
SELECT score_id, score, tier, previous_tier, scored_at, event_id, max_score, first_alert_at,
       explanation, drivers
FROM score_history
WHERE tenant_id = %(tenant)s AND actor = %(actor)s AND scored_at BETWEEN %(start)s AND %(end)s
ORDER BY scored_at, score_id LIMIT %(limit)s
"""
_ALERTS = """
SELECT alert_id, tier, score, raised_at, event_id, explanation, drivers FROM alerts
WHERE tenant_id = %(tenant)s AND actor = %(actor)s
  AND (raised_at BETWEEN %(start)s AND %(end)s OR alert_id = %(alert)s)
ORDER BY raised_at, alert_id LIMIT %(limit)s
"""
_REVIEW_ITEMS = """
SELECT item_id, status, score, tier, explanation, first_alert_id, latest_alert_id, alert_count,
       opened_at, raised_at, closed_at, closed_by, decision, decision_note
FROM review_queue
WHERE tenant_id = %(tenant)s AND actor = %(actor)s AND opened_at <= %(end)s
ORDER BY opened_at, item_id LIMIT %(limit)s
"""


def _event(row: tuple[Any, ...]) -> StoredEvent:
    event_id, kind, occurred_at, actor, stored_at, record, content = row
    return StoredEvent(str(event_id), str(kind), occurred_at, str(actor), stored_at,
                       original_of(record, content))


def _json_ready(value: Any) -> Any:
    if hasattr(value, "astimezone"):
        return format_time(value)
    return value


def _rows(conn: psycopg.Connection, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        names = [d.name for d in cur.description or ()]
        return [{n: _json_ready(v) for n, v in zip(names, row, strict=True)}
                for row in cur.fetchall()]


def exchanged_with(events: Sequence[StoredEvent], subject: str) -> list[str]:
    """Who sent the subject a message or received one from them, in first-seen order."""
    people: dict[str, None] = {}
    for event in events:
        if event.type != "message":
            continue
        recipients = event.original.get("recipients")
        named = [str(r) for r in recipients] if isinstance(recipients, list) else []
        if event.actor == subject:
            people.update(dict.fromkeys(r for r in named if r != subject))
        elif subject in named:
            people[event.actor] = None
    return list(people)[:MAX_PROFILES]


def counterparts(conn: psycopg.Connection, tenant: str, people: Sequence[str],
                 end: Any) -> list[dict[str, str | None]]:
    """Each person's platform user id and newest age band up to ``end`` (``None`` if unknown)."""
    if not people:
        return []
    params = {"tenant": tenant, "people": list(people), "end": end}
    ids = {str(p): str(v) for p, v in conn.execute(_COUNTERPART_IDS, params).fetchall()}
    bands = {str(p): str(b) for p, b in conn.execute(_COUNTERPART_BANDS, params).fetchall()}
    return [{"pseudonym": p, "platform_user_id": ids.get(p), "age_band": bands.get(p)}
            for p in people]


def gather(conn: psycopg.Connection, incident: Incident, window: Window,
           max_events: int) -> Gathered:
    """Everything the package of ``incident`` holds, as stored now."""
    params: dict[str, Any] = {
        "tenant": incident.tenant_id, "actor": incident.actor, "start": window.start,
        "end": window.end, "limit": MAX_ROWS,
        "alert": incident.trigger_id if incident.trigger == "alert" else None,
    }
    events = [_event(r) for r in conn.execute(
        _WINDOW_EVENTS, {**params, "limit": max_events + 1}).fetchall()]
    alerts = _rows(conn, _ALERTS, params)
    # The explanation: the alert that triggered the package, or the newest one in the window.
    trigger_alert = next((a for a in alerts if a["alert_id"] == params["alert"]),
                         alerts[-1] if alerts else None)
    kept = events[:max_events]
    return Gathered(
        events=kept,
        events_truncated=len(events) > max_events,
        profiles=[_event(r) for r in conn.execute(
            _PROFILES, {**params, "limit": MAX_PROFILES}).fetchall()],
        identities=_rows(conn, _IDENTITIES, params),
        scores=_rows(conn, _SCORES, params),
        alerts=alerts,
        review_items=_rows(conn, _REVIEW_ITEMS, params),
        moderation=[_event(r) for r in conn.execute(_MODERATION, params).fetchall()],
        trigger_alert=trigger_alert,
        counterparts=counterparts(conn, incident.tenant_id,
                                  exchanged_with(kept, incident.actor), window.end),
    )
