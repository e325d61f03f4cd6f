"""Erasure against the real PostgreSQL and Kafka: rows gone, tombstones on the compacted
topics, preserved evidence kept and listed, a receipt, an audit record without raw ids,
a second request with zero counts, no reach into another tenant, field-named refusals."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from confluent_kafka import Producer
from rocksdict import AccessType, Options, Rdict

from pipeline.audit import store as audit_store
from pipeline.audit.records import AuditRecord
from pipeline.evidence.builder import build_pending
from pipeline.evidence.policy import EvidenceConfig
from pipeline.evidence.store import place_hold
from pipeline.kafka.read import read_to_end
from pipeline.privacy.erasure import erase
from pipeline.privacy.requests import ErasureRequest
from pipeline.settings import Settings
from pipeline.storage.tenants import add_tenant, create_key
from pipeline.topology import Topology, load_topology
from tests.integration.conftest import MASTER_KEY, Process, Tenant, wait_until
from tests.integration.evidence_seed import PSEUDONYMS, scene, user
from tests.integration.helpers import as_json_records, produce
from tests.unit.events import message as message_event

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC).replace(microsecond=0)  # injected; packages need a live clock
REQUEST = ErasureRequest("suspect", "GDPR Art. 17 request 4711", "dpo-desk")
BYSTANDER_KEY = "u_" + "b" * 26


def _counts(db: psycopg.Connection, t: str, p: str) -> dict[str, int]:
    queries = {
        "identity_map": "SELECT count(*) FROM identity_map WHERE tenant_id = %(t)s"
                        " AND (owner = %(p)s OR pseudonym = %(p)s)",
        "events": "SELECT count(*) FROM events WHERE tenant_id = %(t)s AND actor = %(p)s",
        "score_history": "SELECT count(*) FROM score_history WHERE tenant_id = %(t)s"
                         " AND actor = %(p)s",
        "alerts": "SELECT count(*) FROM alerts WHERE tenant_id = %(t)s AND actor = %(p)s",
        "review_queue": "SELECT count(*) FROM review_queue WHERE tenant_id = %(t)s"
                        " AND actor = %(p)s",
        "salts": "SELECT count(*) FROM audit_commitment_salts WHERE tenant_id = %(t)s"
                 " AND value = %(p)s",
    }
    out = {}
    for name, sql in queries.items():
        row = db.execute(sql, {"t": t, "p": p}).fetchone()
        out[name] = int(row[0]) if row else 0
    return out


def _produce(bootstrap: str, records: Iterable[tuple[str, int, bytes]]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    for topic, partition, key in records:
        producer.produce(topic, key=key, value=b"state", partition=partition)
    assert producer.flush(30) == 0


def _newest(bootstrap: str, topic: str) -> dict[tuple[int, bytes], bytes | None]:
    newest: dict[tuple[int, bytes], bytes | None] = {}
    for message in read_to_end(bootstrap, topic):
        newest[(message.partition(), message.key())] = message.value()
    return newest


def _state_records(topology: Topology, t: str, p: str) -> dict[str, list[tuple[int, bytes]]]:
    """Per compacted topic: the person's keys, deliberately on partitions their hash would not
    choose (Faust writes a changelog record to its input event's partition)."""
    pair = "|".join(sorted((p, BYSTANDER_KEY))).encode()
    return {
        topology.port("normalize", "writes", "identity"): [(1, f"{t}/user/{p}".encode())],
        topology.port("route", "tables", "profiles"): [(2, p.encode())],
        topology.port("pairs", "tables", "state"): [(3, pair), (0, pair)],
        topology.port("actors", "tables", "state"): [(0, p.encode())],
        topology.port("targets", "tables", "state"): [(1, p.encode())],
        topology.port("risk", "tables", "state"): [(2, p.encode())],
        topology.port("risk", "writes", "latest"): [(3, f"{t}/{p}".encode())],
    }


def _bystander_records(topology: Topology, t: str) -> dict[str, list[tuple[int, bytes]]]:
    other = f"{BYSTANDER_KEY}|u_{'c' * 26}".encode()
    return {
        topology.port("route", "tables", "profiles"): [(2, BYSTANDER_KEY.encode())],
        topology.port("pairs", "tables", "state"): [(3, other)],
        topology.port("risk", "writes", "latest"): [(3, f"{t}/{BYSTANDER_KEY}".encode())],
    }


def _erase(db: psycopg.Connection, settings: Settings, t: str,
           request: ErasureRequest = REQUEST) -> dict[str, Any]:
    return erase(db, t, request, master_key=MASTER_KEY.encode(),
                 topology=load_topology(settings.topology_file),
                 bootstrap=settings.kafka_bootstrap, now=NOW)


def test_erasure_removes_rows_tombstones_state_keeps_held_evidence_and_logs_it(
        settings: Settings, db: psycopg.Connection, tenant: Tenant) -> None:
    t = tenant.tenant_id
    seeded = scene(db, t)
    p = seeded.subject
    [package] = build_pending(db, EvidenceConfig(), clock=lambda: NOW, tenant_id=t)
    place_hold(db, t, package.package_id, by="key-test", reference="LE case 12")
    audit_store.append(db, t, AuditRecord(
        record_id=f"decision:{secrets.token_hex(8)}", kind="decision", occurred_at=NOW,
        actor="system:test", details={"decision": "cleared"}, personal={"subject": p}))
    db.execute("INSERT INTO dead_letters (dead_letter_id, source, received_at, tenant_id, field,"
                " rule, reason, errors, original, original_sha256) VALUES (%s, 'test', %s, %s,"
                " 'type', 'enum', 'bad', '[]', %s, 'x')",
                (f"dl-{secrets.token_hex(6)}", NOW, t,
                 json.dumps({"tenant_id": t, "actor_id": "suspect", "type": "nope"}).encode()))
    topology = load_topology(settings.topology_file)
    mine, theirs = _state_records(topology, t, p), _bystander_records(topology, t)
    _produce(settings.kafka_bootstrap, [(topic, part, key) for records in (mine, theirs)
                                        for topic, keys in records.items()
                                        for part, key in keys])
    before = _counts(db, t, p)
    assert before["events"] == 7 and before["identity_map"] == 2
    assert before["salts"] >= 1

    receipt = _erase(db, settings, t)

    removed = receipt["removed"]["postgres"]
    assert removed["identity_map"] == 2
    assert removed["events"] == 7 and removed["profile_events"] == 1
    assert removed["score_history"] == 3 and removed["scores_latest"] == 1
    assert removed["alerts"] == 1 and removed["review_queue"] == 1
    assert removed["dead_letters"] == 1
    assert removed["audit_commitment_salts"] == before["salts"]
    tombstones = receipt["removed"]["kafka_tombstones"]
    assert tombstones == {"identity map": 1, "profiles table": 1, "pairs table": 2,
                          "actors table": 1, "texts table": 0, "targets table": 1,
                          "risk table": 1, "latest scores": 1}
    assert _counts(db, t, p) == {"identity_map": 0, "events": 0, "score_history": 0,
                                 "alerts": 0, "review_queue": 0,
                                 "salts": 1}  # the erasure record's own commitment
    assert db.execute("SELECT count(*) FROM events WHERE tenant_id = %s AND actor = %s",
                      (t, user(t, "minor"))).fetchone() == (2,)  # others' events stay

    for topic, keys in mine.items():
        newest = _newest(settings.kafka_bootstrap, topic)
        for where in keys:
            assert newest[where] is None, (topic, where)
    for topic, keys in theirs.items():
        newest = _newest(settings.kafka_bootstrap, topic)
        for where in keys:
            assert newest[where] == b"state", (topic, where)

    kept = {k["place"]: k for k in receipt["kept"] if k["place"] != "topic"}
    held = kept["evidence package"]
    assert held["id"] == package.package_id and held["on_hold"] is True
    assert held["relation"] == "subject" and "legal hold" in held["why"]
    assert db.execute("SELECT count(*) FROM evidence.packages WHERE package_id = %s",
                      (package.package_id,)).fetchone() == (1,)
    assert kept["events of other users naming the person"]["count"] == 3
    topics = {k["id"]: k for k in receipt["kept"] if k["place"] == "topic"}
    assert topics[topology.port("route", "reads", "normalized")]["retention_days"] == 30

    stored = db.execute("SELECT receipt, subject FROM erasure_requests WHERE request_id = %s",
                        (receipt["request_id"],)).fetchone()
    assert stored is not None and stored[0] == receipt and stored[1] == p
    [leaf_row] = db.execute("SELECT leaf FROM audit_leaves WHERE tenant_id = %s AND kind ="
                            " 'erasure' AND record_id = %s",
                            (t, f"erasure:{receipt['request_id']}")).fetchall()
    leaf = bytes(leaf_row[0])
    assert b"suspect" not in leaf and p.encode() not in leaf and b"dpo-desk" not in leaf
    document = json.loads(leaf)
    assert document["kind"] == "erasure" and document["actor"] == "system:erasure"
    assert document["details"]["request_id"] == receipt["request_id"]
    assert document["details"]["packages_on_hold"] == 1

    again = _erase(db, settings, t)
    assert set(again["removed"]["postgres"].values()) - {0} == {1}  # only the first's salt
    assert again["removed"]["postgres"]["audit_commitment_salts"] == 1
    assert set(again["removed"]["kafka_tombstones"].values()) == {0}
    assert again["previous_request_ids"] == [receipt["request_id"]]
    assert any(k.get("id") == package.package_id for k in again["kept"])


def test_erasure_never_reaches_another_tenant(settings: Settings, db: psycopg.Connection,
                                              tenant: Tenant) -> None:
    mine, other = tenant.tenant_id, f"t-{secrets.token_hex(4)}"
    add_tenant(db, other, "other tenant, same user ids")
    scene(db, mine)
    scene(db, other)
    p_other = user(other, "suspect")
    topology = load_topology(settings.topology_file)
    theirs = _state_records(topology, other, p_other)
    _produce(settings.kafka_bootstrap, [(topic, part, key) for topic, keys in theirs.items()
                                        for part, key in keys])
    untouched = _counts(db, other, p_other)

    receipt = _erase(db, settings, mine)

    assert receipt["removed"]["postgres"]["events"] == 7
    assert _counts(db, other, p_other) == untouched
    for topic, keys in theirs.items():
        newest = _newest(settings.kafka_bootstrap, topic)
        assert all(newest[where] == b"state" for where in keys), topic
    assert db.execute("SELECT count(*) FROM erasure_requests WHERE tenant_id = %s",
                      (other,)).fetchone() == (0,)
    assert PSEUDONYMS.pseudonym(mine, "user", "suspect") != p_other


def test_the_api_erases_for_the_keys_tenant_and_names_bad_fields(
        api: str, db: psycopg.Connection, tenant: Tenant) -> None:
    t = tenant.tenant_id
    scene(db, t)
    admin = create_key(db, t, ["admin"])
    reader = create_key(db, t, ["read"])
    headers = {"Authorization": f"Bearer {admin}"}
    body = {"user_id": "suspect", "reason": "COPPA parent request", "requested_by": "support"}
    with httpx.Client(base_url=api, timeout=60) as client:
        assert client.post("/v1/erasure", json=body,
                           headers={"Authorization": f"Bearer {reader}"}).status_code == 403
        for bad, field in [({**body, "tenant_id": "someone-else"}, "tenant_id"),
                           ({k: v for k, v in body.items() if k != "reason"}, "reason"),
                           ({**body, "user_id": ""}, "user_id")]:
            refused = client.post("/v1/erasure", json=bad, headers=headers)
            assert refused.status_code == 422, refused.text
            assert refused.json()["field"] == field
        malformed = client.post("/v1/erasure", content=b"{", headers={
            **headers, "Content-Type": "application/json"})
        assert malformed.status_code == 400
        done = client.post("/v1/erasure", json=body, headers=headers)
        assert done.status_code == 200, done.text
        receipt = done.json()
        assert receipt["tenant_id"] == t and receipt["removed"]["postgres"]["events"] == 7
        fetched = client.get(f"/v1/erasure/{receipt['request_id']}", headers=headers)
        assert fetched.json() == receipt
        assert client.get(f"/v1/erasure/era_{'0' * 32}", headers=headers).status_code == 404


def test_a_restarted_worker_rebuilds_its_tables_without_the_erased_person(
        settings: Settings, db: psycopg.Connection, tenant: Tenant,
        worker_factory: Callable[..., Process], tmp_path: Path) -> None:
    """Active tables are rebuilt from their changelogs on start: tombstoned keys stay gone."""
    t = tenant.tenant_id
    scene(db, t)
    p = user(t, "suspect")
    keep = "u_" + "k" * 26
    topology = load_topology(settings.topology_file)
    actors = topology.port("actors", "tables", "state")
    _produce(settings.kafka_bootstrap, [(actors, 0, p.encode()), (actors, 0, keep.encode())])
    assert _erase(db, settings, t)["removed"]["kafka_tombstones"]["actors table"] == 1

    worker = worker_factory().start()
    log = tmp_path / "worker-0.log"
    wait_until(lambda: worker.running() and "Recovery complete" in log.read_text(
        errors="replace"), 180, "the worker to rebuild its tables")
    worker.stop()
    [store] = list((tmp_path / "worker-0").rglob("actors-0.db"))
    table = Rdict(str(store), Options(raw_mode=True), access_type=AccessType.read_only())
    try:
        assert table.get(keep.encode()) == b"state"   # rebuilt from the changelog
        assert table.get(p.encode()) is None          # and the tombstone applied
    finally:
        table.close()


def settings_topic_json(settings: Settings) -> str:
    return load_topology(settings.topology_file).port("normalize", "reads", "json")


def _stores(root: Path, table: str) -> list[Path]:
    return sorted(root.rglob(f"{table}-*.db"))


def _keys(store: Path) -> set[bytes]:
    db = Rdict(str(store), Options(raw_mode=True), access_type=AccessType.read_only())
    try:
        return set(db.keys())
    finally:
        db.close()


def test_a_running_worker_removes_the_erased_person_from_its_tables(
        settings: Settings, db: psycopg.Connection, tenant: Tenant,
        worker_factory: Callable[..., Process], tmp_path: Path) -> None:
    """No restart: the worker applies the stored erasure to its local RocksDB within seconds."""
    t = tenant.tenant_id
    start = datetime.now(UTC) - timedelta(hours=1)
    events = [message_event(tenant_id=t, event_id=f"run-{i}", actor_id=actor, recipient_ids=[to],
                      conversation_id=f"c-{actor}", content="see you at practice",
                      occurred_at=(start + timedelta(minutes=i)).isoformat())
              for i, (actor, to) in enumerate([("suspect", "kid-1"), ("coach", "kid-2")] * 3)]
    worker = worker_factory(WARDSTREAM_ERASURE_POLL_SECONDS="1").start()
    produce(settings.kafka_bootstrap, settings_topic_json(settings), as_json_records(events))
    p, coach = user(t, "suspect"), user(t, "coach")
    topology = load_topology(settings.topology_file)
    changelogs = {table: topology.port(table, "tables", "state")
                  for table in ("actors", "risk", "pairs")}

    def stated(table: str) -> set[bytes]:
        return {m.key() for m in read_to_end(settings.kafka_bootstrap, changelogs[table])}

    wait_until(lambda: worker.running() and all(
        any(p.encode() in key.split(b"|") for key in stated(table))
        and any(coach.encode() in key.split(b"|") for key in stated(table))
        for table in changelogs), 180, "both adults' state in every table")

    receipt = _erase(db, settings, t)
    log = tmp_path / "worker-0.log"
    applied = f"erasure {receipt['request_id']} applied here: "
    line = wait_until(lambda: next((text for text in log.read_text(errors="replace")
                                    .splitlines() if applied in text), None), 60,
                      "the worker to apply the erasure")
    removed = int(line.split(applied, 1)[1].split()[0])
    assert removed >= 3  # at least the actors and risk states and the pair
    assert "suspect" not in log.read_text(errors="replace")
    worker.stop()

    root = tmp_path / "worker-0"
    for table in ("actors", "risk", "pairs"):
        keys = set().union(*(_keys(store) for store in _stores(root, table)))
        assert not any(p.encode() in key.split(b"|") for key in keys), table
        assert any(coach.encode() in key.split(b"|") for key in keys), table  # others stay


def test_the_command_prints_the_receipt_and_never_the_raw_id(
        settings: Settings, db: psycopg.Connection, tenant: Tenant) -> None:
    t = tenant.tenant_id
    scene(db, t)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("WARDSTREAM_")}
    environment.update(WARDSTREAM_PG_DSN=settings.pg_dsn.get_secret_value(),
                       WARDSTREAM_KAFKA_BOOTSTRAP=settings.kafka_bootstrap,
                       WARDSTREAM_TOPOLOGY_FILE=str(settings.topology_file),
                       WARDSTREAM_PSEUDONYM_MASTER_KEY=MASTER_KEY)
    done = subprocess.run([sys.executable, "-m", "pipeline.cli", "erase", "--tenant", t,
                           "--user", "suspect", "--reason", "ticket 9"],
                          capture_output=True, text=True, env=environment, timeout=120)
    assert done.returncode == 0, done.stderr
    receipt = json.loads(done.stdout)
    assert receipt["subject"] == user(t, "suspect")
    assert receipt["removed"]["postgres"]["events"] == 7
    assert "suspect" not in done.stdout and "suspect" not in done.stderr
    unknown = subprocess.run([sys.executable, "-m", "pipeline.cli", "erase", "--tenant",
                              "no-such-tenant", "--user", "suspect"],
                             capture_output=True, text=True, env=environment, timeout=120)
    assert unknown.returncode == 1 and "no-such-tenant" in unknown.stderr
