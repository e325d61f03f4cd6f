"""``POST /v1/erasure`` (``admin``): erase one user of the key's tenant; answers the receipt.

Body ``{"user_id", "reason", "requested_by"}``; a bad body is ``422
invalid_request`` naming the field (``400 malformed_body`` when not JSON).
The tenant is always the key's: no field can name another tenant, and the
user's pseudonym is derived with the key's tenant, so another tenant's user
with the same id is a different person to wardstream.
``GET /v1/erasure/{request_id}`` (``admin``) answers a stored receipt.
Kafka unreachable: ``503`` with ``Retry-After`` (nothing in PostgreSQL changed).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Final

import psycopg
from fastapi import APIRouter, Request

from pipeline.api.auth import Authenticator
from pipeline.api.db import Database
from pipeline.api.door import json_body
from pipeline.api.errors import ApiError
from pipeline.privacy.erasure import erase, stored_receipt
from pipeline.privacy.errors import (
    EvidenceFunctionsMissing,
    InvalidErasureRequest,
    KafkaUnavailable,
)
from pipeline.privacy.requests import MAX_REASON, MAX_REQUESTED_BY, erasure_request
from pipeline.settings import Settings
from pipeline.topology import load_topology

MAX_BODY: Final = 4096
_REQUEST_ID: Final = re.compile(r"^era_[0-9a-f]{32}$")
_OPENAPI: Final = {
    "summary": "Erase a user (GDPR Art. 17, COPPA deletion); answers the receipt",
    "requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "additionalProperties": False,
        "required": ["user_id", "reason", "requested_by"],
        "properties": {
            "user_id": {"type": "string", "minLength": 1, "maxLength": 256,
                        "description": "the platform's user id"},
            "reason": {"type": "string", "minLength": 1, "maxLength": MAX_REASON},
            "requested_by": {"type": "string", "minLength": 1, "maxLength": MAX_REQUESTED_BY},
        }}}}},
}


def erasure_routes(auth: Authenticator, settings: Settings) -> APIRouter:
    router = APIRouter()
    db = Database(settings.pg_dsn.get_secret_value(), "erasure store")
    topology = load_topology(settings.topology_file)

    @router.post("/v1/erasure", openapi_extra=_OPENAPI)
    async def post_erasure(request: Request) -> dict[str, Any]:
        identity = await auth.require(request, "admin")
        body = await json_body(request, MAX_BODY)
        try:
            wanted = erasure_request(body)
        except InvalidErasureRequest as exc:
            raise ApiError(422, "invalid_request", exc.message, field=exc.field,
                           errors=[exc.as_dict()]) from None
        master_key = settings.master_key()

        def work(conn: psycopg.Connection) -> dict[str, Any]:
            return erase(conn, identity.tenant_id, wanted, master_key=master_key,
                         topology=topology, bootstrap=settings.kafka_bootstrap,
                         now=datetime.now(UTC),
                         kafka_timeout=settings.erasure_kafka_timeout_seconds)

        try:
            return await db.run(work)
        except KafkaUnavailable:
            raise ApiError(503, "unavailable", "Kafka unavailable; nothing was erased, retry "
                           "shortly", headers={"Retry-After": "10"}) from None
        except EvidenceFunctionsMissing as exc:
            raise ApiError(500, "not_configured", str(exc)) from None

    @router.get("/v1/erasure/{request_id}", openapi_extra={"summary": "An erasure receipt"})
    async def get_erasure(request_id: str, request: Request) -> Any:
        identity = await auth.require(request, "admin")
        if not _REQUEST_ID.match(request_id):
            raise ApiError(400, "invalid_parameter", "must be era_ followed by 32 hex digits",
                           field="request_id")
        found = await db.run(lambda conn: stored_receipt(conn, identity.tenant_id, request_id))
        if found is None:
            raise ApiError(404, "not_found", "no erasure request with this id among this "
                           "tenant's requests", field="request_id")
        return found

    return router
