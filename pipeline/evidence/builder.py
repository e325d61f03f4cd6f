"""Build evidence packages: the outbox over ``alerts``, and escalations on request.

The ``alerts`` table is the outbox: the score sink writes an alert row in the
same transaction as its review item, and a package key in
``evidence.package_keys`` marks it done. :func:`build_pending` finds alerts
without a key and builds each in its own transaction (gather, store, audit
record), so a crash loses nothing (the alert stays pending) and repeats
nothing (the key is unique; a second builder of the same alert inserts
nothing). A per-package advisory lock keeps concurrent builders from doing
the same work twice. Escalations build at once with :func:`build_for_escalation`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg

from pipeline.evidence.gather import gather
from pipeline.evidence.package import Incident, assemble, encode
from pipeline.evidence.policy import EvidenceConfig
from pipeline.evidence.store import has_package, insert_package

Clock = Callable[[], datetime]

_PENDING = """
SELECT a.alert_id, a.tenant_id, a.actor, a.raised_at FROM alerts a
JOIN tenants t ON t.tenant_id = a.tenant_id
WHERE (%(tenant)s::text IS NULL OR a.tenant_id = %(tenant)s)
  AND NOT EXISTS (SELECT 1 FROM evidence.package_keys k
                  WHERE k.tenant_id = a.tenant_id AND k.trigger = 'alert'
                    AND k.trigger_id = a.alert_id)
ORDER BY a.stored_at, a.alert_id
LIMIT %(limit)s
"""


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Built:
    """One package built now (``created``) or found built before."""

    package_id: str
    created: bool


def _lock_key(package_id: str) -> int:
    digest = hashlib.sha256(b"wardstream/evidence-build\x00" + package_id.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _try_lock(conn: psycopg.Connection, package_id: str) -> bool:
    row = conn.execute("SELECT pg_try_advisory_xact_lock(%s)",
                       (_lock_key(package_id),)).fetchone()
    return bool(row and row[0])


def build(conn: psycopg.Connection, incident: Incident, config: EvidenceConfig,
          clock: Clock = utc_now) -> Built | None:
    """Build the package of ``incident`` unless it exists; None if another builder holds it."""
    with conn.transaction():
        if not _try_lock(conn, incident.package_id):
            return None
        if has_package(conn, incident.tenant_id, incident.trigger, incident.trigger_id):
            return Built(incident.package_id, created=False)
        window = config.window(incident.incident_at)
        built_at = clock()
        jurisdiction, retain_until = config.retention.retain_until(incident.tenant_id, built_at)
        document = assemble(incident, window, built_at, jurisdiction,
                            gather(conn, incident, window, config.max_events))
        content, sha256 = encode(document)
        created = insert_package(conn, incident, window, jurisdiction=jurisdiction,
                                 content=content, sha256=sha256, built_at=built_at,
                                 retain_until=retain_until)
        return Built(incident.package_id, created)


def build_pending(conn: psycopg.Connection, config: EvidenceConfig | None = None, *,
                  clock: Clock = utc_now, tenant_id: str | None = None,
                  limit: int = 100) -> list[Built]:
    """Build packages for up to ``limit`` alerts that have none (of one tenant, if given).

    ``conn`` must be in autocommit mode: each package is its own transaction.
    """
    config = config or EvidenceConfig()
    pending = conn.execute(_PENDING, {"tenant": tenant_id, "limit": limit}).fetchall()
    built = []
    for alert_id, tenant, actor, raised_at in pending:
        result = build(conn, Incident(str(tenant), "alert", str(alert_id), str(actor),
                                      raised_at), config, clock)
        if result is not None:
            built.append(result)
    return built


def build_for_escalation(conn: psycopg.Connection, config: EvidenceConfig, *, tenant_id: str,
                         actor: str, event_id: str, escalated_at: datetime,
                         clock: Clock = utc_now) -> Built:
    """The package of a reviewer's escalation (decision event ``event_id``), built now.

    Idempotent: a retried decision (same event id) finds its package. A
    concurrent build of the same escalation is waited for, not skipped.
    """
    incident = Incident(tenant_id, "escalation", event_id, actor, escalated_at)
    while True:
        result = build(conn, incident, config, clock)
        if result is not None:
            return result
        with conn.transaction():  # the other builder's lock; wait for it to finish
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_key(incident.package_id),))

