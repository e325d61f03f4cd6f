"""The FastAPI application: ``POST /v1/events``, decisions, key management, reads,
the integration guide's compatibility paths, webhook endpoints, health.

Bodies are read with a hard byte cap before parsing, keys are checked against
their SHA-256 in PostgreSQL (``pipeline.api.auth``), every key is rate
limited, and an ingest answer comes only after the broker acknowledged every
record (``pipeline.api.door``, the one producing path).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from pipeline.api.auth import Authenticator
from pipeline.api.batch import BatchRejected
from pipeline.api.compat import CLIENT_EVENT_SCHEMA, ClientLibrary, compat_routes
from pipeline.api.decisions import decision_routes
from pipeline.api.door import EventDoor, json_body
from pipeline.api.errors import ApiError
from pipeline.api.keys import key_routes
from pipeline.api.mapping import is_client_library_shape
from pipeline.api.reads import PairAnalyser, read_routes
from pipeline.audit.routes import audit_routes
from pipeline.evidence.routes import evidence_routes
from pipeline.exports.routes import export_routes
from pipeline.privacy.routes import erasure_routes
from pipeline.settings import Settings
from pipeline.topology import load_topology
from pipeline.webhooks.api import webhook_routes

_EVENTS_OPENAPI: dict[str, Any] = {
    "summary": "Ingest events",
    "description": (
        "A contract event (shared/spec/events.md) or an array of 1..N of them; answers "
        "{accepted, count}. A body in the client library's shape (idempotency_key and "
        "event_type, no type) is mapped onto the contract and answered with "
        "{event_id, current_score, tier, delta, signals}; see docs/integration.md."),
    "requestBody": {"required": True, "content": {"application/json": {"schema": {"oneOf": [
        {"type": "object", "description": "a contract event", "required": ["type"]},
        {"type": "array", "items": {"type": "object"}, "minItems": 1},
        CLIENT_EVENT_SCHEMA,
    ]}}}},
}


def create_app(settings: Settings) -> FastAPI:
    topology = load_topology(settings.topology_file)
    raw_topic = topology.port("normalize", "reads", "json")
    auth = Authenticator(settings.pg_dsn.get_secret_value())
    door = EventDoor(settings, raw_topic)
    analyser = PairAnalyser(settings)
    client_library = ClientLibrary(settings, door)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        door.open()
        try:
            yield
        finally:
            await door.close()
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
    app.include_router(read_routes(auth, settings, analyser))
    app.include_router(decision_routes(auth, settings, door))
    app.include_router(compat_routes(auth, settings, door, analyser))
    app.include_router(evidence_routes(auth, settings))
    app.include_router(webhook_routes(auth, settings))
    app.include_router(erasure_routes(auth, settings))
    app.include_router(export_routes(auth, settings))
    app.include_router(audit_routes(auth, settings))

    @app.get("/healthz")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/events", status_code=202, openapi_extra=_EVENTS_OPENAPI)
    async def ingest(request: Request) -> dict[str, Any]:
        identity = await auth.require(request, "ingest")
        parsed = await json_body(request, settings.api_max_body_bytes)
        if is_client_library_shape(parsed):
            return await client_library.answer(identity, parsed)
        try:
            events = door.check(parsed, identity.tenant_id)
        except BatchRejected as exc:
            raise ApiError(exc.status, exc.code, exc.message, errors=exc.items) from None
        await door.produce(events)
        return {"accepted": [e.event_id for e in events], "count": len(events)}

    return app
