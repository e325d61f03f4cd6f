"""The audit record builders (pipeline.audit.events): ids, kinds, what is committed,
pinned leaves, the sink's choice of records, and the audit endpoints without a key."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import SecretStr

from pipeline.api.auth import Authenticator
from pipeline.api.errors import ApiError
from pipeline.audit import events
from pipeline.audit.errors import InvalidAuditRecord
from pipeline.audit.records import KINDS, AuditRecord, seal
from pipeline.audit.routes import audit_routes
from pipeline.audit.signing import HEAD_CONTEXT, public_key_bytes, signing_key
from pipeline.settings import Settings
from pipeline.storage.scores import (
    AlertRecord,
    DriverRecord,
    ScoreBatch,
    ScoreRecord,
    audit_entries,
)
from tests.unit.audit_log import fixed_salts

AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SUBJECT = "u_" + "b" * 26
REVIEWER = "u_" + "c" * 26
RAW_ID = "alice.smith@example.org"

# Persisted shapes (STYLE.md 8): a tier change and a decision as the sink and the API
# write them. Changing a builder's details changes new leaves; pin what they are.
PINNED_TIER_LEAF = (
    '{"actor":"system:risk","commitments":{"subject":"730723302f5c7d50a417e9e803a2e4aca637b24'
    'a4af011d32bd7b51656f0a3cf"},"details":{"previous_tier":"watch","score_id":'
    '"0123456789abcdef0123456789abcdef","score_x100":7126,"tier":"restrict"},'
    '"kind":"tier_change","occurred_at":"2025-03-01T12:00:00.000000Z",'
    '"record_id":"tier:0123456789abcdef0123456789abcdef","seq":4,"tenant":"acme","v":1}'
)
PINNED_DECISION_DETAILS = {"alert_id": "a1", "decision": "cleared",
                           "event_id": "decision-0f0f", "queue_item_closed": True}


def tier() -> AuditRecord:
    return events.tier_change_record(
        score_id="0123456789abcdef0123456789abcdef", subject=SUBJECT, previous_tier="watch",
        tier="restrict", score=71.255, occurred_at=AT)


def test_tier_change_leaf_is_pinned_and_commits_the_subject() -> None:
    sealed = seal("acme", 4, tier(), fixed_salts())
    assert sealed.leaf.decode() == PINNED_TIER_LEAF
    assert SUBJECT.encode() not in sealed.leaf
    assert [(c.name, c.value) for c in sealed.commitments] == [("subject", SUBJECT)]


def test_every_builder_gives_a_deterministic_id_and_its_kind() -> None:
    built = {
        "tier_change": tier(),
        "alert": events.alert_record(alert_id="a1", subject=SUBJECT, tier="critical",
                                     score=90.0, raised_at=AT),
        "decision": events.decision_record(
            event_id="decision-0f0f", reviewer=REVIEWER, subject=SUBJECT, decision="cleared",
            decided_at=AT, alert_id="a1", queue_item_closed=True, note="spoke to parents"),
        "model_deployment": events.model_deployment_record(
            version="seed-2025.1+12", parent_version="seed-2025.1+11", labels_learned=12,
            model_sha256="ab" * 32, deployed_at=AT),
        "fairness_evaluation": events.fairness_evaluation_record(
            evaluation_id="seed+12:age_bands", model_version="seed+12", passed=True,
            evaluated_at=AT, metrics={"fpr_gap": "0.012", "groups": 4}),
        "evidence_built": events.evidence_built_record(
            package_id="pkg_1", subject=SUBJECT, trigger="alert", package_sha256="cd" * 32,
            content_bytes=10, jurisdiction="US", retain_until=AT + timedelta(days=90),
            built_at=AT),
        "evidence_access": events.evidence_read_record(
            access_id=7, package_id="pkg_1", key_id="k1", subject=SUBJECT,
            reason="case review", accessed_at=AT),
        "evidence_hold": events.evidence_retention_record(
            action="hold", action_id=3, package_id="pkg_1", key_id="k1", subject=SUBJECT,
            reference="LE-1", retain_until=AT, on_hold=True, days=None, acted_at=AT),
        "evidence_extend": events.evidence_retention_record(
            action="extend", action_id=4, package_id="pkg_1", key_id="k1", subject=SUBJECT,
            reference="LE-1", retain_until=AT, on_hold=False, days=90, acted_at=AT),
        "erasure": events.erasure_record(erasure_id="er-1", scope="user", erased_at=AT,
                                         actor="system:erasure", counts={"events": 41},
                                         reference="ticket 9"),
        "export": events.export_record(export_id="ex-1", export_kind="regulator_transparency",
                                       exported_at=AT, actor="system:exports", item_count=3,
                                       content_sha256="ef" * 32, recipient="Ofcom"),
    }
    ids = {kind: record.record_id for kind, record in built.items()}
    assert ids == {
        "tier_change": "tier:0123456789abcdef0123456789abcdef", "alert": "alert:a1",
        "decision": "decision:decision-0f0f", "model_deployment": "model:seed-2025.1+12",
        "fairness_evaluation": "fairness:seed+12:age_bands",
        "evidence_built": "evidence:built:pkg_1", "evidence_access": "evidence:access:7",
        "evidence_hold": "evidence:hold:3", "evidence_extend": "evidence:extend:4",
        "erasure": "erasure:er-1", "export": "export:ex-1",
    }
    assert all(record.kind == kind for kind, record in built.items())
    assert set(built) <= set(KINDS)
    decision = built["decision"]
    assert decision.actor == REVIEWER
    assert dict(decision.details) == PINNED_DECISION_DETAILS
    assert dict(decision.personal) == {"subject": SUBJECT, "note": "spoke to parents"}
    assert built["erasure"].details["events_removed"] == 41
    assert "subject" not in built["erasure"].personal  # an erasure never names whom
    assert built["evidence_built"].details["action"] == "package_built"  # as before the kinds


def test_the_same_input_gives_the_same_record() -> None:
    assert tier() == tier()


def test_ids_that_are_not_tokens_are_hashed_into_ids() -> None:
    record = events.alert_record(alert_id="an id with spaces " + "x" * 200, subject=SUBJECT,
                                 tier="watch", score=1.0, raised_at=AT)
    assert record.record_id.startswith("alert:sha256:")
    assert len(record.record_id) <= 128


def test_raw_ids_are_refused_as_actors_and_never_reach_details() -> None:
    with pytest.raises(InvalidAuditRecord) as refused:
        events.decision_record(event_id="d-1", reviewer=RAW_ID, subject=SUBJECT,
                               decision="cleared", decided_at=AT, alert_id=None,
                               queue_item_closed=False)
    assert refused.value.field == "actor"
    decided = events.decision_record(event_id="d-1", reviewer=REVIEWER, subject=RAW_ID,
                                     decision="cleared", decided_at=AT, alert_id=None,
                                     queue_item_closed=False)
    assert RAW_ID.encode() not in seal("acme", 0, decided, fixed_salts()).leaf


def test_fairness_metrics_are_checked_like_details() -> None:
    with pytest.raises(InvalidAuditRecord):
        events.fairness_evaluation_record(evaluation_id="e1", model_version="m1", passed=False,
                                          evaluated_at=AT, metrics={"fpr_gap": 0.5})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="clashes"):
        events.fairness_evaluation_record(evaluation_id="e1", model_version="m1", passed=False,
                                          evaluated_at=AT, metrics={"passed": True})


def test_unknown_retention_action_is_refused() -> None:
    with pytest.raises(ValueError, match="action"):
        events.evidence_retention_record(action="destroy", action_id=1, package_id="pkg_1",
                                         key_id="k", subject=SUBJECT, reference="r",
                                         retain_until=AT, on_hold=False, days=None, acted_at=AT)


def _score(score_id: str, previous: str, tier_name: str) -> ScoreRecord:
    return ScoreRecord(score_id=score_id, tenant_id="acme", actor=SUBJECT, score=55.5,
                       tier=tier_name, previous_tier=previous, at_us=1_000_000, event_id="e1",
                       max_score=55.5, first_alert_at_us=None, explanation="x",
                       drivers=(DriverRecord("night", 1.0, "late"),))


def test_the_sink_audits_tier_crossings_and_alerts_only() -> None:
    batch = ScoreBatch(
        scores=[_score("s1", "trusted", "watch"), _score("s2", "watch", "watch")],
        alerts=[AlertRecord(alert_id="a1", tenant_id="acme", actor=SUBJECT, tier="restrict",
                            score=70.0, raised_at_us=2_000_000, event_id="e2", explanation="x",
                            drivers=())])
    entries = audit_entries(batch)
    assert [(t, r.record_id, r.kind) for t, r in entries] == [
        ("acme", "tier:s1", "tier_change"), ("acme", "alert:a1", "alert")]
    assert entries[0][1].details["score_x100"] == 5550
    assert entries[0][1].occurred_at == datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)


def _get(settings: Settings, path: str) -> httpx.Response:
    """GET ``path`` from an app holding only the audit routes (no services behind it)."""
    app = FastAPI()

    @app.exception_handler(ApiError)
    async def on_api_error(_: Request, exc: ApiError) -> JSONResponse:
        return exc.response()

    app.include_router(audit_routes(Authenticator("postgresql://unused@127.0.0.1:1/x"),
                                    settings))

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            return await client.get(path)

    return asyncio.run(call())


def test_public_key_without_a_signing_key_is_503_naming_the_setting() -> None:
    answer = _get(Settings.model_construct(), "/v1/audit/public-key")
    assert answer.status_code == 503
    body: dict[str, Any] = answer.json()
    assert body["error"] == "not_configured"
    assert "WARDSTREAM_AUDIT_SIGNING_KEY" in body["message"]


def test_public_key_is_served_without_an_api_key() -> None:
    seed = bytes(range(32))
    settings = Settings.model_construct(audit_signing_key=SecretStr(
        base64.b64encode(seed).decode()))
    answer = _get(settings, "/v1/audit/public-key")
    assert answer.status_code == 200
    body = answer.json()
    assert base64.b64decode(body["public_key"]) == public_key_bytes(signing_key(seed))
    assert body == {"algorithm": "Ed25519", "context": HEAD_CONTEXT,
                    "public_key": body["public_key"]}
    assert json.dumps(body)


def test_the_record_builders_import_no_database_or_web_framework() -> None:
    import subprocess
    import sys

    code = ("import sys, pipeline.audit.events\n"
            "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('psycopg', 'fastapi', 'starlette', 'faust', 'aiokafka'))))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == ""


def test_the_sink_dead_letters_a_record_whose_audit_record_would_break_the_rules() -> None:
    from dataclasses import dataclass

    from agents.sink_scores import to_batch
    from pipeline.avro import ALERT_SCHEMA_ID, SCORE_SCHEMA_ID, load_schema_map

    @dataclass
    class Message:
        value: bytes
        offset: int
        topic: str = "scores"
        partition: int = 0

    schemas = load_schema_map()
    good = {"score_id": "s1", "tenant_id": "acme", "actor": SUBJECT, "score": 40.0,
            "tier": "watch", "previous_tier": "trusted", "at_us": 5, "event_id": "e-1",
            "max_score": 40.0, "first_alert_at_us": None, "explanation": "x", "drivers": []}
    spaced = {**good, "score_id": "s2", "tier": "very high"}
    nan = {**good, "score_id": "s3", "score": float("nan")}
    flat = {**spaced, "score_id": "s4", "previous_tier": "very high"}  # no crossing: no record
    bad_alert = {"alert_id": "a 1", "tenant_id": "acme", "actor": SUBJECT, "tier": "x y",
                 "score": 70.0, "raised_at_us": 5, "event_id": "e-9", "explanation": "x",
                 "drivers": []}
    batch = to_batch(schemas, [
        Message(schemas.encode(SCORE_SCHEMA_ID, r), i)
        for i, r in enumerate([good, spaced, nan, flat])
    ] + [Message(schemas.encode(ALERT_SCHEMA_ID, bad_alert), 9, "alerts")])
    assert [s.score_id for s in batch.scores] == ["s1", "s4"]
    assert batch.alerts == []
    assert len(batch.dead_letters) == 3
