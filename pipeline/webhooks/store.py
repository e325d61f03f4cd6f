"""The PostgreSQL side of webhooks: endpoints, and the outbox of deliveries (0008_webhooks).

Every function that a tenant's request reaches takes the tenant and filters on
it: another tenant's endpoint or delivery is simply not found. Claims use
``FOR UPDATE SKIP LOCKED`` and move ``next_attempt_at`` forward by a lease in
the same statement, so concurrent dispatchers never take the same attempt;
finishing an attempt is fenced on its number, so a dispatcher that stalled past
its lease cannot overwrite a later attempt's result.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import psycopg

from pipeline.webhooks.payload import EVENT_ALERT_RAISED, AlertFacts
from pipeline.webhooks.retry import Step

MAX_ENDPOINTS_PER_TENANT = 10


@dataclass(frozen=True, slots=True)
class Endpoint:
    """What may be shown about an endpoint: never its secret."""

    endpoint_id: str
    tenant_id: str
    url: str
    description: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery taken for one attempt."""

    delivery_id: str
    endpoint_id: str
    tenant_id: str
    url: str
    secret_sealed: bytes
    event: str
    payload: dict[str, Any]
    attempt: int  # this attempt's number (1, 2, ...; replays keep counting)
    in_budget: int  # attempts since the delivery was created or last replayed


@dataclass(frozen=True, slots=True)
class Delivery:
    delivery_id: str
    endpoint_id: str
    alert_id: str
    event: str
    status: str
    attempts: int
    replays: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    dead_at: datetime | None
    created_at: datetime


def new_endpoint_id() -> str:
    return "whe_" + secrets.token_hex(8)


def delivery_id_of(endpoint_id: str, alert_id: str) -> str:
    """The one id of the delivery of ``alert_id`` to ``endpoint_id``."""
    digest = hashlib.sha256(f"{endpoint_id}\x00{alert_id}".encode()).hexdigest()
    return "whd_" + digest[:32]


def count_endpoints(conn: psycopg.Connection, tenant_id: str) -> int:
    row = conn.execute("SELECT count(*) FROM webhook_endpoints WHERE tenant_id = %s"
                       " AND disabled_at IS NULL", (tenant_id,)).fetchone()
    return int(row[0]) if row else 0


def insert_endpoint(conn: psycopg.Connection, endpoint_id: str, tenant_id: str, url: str,
                    description: str, secret_sealed: bytes) -> Endpoint:
    row = conn.execute(
        "INSERT INTO webhook_endpoints (endpoint_id, tenant_id, url, description, secret_sealed)"
        " VALUES (%s, %s, %s, %s, %s) RETURNING created_at",
        (endpoint_id, tenant_id, url, description, secret_sealed)).fetchone()
    if row is None:  # INSERT ... RETURNING always returns the row
        raise psycopg.DataError("endpoint insert returned nothing")
    return Endpoint(endpoint_id, tenant_id, url, description, row[0])


def list_endpoints(conn: psycopg.Connection, tenant_id: str) -> list[Endpoint]:
    rows = conn.execute(
        "SELECT endpoint_id, tenant_id, url, description, created_at FROM webhook_endpoints"
        " WHERE tenant_id = %s AND disabled_at IS NULL ORDER BY created_at, endpoint_id",
        (tenant_id,)).fetchall()
    return [Endpoint(*r) for r in rows]


def delete_endpoint(conn: psycopg.Connection, tenant_id: str, endpoint_id: str,
                    now: datetime) -> bool:
    """Disable the tenant's endpoint; its pending deliveries die with that reason."""
    with conn.transaction():
        cur = conn.execute(
            "UPDATE webhook_endpoints SET disabled_at = %s WHERE endpoint_id = %s"
            " AND tenant_id = %s AND disabled_at IS NULL", (now, endpoint_id, tenant_id))
        if cur.rowcount != 1:
            return False
        conn.execute(
            "UPDATE webhook_deliveries SET status = 'dead', dead_at = %s,"
            " last_error = 'the endpoint was deleted' WHERE endpoint_id = %s"
            " AND status = 'pending'", (now, endpoint_id))
    return True


