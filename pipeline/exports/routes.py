"""``GET /v1/exports/{kind}?from=YYYY-MM-DD&to=YYYY-MM-DD[&format=json|md]`` (``admin``).

The tenant is the API key's. ``kind`` is ``dsa`` (statements of reasons, the
body for the DSA database's ``POST /api/v1/statements``), ``transparency`` or
``osa``. The export is logged in the tenant's audit log before it is answered;
the answer carries ``X-Export-SHA256`` and ``X-Audit-Seq``. An unknown kind, a
malformed, reversed or too long period or an unknown format is
``400 invalid_parameter`` naming the parameter.
"""

from __future__ import annotations

from typing import Any, Final

import psycopg
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from pipeline.api.auth import Authenticator
from pipeline.api.db import Database
from pipeline.api.errors import ApiError
from pipeline.exports.errors import InvalidExportRequest
from pipeline.exports.period import MAX_SPAN_DAYS, parse_period
from pipeline.exports.service import FORMATS, KINDS, Export, run_export
from pipeline.settings import Settings

SCOPE: Final = "admin"
_DATE: Final = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_OPENAPI: Final[dict[str, Any]] = {
    "summary": "A regulatory export of the key's tenant for a period (logged in the audit log)",
    "parameters": [
        {"name": "from", "in": "query", "required": True, "schema": _DATE,
         "description": "first day of the period (UTC)"},
        {"name": "to", "in": "query", "required": True, "schema": _DATE,
         "description": f"last day (UTC, included); at most {MAX_SPAN_DAYS} days after from"},
        {"name": "format", "in": "query", "required": False,
         "schema": {"type": "string", "enum": list(FORMATS), "default": "json"}},
    ],
}


def _invalid(exc: InvalidExportRequest) -> ApiError:
    return ApiError(400, "invalid_parameter", exc.message, field=exc.field,
                    errors=[exc.as_dict()])


def export_routes(auth: Authenticator, settings: Settings) -> APIRouter:
    router = APIRouter()
    db = Database(settings.pg_dsn.get_secret_value(), "export store")

    @router.get("/v1/exports/{kind}", openapi_extra=_OPENAPI)
    async def get_export(kind: str, request: Request) -> Response:
        identity = await auth.require(request, SCOPE)
        params = request.query_params
        try:
            if kind not in KINDS:
                raise InvalidExportRequest("kind", "choice", f"must be one of {', '.join(KINDS)}")
            period = parse_period(params.get("from"), params.get("to"))
            fmt = params.get("format", "json")
            if fmt not in FORMATS:
                raise InvalidExportRequest("format", "choice", "must be json or md")
        except InvalidExportRequest as exc:
            raise _invalid(exc) from None

        def work(conn: psycopg.Connection) -> Export:
            return run_export(conn, kind, identity.tenant_id, period,
                              requested_by=f"key:{identity.key_id}")

        export = await db.run(work)
        headers = {"X-Export-SHA256": export.sha256, "X-Audit-Seq": str(export.audit_seq)}
        if fmt == "md":
            return Response(export.render("md"), media_type="text/markdown; charset=utf-8",
                            headers=headers)
        return JSONResponse(export.document, headers=headers)

    return router
