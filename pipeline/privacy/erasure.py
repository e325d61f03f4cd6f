"""Erase one person at one tenant: PostgreSQL rows, compacted-topic keys, a receipt.

Order (docs/erasure.md):

1. The person's pseudonym is derived from the raw user id (never stored) and
   their identity-map keys are listed.
2. Tombstones go to the compacted topics first (``pipeline.privacy.tombstones``).
   If Kafka fails, nothing in PostgreSQL has changed and the request can be
   retried as it is.
3. One PostgreSQL transaction then deletes identity entries, the person's own
   events (profile events included), score history, latest score, review items
   and alerts, their dead letters, clears their webhook payloads
   (``pipeline.webhooks.store.forget_actor``) and the audit commitment salts
   naming them (``pipeline.audit.store.erase_value``), lists what is kept and
   why (evidence packages: never touched), stores the receipt in
   ``erasure_requests`` and appends an ``erasure`` audit record.

Every request runs in full: a second one for the same person finds nothing
left and answers zero counts, naming the earlier requests. Nothing here logs
or stores the raw user id.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import psycopg
from psycopg import errors as pg_errors
from psycopg.types.json import Jsonb

from pipeline.audit import store as audit_store
from pipeline.audit.records import AuditRecord
from pipeline.privacy.errors import EvidenceFunctionsMissing, PrivacyError
from pipeline.privacy.requests import ErasureRequest
from pipeline.privacy.tombstones import erase_keys, keyed_topics
from pipeline.pseudonym import Pseudonymizer
from pipeline.topology import Topology
from pipeline.webhooks.store import forget_actor

AUDIT_ACTOR: Final = "system:erasure"


class UnknownTenant(PrivacyError):
    """No such tenant: check the tenant id (``wardstream tenants add`` registers one)."""


@dataclass(frozen=True)
class KeptPackage:
    package_id: str
    relation: str           # "subject" (about the person) or "named" (the person appears in it)
    built_at: datetime
    retain_until: datetime
    on_hold: bool

    def as_dict(self) -> dict[str, Any]:
        why = ("under legal hold: kept until the hold is released, then on its retention "
               "clock (GDPR Art. 17(3)(e); evidence is immutable)" if self.on_hold else
               "preserved evidence on its retention clock (18 U.S.C. 2258A(h) and the "
               "tenant's jurisdiction; GDPR Art. 17(3)(b)); destroyed by "
               "`wardstream evidence expire` when the clock runs out")
        return {"place": "evidence package", "id": self.package_id,
                "relation": self.relation, "on_hold": self.on_hold,
                "retain_until": _iso(self.retain_until), "why": why}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def subject_pseudonym(master_key: bytes, tenant_id: str, user_id: str) -> str:
    return Pseudonymizer(master_key).pseudonym(tenant_id, "user", user_id)


def identity_keys(conn: psycopg.Connection, tenant_id: str, pseudonym: str) -> list[str]:
    """``tenant/kind/pseudonym`` of every identity entry the person owns."""
    rows = conn.execute(
        "SELECT kind, pseudonym FROM identity_map WHERE tenant_id = %s"
        " AND (owner = %s OR pseudonym = %s) ORDER BY kind, pseudonym",
        (tenant_id, pseudonym, pseudonym)).fetchall()
    return [f"{tenant_id}/{kind}/{p}" for kind, p in rows]


def packages_concerning(conn: psycopg.Connection, tenant_id: str,
                        pseudonym: str) -> list[KeptPackage]:
    """Evidence packages about the person or naming them (read without their content)."""
    try:
        with conn.transaction():
            rows = conn.execute("SELECT * FROM evidence.packages_concerning(%s, %s)",
                                (tenant_id, pseudonym)).fetchall()
    except (pg_errors.UndefinedFunction, pg_errors.InsufficientPrivilege):
        raise EvidenceFunctionsMissing(
            "evidence.packages_concerning is missing or not executable: see "
            "docs/erasure.md (migration 0010)") from None
    return [KeptPackage(*row) for row in rows]


def _count(conn: psycopg.Connection, sql: str, params: tuple[Any, ...]) -> int:
    row = conn.execute(sql, params).fetchone()
    return int(row[0]) if row else 0


def _delete(conn: psycopg.Connection, sql: str, params: tuple[Any, ...]) -> int:
    return conn.execute(sql, params).rowcount


def _erase_rows(conn: psycopg.Connection, tenant: str, p: str,
                user_id: str) -> dict[str, int]:
    """Delete and clear the person's rows; how many per place."""
    removed: dict[str, int] = {}
    removed["identity_map"] = _delete(
        conn, "DELETE FROM identity_map WHERE tenant_id = %s AND (owner = %s OR pseudonym = %s)",
        (tenant, p, p))
    removed["profile_events"] = _count(
        conn, "SELECT count(*) FROM events WHERE tenant_id = %s AND actor = %s"
        " AND type = 'profile'", (tenant, p))
    removed["events"] = _delete(
        conn, "DELETE FROM events WHERE tenant_id = %s AND actor = %s", (tenant, p))
    removed["score_history"] = _delete(
        conn, "DELETE FROM score_history WHERE tenant_id = %s AND actor = %s", (tenant, p))
    removed["scores_latest"] = _delete(
        conn, "DELETE FROM scores_latest WHERE tenant_id = %s AND actor = %s", (tenant, p))
    removed["review_queue"] = _delete(
        conn, "DELETE FROM review_queue WHERE tenant_id = %s AND actor = %s", (tenant, p))
    removed["alerts"] = _delete(
        conn, "DELETE FROM alerts WHERE tenant_id = %s AND actor = %s", (tenant, p))
    # Rejected input holds the raw bytes the platform sent; a JSON record naming the
    # person carries their id as a quoted string. (Avro dead letters age out: 14 days.)
    removed["dead_letters"] = _delete(
        conn, "DELETE FROM dead_letters WHERE tenant_id = %s"
        " AND position(convert_to(%s, 'UTF8') IN original) > 0",
        (tenant, json.dumps(user_id, ensure_ascii=False)))
    removed["webhook_payloads"] = _count(
        conn, "SELECT count(*) FROM webhook_deliveries WHERE tenant_id = %s AND actor = %s"
        " AND (payload->>'platform_user_id' IS NOT NULL OR payload->>'session_id' IS NOT NULL)",
        (tenant, p))
    forget_actor(conn, tenant, p)
    removed["audit_commitment_salts"] = audit_store.erase_value(conn, tenant, p)
    return removed


