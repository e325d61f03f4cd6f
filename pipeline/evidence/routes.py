"""Evidence endpoints: read a package with a stated reason, hold it, extend its clock.

- ``GET /v1/evidence/{package_id}?reason=...`` (``read``): the package, its
  integrity and retention; the read is logged in ``evidence.access_log`` and
  the tenant's audit log before anything is returned.
- ``POST /v1/evidence/{package_id}/hold`` (``admin``): ``{"reference"}``.
- ``POST /v1/evidence/{package_id}/release`` (``admin``): ``{"reference"}``, ends a hold.
- ``POST /v1/evidence/{package_id}/extend`` (``admin``): ``{"days", "reference"}``.

Every call is filtered on the key's tenant: another tenant's package answers
404 exactly like an unknown one, and nothing is logged for it. A malformed
package id is ``400 invalid_parameter``; a missing, blank or oversized reason
and a bad body are ``422 invalid_request``; each names the field.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

import psycopg
from fastapi import APIRouter, Request

from pipeline.api.auth import Authenticator
from pipeline.api.db import Database
from pipeline.api.door import json_body
from pipeline.api.errors import ApiError
from pipeline.evidence import requests
from pipeline.evidence.errors import InvalidEvidenceRequest, PackageNotFound
from pipeline.evidence.store import (
    RetentionChange,
    extend_retention,
    place_hold,
    read_package,
    release_hold,
)
from pipeline.settings import Settings

MAX_BODY: Final = 4096
_REASON_PARAM: Final = {
    "name": "reason", "in": "query", "required": True,
    "schema": {"type": "string", "minLength": 1, "maxLength": requests.MAX_REASON},
    "description": "why the package is read; logged with the read and in the audit log",
}
_REFERENCE = {"type": "string", "minLength": 1, "maxLength": requests.MAX_REFERENCE,
              "description": "the law-enforcement request (case or letter reference)"}
_HOLD_OPENAPI: Final = {
    "summary": "Put an evidence package under legal hold",
    "requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "additionalProperties": False, "required": ["reference"],
        "properties": {"reference": _REFERENCE}}}}},
}
_RELEASE_OPENAPI: Final = {**_HOLD_OPENAPI, "summary": "Release an evidence package's hold"}
_EXTEND_OPENAPI: Final = {
    "summary": "Extend an evidence package's retention clock",
    "requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "additionalProperties": False, "required": ["days", "reference"],
        "properties": {"days": {"type": "integer", "minimum": 1,
                                "maximum": requests.MAX_EXTENSION_DAYS},
                       "reference": _REFERENCE}}}}},
}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _refused(exc: InvalidEvidenceRequest, status: int = 422) -> ApiError:
    code = "invalid_parameter" if status == 400 else "invalid_request"
    return ApiError(status, code, exc.message, field=exc.field, errors=[exc.as_dict()])


def _not_found(exc: PackageNotFound) -> ApiError:
    return ApiError(404, "not_found", "no evidence package with this id among this tenant's "
                    "packages", field="package_id")


def _change_body(change: RetentionChange) -> dict[str, Any]:
    return {"package_id": change.package_id, "retain_until": _iso(change.retain_until),
            "on_hold": change.on_hold, "action_id": change.action_id}


def evidence_routes(auth: Authenticator, settings: Settings) -> APIRouter:
    router = APIRouter()
    db = Database(settings.pg_dsn.get_secret_value(), "evidence store")

    def checked_id(value: str) -> str:
        try:
            return requests.package_id(value)
        except InvalidEvidenceRequest as exc:
            raise _refused(exc, 400) from None

    @router.get("/v1/evidence/{package_id}", openapi_extra={
        "summary": "Read an evidence package (the reason is logged)",
        "parameters": [_REASON_PARAM]})
    async def get_package(package_id: str, request: Request) -> dict[str, Any]:
        identity = await auth.require(request, "read")
        wanted = checked_id(package_id)
        try:
            why = requests.reason(request.query_params.get("reason"))
        except InvalidEvidenceRequest as exc:
            raise _refused(exc) from None

        def read(conn: psycopg.Connection) -> dict[str, Any]:
            try:
                found = read_package(conn, identity.tenant_id, wanted, reader=identity.key_id,
                                     reason=why)
            except PackageNotFound as exc:
                raise _not_found(exc) from None
            return {
                "package_id": found.package_id, "access_id": found.access_id,
                "trigger": {"kind": found.trigger, "id": found.trigger_id},
                "subject": found.actor, "incident_at": _iso(found.incident_at),
                "built_at": _iso(found.built_at), "jurisdiction": found.jurisdiction,
                "retain_until": _iso(found.retain_until), "on_hold": found.on_hold,
                "integrity": found.integrity.as_dict(), "package": found.document(),
            }

        return await db.run(read)

    async def hold_change(package_id: str, request: Request, release: bool) -> dict[str, Any]:
        identity = await auth.require(request, "admin")
        wanted = checked_id(package_id)
        body = await json_body(request, MAX_BODY)
        try:
            reference = requests.hold_body(body)
        except InvalidEvidenceRequest as exc:
            raise _refused(exc) from None
        act = release_hold if release else place_hold

        def change(conn: psycopg.Connection) -> RetentionChange:
            try:
                return act(conn, identity.tenant_id, wanted, by=identity.key_id,
                           reference=reference)
            except PackageNotFound as exc:
                raise _not_found(exc) from None

        return _change_body(await db.run(change))

    @router.post("/v1/evidence/{package_id}/hold", openapi_extra=_HOLD_OPENAPI)
    async def hold(package_id: str, request: Request) -> dict[str, Any]:
        return await hold_change(package_id, request, release=False)

    @router.post("/v1/evidence/{package_id}/release", openapi_extra=_RELEASE_OPENAPI)
    async def release(package_id: str, request: Request) -> dict[str, Any]:
        return await hold_change(package_id, request, release=True)

    @router.post("/v1/evidence/{package_id}/extend", openapi_extra=_EXTEND_OPENAPI)
    async def extend(package_id: str, request: Request) -> dict[str, Any]:
        identity = await auth.require(request, "admin")
        wanted = checked_id(package_id)
        body = await json_body(request, MAX_BODY)
        try:
            reference, days = requests.extend_body(body)
        except InvalidEvidenceRequest as exc:
            raise _refused(exc) from None

        def change(conn: psycopg.Connection) -> RetentionChange:
            try:
                return extend_retention(conn, identity.tenant_id, wanted, by=identity.key_id,
                                        reference=reference, days=days)
            except PackageNotFound as exc:
                raise _not_found(exc) from None

        return _change_body(await db.run(change))

    return router
