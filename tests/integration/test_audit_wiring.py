"""Who appends to the audit log, against the real PostgreSQL (and the API over HTTP):
the scores sink (tier crossings and alerts, once each, in the rows' transaction),
decisions, model deployments, scheduled signing, and the head and proof endpoints
(proofs that verify with pipeline.audit.merkle, tenant isolation, 503 without a key)."""

from __future__ import annotations

import base64
import json
import secrets
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from agents.trainer import gate_record, record_gate
from pipeline.audit import merkle
from pipeline.audit import store as audit_store
from pipeline.audit.events import SYSTEM_TENANT
from pipeline.audit.signing import TreeHead, public_key_bytes, signing_key, verify_tree_head
from pipeline.demo.services import free_port
from pipeline.detect.text.fairness import FairnessResult
from pipeline.pseudonym import Pseudonymizer
from pipeline.settings import Settings
from pipeline.storage.scores import AlertRecord, ScoreBatch, ScoreRecord, write_scores
from pipeline.storage.tenants import add_tenant, create_key
from tests.integration.conftest import (
    MASTER_KEY,
    Process,
    Tenant,
    _process_env,
    _reachable,
    wait_until,
)

pytestmark = pytest.mark.integration

PSEUDONYMS = Pseudonymizer(MASTER_KEY.encode())
SEED = secrets.token_bytes(32)
KEY = signing_key(SEED)
T0 = 1_772_000_000_000_000
DRIVERS = [{"signal": "night", "contribution": 40.0, "explanation": "late messages"}]


def user(tenant_id: str, raw: str) -> str:
    return PSEUDONYMS.pseudonym(tenant_id, "user", raw)


def score(tenant_id: str, actor: str, score_id: str, previous: str, tier: str,
          at_us: int = T0) -> ScoreRecord:
    return ScoreRecord.from_record({
        "score_id": score_id, "tenant_id": tenant_id, "actor": actor, "score": 40.25,
        "tier": tier, "previous_tier": previous, "at_us": at_us, "event_id": f"e-{at_us}",
        "max_score": 40.25, "first_alert_at_us": None, "explanation": "late messages",
        "drivers": DRIVERS})


def alert(tenant_id: str, actor: str, alert_id: str) -> AlertRecord:
    return AlertRecord.from_record({
        "alert_id": alert_id, "tenant_id": tenant_id, "actor": actor, "tier": "restrict",
        "score": 72.0, "raised_at_us": T0 + 1, "event_id": "e-alert",
        "explanation": "stages seen", "drivers": DRIVERS})


def leaves(db: psycopg.Connection, tenant_id: str) -> list[tuple[int, str, str, bytes]]:
    return [(int(r[0]), str(r[1]), str(r[2]), bytes(r[3])) for r in db.execute(
        "SELECT seq, kind, record_id, leaf FROM audit_leaves WHERE tenant_id = %s ORDER BY seq",
        (tenant_id,)).fetchall()]