def _kept(conn: psycopg.Connection, tenant: str, p: str, packages: list[KeptPackage],
          topology: Topology, now: datetime) -> list[dict[str, Any]]:
    kept = [package.as_dict() for package in packages]
    if packages:
        reports = _count(conn, "SELECT count(*) FROM ncmec_reports WHERE tenant_id = %s"
                         " AND package_id = ANY(%s)",
                         (tenant, [package.package_id for package in packages]))
        if reports:
            kept.append({"place": "ncmec_reports", "count": reports,
                         "why": "reports to NCMEC about kept packages: a legal obligation "
                                "(18 U.S.C. 2258A); rows hold state and NCMEC ids only"})
    naming = _count(
        conn, "SELECT count(*) FROM events WHERE tenant_id = %s AND actor <> %s"
        " AND (record->'recipients' ? %s OR record->>'target' = %s OR record->>'subject' = %s)",
        (tenant, p, p, p, p))
    if naming:
        kept.append({"place": "events of other users naming the person", "count": naming,
                     "why": "another user's messages and actions (their data, evidence of "
                            "their behaviour); the person appears only as a pseudonym that "
                            "nothing can resolve any more; they age out with retention"})
    kept.append({"place": "audit log leaves", "why": "append-only and signed; they hold "
                 "pseudonyms and salted commitments only, and the salts naming the person "
                 "are erased, so no commitment about them can be opened again"})
    kept.append({"place": "erasure_requests", "why": "this receipt and earlier ones, naming "
                 "the person by pseudonym only: the record that the erasure happened"})
    for name, spec in sorted(topology.topics.items()):
        if spec.cleanup == "delete" and spec.retention_ms > 0:
            kept.append({"place": "topic", "id": name, "why": "not compacted, so records "
                         "cannot be removed one by one; they age out with the topic's "
                         "retention", "retention_days": round(spec.retention_ms / 86_400_000, 2),
                         "gone_by": _iso(now + timedelta(milliseconds=spec.retention_ms))})
    return kept


