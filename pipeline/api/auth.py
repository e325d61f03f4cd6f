"""Who is calling: bearer API keys checked against PostgreSQL, scopes, and rate limits.

Verified keys are cached briefly, so a key revoked elsewhere stops working
within ``_KEY_CACHE_SECONDS``; a key revoked or rotated through this process's
own API is evicted at once. Expiry is checked on every request.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import psycopg
from fastapi import Request

from pipeline.api.errors import ApiError
from pipeline.api.ratelimit import RateLimiter
from pipeline.storage.tenants import ApiKeyIdentity, key_id_of, verify_key

_KEY_CACHE_SECONDS = 30.0


class KeyChecker:
    """Verifies bearer keys against PostgreSQL, caching positive answers briefly.

    A revoked key therefore stops working within ``_KEY_CACHE_SECONDS``.
    """

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._conn: psycopg.Connection | None = None
        self._lock = asyncio.Lock()
        self._cache: dict[str, tuple[float, ApiKeyIdentity]] = {}

    def _verify(self, presented: str) -> ApiKeyIdentity | None:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self._dsn, autocommit=True, connect_timeout=10)
        try:
            return verify_key(self._conn, presented)
        except psycopg.OperationalError:
            self._conn.close()
            raise

    async def identify(self, presented: str) -> ApiKeyIdentity | None:
        cached = self._cache.get(presented)
        if cached is not None and time.monotonic() - cached[0] < _KEY_CACHE_SECONDS:
            return cached[1]
        async with self._lock:
            identity = await asyncio.to_thread(self._verify, presented)
        if identity is not None:
            self._cache[presented] = (time.monotonic(), identity)
        return identity

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()

    def forget(self, key_id: str) -> None:
        """Drop cached answers for ``key_id`` (after it was revoked or rotated here)."""
        for presented in [p for p in self._cache if key_id_of(p) == key_id]:
            del self._cache[presented]


def has_scope(identity: ApiKeyIdentity, scope: str) -> bool:
    """True when the key holds ``scope`` (``admin`` holds every scope)."""
    return scope in identity.scopes or "admin" in identity.scopes


class Authenticator:
    def __init__(self, dsn: str) -> None:
        self.keys = KeyChecker(dsn)
        self.limits = RateLimiter()

    async def require(self, request: Request, scope: str) -> ApiKeyIdentity:
        """The caller's identity, or an :class:`ApiError` (401, 403, 429, 503)."""
        header = request.headers.get("authorization", "")
        scheme, _, presented = header.partition(" ")
        if scheme.lower() != "bearer" or not presented:
            raise ApiError(401, "unauthorized", "send 'Authorization: Bearer <API key>'",
                           headers={"WWW-Authenticate": "Bearer"})
        try:
            identity = await self.keys.identify(presented.strip())
        except psycopg.OperationalError:
            raise ApiError(503, "unavailable", "key store unavailable; retry shortly",
                           headers={"Retry-After": "5"}) from None
        if identity is not None and identity.expires_at is not None and (
            identity.expires_at <= datetime.now(UTC)
        ):
            self.keys.forget(identity.key_id)
            identity = None
        if identity is None:
            raise ApiError(401, "unauthorized", "the API key is unknown, expired or revoked",
                           headers={"WWW-Authenticate": "Bearer"})
        wait = self.limits.retry_after(identity.key_id, identity.rate_per_second,
                                       identity.burst, time.monotonic())
        if wait:
            raise ApiError(429, "rate_limited",
                           f"this key allows {identity.rate_per_second:g} requests per second "
                           f"(bursts of {identity.burst}); retry after {wait}s",
                           headers={"Retry-After": str(wait)})
        if not has_scope(identity, scope):
            raise ApiError(403, "forbidden", f"the API key lacks the '{scope}' scope")
        return identity

    def close(self) -> None:
        self.keys.close()
