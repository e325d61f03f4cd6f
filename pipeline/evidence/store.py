"""The ``evidence`` schema (migration 0007): store, read with a reason, hold, extend.

Reads and retention changes go through the schema's SECURITY DEFINER
functions, which check the tenant and write the access or retention row;
here each is followed, in the same transaction, by its audit record
(``pipeline.audit.store.append``), so no read or change happens without both.
Kinds (``pipeline.audit.events``): ``evidence_built``, ``evidence_access``
(reads), ``evidence_hold``, ``evidence_release``, ``evidence_extend``; records
appended before these kinds existed are ``evidence_access`` with the same
``details.action`` (``package_built``, ``hold``, ``release``, ``extend``).
Audit leaves carry only the package id, hashes, the API key id and counts;
the subject's pseudonym, the stated reason and law-enforcement references
enter as salted commitments (``personal``), never as text in the leaf.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from pipeline.audit import store as audit_store
from pipeline.audit.events import (
    evidence_built_record,
    evidence_read_record,
    evidence_retention_record,
)
from pipeline.evidence.errors import PackageNotFound
from pipeline.evidence.package import Incident, Integrity, verify_package
from pipeline.evidence.policy import Window

_INSERT = """
WITH key AS (
    INSERT INTO evidence.package_keys (package_id, tenant_id, trigger, trigger_id)
    VALUES (%(id)s, %(tenant)s, %(trigger)s, %(trigger_id)s)
    ON CONFLICT DO NOTHING
    RETURNING package_id
)
INSERT INTO evidence.packages (package_id, tenant_id, trigger, trigger_id, actor, incident_at,
                               window_start, window_end, jurisdiction, content, content_sha256,
                               built_at, retain_until)
SELECT package_id, %(tenant)s, %(trigger)s, %(trigger_id)s, %(actor)s, %(incident_at)s,
       %(start)s, %(end)s, %(jurisdiction)s, %(content)s, %(sha256)s, %(built_at)s,
       %(retain_until)s
FROM key
"""


def has_package(conn: psycopg.Connection, tenant_id: str, trigger: str, trigger_id: str) -> bool:
    """True once a package was built for this trigger (even if since destroyed)."""
    row = conn.execute(
        "SELECT 1 FROM evidence.package_keys WHERE tenant_id = %s AND trigger = %s"
        " AND trigger_id = %s", (tenant_id, trigger, trigger_id)).fetchone()
    return row is not None


def insert_package(conn: psycopg.Connection, incident: Incident, window: Window, *,
                   jurisdiction: str, content: bytes, sha256: bytes, built_at: datetime,
                   retain_until: datetime) -> bool:
    """Store a package and log it; False (nothing written) when its key exists already."""
    with conn.transaction():
        cur = conn.execute(_INSERT, {
            "id": incident.package_id, "tenant": incident.tenant_id,
            "trigger": incident.trigger, "trigger_id": incident.trigger_id,
            "actor": incident.actor, "incident_at": incident.incident_at,
            "start": window.start, "end": window.end, "jurisdiction": jurisdiction,
            "content": content, "sha256": sha256, "built_at": built_at,
            "retain_until": retain_until,
        })
        if cur.rowcount != 1:
            return False
        audit_store.append(conn, incident.tenant_id, evidence_built_record(
            package_id=incident.package_id, subject=incident.actor, trigger=incident.trigger,
            package_sha256=sha256.hex(), content_bytes=len(content),
            jurisdiction=jurisdiction, retain_until=retain_until, built_at=built_at))
        return True


def built_record_id(package_id: str) -> str:
    return f"evidence:built:{package_id}"


def anchored_sha256(conn: psycopg.Connection, tenant_id: str, package_id: str) -> str | None:
    """The package hash the audit log recorded when the package was built."""
    row = conn.execute(
        "SELECT leaf FROM audit_leaves WHERE tenant_id = %s AND record_id = %s",
        (tenant_id, built_record_id(package_id))).fetchone()
    if row is None:
        return None
    value = json.loads(bytes(row[0]))["details"].get("package_sha256")
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class PackageRead:
    """A package as one logged read returned it."""

    package_id: str
    access_id: int
    accessed_at: datetime
    trigger: str
    trigger_id: str
    actor: str
    incident_at: datetime
    jurisdiction: str
    content: bytes
    built_at: datetime
    retain_until: datetime
    on_hold: bool
    integrity: Integrity

    def document(self) -> Any:
        return json.loads(self.content)


def read_package(conn: psycopg.Connection, tenant_id: str, package_id: str, *, reader: str,
                 reason: str) -> PackageRead:
    """Read a package of the tenant, logging the access and its audit record first.

    PackageNotFound for an unknown package or another tenant's (nothing logged).
    """
    with conn.transaction():
        row = conn.execute("SELECT * FROM evidence.read_package(%s, %s, %s, %s)",
                           (package_id, tenant_id, reader, reason)).fetchone()
        if row is None:
            raise PackageNotFound(package_id)
        (access_id, accessed_at, trigger, trigger_id, actor, incident_at, jurisdiction,
         content, content_sha256, built_at, retain_until, on_hold) = row
        audit_store.append(conn, tenant_id, evidence_read_record(
            access_id=int(access_id), package_id=package_id, key_id=reader,
            subject=str(actor), reason=reason, accessed_at=accessed_at))
        integrity = verify_package(bytes(content), bytes(content_sha256),
                                   anchored_sha256(conn, tenant_id, package_id))
    return PackageRead(package_id, int(access_id), accessed_at, str(trigger), str(trigger_id),
                       str(actor), incident_at, str(jurisdiction), bytes(content), built_at,
                       retain_until, bool(on_hold), integrity)


@dataclass(frozen=True)
class RetentionChange:
    """A package's clock and hold after a hold or an extension."""

    package_id: str
    action_id: int
    retain_until: datetime
    on_hold: bool