# New alerts of each active endpoint's tenant, stored since the endpoint was made (and
# within the lookback, which bounds the scan), that have no delivery to it yet. The
# user's and the conversation's raw ids come from the tenant's identity map.
_NEW_ALERTS = """
SELECT e.endpoint_id, a.alert_id, a.tenant_id, a.actor, a.tier, a.score, a.raised_at,
       a.explanation, a.drivers, u.value, c.value
FROM webhook_endpoints e
JOIN alerts a ON a.tenant_id = e.tenant_id AND a.stored_at >= e.created_at
             AND a.stored_at >= now() - make_interval(secs => %(lookback)s)
LEFT JOIN identity_map u ON u.tenant_id = a.tenant_id AND u.kind = 'user'
                        AND u.pseudonym = a.actor
LEFT JOIN events ev ON ev.tenant_id = a.tenant_id AND ev.event_id = a.event_id
LEFT JOIN identity_map c ON c.tenant_id = a.tenant_id AND c.kind = 'conversation'
                        AND c.pseudonym = ev.record->>'conversation'
WHERE e.disabled_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d
                  WHERE d.endpoint_id = e.endpoint_id AND d.alert_id = a.alert_id)
ORDER BY a.stored_at, a.alert_id
LIMIT %(limit)s
"""


def new_alerts(conn: psycopg.Connection, lookback_seconds: float,
               limit: int) -> list[tuple[str, AlertFacts]]:
    """(endpoint id, alert) pairs that need a delivery."""
    rows = conn.execute(_NEW_ALERTS, {"lookback": lookback_seconds, "limit": limit}).fetchall()
    return [(r[0], AlertFacts(alert_id=r[1], tenant_id=r[2], actor=r[3], tier=r[4],
                              score=float(r[5]), raised_at=r[6], explanation=r[7],
                              drivers=list(r[8]), platform_user_id=r[9], session_id=r[10]))
            for r in rows]


def enqueue(conn: psycopg.Connection, endpoint_id: str, facts: AlertFacts,
            payload: dict[str, Any], now: datetime) -> bool:
    """Add the delivery unless it exists (another dispatcher may have added it)."""
    cur = conn.execute(
        "INSERT INTO webhook_deliveries (delivery_id, endpoint_id, tenant_id, alert_id, actor,"
        " event, payload, next_attempt_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT DO NOTHING",
        (delivery_id_of(endpoint_id, facts.alert_id), endpoint_id, facts.tenant_id,
         facts.alert_id, facts.actor, EVENT_ALERT_RAISED, json.dumps(payload), now))
    return cur.rowcount == 1


_CLAIM = """
WITH due AS (
    SELECT d.delivery_id
    FROM webhook_deliveries d
    JOIN webhook_endpoints e ON e.endpoint_id = d.endpoint_id
    WHERE d.status = 'pending' AND d.next_attempt_at <= %(now)s AND e.disabled_at IS NULL
    ORDER BY d.next_attempt_at, d.delivery_id
    LIMIT %(limit)s
    FOR UPDATE OF d SKIP LOCKED
)
UPDATE webhook_deliveries d
SET attempts = d.attempts + 1, last_attempt_at = %(now)s,
    next_attempt_at = %(now)s + make_interval(secs => %(lease)s)
FROM due, webhook_endpoints e
WHERE d.delivery_id = due.delivery_id AND e.endpoint_id = d.endpoint_id
RETURNING d.delivery_id, d.endpoint_id, d.tenant_id, e.url, e.secret_sealed, d.event,
          d.payload, d.attempts, d.attempts - d.attempt_base
"""


def claim_due(conn: psycopg.Connection, now: datetime, limit: int,
              lease_seconds: float) -> list[Claimed]:
    """Take up to ``limit`` due deliveries for one attempt each, and log the attempts.

    Until ``lease_seconds`` pass the rows are not due again, so if this process dies
    mid-attempt another one retries them then (the receiver may then see the
    delivery twice, with the same delivery id).
    """
    with conn.transaction():
        rows = conn.execute(_CLAIM, {"now": now, "limit": limit,
                                     "lease": lease_seconds}).fetchall()
        claimed = [Claimed(r[0], r[1], r[2], r[3], bytes(r[4]), r[5], r[6], int(r[7]),
                           int(r[8])) for r in rows]
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO webhook_attempts (delivery_id, attempt, started_at)"
                " VALUES (%s, %s, %s)", [(c.delivery_id, c.attempt, now) for c in claimed])
    return claimed


