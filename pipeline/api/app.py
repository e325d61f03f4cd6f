"""The FastAPI application: ``POST /v1/events``, key management, reads, health.

Bodies are read with a hard byte cap before parsing, keys are checked against
their SHA-256 in PostgreSQL (``pipeline.api.auth``), every key is rate
limited, and an ingest answer comes only after the broker acknowledged every
record.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from pipeline.api.auth import Authenticator
from pipeline.api.batch import BatchRejected, check_batch, to_records
from pipeline.api.errors import ApiError
from pipeline.api.keys import key_routes
from pipeline.api.reads import read_routes
from pipeline.contract import parse_json
from pipeline.errors import InvalidRecord
from pipeline.kafka.producer import AckedProducer, ProduceFailed
from pipeline.settings import Settings
from pipeline.topology import load_topology


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
    auth = Authenticator(settings.pg_dsn.get_secret_value())
    state: dict[str, AckedProducer] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        state["producer"] = AckedProducer(settings.kafka_bootstrap)
        try:
            yield
        finally:
            await asyncio.to_thread(state["producer"].close)
            auth.close()

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

    app.include_router(key_routes(auth, settings.pg_dsn.get_secret_value()))
    app.include_router(read_routes(auth, settings))

    @app.get("/healthz")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/events", status_code=202)
    async def ingest(request: Request) -> dict[str, Any]:
        identity = await auth.require(request, "ingest")
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
