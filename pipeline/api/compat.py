"""The original integration guide's paths, as thin mappings over ingest and the reads.

- ``POST /api/v1/events/message`` (``ingest``): a message, mapped onto a contract
  ``message`` event and produced through the same door as ``POST /v1/events``;
- ``GET /api/v1/sessions/{session_id}/analysis`` (``read``): the pair analysis of
  every pair that talked in that conversation (``session_id`` is the platform's
  conversation id);
- ``POST /api/v1/reports/generate`` (``read`` and ``moderate``): a reviewer
  confirmed the conversation ``session_id``; the newest preserved evidence
  package covering it is read (logged, with the reason), the CyberTipline
  report is built, validated and stored as ``built`` (pipeline/ncmec/generate.py);
  filing stays ``wardstream ncmec submit``. 201 with the report; the same
  session and reviewer give the same ``report_key``;
- :class:`ClientLibrary` answers ``POST /v1/events`` bodies in the client
  library's shape (``pipeline.api.mapping.is_client_library_shape``) with the
  actor's newest stored score.

The bodies are mapped in :mod:`pipeline.api.mapping` (pure); docs/integration.md
has the mapping tables.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg
from fastapi import APIRouter, Request

from pipeline.api import mapping, read_params
from pipeline.api.auth import Authenticator, has_scope
from pipeline.api.db import Database
from pipeline.api.door import EventDoor, event_id_for, invalid_request, json_body
from pipeline.api.errors import ApiError
from pipeline.api.mapping import CLIENT_EVENT_TYPES, IDEMPOTENCY_HEADER
from pipeline.api.pseudonyms import not_configured, pseudonymizer_of
from pipeline.api.read_params import BadParameter
from pipeline.api.reads import PairAnalyser
from pipeline.errors import ConfigError, InvalidRecord
from pipeline.ncmec.errors import InputChanged, InvalidReportInput
from pipeline.ncmec.generate import Generated, NoPackage, generate_for_conversation
from pipeline.pseudonym import Pseudonymizer
from pipeline.settings import Settings
from pipeline.storage.conversations import conversation_pairs
from pipeline.storage.score_reads import latest_score, score_history
from pipeline.storage.tenants import ApiKeyIdentity

MAX_MESSAGE_BODY = 256 * 1024
MAX_REPORT_BODY = 4 * 1024
MAX_SESSION_PAIRS = 20
_SESSION_NOTE = ("one analysis per pair that exchanged messages or media in this conversation; "
                 "each covers the pair's stored events in every conversation")

_ID = {"type": "string", "minLength": 1, "maxLength": 256}
_TIME = {"oneOf": [{"type": "string", "format": "date-time"}, {"type": "number"}],
         "description": "RFC 3339 with an offset, or Unix seconds (milliseconds from 1e11)"}
MESSAGE_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False,
    "required": ["platform_user_id", "session_id", "timestamp", "recipient_ids"],
    "properties": {
        "platform_user_id": _ID, "session_id": _ID, "timestamp": _TIME,
        "content": {"type": "string", "maxLength": 20_000},
        "recipient_ids": {"type": "array", "items": _ID, "minItems": 1, "maxItems": 100},
        "metadata": {"type": "object", "additionalProperties": False, "properties": {
            "ip_address": {"type": "string"}, "user_agent": {"type": "string",
                                                              "maxLength": 1024}}},
    },
}
REPORT_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["session_id", "confirmed_by"],
    "properties": {
        "session_id": {**_ID, "description": "the platform's conversation id"},
        "confirmed_by": {**_ID, "description": "the platform's id of the reviewer who "
                                               "confirmed the report"}},
}
REPORT_ANSWER: dict[str, Any] = {
    "description": "the report, built and validated, stored as built (not filed)",
    "content": {"application/json": {"schema": {
        "type": "object",
        "required": ["report_key", "state", "subject", "session_id", "package_id",
                     "confirmation_id", "summary", "xml", "xml_sha256", "files"],
        "properties": {
            "report_key": {"type": "string"},
            "state": {"type": "string", "description": "built until an operator submits it"},
            "subject": {"type": "string", "description": "the reported user's pseudonym"},
            "session_id": {"type": "string"}, "package_id": {"type": "string"},
            "confirmation_id": {"type": "string"},
            "summary": {"type": "string", "description": "the reviewer's page (Markdown)"},
            "xml": {"type": "string"}, "xml_sha256": {"type": "string"},
            "files": {"type": "array", "items": {"type": "object", "properties": {
                "name": {"type": "string"}, "sha256": {"type": "string"},
                "bytes": {"type": "integer"}}}}}}}},
}
CLIENT_EVENT_SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False,
    "required": ["idempotency_key", "tenant_id", "actor_external_id_hash", "event_type",
                 "timestamp"],
    "properties": {
        "idempotency_key": {"type": "string", "minLength": 1,
                            "maxLength": mapping.MAX_IDEMPOTENCY_KEY},
        "tenant_id": {"type": "string", "maxLength": 64}, "conversation_id": _ID,
        "actor_external_id_hash": _ID,
        "target_actor_external_id_hashes": {"type": "array", "items": _ID},
        "event_type": {"type": "string", "enum": list(CLIENT_EVENT_TYPES)},
        "timestamp": _TIME, "content": {"type": "string", "maxLength": 20_000},
        "metadata": {"type": "object", "additionalProperties": False, "properties": {
            "recipient_age_bands": {"oneOf": [{"type": "array"}, {"type": "object"}]},
            "recipient_timezone": {"type": "string"}}},
    },
}


def _body(schema: dict[str, Any], summary: str, idempotent: bool = False) -> dict[str, Any]:
    extra: dict[str, Any] = {
        "summary": summary,
        "requestBody": {"required": True, "content": {"application/json": {"schema": schema}}},
    }
    if idempotent:
        extra["parameters"] = [{"name": IDEMPOTENCY_HEADER, "in": "header", "required": False,
                                "schema": {"type": "string"},
                                "description": "the same key gives the same event_id"}]
    return extra


def _score_answer(conn: psycopg.Connection, tenant_id: str, actor: str) -> dict[str, Any]:
    """The client library's score fields from the actor's newest stored score."""
    latest = latest_score(conn, tenant_id, actor)
    if latest is None:
        return {"current_score": 0, "tier": "trusted", "delta": 0, "signals": []}
    before = score_history(conn, tenant_id, actor, 1, (latest.scored_at, latest.score_id))
    previous = before[0].score if before else 0.0
    return {
        "current_score": min(100, max(0, round(latest.score))),
        "tier": latest.tier.lower(),
        "delta": round(latest.score - previous),
        "signals": [d.signal for d in sorted(latest.drivers, key=lambda d: -d.contribution)],
    }


class ClientLibrary:
    """Answers ``POST /v1/events`` bodies in the client library's shape."""

    def __init__(self, settings: Settings, door: EventDoor) -> None:
        self._door = door
        self._db = Database(settings.pg_dsn.get_secret_value(), "score store")
        self._pseudonyms = pseudonymizer_of(settings)

    async def answer(self, identity: ApiKeyIdentity, body: Any) -> dict[str, Any]:
        if not has_scope(identity, "read"):
            raise ApiError(403, "forbidden", "this body shape is answered with the actor's "
                           "score, so the API key needs the 'read' scope as well as 'ingest'")
        if self._pseudonyms is None:
            raise not_configured()
        try:
            wanted = mapping.client_event(body)
        except InvalidRecord as exc:
            raise invalid_request(exc) from None
        if wanted.tenant_id != identity.tenant_id:
            raise ApiError(403, "tenant_mismatch", "is not the tenant this API key belongs to",
                           field="tenant_id")
        events = self._door.check_mapped(wanted.mapped, identity.tenant_id)
        await self._door.produce(events)
        actor = self._pseudonyms.pseudonym(identity.tenant_id, "user",
                                           str(events[0].fields["actor_id"]))
        score = await self._db.run(lambda conn: _score_answer(conn, identity.tenant_id, actor))
        return {"event_id": events[0].event_id, **score}