def finish(conn: psycopg.Connection, claimed: Claimed, step: Step, status_code: int | None,
           now: datetime, next_attempt_at: datetime) -> bool:
    """Record an attempt's result; False when the attempt was overtaken (lease ran out)."""
    status = {"delivered": "delivered", "retry": "pending", "dead": "dead"}[step.kind]
    with conn.transaction():
        conn.execute(
            "UPDATE webhook_attempts SET status_code = %s, error = %s, outcome = %s"
            " WHERE delivery_id = %s AND attempt = %s",
            (status_code, step.reason, step.kind, claimed.delivery_id, claimed.attempt))
        cur = conn.execute(
            "UPDATE webhook_deliveries SET status = %s, next_attempt_at = %s,"
            " last_status_code = %s, last_error = %s,"
            " delivered_at = %s, dead_at = %s"
            " WHERE delivery_id = %s AND attempts = %s AND status = 'pending'",
            (status, next_attempt_at, status_code, step.reason,
             now if status == "delivered" else None, now if status == "dead" else None,
             claimed.delivery_id, claimed.attempt))
        return cur.rowcount == 1


ReplayAnswer = Literal["replayed", "not_found", "not_dead", "endpoint_deleted"]


def replay(conn: psycopg.Connection, delivery_id: str, tenant_id: str | None,
           now: datetime) -> ReplayAnswer:
    """Send a dead delivery again: same id, same payload, a fresh budget of attempts.

    It is due at once: at ``now`` or when it died, whichever is earlier (so a
    dispatcher whose clock differs from the caller's does not wait for it).

    With ``tenant_id`` only that tenant's deliveries are found (the API); without it
    any (the operator's command).
    """
    with conn.transaction():
        row = conn.execute(
            "SELECT d.status, e.disabled_at FROM webhook_deliveries d"
            " JOIN webhook_endpoints e ON e.endpoint_id = d.endpoint_id"
            " WHERE d.delivery_id = %s AND (%s::text IS NULL OR d.tenant_id = %s)"
            " FOR UPDATE OF d", (delivery_id, tenant_id, tenant_id)).fetchone()
        if row is None:
            return "not_found"
        if row[0] != "dead":
            return "not_dead"
        if row[1] is not None:
            return "endpoint_deleted"
        conn.execute(
            "UPDATE webhook_deliveries SET status = 'pending', dead_at = NULL,"
            " attempt_base = attempts, replays = replays + 1,"
            " next_attempt_at = LEAST(next_attempt_at, %s)"
            " WHERE delivery_id = %s", (now, delivery_id))
    return "replayed"


_DELIVERY_COLUMNS = (
    "delivery_id, endpoint_id, alert_id, event, status, attempts, replays, next_attempt_at,"
    " last_status_code, last_error, delivered_at, dead_at, created_at")


def list_deliveries(conn: psycopg.Connection, tenant_id: str | None,
                    status: str | None, limit: int) -> list[Delivery]:
    """Newest first; ``tenant_id`` None lists every tenant's (the operator's command)."""
    rows = conn.execute(
        f"SELECT {_DELIVERY_COLUMNS} FROM webhook_deliveries"  # noqa: S608 (constant columns)
        " WHERE (%s::text IS NULL OR tenant_id = %s) AND (%s::text IS NULL OR status = %s)"
        " ORDER BY created_at DESC, delivery_id LIMIT %s",
        (tenant_id, tenant_id, status, status, limit)).fetchall()
    return [Delivery(*r) for r in rows]


def forget_actor(conn: psycopg.Connection, tenant_id: str, actor: str) -> int:
    """Erasure: clear the raw user and conversation ids from a user's stored payloads."""
    cur = conn.execute(
        "UPDATE webhook_deliveries SET payload = payload || jsonb_build_object("
        "'platform_user_id', NULL, 'session_id', NULL) WHERE tenant_id = %s AND actor = %s",
        (tenant_id, actor))
    return cur.rowcount


def attempts_of(conn: psycopg.Connection, delivery_id: str) -> Sequence[tuple[Any, ...]]:
    """(attempt, status code, error, outcome) of every attempt, in order."""
    return conn.execute(
        "SELECT attempt, status_code, error, outcome FROM webhook_attempts"
        " WHERE delivery_id = %s ORDER BY attempt", (delivery_id,)).fetchall()
