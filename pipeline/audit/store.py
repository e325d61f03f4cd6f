"""The audit log in PostgreSQL (migration 0004): append, sign, prove, export, erase.

Appends and head signatures for one tenant are serialised by a transaction-
scoped advisory lock on a hash of the tenant id, so concurrent writers get
gapless, distinct sequence numbers and a head always covers a prefix that
exists. Other tenants never wait on it (a hash collision only serialises two
tenants, it cannot mix their logs).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pipeline.audit import merkle
from pipeline.audit.errors import AuditError
from pipeline.audit.export import export_document
from pipeline.audit.records import AuditRecord, SealedLeaf, seal
from pipeline.audit.signing import TreeHead, public_key_bytes, sign_tree_head


def _lock(conn: psycopg.Connection, tenant: str) -> None:
    digest = hashlib.sha256(b"wardstream/audit-log\x00" + tenant.encode()).digest()
    conn.execute("SELECT pg_advisory_xact_lock(%s)",
                 (int.from_bytes(digest[:8], "big", signed=True),))


def tree_size(conn: psycopg.Connection, tenant: str) -> int:
    row = conn.execute(
        "SELECT coalesce(max(seq) + 1, 0) FROM audit_leaves WHERE tenant_id = %s", (tenant,)
    ).fetchone()
    return int(row[0]) if row else 0


def append(
    conn: psycopg.Connection,
    tenant: str,
    record: AuditRecord,
    salt_source: Callable[[int], bytes] = secrets.token_bytes,
) -> int:
    """Append ``record``; its sequence number. A record id already logged returns its seq."""
    with conn.transaction():
        _lock(conn, tenant)
        row = conn.execute(
            "SELECT seq FROM audit_leaves WHERE tenant_id = %s AND record_id = %s",
            (tenant, record.record_id),
        ).fetchone()
        if row is not None:
            return int(row[0])
        sealed = seal(tenant, tree_size(conn, tenant), record, salt_source)
        conn.execute(
            "INSERT INTO audit_leaves (tenant_id, seq, record_id, kind, leaf, leaf_hash)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (tenant, sealed.seq, record.record_id, record.kind, sealed.leaf, sealed.leaf_hash),
        )
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO audit_commitment_salts (tenant_id, seq, name, salt, value)"
                " VALUES (%s, %s, %s, %s, %s)",
                [(tenant, sealed.seq, c.name, c.salt, c.value) for c in sealed.commitments],
            )
        return sealed.seq


def append_many(
    conn: psycopg.Connection,
    entries: Iterable[tuple[str, AuditRecord]],
    salt_source: Callable[[int], bytes] = secrets.token_bytes,
) -> int:
    """Append many ``(tenant, record)`` at once; how many were new.

    The batch form of :func:`append` for a sink's transaction: one lock, one
    lookup of existing ids and one insert per tenant instead of per record.
    Records whose id is already logged (or repeated in ``entries``) are
    skipped, so writing the same batch again appends nothing. Tenants are
    locked in sorted order, so two batches over the same tenants cannot
    deadlock on each other. Call it after the batch's row writes: the tenant
    locks are then held only for the rest of the transaction.
    """
    by_tenant: dict[str, list[AuditRecord]] = {}
    for tenant, record in entries:
        by_tenant.setdefault(tenant, []).append(record)
    if not by_tenant:
        return 0
    added = 0
    with conn.transaction(), conn.cursor() as cur:
        for tenant in sorted(by_tenant):
            records = by_tenant[tenant]
            _lock(conn, tenant)
            logged = {str(r[0]) for r in conn.execute(
                "SELECT record_id FROM audit_leaves WHERE tenant_id = %s"
                " AND record_id = ANY(%s)", (tenant, [r.record_id for r in records]))}
            seq = tree_size(conn, tenant)
            sealed: list[tuple[AuditRecord, SealedLeaf]] = []
            for record in records:
                if record.record_id in logged:
                    continue
                logged.add(record.record_id)
                sealed.append((record, seal(tenant, seq, record, salt_source)))
                seq += 1
            if not sealed:
                continue
            cur.executemany(
                "INSERT INTO audit_leaves (tenant_id, seq, record_id, kind, leaf, leaf_hash)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                [(tenant, leaf.seq, record.record_id, record.kind, leaf.leaf, leaf.leaf_hash)
                 for record, leaf in sealed])
            salts = [(tenant, leaf.seq, c.name, c.salt, c.value)
                     for _, leaf in sealed for c in leaf.commitments]
            if salts:
                cur.executemany(
                    "INSERT INTO audit_commitment_salts (tenant_id, seq, name, salt, value)"
                    " VALUES (%s, %s, %s, %s, %s)", salts)
            added += len(sealed)
    return added


def leaf_hashes(conn: psycopg.Connection, tenant: str, size: int) -> list[bytes]:
    """The first ``size`` leaf hashes; AuditError if the log is shorter."""
    hashes = [bytes(r[0]) for r in conn.execute(
        "SELECT leaf_hash FROM audit_leaves WHERE tenant_id = %s AND seq < %s ORDER BY seq",
        (tenant, size),
    )]
    if len(hashes) != size:
        raise AuditError(f"the log of tenant {tenant!r} has {len(hashes)} records, not {size}")
    return hashes


def _head(tenant: str, row: tuple[Any, ...]) -> TreeHead:
    return TreeHead(tenant, int(row[0]), bytes(row[1]), int(row[2]), bytes(row[3]))


def tree_heads(conn: psycopg.Connection, tenant: str) -> list[tuple[TreeHead, bytes]]:
    """Every signed head of the tenant, oldest first, with the public key that signed it."""
    rows = conn.execute(
        "SELECT tree_size, root_hash, timestamp_ms, signature, public_key"
        " FROM audit_tree_heads WHERE tenant_id = %s ORDER BY head_id",
        (tenant,),
    ).fetchall()
    return [(_head(tenant, row), bytes(row[4])) for row in rows]


def sign_head(
    conn: psycopg.Connection,
    tenant: str,
    key: Ed25519PrivateKey,
    now_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
) -> TreeHead:
    """Sign and store a head over the whole log as it is now."""
    with conn.transaction():
        _lock(conn, tenant)
        size = tree_size(conn, tenant)
        root = merkle.root(leaf_hashes(conn, tenant, size))
        row = conn.execute(
            "SELECT max(timestamp_ms) FROM audit_tree_heads WHERE tenant_id = %s", (tenant,)
        ).fetchone()
        # Head times never go backwards, even if this host's clock does.
        stamp = max(now_ms(), int(row[0]) if row and row[0] is not None else 0)
        head = sign_tree_head(key, tenant, size, root, stamp)
        conn.execute(
            "INSERT INTO audit_tree_heads"
            " (tenant_id, tree_size, root_hash, timestamp_ms, public_key, signature)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (tenant, size, root, stamp, public_key_bytes(key), head.signature),
        )
        return head


def latest_head(conn: psycopg.Connection, tenant: str) -> tuple[TreeHead, bytes] | None:
    """The tenant's newest signed head and the public key that signed it, if any."""
    row = conn.execute(
        "SELECT tree_size, root_hash, timestamp_ms, signature, public_key"
        " FROM audit_tree_heads WHERE tenant_id = %s ORDER BY head_id DESC LIMIT 1",
        (tenant,),
    ).fetchone()
    return None if row is None else (_head(tenant, row), bytes(row[4]))