@pytest.fixture
def signed_api(stack: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """The API with an audit signing key (the shared ``api`` fixture has none)."""
    port = free_port()
    env = _process_env(stack, WARDSTREAM_AUDIT_SIGNING_KEY=base64.b64encode(SEED).decode())
    process = Process(["api", "--port", str(port)], env, tmp_path / "api.log").start()
    try:
        wait_until(lambda: _reachable(f"127.0.0.1:{port}"), 30, "the API to listen")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.stop()


def get(url: str, key: str | None = None, **params: int) -> httpx.Response:
    headers = {} if key is None else {"Authorization": f"Bearer {key}"}
    return httpx.get(url, params=params, headers=headers, timeout=30)


def test_sink_batch_written_twice_appends_one_leaf_per_crossing_and_alert(
        db: psycopg.Connection, tenant: Tenant) -> None:
    t = tenant.tenant_id
    raw = f"raw-user-{secrets.token_hex(4)}@example.org"
    actor = user(t, raw)
    crossing, flat, alert_id = secrets.token_hex(16), secrets.token_hex(16), secrets.token_hex(16)
    batch = ScoreBatch(
        scores=[score(t, actor, crossing, "trusted", "watch"),
                score(t, actor, flat, "watch", "watch", T0 + 5)],
        alerts=[alert(t, actor, alert_id)])
    write_scores(db, batch)
    write_scores(db, batch)  # a sink retry after a crash before the offsets were committed

    found = leaves(db, t)
    assert [(seq, kind, rid) for seq, kind, rid, _ in found] == [
        (0, "tier_change", f"tier:{crossing}"), (1, "alert", f"alert:{alert_id}")]
    for seq, _, _, leaf in found:
        assert raw.encode() not in leaf
        assert actor.encode() not in leaf  # the subject only as a commitment
        assert audit_store.commitment_openings(db, t, seq)["subject"][1] == actor
    tier_leaf = json.loads(found[0][3])
    assert tier_leaf["details"] == {"score_id": crossing, "previous_tier": "trusted",
                                    "tier": "watch", "score_x100": 4025}
    assert tier_leaf["actor"] == "system:risk"


def test_concurrent_sinks_writing_the_same_batch_append_once(
        db: psycopg.Connection, tenant: Tenant, settings: Settings) -> None:
    t = tenant.tenant_id
    actors = [user(t, f"c-{i}") for i in range(20)]
    batch = ScoreBatch(
        scores=[score(t, a, secrets.token_hex(16), "trusted", "watch") for a in actors],
        alerts=[alert(t, a, secrets.token_hex(16)) for a in actors])
    errors: list[BaseException] = []

    def write() -> None:
        try:
            with psycopg.connect(settings.pg_dsn.get_secret_value(), autocommit=True) as conn:
                write_scores(conn, batch)
        except Exception as exc:  # reported below  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    found = leaves(db, t)
    assert [seq for seq, *_ in found] == list(range(40))
    assert len({rid for _, _, rid, _ in found}) == 40


def test_a_batch_without_crossings_or_alerts_appends_nothing(
        db: psycopg.Connection, tenant: Tenant) -> None:
    t = tenant.tenant_id
    write_scores(db, ScoreBatch(scores=[
        score(t, user(t, "calm"), secrets.token_hex(16), "trusted", "trusted")]))
    assert leaves(db, t) == []


def _gate(version: str, rates: dict[str, float], parent_gap: float) -> Any:
    candidate = FairnessResult(version, rates, 100)
    parent = FairnessResult(f"{version}-parent", {"standard": 0.0, "leet": parent_gap}, 100)
    return gate_record(candidate, parent, 0.02, datetime(2026, 11, 22, tzinfo=UTC))


def _system_leaf(db: psycopg.Connection, seq: int) -> tuple[str, dict[str, Any]]:
    row = db.execute("SELECT kind, leaf FROM audit_leaves WHERE tenant_id = %s AND seq = %s",
                     (SYSTEM_TENANT, seq)).fetchone()
    assert row is not None
    return row[0], json.loads(bytes(row[1]))["details"]


def test_model_deployment_goes_to_the_system_log_once_after_its_fairness_gate(
        settings: Settings, db: psycopg.Connection) -> None:
    version = f"it-{secrets.token_hex(4)}+3"
    record = {"version": version, "parent_version": f"{version[:-2]}+2",
              "created_at_us": T0, "labels_learned": 3, "model": b"model bytes"}
    dsn = settings.pg_dsn.get_secret_value()
    gate = _gate(version, {"standard": 0.10, "leet": 0.11}, parent_gap=0.0)
    gate_seq, deployment_seq = record_gate(dsn, gate, record)
    # a replay of the same label appends nothing
    assert record_gate(dsn, gate, {**record, "created_at_us": T0 + 9}) == (gate_seq,
                                                                          deployment_seq)
    assert deployment_seq == gate_seq + 1
    kind, details = _system_leaf(db, gate_seq)
    assert kind == "fairness_evaluation"
    assert details["passed"] is True and details["model_version"] == version
    assert (details["gap"], details["rate_leet"], details["highest_style"]) == (
        "0.0100", "0.1100", "leet")
    kind, details = _system_leaf(db, deployment_seq)
    assert kind == "model_deployment"
    assert details["model_version"] == version
    assert details["labels_learned"] == 3
    disabled = db.execute("SELECT disabled_at IS NOT NULL FROM tenants WHERE tenant_id = %s",
                          (SYSTEM_TENANT,)).fetchone()
    assert disabled == (True,)


def test_a_version_the_gate_holds_back_is_logged_without_a_deployment(
        settings: Settings, db: psycopg.Connection) -> None:
    version = f"it-{secrets.token_hex(4)}+4"
    gate = _gate(version, {"standard": 0.10, "leet": 0.16}, parent_gap=0.01)
    gate_seq, deployment_seq = record_gate(settings.pg_dsn.get_secret_value(), gate, None)
    assert deployment_seq is None
    kind, details = _system_leaf(db, gate_seq)
    assert (kind, details["passed"], details["gap"], details["parent_gap"]) == (
        "fairness_evaluation", False, "0.0600", "0.0100")
    deployed = db.execute(
        "SELECT count(*) FROM audit_leaves WHERE tenant_id = %s AND record_id = %s",
        (SYSTEM_TENANT, f"model:{version}")).fetchone()
    assert deployed == (0,)


def _head(body: dict[str, Any]) -> TreeHead:
    return TreeHead(body["tenant"], body["tree_size"], bytes.fromhex(body["root_hash"]),
                    body["timestamp_ms"], base64.b64decode(body["signature"]))


def test_decision_is_recorded_once_and_proofs_verify(
        signed_api: str, db: psycopg.Connection, tenant: Tenant) -> None:
    t = tenant.tenant_id
    subject_raw, reviewer_raw = f"kid-{secrets.token_hex(3)}", f"rev-{secrets.token_hex(3)}"
    subject = user(t, subject_raw)
    alert_id = secrets.token_hex(16)
    write_scores(db, ScoreBatch(alerts=[alert(t, subject, alert_id)]))
    moderator = create_key(db, t, ["moderate"])
    reader = create_key(db, t, ["read"])
    body = {"subject": subject_raw, "decision": "cleared", "reviewer": reviewer_raw,
            "alert_id": alert_id, "note": "talked to the family"}
    for _ in range(2):  # a client retry with the same Idempotency-Key
        answer = httpx.post(f"{signed_api}/v1/decisions", json=body, timeout=30, headers={
            "Authorization": f"Bearer {moderator}", "Idempotency-Key": "d-1"})
        assert answer.status_code == 202, answer.text
        assert answer.json()["queue_item_closed"] is True
    found = leaves(db, t)
    decisions = [x for x in found if x[1] == "decision"]
    assert len(decisions) == 1
    _, _, record_id, leaf = decisions[0]
    assert record_id == f"decision:{answer.json()['event_id']}"
    for secret in (subject_raw, reviewer_raw, subject, "talked to the family"):
        assert secret.encode() not in leaf
    document = json.loads(leaf)
    assert document["actor"] == user(t, reviewer_raw)
    assert document["details"]["decision"] == "cleared"
    assert document["details"]["alert_id"] == alert_id
    assert set(document["commitments"]) == {"subject", "note"}

    # Signed heads (as the scheduled sign-all makes them) and the proof endpoints.
    assert t in audit_store.tenants_to_sign(db)
    first = audit_store.sign_all(db, KEY, tenants=[t])
    assert [h.tree_size for h in first.signed] == [len(found)] and first.failed == ()
    assert t not in audit_store.tenants_to_sign(db)
    write_scores(db, ScoreBatch(alerts=[alert(t, subject, secrets.token_hex(16))]))
    audit_store.sign_all(db, KEY, tenants=[t])

    public = get(f"{signed_api}/v1/audit/public-key")
    assert public.status_code == 200
    key = base64.b64decode(public.json()["public_key"])
    assert key == public_key_bytes(KEY)
    head_answer = get(f"{signed_api}/v1/audit/head", reader)
    assert head_answer.status_code == 200, head_answer.text
    head = _head(head_answer.json())
    assert head.tree_size == len(found) + 1
    assert verify_tree_head(key, head)

    for index in range(head.tree_size):
        proof = get(f"{signed_api}/v1/audit/proof/inclusion", reader, seq=index).json()
        assert proof["tree_size"] == head.tree_size
        assert _head(proof["tree_head"]) == head
        assert merkle.verify_inclusion(
            index, head.tree_size, merkle.leaf_hash(proof["leaf"].encode()),
            [bytes.fromhex(p) for p in proof["path"]], head.root_hash)
    old_size = len(found)
    consistency = get(f"{signed_api}/v1/audit/proof/consistency", reader, old=old_size,
                      new=head.tree_size)
    assert consistency.status_code == 200, consistency.text
    doc = consistency.json()
    old_head = _head(doc["old_tree_head"])
    assert verify_tree_head(key, old_head)
    assert merkle.verify_consistency(old_size, head.tree_size, old_head.root_hash,
                                     head.root_hash, [bytes.fromhex(p) for p in doc["path"]])

    # Unsigned sizes and a size that is only another tenant's are refused.
    unsigned = get(f"{signed_api}/v1/audit/proof/inclusion", reader, seq=0, size=1)
    assert unsigned.status_code == 404 and unsigned.json()["field"] == "size"
    other = f"t-{secrets.token_hex(4)}"
    add_tenant(db, other, "integration test, other")
    stranger = create_key(db, other, ["read"])
    for path, params in [("inclusion", {"seq": 0, "size": head.tree_size}),
                         ("inclusion", {"seq": 0}),
                         ("consistency", {"old": old_size, "new": head.tree_size})]:
        refused = get(f"{signed_api}/v1/audit/proof/{path}", stranger, **params)
        assert refused.status_code == 404, (path, refused.text)
        assert refused.json()["error"] == "not_found"
    assert get(f"{signed_api}/v1/audit/head", stranger).status_code == 404
    assert get(f"{signed_api}/v1/audit/head").status_code == 401
    assert get(f"{signed_api}/v1/audit/head", moderator).status_code == 403
    bad = get(f"{signed_api}/v1/audit/proof/inclusion", reader)
    assert bad.status_code == 400 and bad.json()["field"] == "seq"


def test_without_a_signing_key_the_audit_endpoints_answer_503(
        api: str, db: psycopg.Connection, tenant: Tenant) -> None:
    reader = create_key(db, tenant.tenant_id, ["read"])
    for path in ["/v1/audit/public-key", "/v1/audit/head", "/v1/audit/proof/inclusion?seq=0",
                 "/v1/audit/proof/consistency?old=0"]:
        answer = get(f"{api}{path}", reader)
        assert answer.status_code == 503, path
        assert answer.json()["error"] == "not_configured"
        assert "WARDSTREAM_AUDIT_SIGNING_KEY" in answer.json()["message"]
