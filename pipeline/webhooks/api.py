"""Webhook endpoints over HTTP, for a tenant's own endpoints (``admin`` scope).

``POST /v1/webhooks`` registers one (the signing secret is in the answer once),
``GET /v1/webhooks`` lists them (never a secret), ``DELETE /v1/webhooks/{id}``
stops deliveries to it at once, ``GET /v1/webhooks/deliveries`` lists recent
deliveries (``?status=dead`` for the dead letters), and
``POST /v1/webhooks/deliveries/{id}/replay`` sends a dead delivery again with
the same id and payload. Another tenant's endpoint or delivery is answered as
not found, so ids cannot be probed.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import psycopg
from fastapi import APIRouter, Request, Response

from pipeline.api.auth import Authenticator
from pipeline.api.db import Database
from pipeline.api.door import invalid_request, json_body
from pipeline.api.errors import ApiError
from pipeline.contract.fields import Text, wrong_type
from pipeline.errors import FieldError, InvalidRecord
from pipeline.settings import Settings
from pipeline.webhooks import store
from pipeline.webhooks.addresses import MAX_URL_LENGTH, check_target
from pipeline.webhooks.errors import RefusedTarget
from pipeline.webhooks.sealing import SecretBox, new_secret

SCOPE = "admin"
MAX_BODY = 8 * 1024
_FIELDS = {"url": Text(1, MAX_URL_LENGTH), "description": Text(0, 200)}
_STATUSES = ("pending", "delivered", "dead")
REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["url"],
    "properties": {
        "url": {"type": "string", "maxLength": MAX_URL_LENGTH,
                "description": "an https:// URL whose host resolves only to public addresses"},
        "description": {"type": "string", "maxLength": 200},
    },
}
_OPENAPI = {
    "summary": "Register a webhook endpoint (the signing secret is answered once)",
    "requestBody": {"required": True,
                    "content": {"application/json": {"schema": REQUEST_SCHEMA}}},
}


def endpoint_request(body: Any) -> tuple[str, str]:
    """(url, description) from a registration body; :class:`InvalidRecord` naming fields."""
    if not isinstance(body, dict):
        raise InvalidRecord([wrong_type("(body)", "a JSON object", body)])
    errors = [FieldError(str(name)[:64], "unknown_field", "is not a field here")
              for name in body if name not in _FIELDS]
    if body.get("url") is None:
        errors.append(FieldError("url", "required", "is required"))
    for name, checker in _FIELDS.items():
        if body.get(name) is not None:
            errors.extend(checker.check(body[name], name))
    if errors:
        raise InvalidRecord(errors)
    return str(body["url"]), str(body.get("description") or "")


def _endpoint_json(endpoint: store.Endpoint) -> dict[str, Any]:
    return {"endpoint_id": endpoint.endpoint_id, "url": endpoint.url,
            "description": endpoint.description, "events": ["alert.raised"],
            "created_at": endpoint.created_at.isoformat()}


def _delivery_json(d: store.Delivery) -> dict[str, Any]:
    def at(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return {"delivery_id": d.delivery_id, "endpoint_id": d.endpoint_id, "alert_id": d.alert_id,
            "event": d.event, "status": d.status, "attempts": d.attempts, "replays": d.replays,
            "next_attempt_at": at(d.next_attempt_at) if d.status == "pending" else None,
            "last_status_code": d.last_status_code, "last_error": d.last_error,
            "delivered_at": at(d.delivered_at), "dead_at": at(d.dead_at),
            "created_at": at(d.created_at)}


def webhook_routes(auth: Authenticator, settings: Settings) -> APIRouter:
    router = APIRouter()
    run_db = Database(settings.pg_dsn.get_secret_value(), "webhook store").run
    allow_private = settings.webhook_allow_private

    def box() -> SecretBox:
        if settings.pseudonym_master_key is None:
            raise ApiError(503, "not_configured", "WARDSTREAM_PSEUDONYM_MASTER_KEY is not set "
                           "for the API, so webhook secrets cannot be sealed")
        return SecretBox(settings.master_key())

    @router.post("/v1/webhooks", status_code=201, openapi_extra=_OPENAPI)
    async def register(request: Request) -> dict[str, Any]:
        identity = await auth.require(request, SCOPE)
        tenant = identity.tenant_id
        try:
            url, description = endpoint_request(await json_body(request, MAX_BODY))
        except InvalidRecord as exc:
            raise invalid_request(exc) from None
        try:
            await asyncio.to_thread(check_target, url, allow_private=allow_private)
        except RefusedTarget as exc:
            raise invalid_request(InvalidRecord([exc.error])) from None
        sealer = box()
        endpoint_id = store.new_endpoint_id()
        secret = new_secret()
        sealed = sealer.seal(secret, tenant_id=tenant, endpoint_id=endpoint_id)

        def insert(conn: psycopg.Connection) -> store.Endpoint:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(hashtext('webhooks/' || %s))",
                             (tenant,))
                if store.count_endpoints(conn, tenant) >= store.MAX_ENDPOINTS_PER_TENANT:
                    raise ApiError(409, "limit_reached", "a tenant may have at most "
                                   f"{store.MAX_ENDPOINTS_PER_TENANT} webhook endpoints")
                return store.insert_endpoint(conn, endpoint_id, tenant, url, description,
                                             sealed)

        endpoint = await run_db(insert)
        return {**_endpoint_json(endpoint), "secret": secret,
                "note": "store the secret now: it is never shown again"}

    @router.get("/v1/webhooks")
    async def list_all(request: Request) -> dict[str, Any]:
        identity = await auth.require(request, SCOPE)
        endpoints = await run_db(lambda conn: store.list_endpoints(conn, identity.tenant_id))
        return {"endpoints": [_endpoint_json(e) for e in endpoints]}

    @router.delete("/v1/webhooks/{endpoint_id}", status_code=204)
    async def delete(endpoint_id: str, request: Request) -> Response:
        identity = await auth.require(request, SCOPE)
        deleted = await run_db(lambda conn: store.delete_endpoint(
            conn, identity.tenant_id, endpoint_id[:64], datetime.now(UTC)))
        if not deleted:
            raise ApiError(404, "not_found", "no webhook endpoint with that id",
                           field="endpoint_id")
        return Response(status_code=204)

    @router.get("/v1/webhooks/deliveries")
    async def deliveries(request: Request, status: str | None = None,
                         limit: int = 50) -> dict[str, Any]:
        identity = await auth.require(request, SCOPE)
        if status is not None and status not in _STATUSES:
            raise ApiError(422, "invalid_request", f"must be one of: {', '.join(_STATUSES)}",
                           field="status")
        if not 1 <= limit <= 500:
            raise ApiError(422, "invalid_request", "must be from 1 to 500", field="limit")
        found = await run_db(lambda conn: store.list_deliveries(
            conn, identity.tenant_id, status, limit))
        return {"deliveries": [_delivery_json(d) for d in found]}

    @router.post("/v1/webhooks/deliveries/{delivery_id}/replay", status_code=202)
    async def replay(delivery_id: str, request: Request) -> dict[str, Any]:
        identity = await auth.require(request, SCOPE)
        answer = await run_db(lambda conn: store.replay(
            conn, delivery_id[:64], identity.tenant_id, datetime.now(UTC)))
        if answer == "not_found":
            raise ApiError(404, "not_found", "no webhook delivery with that id",
                           field="delivery_id")
        if answer == "not_dead":
            raise ApiError(409, "not_dead", "only dead deliveries can be replayed",
                           field="delivery_id")
        if answer == "endpoint_deleted":
            raise ApiError(409, "endpoint_deleted", "the delivery's endpoint was deleted",
                           field="delivery_id")
        return {"delivery_id": delivery_id, "status": "pending"}

    return router