def head_of_size(
    conn: psycopg.Connection, tenant: str, size: int
) -> tuple[TreeHead, bytes] | None:
    """The newest signed head of exactly ``size`` records and its public key, if any."""
    row = conn.execute(
        "SELECT tree_size, root_hash, timestamp_ms, signature, public_key"
        " FROM audit_tree_heads WHERE tenant_id = %s AND tree_size = %s"
        " ORDER BY head_id DESC LIMIT 1",
        (tenant, size),
    ).fetchone()
    return None if row is None else (_head(tenant, row), bytes(row[4]))


def tenants_to_sign(conn: psycopg.Connection) -> list[str]:
    """Tenants whose log grew since their latest signed head (or that have none yet)."""
    # Per tenant, both lookups are one descent of a primary key index, not a scan.
    rows = conn.execute(
        "SELECT t.tenant_id FROM tenants t"
        " CROSS JOIN LATERAL (SELECT max(seq) + 1 AS size FROM audit_leaves l"
        "  WHERE l.tenant_id = t.tenant_id) l"
        " LEFT JOIN LATERAL (SELECT tree_size FROM audit_tree_heads h"
        "  WHERE h.tenant_id = t.tenant_id ORDER BY head_id DESC LIMIT 1) h ON true"
        " WHERE l.size IS NOT NULL AND (h.tree_size IS NULL OR h.tree_size < l.size)"
        " ORDER BY t.tenant_id"
    ).fetchall()
    return [str(r[0]) for r in rows]


