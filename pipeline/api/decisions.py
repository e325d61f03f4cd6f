"""``POST /v1/decisions`` (``moderate`` scope): a reviewer's decision posted back.

The decision becomes a contract ``moderation`` event, produced through the
same door as ``POST /v1/events`` (so it flows through normalize and the
actors step, which turns ``confirmed_grooming`` and ``cleared`` into labels
for the trainer), and in the same request closes the subject's open review
item of the key's tenant. Order: check, produce, then close; a failure after
producing answers 503 and the client retries with the same ``Idempotency-Key``
(the same event id, a duplicate downstream; the item closes once).

Every decision is also a ``decision`` record in the tenant's audit log
(``pipeline.audit.events.decision_record``: the reviewer's pseudonym as the
actor, the decided user and the note as commitments, record id from the
event id), appended in the same transaction that closes the item, so an item
is never closed without its record and a retry appends nothing new.

``escalated`` hands the case on: it is produced, but leaves the item open,
and an evidence package about the subject is built in the same request
(``pipeline.evidence``; keyed by the decision's event id, so a retry finds
the package built before). The answer then names it: ``evidence_package_id``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg
from fastapi import APIRouter, Request

from pipeline.api import mapping
from pipeline.api.auth import Authenticator
from pipeline.api.db import Database
from pipeline.api.door import EventDoor, event_id_for, invalid_request, json_body
from pipeline.api.errors import ApiError
from pipeline.api.mapping import CLOSING_DECISIONS, IDEMPOTENCY_HEADER
from pipeline.api.pseudonyms import not_configured, pseudonymizer_of
from pipeline.audit import store as audit_store
from pipeline.audit.events import decision_record
from pipeline.contract.spec import DECISIONS
from pipeline.errors import InvalidRecord
from pipeline.evidence.builder import build_for_escalation
from pipeline.evidence.policy import config_from_settings
from pipeline.settings import Settings
from pipeline.storage.decisions import alert_of, close_open_item, closed_by_event

SCOPE = "moderate"
MAX_BODY = 16 * 1024

_TEXT = {"type": "string", "minLength": 1, "maxLength": 256}
REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["subject", "decision", "reviewer"],
    "properties": {
        "subject": {**_TEXT, "description": "the platform's user id of the decided user"},
        "decision": {"type": "string", "enum": list(DECISIONS)},
        "reviewer": {**_TEXT, "description": "the platform's id of the reviewer"},
        "alert_id": {"type": "string", "minLength": 1, "maxLength": 128,
                     "description": "close only the item holding this alert"},
        "note": {"type": "string", "maxLength": 2000},
        "occurred_at": {"oneOf": [{"type": "string", "format": "date-time"}, {"type": "number"}],
                        "description": "when decided: RFC 3339 with an offset, or Unix seconds "
                                       "(milliseconds from 1e11); default now"},
    },
}
_OPENAPI = {
    "summary": "Post a reviewer's decision back",
    "parameters": [{"name": IDEMPOTENCY_HEADER, "in": "header", "required": False,
                    "schema": {"type": "string", "maxLength": mapping.MAX_IDEMPOTENCY_KEY},
                    "description": "the same key gives the same event_id (retries are safe)"}],
    "requestBody": {"required": True,
                    "content": {"application/json": {"schema": REQUEST_SCHEMA}}},
}


def decision_routes(auth: Authenticator, settings: Settings, door: EventDoor) -> APIRouter:
    router = APIRouter()
    db = Database(settings.pg_dsn.get_secret_value(), "review queue")
    pseudonyms = pseudonymizer_of(settings)
    evidence = config_from_settings(settings)

    @router.post("/v1/decisions", status_code=202, openapi_extra=_OPENAPI)
    async def post_decision(request: Request) -> dict[str, Any]:
        identity = await auth.require(request, SCOPE)
        if pseudonyms is None:
            raise not_configured()
        tenant = identity.tenant_id
        body = await json_body(request, MAX_BODY)
        event_id = event_id_for(request, tenant, "decision")
        try:
            wanted = mapping.decision(body, tenant_id=tenant, event_id=event_id,
                                      now=datetime.now(UTC))
        except InvalidRecord as exc:
            raise invalid_request(exc) from None
        events = door.check_mapped(wanted.mapped, tenant)
        event = events[0]
        decision = str(event.fields["decision"])
        subject = pseudonyms.pseudonym(tenant, "user", str(event.fields["subject_id"]))
        reviewer = pseudonyms.pseudonym(tenant, "user", str(event.fields["reviewer_id"]))
        note = event.fields.get("note")

        def check(conn: psycopg.Connection) -> None:
            earlier = closed_by_event(conn, tenant, event.event_id)
            if earlier is not None and (earlier.actor, earlier.decision) != (subject, decision):
                raise ApiError(409, "idempotency_conflict",
                               "this Idempotency-Key was used for another decision",
                               field=IDEMPOTENCY_HEADER)
            if wanted.alert_id is not None and not alert_of(conn, tenant, wanted.alert_id,
                                                            subject):
                raise ApiError(404, "not_found", "no alert with this id about the subject "
                               "among this tenant's alerts", field="alert_id")

        def close_and_record(conn: psycopg.Connection) -> bool:
            with conn.transaction():
                closed = decision in CLOSING_DECISIONS and close_open_item(
                    conn, tenant, subject, decision=decision, reviewer=reviewer,
                    note=None if note is None else str(note), decided_at=event.occurred_at,
                    event_id=event.event_id, alert_id=wanted.alert_id)
                audit_store.append(conn, tenant, decision_record(
                    event_id=event.event_id, reviewer=reviewer, subject=subject,
                    decision=decision, decided_at=event.occurred_at, alert_id=wanted.alert_id,
                    queue_item_closed=closed, note=None if note is None else str(note)))
                return closed

        await db.run(check)
        await door.produce(events)
        closed = await db.run(close_and_record)
        answer: dict[str, Any] = {"event_id": event.event_id, "queue_item_closed": closed}
        if decision == "escalated":
            built = await db.run(lambda conn: build_for_escalation(
                conn, evidence, tenant_id=tenant, actor=subject, event_id=event.event_id,
                escalated_at=event.occurred_at))
            answer["evidence_package_id"] = built.package_id
        return answer

    return router