def _session_analysis(conn: psycopg.Connection, tenant_id: str, session_id: str,
                      pseudonyms: Pseudonymizer, analyse: PairAnalyser) -> dict[str, Any]:
    conversation = pseudonyms.pseudonym(tenant_id, "conversation", session_id)
    pairs, truncated = conversation_pairs(conn, tenant_id, conversation, MAX_SESSION_PAIRS)
    analyses = [body for a, b in pairs if (body := analyse(conn, tenant_id, a, b)) is not None]
    if not analyses:
        raise ApiError(404, "not_found", "no stored messages in this session among this "
                       "tenant's events", field="session_id")
    return {"session_id": session_id, "conversation": conversation, "pairs": analyses,
            "truncated": truncated, "note": _SESSION_NOTE}


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _report_answer(built: Generated, session_id: str) -> dict[str, Any]:
    report = built.report
    return {
        "report_key": built.row.report_key, "state": built.row.state,
        "subject": report.reported.subject, "session_id": session_id,
        "package_id": report.package_id, "confirmation_id": report.confirmation_id,
        "summary": built.summary, "xml": built.xml.decode("utf-8"),
        "xml_sha256": built.row.xml_sha256.hex(),
        "files": [{"name": a.filename, "sha256": a.sha256, "bytes": len(a.content)}
                  for a in report.attachments],
    }