@dataclass(frozen=True)
class SignRound:
    """What one :func:`sign_all` did: heads signed, and tenants that failed with why."""

    signed: tuple[TreeHead, ...]
    failed: tuple[tuple[str, str], ...]


def sign_all(
    conn: psycopg.Connection,
    key: Ed25519PrivateKey,
    now_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
    tenants: Sequence[str] | None = None,
) -> SignRound:
    """Sign a head for every tenant whose log grew (:func:`tenants_to_sign`).

    Each tenant in its own transaction: one tenant's failure (an AuditError,
    a refused statement) is reported and does not stop the others.
    """
    signed: list[TreeHead] = []
    failed: list[tuple[str, str]] = []
    for tenant in tenants_to_sign(conn) if tenants is None else tenants:
        try:
            signed.append(sign_head(conn, tenant, key, now_ms))
        except (AuditError, psycopg.DatabaseError) as exc:
            if isinstance(exc, psycopg.OperationalError):
                raise
            first = (str(exc).splitlines() or [""])[0]
            failed.append((tenant, f"{type(exc).__name__}: {first}"))
    return SignRound(tuple(signed), tuple(failed))


def inclusion_proof(
    conn: psycopg.Connection, tenant: str, seq: int, size: int
) -> tuple[bytes, list[bytes]]:
    """The leaf at ``seq`` and its audit path in the tree of ``size``."""
    if not 0 <= seq < size:
        raise AuditError(f"seq {seq} is not in a tree of size {size}")
    hashes = leaf_hashes(conn, tenant, size)
    row = conn.execute(
        "SELECT leaf FROM audit_leaves WHERE tenant_id = %s AND seq = %s", (tenant, seq)
    ).fetchone()
    if row is None:
        raise AuditError(f"no record seq {seq} in the log of tenant {tenant!r}")
    return bytes(row[0]), merkle.inclusion_proof(seq, hashes)


def consistency_proof(
    conn: psycopg.Connection, tenant: str, old_size: int, new_size: int
) -> list[bytes]:
    if not 0 <= old_size <= new_size:
        raise AuditError(f"no consistency proof from size {old_size} to size {new_size}")
    return merkle.consistency_proof(old_size, leaf_hashes(conn, tenant, new_size))


def export(
    conn: psycopg.Connection, tenant: str, public_key: bytes | None = None
) -> dict[str, Any]:
    """The export document (pipeline.audit.export) of the tenant's whole log.

    Heads are read before leaves: leaves are append-only, so every head read
    covers leaves the second read sees, whatever commits in between.
    """
    heads = tree_heads(conn, tenant)
    if public_key is None:
        if not heads:
            raise AuditError(f"tenant {tenant!r} has no signed tree head yet: sign one first")
        public_key = heads[-1][1]
    leaves = [bytes(r[0]) for r in conn.execute(
        "SELECT leaf FROM audit_leaves WHERE tenant_id = %s ORDER BY seq", (tenant,)
    )]
    return export_document(tenant, public_key, leaves, [head for head, _ in heads])


def commitment_openings(
    conn: psycopg.Connection, tenant: str, seq: int
) -> dict[str, tuple[bytes, str]]:
    """Name -> (salt, value) of the record's commitments not erased yet."""
    rows = conn.execute(
        "SELECT name, salt, value FROM audit_commitment_salts WHERE tenant_id = %s AND seq = %s",
        (tenant, seq),
    ).fetchall()
    return {str(name): (bytes(salt), str(value)) for name, salt, value in rows}


def erase_value(conn: psycopg.Connection, tenant: str, value: str) -> int:
    """Delete every salt committing to ``value`` (a person's pseudonym); how many rows went.

    The caller logs the erasure itself as an ``erasure`` record.
    """
    with conn.transaction():
        cur = conn.execute(
            "DELETE FROM audit_commitment_salts WHERE tenant_id = %s AND value = %s",
            (tenant, value),
        )
        return cur.rowcount
