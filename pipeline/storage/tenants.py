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

import psycopg

from pipeline.contract.spec import TENANT_ID
from pipeline.errors import ConfigError, UnknownTenant

SCOPES = ("ingest", "read", "moderate", "admin")
_PREFIX = "wsk"


@dataclass(frozen=True)
class ApiKeyIdentity:
    key_id: str
    tenant_id: str
    scopes: frozenset[str]


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


def known_tenants(conn: psycopg.Connection) -> frozenset[str]:
    rows = conn.execute("SELECT tenant_id FROM tenants WHERE disabled_at IS NULL").fetchall()
    return frozenset(row[0] for row in rows)


def create_key(
    conn: psycopg.Connection, tenant_id: str, scopes: list[str], label: str = ""
) -> str:
    """Create a key and return it in plain text: the only time it is ever shown."""
    bad = [s for s in scopes if s not in SCOPES]
    if bad or not scopes:
        raise ConfigError(f"scopes must be a non-empty subset of {', '.join(SCOPES)}; got {bad}")
    if tenant_id not in known_tenants(conn):
        raise UnknownTenant(f"tenant {tenant_id!r} is not registered")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(20)
    conn.execute(
        "INSERT INTO api_keys (key_id, tenant_id, key_hash, scopes, label)"
        " VALUES (%s, %s, %s, %s, %s)",
        (key_id, tenant_id, _hash(secret), sorted(set(scopes)), label),
    )
    return f"{_PREFIX}_{key_id}_{secret}"


def revoke_key(conn: psycopg.Connection, key_id: str) -> bool:
    cur = conn.execute(
        "UPDATE api_keys SET revoked_at = now() WHERE key_id = %s AND revoked_at IS NULL",
        (key_id,),
    )
    return cur.rowcount == 1


def verify_key(conn: psycopg.Connection, presented: str) -> ApiKeyIdentity | None:
    """The key's identity if it is well formed, known, not revoked and its tenant active."""
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != _PREFIX or len(presented) > 128:
        return None
    _, key_id, secret = parts
    row = conn.execute(
        "SELECT k.tenant_id, k.key_hash, k.scopes FROM api_keys k"
        " JOIN tenants t ON t.tenant_id = k.tenant_id"
        " WHERE k.key_id = %s AND k.revoked_at IS NULL AND t.disabled_at IS NULL",
        (key_id,),
    ).fetchone()
    if row is None or not hmac.compare_digest(bytes(row[1]), _hash(secret)):
        return None
    return ApiKeyIdentity(key_id, row[0], frozenset(row[2]))
