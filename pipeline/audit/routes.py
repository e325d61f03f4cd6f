"""Audit log endpoints: the public key, the latest signed head, inclusion and consistency proofs.

- ``GET /v1/audit/public-key`` (no key needed): the Ed25519 key that signs
  every tenant's tree heads. Publish it elsewhere too; a verifier should not
  take it only from the service it checks.
- ``GET /v1/audit/head`` (``read``): the latest signed head of the key's tenant.
- ``GET /v1/audit/proof/inclusion?seq=&size=`` (``read``): the record at
  ``seq`` and its audit path in the tree of ``size`` records, with the signed
  head of that size.
- ``GET /v1/audit/proof/consistency?old=&new=`` (``read``): that the tree of
  ``new`` records extends the tree of ``old``, with both signed heads.

The tenant is always the key's own: there is no tenant parameter, so another
tenant's log cannot be named. Proof sizes must be sizes of signed heads of
that tenant (``size``/``new`` default to the latest), because a proof is only
worth something against a root the service has signed. Proof bodies are the
documents ``wardstream audit prove`` writes, so ``wardstream audit verify
EXPORT --proof`` checks them as well. Without ``WARDSTREAM_AUDIT_SIGNING_KEY``
every endpoint answers ``503 not_configured`` naming it.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, Final, TypeVar

import psycopg
from fastapi import APIRouter, Request

from pipeline.api.auth import Authenticator
from pipeline.api.db import Database
from pipeline.api.errors import ApiError
from pipeline.audit import store
from pipeline.audit.errors import AuditError
from pipeline.audit.export import consistency_document, inclusion_document
from pipeline.audit.signing import HEAD_CONTEXT, TreeHead, public_key_bytes, signing_key
from pipeline.errors import ConfigError
from pipeline.settings import Settings

T = TypeVar("T")
SCOPE: Final = "read"
_MAX_INT: Final = 2**63 - 1


def _int_param(name: str, description: str, required: bool) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": {"type": "integer", "minimum": 0, "maximum": _MAX_INT}}


_HEAD_DOC: Final = ("tenant, tree_size, root_hash (hex), timestamp_ms, signature (base64): "
                    "Ed25519 over the canonical statement of docs/audit.md")
_OPENAPI_KEY: Final = {"summary": "The public key that signs audit tree heads (no key needed)"}
_OPENAPI_HEAD: Final = {"summary": "The latest signed tree head of the key's tenant",
                        "description": _HEAD_DOC}
_OPENAPI_INCLUSION: Final = {
    "summary": "Inclusion proof of one audit record in a signed tree",
    "parameters": [
        _int_param("seq", "the record's sequence number", True),
        _int_param("size", "a signed head's tree size (default: the latest)", False)],
}
_OPENAPI_CONSISTENCY: Final = {
    "summary": "Consistency proof between two signed trees of the key's tenant",
    "parameters": [
        _int_param("old", "the earlier signed head's tree size", True),
        _int_param("new", "the later signed head's tree size (default: the latest)", False)],
}


def not_configured() -> ApiError:
    return ApiError(503, "not_configured", "WARDSTREAM_AUDIT_SIGNING_KEY is not set for the API, "
                    "so no audit tree head can be signed or shown")


def head_body(head: TreeHead, public_key: bytes) -> dict[str, Any]:
    return {"tenant": head.tenant, "tree_size": head.tree_size,
            "root_hash": head.root_hash.hex(), "timestamp_ms": head.timestamp_ms,
            "signature": base64.b64encode(head.signature).decode("ascii"),
            "public_key": base64.b64encode(public_key).decode("ascii")}


def _query_int(request: Request, name: str) -> int | None:
    """The query parameter ``name`` as a non-negative integer; None when absent."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19 or int(raw) > _MAX_INT:
        raise ApiError(400, "invalid_parameter", f"{name} must be a non-negative integer",
                       field=name)
    return int(raw)


def _required_int(request: Request, name: str) -> int:
    value = _query_int(request, name)
    if value is None:
        raise ApiError(400, "invalid_parameter", f"{name} is required", field=name)
    return value


