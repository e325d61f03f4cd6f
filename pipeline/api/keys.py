"""Key management over HTTP, for a tenant's own keys (``admin`` scope).

``GET /v1/keys`` lists them (never a secret), ``POST /v1/keys`` creates one
(the key is in the answer once), ``DELETE /v1/keys/{key_id}`` revokes at once,
``POST /v1/keys/{key_id}/rotate`` issues a successor and lets the old key live
for a grace period so clients switch without downtime. Another tenant's key
is answered as not found, never as forbidden, so ids cannot be probed.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from pipeline.api import key_requests
from pipeline.api.auth import Authenticator
from pipeline.api.db import Database
from pipeline.api.errors import ApiError
from pipeline.contract import parse_json
from pipeline.errors import InvalidRecord
from pipeline.storage.tenants import create_key, key_id_of, list_keys, revoke_key, rotate_key

_MAX_BODY = 4096


def key_routes(auth: Authenticator, dsn: str) -> APIRouter:
    router = APIRouter()

    run_db = Database(dsn, "key store").run

    async def body_of(request: Request) -> Any:
        raw = await request.body()
        if len(raw) > _MAX_BODY:
            raise ApiError(413, "body_too_large", f"the body exceeds {_MAX_BODY} bytes")
        if not raw.strip():
            return None
        try:
            return parse_json(raw, max_bytes=_MAX_BODY)
        except InvalidRecord as exc:
            raise ApiError(400, "malformed_body", exc.first.message,
                           field=exc.first.field) from None

    def invalid(exc: InvalidRecord) -> ApiError:
        return ApiError(422, "invalid_request", str(exc), field=exc.first.field,
                        errors=[e.as_dict() for e in exc.errors])

    @router.get("/v1/keys")
    async def list_tenant_keys(request: Request) -> dict[str, Any]:
        identity = await auth.require(request, "admin")
        keys = await run_db(lambda conn: list_keys(conn, identity.tenant_id))
        return {"keys": [
            {"key_id": k.key_id, "scopes": k.scopes, "label": k.label,
             "created_at": k.created_at.isoformat(),
             "expires_at": k.expires_at.isoformat() if k.expires_at else None,
             "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
             "rate_per_second": k.rate_per_second, "burst": k.burst}
            for k in keys
        ]}

    @router.post("/v1/keys", status_code=201)
    async def create_tenant_key(request: Request) -> dict[str, Any]:
        identity = await auth.require(request, "admin")
        try:
            wanted = key_requests.new_key(await body_of(request))
        except InvalidRecord as exc:
            raise invalid(exc) from None
        key = await run_db(lambda conn: create_key(
            conn, identity.tenant_id, wanted.scopes, wanted.label,
            rate_per_second=wanted.rate_per_second, burst=wanted.burst))
        return {"key": key, "key_id": key_id_of(key), "scopes": sorted(set(wanted.scopes)),
                "note": "store the key now: it is never shown again"}

    @router.delete("/v1/keys/{key_id}", status_code=204)
    async def revoke_tenant_key(key_id: str, request: Request) -> Response:
        identity = await auth.require(request, "admin")
        revoked = await run_db(lambda conn: revoke_key(conn, key_id[:64], identity.tenant_id))
        if not revoked:
            raise ApiError(404, "not_found", "no active key with that id", field="key_id")
        auth.keys.forget(key_id)
        return Response(status_code=204)

    @router.post("/v1/keys/{key_id}/rotate", status_code=201)
    async def rotate_tenant_key(key_id: str, request: Request) -> dict[str, Any]:
        identity = await auth.require(request, "admin")
        try:
            grace = key_requests.grace_seconds(await body_of(request))
        except InvalidRecord as exc:
            raise invalid(exc) from None
        rotated = await run_db(lambda conn: rotate_key(conn, identity.tenant_id, key_id[:64],
                                                       grace))
        if rotated is None:
            raise ApiError(404, "not_found", "no active key with that id", field="key_id")
        auth.keys.forget(key_id)
        new_key, old_expires = rotated
        return {"key": new_key, "key_id": key_id_of(new_key),
                "previous_key_id": key_id, "previous_key_expires_at": old_expires.isoformat(),
                "note": "store the key now: it is never shown again"}

    return router
