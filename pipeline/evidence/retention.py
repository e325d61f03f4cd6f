"""The retention job: destroy packages whose clock ran out, each with an audit record.

``evidence.destroy_expired`` decides by the database's own clock and never
touches a package under hold (its trigger refuses that even if asked); a
tombstone with the package's hash stays in ``evidence.destructions``. The
audit records are appended in the same transaction, so a package is never
gone without its ``erasure`` record, nor recorded as gone while it is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

import psycopg

from pipeline.audit import store as audit_store
from pipeline.audit.records import AuditRecord, format_time

RETENTION_JOB: Final = "system:evidence-retention"
DEFAULT_BATCH: Final = 100


@dataclass(frozen=True, slots=True)
class Destroyed:
    package_id: str
    tenant_id: str
    content_sha256: str
    retain_until: datetime
    destroyed_at: datetime


def destroy_batch(conn: psycopg.Connection, limit: int = DEFAULT_BATCH) -> list[Destroyed]:
    """Destroy up to ``limit`` expired packages not under hold; what went."""
    with conn.transaction():
        rows = conn.execute("SELECT * FROM evidence.destroy_expired(%s)", (limit,)).fetchall()
        gone = []
        for package_id, tenant_id, actor, sha256, retain_until, destroyed_at in rows:
            item = Destroyed(str(package_id), str(tenant_id), bytes(sha256).hex(), retain_until,
                             destroyed_at)
            audit_store.append(conn, item.tenant_id, AuditRecord(
                record_id=f"evidence:destroyed:{item.package_id}", kind="erasure",
                occurred_at=destroyed_at, actor=RETENTION_JOB,
                details={"action": "evidence_destroyed", "package_id": item.package_id,
                         "package_sha256": item.content_sha256,
                         "retain_until": format_time(retain_until)},
                personal={"subject": str(actor)},
            ))
            gone.append(item)
    return gone


def expire(conn: psycopg.Connection, batch: int = DEFAULT_BATCH) -> list[Destroyed]:
    """Destroy every expired package not under hold, a batch per transaction."""
    gone: list[Destroyed] = []
    while True:
        done = destroy_batch(conn, batch)
        gone.extend(done)
        if len(done) < batch:
            return gone