def compat_routes(auth: Authenticator, settings: Settings, door: EventDoor,
                  analyser: PairAnalyser) -> APIRouter:
    router = APIRouter(tags=["compatibility"])
    db = Database(settings.pg_dsn.get_secret_value(), "event store")
    pseudonyms = pseudonymizer_of(settings)

    @router.post("/api/v1/events/message", status_code=202,
                 openapi_extra=_body(MESSAGE_SCHEMA, "A message (integration guide shape)",
                                     idempotent=True))
    async def message(request: Request) -> dict[str, Any]:
        identity = await auth.require(request, "ingest")
        body = await json_body(request, MAX_MESSAGE_BODY)
        event_id = event_id_for(request, identity.tenant_id, "msg")
        try:
            mapped = mapping.compat_message(body, tenant_id=identity.tenant_id,
                                            event_id=event_id)
        except InvalidRecord as exc:
            raise invalid_request(exc) from None
        events = door.check_mapped(mapped, identity.tenant_id)
        await door.produce(events)
        return {"event_id": events[0].event_id}

    @router.get("/api/v1/sessions/{session_id}/analysis")
    async def session_analysis(session_id: str, request: Request) -> dict[str, Any]:
        identity = await auth.require(request, "read")
        try:
            given = read_params.user_ref(session_id, "session_id")
        except BadParameter as exc:
            raise ApiError(400, "invalid_parameter", exc.message, field=exc.field) from None
        if pseudonyms is None:
            raise not_configured()
        return await db.run(lambda conn: _session_analysis(conn, identity.tenant_id, given,
                                                           pseudonyms, analyser))

    @router.post("/api/v1/reports/generate", status_code=201, openapi_extra={
        **_body(REPORT_SCHEMA, "Build an NCMEC report from a confirmed conversation's evidence"),
        "responses": {"201": REPORT_ANSWER}})
    async def generate_report(request: Request) -> dict[str, Any]:
        identity = await auth.require(request, "moderate")
        if not has_scope(identity, "read"):
            raise ApiError(403, "forbidden", "building a report reads an evidence package and "
                           "answers its contents, so the API key needs the 'read' scope as "
                           "well as 'moderate'")
        try:
            wanted = mapping.report_request(await json_body(request, MAX_REPORT_BODY))
        except InvalidRecord as exc:
            raise invalid_request(exc) from None
        if pseudonyms is None:
            raise not_configured()
        tenant = identity.tenant_id
        conversation = pseudonyms.pseudonym(tenant, "conversation", wanted.session_id)
        reviewer = pseudonyms.pseudonym(tenant, "user", wanted.confirmed_by)

        def build(conn: psycopg.Connection) -> Generated:
            try:
                return generate_for_conversation(
                    conn, settings, tenant=tenant, conversation=conversation,
                    reviewer=reviewer, reader=identity.key_id, clock=_utc_now)
            except NoPackage:
                raise ApiError(404, "not_found", "no preserved evidence package of this "
                               "tenant covers this session", field="session_id") from None
            except InvalidReportInput as exc:
                raise ApiError(422, "report_incomplete", exc.message,
                               field=exc.field) from None
            except InputChanged as exc:
                raise ApiError(409, "report_changed", str(exc)) from None
            except ConfigError as exc:  # reporter settings missing: checked before any read
                raise ApiError(503, "not_configured", str(exc)) from None

        return _report_answer(await db.run(build), wanted.session_id)

    return router