def _retention_change(conn: psycopg.Connection, tenant_id: str, package_id: str, action: str,
                      sql: str, params: tuple[Any, ...], by: str, reference: str,
                      days: int | None) -> RetentionChange:
    with conn.transaction():
        row = conn.execute(sql, params).fetchone()
        if row is None:
            raise PackageNotFound(package_id)
        action_id, acted_at, retain_until, on_hold, actor = row
        audit_store.append(conn, tenant_id, evidence_retention_record(
            action=action, action_id=int(action_id), package_id=package_id, key_id=by,
            subject=str(actor), reference=reference, retain_until=retain_until,
            on_hold=bool(on_hold), days=days, acted_at=acted_at))
    return RetentionChange(package_id, int(action_id), retain_until, bool(on_hold))


def place_hold(conn: psycopg.Connection, tenant_id: str, package_id: str, *, by: str,
               reference: str) -> RetentionChange:
    """Put a package under legal hold: it is kept until the hold is released."""
    return _retention_change(
        conn, tenant_id, package_id, "hold",
        "SELECT * FROM evidence.place_hold(%s, %s, %s, %s)",
        (package_id, tenant_id, by, reference), by, reference, None)


def release_hold(conn: psycopg.Connection, tenant_id: str, package_id: str, *, by: str,
                 reference: str) -> RetentionChange:
    """Release a legal hold: the package's clock applies again."""
    return _retention_change(
        conn, tenant_id, package_id, "release",
        "SELECT * FROM evidence.release_hold(%s, %s, %s, %s)",
        (package_id, tenant_id, by, reference), by, reference, None)


def extend_retention(conn: psycopg.Connection, tenant_id: str, package_id: str, *, by: str,
                     reference: str, days: int) -> RetentionChange:
    """Move a package's clock ``days`` later (a preservation request)."""
    return _retention_change(
        conn, tenant_id, package_id, "extend",
        "SELECT * FROM evidence.extend_retention(%s, %s, %s, %s, %s)",
        (package_id, tenant_id, by, reference, days), by, reference, days)