LIMITS: Final = (
    "Running workers delete the person's keys from their local RocksDB within "
    "WARDSTREAM_ERASURE_POLL_SECONDS of this receipt (agents/erasures.py); an event of "
    "the person being processed at that instant can write its state back once. "
    "Standby replicas and restarted workers apply the changelog tombstones.",
    "Records on non-compacted topics stay until their retention runs out (see kept); "
    "replaying those topics within that time would bring the person's events back "
    "(run the erasure again after any replay).",
)


def previous_requests(conn: psycopg.Connection, tenant: str, p: str) -> list[str]:
    rows = conn.execute("SELECT request_id FROM erasure_requests WHERE tenant_id = %s"
                        " AND subject = %s ORDER BY requested_at, request_id",
                        (tenant, p)).fetchall()
    return [str(row[0]) for row in rows]


def _audit(conn: psycopg.Connection, tenant: str, p: str, request: ErasureRequest,
           request_id: str, now: datetime, removed: Mapping[str, int],
           tombstones: Mapping[str, int], packages: list[KeptPackage]) -> int:
    held = [package for package in packages if package.on_hold]
    details: dict[str, str | int | bool | None] = {
        "action": "subject_erased", "request_id": request_id,
        "rows_removed": sum(removed.values()), "tombstones": sum(tombstones.values()),
        "packages_kept": len(packages), "packages_on_hold": len(held),
    }
    record = AuditRecord(
        record_id=f"erasure:{request_id}", kind="erasure", occurred_at=now, actor=AUDIT_ACTOR,
        details=details,
        personal={"subject": p, "reason": request.reason,
                  "requested_by": request.requested_by})
    return audit_store.append(conn, tenant, record)


def erase(conn: psycopg.Connection, tenant_id: str, request: ErasureRequest, *,
          master_key: bytes, topology: Topology, bootstrap: str, now: datetime,
          kafka_timeout: float = 10.0) -> dict[str, Any]:
    """Erase the person ``request.user_id`` names at ``tenant_id``; the receipt.

    Raises :class:`UnknownTenant`, :class:`EvidenceFunctionsMissing`,
    :class:`KafkaUnavailable` (before anything in PostgreSQL changed) or
    ``psycopg.Error`` (the transaction is rolled back; tombstones written stay,
    and a retry finds and completes the rest).
    """
    if now.utcoffset() is None:
        raise ValueError("now must carry a time zone")
    if conn.execute("SELECT 1 FROM tenants WHERE tenant_id = %s", (tenant_id,)).fetchone() is None:
        raise UnknownTenant(f"no tenant {tenant_id!r}")
    p = subject_pseudonym(master_key, tenant_id, request.user_id)
    packages = packages_concerning(conn, tenant_id, p)   # fails early if 0010 could not finish
    topics = keyed_topics(topology, tenant_id, p, identity_keys(conn, tenant_id, p))
    tombstones = erase_keys(bootstrap, topics, timeout=kafka_timeout)
    request_id = "era_" + secrets.token_hex(16)
    with conn.transaction():
        earlier = previous_requests(conn, tenant_id, p)
        removed = _erase_rows(conn, tenant_id, p, request.user_id)
        receipt: dict[str, Any] = {
            "request_id": request_id, "tenant_id": tenant_id, "subject": p,
            "requested_at": _iso(now), "reason": request.reason,
            "requested_by": request.requested_by,
            "removed": {"postgres": removed, "kafka_tombstones": tombstones},
            "kept": _kept(conn, tenant_id, p, packages, topology, now),
            "limits": list(LIMITS),
            "previous_request_ids": earlier,
        }
        seq = _audit(conn, tenant_id, p, request, request_id, now, removed, tombstones,
                     packages)
        receipt["audit_seq"] = seq
        conn.execute(
            "INSERT INTO erasure_requests (request_id, tenant_id, subject, reason, requested_by,"
            " requested_at, receipt, audit_seq) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (request_id, tenant_id, p, request.reason, request.requested_by, now,
             Jsonb(receipt), seq))
    return receipt


def stored_receipt(conn: psycopg.Connection, tenant_id: str, request_id: str) -> Any | None:
    """A stored receipt of this tenant, or None (another tenant's is None too)."""
    row = conn.execute("SELECT receipt FROM erasure_requests WHERE tenant_id = %s"
                       " AND request_id = %s", (tenant_id, request_id)).fetchone()
    return None if row is None else row[0]