Signed = tuple[TreeHead, bytes]


def _signed(conn: psycopg.Connection, tenant: str, size: int | None, field: str) -> Signed:
    """The tenant's signed head of ``size`` (the latest when None) and its key; 404 naming
    ``field`` when there is none."""
    if size is None:
        latest = store.latest_head(conn, tenant)
        if latest is None:
            raise ApiError(404, "not_found", "no signed tree head yet for this tenant",
                           field=field)
        return latest
    found = store.head_of_size(conn, tenant, size)
    if found is None:
        raise ApiError(404, "not_found", f"no signed tree head of size {size} for this "
                       "tenant (see GET /v1/audit/head)", field=field)
    return found


def _audit_errors(work: Callable[[psycopg.Connection], T]) -> Callable[[psycopg.Connection], T]:
    """``work`` with an AuditError (the log shorter than a signed head: an incident) as 500."""
    def run(conn: psycopg.Connection) -> T:
        try:
            return work(conn)
        except AuditError as exc:
            raise ApiError(500, "audit_log_inconsistent", str(exc)) from None
    return run


def audit_routes(auth: Authenticator, settings: Settings) -> APIRouter:
    router = APIRouter()
    db = Database(settings.pg_dsn.get_secret_value(), "audit log")

    def public_key() -> bytes:
        if settings.audit_signing_key is None:
            raise not_configured()
        try:
            return public_key_bytes(signing_key(settings.audit_seed()))
        except ConfigError:
            raise not_configured() from None

    @router.get("/v1/audit/public-key", openapi_extra=_OPENAPI_KEY)
    async def get_public_key() -> dict[str, Any]:
        return {"algorithm": "Ed25519", "context": HEAD_CONTEXT,
                "public_key": base64.b64encode(public_key()).decode("ascii")}

    @router.get("/v1/audit/head", openapi_extra=_OPENAPI_HEAD)
    async def get_head(request: Request) -> dict[str, Any]:
        identity = await auth.require(request, SCOPE)
        public_key()
        head, key = await db.run(lambda conn: _signed(conn, identity.tenant_id, None, "tenant"))
        return head_body(head, key)

    @router.get("/v1/audit/proof/inclusion", openapi_extra=_OPENAPI_INCLUSION)
    async def get_inclusion(request: Request) -> dict[str, Any]:
        identity = await auth.require(request, SCOPE)
        public_key()
        seq = _required_int(request, "seq")
        size = _query_int(request, "size")
        tenant = identity.tenant_id

        def prove(conn: psycopg.Connection) -> dict[str, Any]:
            head, key = _signed(conn, tenant, size, "size")
            if seq >= head.tree_size:
                raise ApiError(404, "not_found", f"no record seq {seq} in the signed tree of "
                               f"size {head.tree_size}", field="seq")
            leaf, path = store.inclusion_proof(conn, tenant, seq, head.tree_size)
            return {**inclusion_document(tenant, seq, leaf, head.tree_size, path),
                    "tree_head": head_body(head, key)}

        return await db.run(_audit_errors(prove))

    @router.get("/v1/audit/proof/consistency", openapi_extra=_OPENAPI_CONSISTENCY)
    async def get_consistency(request: Request) -> dict[str, Any]:
        identity = await auth.require(request, SCOPE)
        public_key()
        old = _required_int(request, "old")
        new = _query_int(request, "new")
        tenant = identity.tenant_id

        def prove(conn: psycopg.Connection) -> dict[str, Any]:
            new_head, new_key = _signed(conn, tenant, new, "new")
            if old > new_head.tree_size:
                raise ApiError(400, "invalid_parameter", f"old ({old}) is larger than new "
                               f"({new_head.tree_size})", field="old")
            old_head = _signed(conn, tenant, old, "old") if old > 0 else None
            path = store.consistency_proof(conn, tenant, old, new_head.tree_size)
            return {**consistency_document(tenant, old, new_head.tree_size, path),
                    "old_tree_head": None if old_head is None else head_body(*old_head),
                    "tree_head": head_body(new_head, new_key)}

        return await db.run(_audit_errors(prove))

    return router
