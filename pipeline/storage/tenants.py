"""Tenants and their API keys.

A key reads ``wsk_<key id>_<secret>``. The secret is 160 random bits, so a
single SHA-256 of it is a safe verifier (a slow password hash guards low-entropy
secrets, which these are not). The plain key is returned once, at creation.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import psycopg

from pipeline.contract.spec import TENANT_ID
from pipeline.errors import ConfigError, UnknownTenant

SCOPES = ("ingest", "read", "moderate", "admin")
_PREFIX = "wsk"


DEFAULT_RATE_PER_SECOND = 50.0
DEFAULT_BURST = 100
MAX_GRACE_SECONDS = 30 * 86_400


@dataclass(frozen=True)
class ApiKeyIdentity:
    key_id: str
    tenant_id: str
    scopes: frozenset[str]
    rate_per_second: float = DEFAULT_RATE_PER_SECOND
    burst: int = DEFAULT_BURST
    expires_at: datetime | None = None


@dataclass(frozen=True)
class KeyInfo:
    """What may be shown about a key: never its secret or hash."""

    key_id: str
    scopes: list[str]
    label: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    rate_per_second: float
    burst: int


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def add_tenant(conn: psycopg.Connection, tenant_id: str, name: str = "") -> bool:
    """Register a tenant; False if it already existed."""
    problems = list(TENANT_ID.check(tenant_id, "tenant_id"))
    if problems:
        raise ConfigError(f"tenant_id {problems[0].message}")
    cur = conn.execute(
        "INSERT INTO tenants (tenant_id, name) VALUES (%s, %s) ON CONFLICT DO NOTHING",
        (tenant_id, name),
    )
    return cur.rowcount == 1


_KNOWN_TENANTS = "SELECT tenant_id FROM tenants WHERE disabled_at IS NULL"


def known_tenants(conn: psycopg.Connection) -> frozenset[str]:
    return frozenset(row[0] for row in conn.execute(_KNOWN_TENANTS).fetchall())


async def known_tenants_async(conn: psycopg.AsyncConnection) -> frozenset[str]:
    cursor = await conn.execute(_KNOWN_TENANTS)
    return frozenset(row[0] for row in await cursor.fetchall())


def key_id_of(presented: str) -> str:
    """The public id part of a key (``wsk_<id>_<secret>``), or "" if malformed."""
    parts = presented.split("_", 2)
    return parts[1] if len(parts) == 3 and parts[0] == _PREFIX else ""


def create_key(
    conn: psycopg.Connection,
    tenant_id: str,
    scopes: list[str],
    label: str = "",
    *,
    rate_per_second: float = DEFAULT_RATE_PER_SECOND,
    burst: int = DEFAULT_BURST,
) -> str:
    """Create a key and return it in plain text: the only time it is ever shown."""
    bad = [s for s in scopes if s not in SCOPES]
    if bad or not scopes:
        raise ConfigError(f"scopes must be a non-empty subset of {', '.join(SCOPES)}; got {bad}")
    if not 0 < rate_per_second <= 10_000 or not 1 <= burst <= 100_000:
        raise ConfigError("rate_per_second must be in (0, 10000] and burst in [1, 100000]")
    if tenant_id not in known_tenants(conn):
        raise UnknownTenant(f"tenant {tenant_id!r} is not registered")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(20)
    conn.execute(
        "INSERT INTO api_keys (key_id, tenant_id, key_hash, scopes, label, rate_per_second,"
        " burst) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (key_id, tenant_id, _hash(secret), sorted(set(scopes)), label, rate_per_second, burst),
    )
    return f"{_PREFIX}_{key_id}_{secret}"


def revoke_key(conn: psycopg.Connection, key_id: str, tenant_id: str | None = None) -> bool:
    """Revoke a key now; with ``tenant_id``, only if the key is that tenant's."""
    cur = conn.execute(
        "UPDATE api_keys SET revoked_at = now() WHERE key_id = %s AND revoked_at IS NULL"
        " AND (%s::text IS NULL OR tenant_id = %s)",
        (key_id, tenant_id, tenant_id),
    )
    return cur.rowcount == 1


def rotate_key(
    conn: psycopg.Connection, tenant_id: str, key_id: str, grace_seconds: int
) -> tuple[str, datetime] | None:
    """A new key with the old one's scopes and limits; the old one expires after the grace.

    Returns the new key (shown once) and the old key's expiry, or None when the
    tenant has no such active key. Clients switch during the grace period:
    rotation without downtime.
    """
    if not 0 <= grace_seconds <= MAX_GRACE_SECONDS:
        raise ConfigError(f"grace_seconds must be from 0 to {MAX_GRACE_SECONDS}")
    with conn.transaction():
        row = conn.execute(
            "SELECT scopes, label, rate_per_second, burst FROM api_keys"
            " WHERE key_id = %s AND tenant_id = %s AND revoked_at IS NULL"
            " AND (expires_at IS NULL OR expires_at > now()) FOR UPDATE",
            (key_id, tenant_id),
        ).fetchone()
        if row is None:
            return None
        scopes, label, rate, burst = row
        new_key = create_key(conn, tenant_id, list(scopes), label,
                             rate_per_second=float(rate), burst=int(burst))
        expiry = conn.execute(
            "UPDATE api_keys SET expires_at = now() + make_interval(secs => %s),"
            " rotated_to = %s WHERE key_id = %s RETURNING expires_at",
            (grace_seconds, key_id_of(new_key), key_id),
        ).fetchone()
    if expiry is None:  # cannot happen: the row is locked above
        raise UnknownTenant(f"key {key_id} vanished during rotation")
    return new_key, expiry[0]


def list_keys(conn: psycopg.Connection, tenant_id: str) -> list[KeyInfo]:
    rows = conn.execute(
        "SELECT key_id, scopes, label, created_at, expires_at, revoked_at, rate_per_second,"
        " burst FROM api_keys WHERE tenant_id = %s ORDER BY created_at, key_id",
        (tenant_id,),
    ).fetchall()
    return [KeyInfo(r[0], list(r[1]), r[2], r[3], r[4], r[5], float(r[6]), int(r[7]))
            for r in rows]


def verify_key(conn: psycopg.Connection, presented: str) -> ApiKeyIdentity | None:
    """The key's identity if it is well formed, known, not revoked and its tenant active."""
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != _PREFIX or len(presented) > 128:
        return None
    _, key_id, secret = parts
    row = conn.execute(
        "SELECT k.tenant_id, k.key_hash, k.scopes, k.rate_per_second, k.burst, k.expires_at"
        " FROM api_keys k JOIN tenants t ON t.tenant_id = k.tenant_id"
        " WHERE k.key_id = %s AND k.revoked_at IS NULL AND t.disabled_at IS NULL"
        " AND (k.expires_at IS NULL OR k.expires_at > now())",
        (key_id,),
    ).fetchone()
    if row is None or not hmac.compare_digest(bytes(row[1]), _hash(secret)):
        return None
    return ApiKeyIdentity(key_id, row[0], frozenset(row[2]), float(row[3]), int(row[4]), row[5])
