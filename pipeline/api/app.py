"""The FastAPI application: ``POST /v1/events`` and health.

Bodies are read with a hard byte cap before parsing, keys are checked against
their SHA-256 in PostgreSQL (verified keys are cached for a short time), and
the answer comes only after the broker acknowledged every record.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from pipeline.api.batch import BatchRejected, check_batch, to_records
from pipeline.api.errors import ApiError
from pipeline.contract import parse_json
from pipeline.errors import InvalidRecord
from pipeline.kafka.producer import AckedProducer, ProduceFailed
from pipeline.settings import Settings
from pipeline.storage.tenants import ApiKeyIdentity, verify_key
from pipeline.topology import load_topology

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


async def _read_capped(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "body_too_large", f"the body is {declared} bytes; limit is {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "body_too_large", f"the body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(settings: Settings) -> FastAPI:
    topology = load_topology(settings.topology_file)
    raw_topic = topology.port("normalize", "reads", "json")
    keys = KeyChecker(settings.pg_dsn.get_secret_value())
    state: dict[str, AckedProducer] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        state["producer"] = AckedProducer(settings.kafka_bootstrap)
        try:
            yield
        finally:
            await asyncio.to_thread(state["producer"].close)
            keys.close()

    app = FastAPI(title="wardstream", version="0.1.0", lifespan=lifespan)

    @app.exception_handler(ApiError)
    async def on_api_error(_: Request, exc: ApiError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return ApiError(exc.status_code, code, str(exc.detail)).response()

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": ["(request)"], "msg": "invalid"}
        field = ".".join(str(p) for p in first["loc"])
        return ApiError(400, "bad_request", str(first["msg"]), field=field).response()

    async def authenticate(request: Request, scope: str) -> ApiKeyIdentity:
        header = request.headers.get("authorization", "")
        scheme, _, presented = header.partition(" ")
        if scheme.lower() != "bearer" or not presented:
            raise ApiError(401, "unauthorized", "send 'Authorization: Bearer <API key>'",
                           headers={"WWW-Authenticate": "Bearer"})
        try:
            identity = await keys.identify(presented.strip())
        except psycopg.OperationalError:
            raise ApiError(503, "unavailable", "key store unavailable; retry shortly",
                           headers={"Retry-After": "5"}) from None
        if identity is None:
            raise ApiError(401, "unauthorized", "the API key is unknown or revoked",
                           headers={"WWW-Authenticate": "Bearer"})
        if scope not in identity.scopes and "admin" not in identity.scopes:
            raise ApiError(403, "forbidden", f"the API key lacks the '{scope}' scope")
        return identity

    @app.get("/healthz")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/events", status_code=202)
    async def ingest(request: Request) -> dict[str, Any]:
        identity = await authenticate(request, "ingest")
        body = await _read_capped(request, settings.api_max_body_bytes)
        try:
            parsed = parse_json(body, max_bytes=settings.api_max_body_bytes)
        except InvalidRecord as exc:
            first = exc.first
            raise ApiError(400, "malformed_body", first.message, field=first.field) from None
        try:
            events = check_batch(
                parsed,
                tenant_id=identity.tenant_id,
                now=datetime.now(UTC),
                max_items=settings.api_max_batch,
                max_future=timedelta(seconds=settings.api_max_future_skew_seconds),
            )
        except BatchRejected as exc:
            raise ApiError(exc.status, exc.code, exc.message, errors=exc.items) from None
        try:
            await state["producer"].send_all(
                raw_topic, to_records(events), settings.api_produce_timeout_seconds
            )
        except ProduceFailed as exc:
            raise ApiError(503, "unavailable", str(exc),
                           headers={"Retry-After": str(exc.retry_after)}) from None
        return {"accepted": [e.event_id for e in events], "count": len(events)}

    return app
