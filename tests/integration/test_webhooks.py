"""Webhooks against real PostgreSQL and real HTTP: registration and its refusals, signed
deliveries, retries, dead letters, replays, concurrent dispatchers, tenant isolation.

The dispatcher runs in-process (``run_once``) with an injected clock and tiny retry
delays; the receiver is a real HTTP server in a thread that checks signatures.
"""

from __future__ import annotations

import ipaddress
import random
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg.types.json import Jsonb

from pipeline.cli import main as cli_main
from pipeline.demo.services import free_port
from pipeline.evidence.package import package_id_of
from pipeline.pseudonym import Pseudonymizer
from pipeline.settings import Settings
from pipeline.storage.scores import AlertRecord, ScoreBatch, write_scores
from pipeline.storage.tenants import add_tenant, create_key
from pipeline.webhooks import store
from pipeline.webhooks.addresses import IPAddress
from pipeline.webhooks.dispatcher import DispatchConfig, Dispatcher, Report
from pipeline.webhooks.retry import RetryPolicy
from pipeline.webhooks.sealing import SecretBox
from pipeline.webhooks.sender import Sender
from tests.integration.conftest import MASTER_KEY, Process, _process_env, _reachable, wait_until
from tests.integration.webhook_receiver import Receiver

pytestmark = pytest.mark.integration

PSEUDONYMS = Pseudonymizer(MASTER_KEY.encode())
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _api_process(stack: dict[str, str], log: Path, **extra: str) -> Iterator[str]:
    port = free_port()
    process = Process(["api", "--port", str(port)], _process_env(stack, **extra), log).start()
    try:
        wait_until(lambda: _reachable(f"127.0.0.1:{port}"), 30, "the API to listen")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.stop()


@pytest.fixture(scope="module")
def strict_api(stack: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The API as deployed: private and loopback targets refused."""
    yield from _api_process(stack, tmp_path_factory.mktemp("api") / "strict.log")


@pytest.fixture(scope="module")
def dev_api(stack: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The API with WARDSTREAM_WEBHOOK_ALLOW_PRIVATE=true, so the local receiver can register."""
    yield from _api_process(stack, tmp_path_factory.mktemp("api") / "dev.log",
                            WARDSTREAM_WEBHOOK_ALLOW_PRIVATE="true")


@dataclass
class Admin:
    tenant_id: str
    key: str

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@pytest.fixture
def make_admin(db: psycopg.Connection) -> Iterator[Callable[[], Admin]]:
    """Tenants with an admin key; their endpoints are deleted afterwards, so no pending
    delivery of this test is left for the next test's dispatcher."""
    made: list[Admin] = []

    def make() -> Admin:
        tenant_id = f"t-{secrets.token_hex(4)}"
        add_tenant(db, tenant_id, "webhook test")
        made.append(Admin(tenant_id, create_key(db, tenant_id, ["admin"])))
        return made[-1]

    yield make
    for admin in made:
        for endpoint in store.list_endpoints(db, admin.tenant_id):
            store.delete_endpoint(db, admin.tenant_id, endpoint.endpoint_id, T0)


@pytest.fixture
def admin(make_admin: Callable[[], Admin]) -> Admin:
    return make_admin()


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def receiver(clock: Clock) -> Iterator[Receiver]:
    made = Receiver(clock=lambda: clock.now.timestamp()).start()
    yield made
    made.stop()


def dispatcher(max_attempts: int = 4, timeout: float = 0.5, batch: int = 50,
               **sender: Any) -> Dispatcher:
    config = DispatchConfig(
        policy=RetryPolicy(max_attempts=max_attempts, backoff_base_seconds=0.01,
                           backoff_max_seconds=0.05, retry_after_max_seconds=60.0),
        timeout_seconds=timeout, batch=batch, poll_seconds=0.05)
    return Dispatcher(config, SecretBox(MASTER_KEY.encode()),
                      Sender(timeout_seconds=timeout, allow_private=True, **sender),
                      rng=random.Random(5))


def register(api: str, admin: Admin, url: str, **extra: Any) -> httpx.Response:
    return httpx.post(f"{api}/v1/webhooks", json={"url": url, **extra},
                      headers=admin.headers(), timeout=30)


def endpoint_for(api: str, admin: Admin, receiver: Receiver) -> str:
    answer = register(api, admin, receiver.url, description="test receiver")
    assert answer.status_code == 201, answer.text
    receiver.secret = answer.json()["secret"]
    return str(answer.json()["endpoint_id"])


def seed_alert(db: psycopg.Connection, tenant_id: str, raw_user: str = "suspect-17",
               raw_conversation: str | None = "conv-9", score: float = 72.0) -> str:
    """An alert row as the score sink writes it, with the identity map and the event
    behind it (so the payload can name the platform's user and conversation)."""
    actor = PSEUDONYMS.pseudonym(tenant_id, "user", raw_user)
    record: dict[str, Any] = {}
    identities = [("user", actor, raw_user)]
    if raw_conversation is not None:
        record["conversation"] = PSEUDONYMS.pseudonym(tenant_id, "conversation",
                                                      raw_conversation)
        identities.append(("conversation", record["conversation"], raw_conversation))
    for kind, pseudonym, value in identities:
        db.execute("INSERT INTO identity_map (tenant_id, kind, pseudonym, value, owner,"
                   " first_seen_at) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                   (tenant_id, kind, pseudonym, value, actor, T0))
    event_id = f"e-{secrets.token_hex(6)}"
    db.execute("INSERT INTO events (tenant_id, event_id, type, occurred_at, utc_offset_min,"
               " actor, record, source) VALUES (%s, %s, 'message', %s, 0, %s, %s, 'test')",
               (tenant_id, event_id, T0, actor, Jsonb(record)))
    alert_id = secrets.token_hex(16)
    write_scores(db, ScoreBatch(scores=[], alerts=[AlertRecord.from_record({
        "alert_id": alert_id, "tenant_id": tenant_id, "actor": actor, "tier": "restrict",
        "score": score, "raised_at_us": 1_772_366_400_000_000, "event_id": event_id,
        "explanation": "contact with one 13-15 account rose from 2 to 19 messages a week",
        "drivers": [{"signal": "pair_escalation", "contribution": 41.5,
                     "explanation": "contact rose from 2 to 19 messages a week"},
                    {"signal": "late_night", "contribution": 30.5,
                     "explanation": "71% after 22:00 in the recipient's time"}],
    })]))
    return alert_id


def delivery_row(db: psycopg.Connection, delivery_id: str) -> dict[str, Any]:
    cur = db.execute("SELECT status, attempts, replays, last_status_code, last_error, payload"
                     " FROM webhook_deliveries WHERE delivery_id = %s", (delivery_id,))
    names = [c.name for c in cur.description or []]
    row = cur.fetchone()
    assert row is not None, delivery_id
    return dict(zip(names, row, strict=True))


# --- registration ------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "rule"), [
    ("https://10.0.0.5/hook", "private_address"),
    ("https://192.168.1.20/hook", "private_address"),
    ("https://169.254.169.254/latest/meta-data/", "link_local_address"),
    ("https://[::1]/hook", "loopback_address"),
    ("https://[fc00::1]/hook", "private_address"),
    ("https://localhost/hook", "loopback_address"),
    ("http://127.0.0.1:8080/hook", "scheme"),
    ("http://93.184.216.34/hook", "scheme"),
    ("https://0.0.0.0/", "unspecified_address"),
])
def test_registration_refuses_targets_outside_the_public_internet(
    strict_api: str, admin: Admin, url: str, rule: str,
) -> None:
    answer = register(strict_api, admin, url)
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert (body["error"], body["field"], body["errors"][0]["rule"]) == (
        "invalid_request", "url", rule)
    listed = httpx.get(f"{strict_api}/v1/webhooks", headers=admin.headers(), timeout=30)
    assert listed.json() == {"endpoints": []}


def test_registration_names_bad_fields_and_needs_the_admin_scope(
    strict_api: str, admin: Admin, db: psycopg.Connection,
) -> None:
    missing = httpx.post(f"{strict_api}/v1/webhooks", json={"description": "x"},
                         headers=admin.headers(), timeout=30)
    assert (missing.status_code, missing.json()["field"]) == (422, "url")
    unknown = register(strict_api, admin, "https://93.184.216.34/", secret="mine")
    assert (unknown.status_code, unknown.json()["field"]) == (422, "secret")
    reader = create_key(db, admin.tenant_id, ["read", "ingest", "moderate"])
    refused = httpx.get(f"{strict_api}/v1/webhooks",
                        headers={"Authorization": f"Bearer {reader}"}, timeout=30)
    assert (refused.status_code, refused.json()["error"]) == (403, "forbidden")


def test_the_secret_is_shown_once_and_stored_sealed(
    dev_api: str, admin: Admin, db: psycopg.Connection, receiver: Receiver,
) -> None:
    answer = register(dev_api, admin, receiver.url, description="primary")
    assert answer.status_code == 201, answer.text
    created = answer.json()
    secret = created["secret"]
    assert secret.startswith("whsec_") and len(secret) >= 40
    assert created["url"] == receiver.url and created["description"] == "primary"
    listed = httpx.get(f"{dev_api}/v1/webhooks", headers=admin.headers(), timeout=30)
    assert [e["endpoint_id"] for e in listed.json()["endpoints"]] == [created["endpoint_id"]]
    assert "secret" not in listed.text and secret not in listed.text
    [(sealed,)] = db.execute("SELECT secret_sealed FROM webhook_endpoints WHERE tenant_id = %s",
                             (admin.tenant_id,)).fetchall()
    assert secret.encode() not in bytes(sealed)
    assert SecretBox(MASTER_KEY.encode()).open(
        bytes(sealed), tenant_id=admin.tenant_id, endpoint_id=created["endpoint_id"]) == secret


def test_another_tenants_endpoints_and_deliveries_are_not_found(
    dev_api: str, make_admin: Callable[[], Admin], db: psycopg.Connection,
    receiver: Receiver, clock: Clock,
) -> None:
    owner, other = make_admin(), make_admin()
    endpoint_id = endpoint_for(dev_api, owner, receiver)
    alert_id = seed_alert(db, owner.tenant_id)
    receiver.answer(404)
    dispatcher().run_once(db, clock.now)
    delivery_id = store.delivery_id_of(endpoint_id, alert_id)
    assert delivery_row(db, delivery_id)["status"] == "dead"

    base, headers = dev_api, other.headers()
    assert httpx.get(f"{base}/v1/webhooks", headers=headers, timeout=30).json() == {
        "endpoints": []}
    assert httpx.get(f"{base}/v1/webhooks/deliveries", headers=headers,
                     timeout=30).json() == {"deliveries": []}
    deleted = httpx.delete(f"{base}/v1/webhooks/{endpoint_id}", headers=headers, timeout=30)
    assert (deleted.status_code, deleted.json()["field"]) == (404, "endpoint_id")
    replayed = httpx.post(f"{base}/v1/webhooks/deliveries/{delivery_id}/replay",
                          headers=headers, timeout=30)
    assert (replayed.status_code, replayed.json()["field"]) == (404, "delivery_id")
    assert delivery_row(db, delivery_id)["status"] == "dead"

    mine = httpx.delete(f"{base}/v1/webhooks/{endpoint_id}", headers=owner.headers(),
                        timeout=30)
    assert mine.status_code == 204
    assert httpx.get(f"{base}/v1/webhooks", headers=owner.headers(), timeout=30).json() == {
        "endpoints": []}


# --- delivery ----------------------------------------------------------------------------


def test_a_delivery_arrives_signed_with_the_alert_and_the_platforms_ids(
    dev_api: str, admin: Admin, db: psycopg.Connection, receiver: Receiver, clock: Clock,
) -> None:
    seed_alert(db, admin.tenant_id, raw_user="before-registration")
    endpoint_id = endpoint_for(dev_api, admin, receiver)
    alert_id = seed_alert(db, admin.tenant_id, raw_user="suspect-17", raw_conversation="c-42")
    other = seed_alert(db, admin.tenant_id, raw_user="no-conversation", raw_conversation=None,
                       score=88.0)
    sender = dispatcher()
    report = sender.run_once(db, clock.now)
    assert (report.enqueued, report.delivered) == (2, 2)

    by_alert = {r.payload["alert_id"]: r for r in receiver.received}
    assert set(by_alert) == {alert_id, other}
    got = by_alert[alert_id]
    assert got.signature_ok and got.legacy_ok
    assert got.signed_at == int(clock.now.timestamp())
    assert got.event == "alert.raised"
    assert got.delivery_id == store.delivery_id_of(endpoint_id, alert_id)
    assert got.headers["content-type"] == "application/json"
    assert got.payload == {
        "event": "alert.raised", "alert_id": alert_id, "tenant_id": admin.tenant_id,
        "session_id": "c-42", "platform_user_id": "suspect-17", "risk_score": 0.72,
        "score": 72.0, "risk_level": "restrict",
        "explanation": "contact with one 13-15 account rose from 2 to 19 messages a week",
        "behavioral_signals": [
            {"signal": "pair_escalation", "contribution": 41.5,
             "explanation": "contact rose from 2 to 19 messages a week"},
            {"signal": "late_night", "contribution": 30.5,
             "explanation": "71% after 22:00 in the recipient's time"}],
        "recommended_action": "REVIEW",
        "evidence_package_id": package_id_of(admin.tenant_id, "alert", alert_id),
        "created_at": "2026-03-01T12:00:00Z"}
    # The package it names was preserved before the alert went out.
    assert db.execute("SELECT count(*) FROM evidence.package_keys WHERE package_id = %s",
                      (got.payload["evidence_package_id"],)).fetchone() == (1,)
    assert by_alert[other].payload["session_id"] is None
    assert by_alert[other].payload["platform_user_id"] == "no-conversation"
    row = delivery_row(db, got.delivery_id)
    assert (row["status"], row["attempts"], row["last_status_code"]) == ("delivered", 1, 200)

    assert not sender.run_once(db, clock.advance(60))  # nothing new, nothing due
    assert len(receiver.received) == 2


def test_failing_then_recovering_delivers_once_with_the_same_id(
    dev_api: str, admin: Admin, db: psycopg.Connection, receiver: Receiver, clock: Clock,
) -> None:
    endpoint_id = endpoint_for(dev_api, admin, receiver)
    alert_id = seed_alert(db, admin.tenant_id)
    receiver.fail(2)
    receiver.hang(2.0)  # past the sender's 0.5 s timeout
    sender = dispatcher(max_attempts=5)
    reports = [sender.run_once(db, clock.advance(1)) for _ in range(5)]
    assert [(r.retried, r.delivered) for r in reports] == [
        (1, 0), (1, 0), (1, 0), (0, 1), (0, 0)]
    delivery_id = store.delivery_id_of(endpoint_id, alert_id)
    assert [r.delivery_id for r in receiver.received] == [delivery_id] * 4
    assert len({r.body for r in receiver.received}) == 1
    assert [r.answered for r in receiver.received] == [500, 500, None, 200]
    assert all(r.signature_ok and r.legacy_ok for r in receiver.received)
    assert [a[1:] for a in store.attempts_of(db, delivery_id)] == [
        (500, "HTTP 500", "retry"), (500, "HTTP 500", "retry"), (None, "timed out", "retry"),
        (200, None, "delivered")]
    assert delivery_row(db, delivery_id)["status"] == "delivered"


def test_429_waits_for_retry_after(
    dev_api: str, admin: Admin, db: psycopg.Connection, receiver: Receiver, clock: Clock,
) -> None:
    endpoint_for(dev_api, admin, receiver)
    seed_alert(db, admin.tenant_id)
    receiver.throttle("7")
    sender = dispatcher()
    assert sender.run_once(db, clock.now).retried == 1
    assert not sender.run_once(db, clock.advance(6))
    assert sender.run_once(db, clock.advance(1.5)).delivered == 1
    assert [r.answered for r in receiver.received] == [429, 200]


def test_other_4xx_is_dead_at_once_with_the_reason(
    dev_api: str, admin: Admin, db: psycopg.Connection, receiver: Receiver, clock: Clock,
) -> None:
    endpoint_id = endpoint_for(dev_api, admin, receiver)
    alert_id = seed_alert(db, admin.tenant_id)
    receiver.answer(410)
    sender = dispatcher()
    assert sender.run_once(db, clock.now).dead == 1
    assert not sender.run_once(db, clock.advance(3600))
    assert len(receiver.received) == 1
    delivery_id = store.delivery_id_of(endpoint_id, alert_id)
    row = delivery_row(db, delivery_id)
    assert (row["status"], row["attempts"], row["last_status_code"], row["last_error"]) == (
        "dead", 1, 410, "HTTP 410: not retried (only 429 and 5xx are)")
    dead = httpx.get(f"{dev_api}/v1/webhooks/deliveries?status=dead", headers=admin.headers(),
                     timeout=30).json()["deliveries"]
    assert [(d["delivery_id"], d["last_status_code"]) for d in dead] == [(delivery_id, 410)]


def test_exhausted_attempts_land_in_dead_letter_and_a_replay_sends_the_same_delivery(
    dev_api: str, admin: Admin, db: psycopg.Connection, receiver: Receiver, clock: Clock,
) -> None:
    endpoint_id = endpoint_for(dev_api, admin, receiver)
    alert_id = seed_alert(db, admin.tenant_id)
    delivery_id = store.delivery_id_of(endpoint_id, alert_id)
    receiver.fail(10, status=503)
    sender = dispatcher(max_attempts=3)
    reports = [sender.run_once(db, clock.advance(1)) for _ in range(4)]
    assert [(r.retried, r.dead) for r in reports] == [(1, 0), (1, 0), (0, 1), (0, 0)]
    row = delivery_row(db, delivery_id)
    assert (row["status"], row["attempts"], row["last_error"]) == (
        "dead", 3, "gave up after 3 attempts; last: HTTP 503")
    [(dead_id, dead_error)] = db.execute(
        "SELECT delivery_id, last_error FROM webhook_dead_letters WHERE tenant_id = %s",
        (admin.tenant_id,)).fetchall()
    assert (dead_id, dead_error) == (delivery_id, row["last_error"])

    receiver.received.clear()
    receiver.recover()
    url = f"{dev_api}/v1/webhooks/deliveries/{delivery_id}/replay"
    answer = httpx.post(url, headers=admin.headers(), timeout=30)
    assert (answer.status_code, answer.json()) == (
        202, {"delivery_id": delivery_id, "status": "pending"})
    again = httpx.post(url, headers=admin.headers(), timeout=30)
    assert (again.status_code, again.json()["error"]) == (409, "not_dead")
    assert sender.run_once(db, clock.advance(1)).delivered == 1
    [got] = receiver.received
    assert got.delivery_id == delivery_id and got.signature_ok
    assert got.payload == row["payload"]
    row = delivery_row(db, delivery_id)
    assert (row["status"], row["attempts"], row["replays"]) == ("delivered", 4, 1)


def test_the_command_replays_a_dead_delivery(
    dev_api: str, admin: Admin, db: psycopg.Connection, receiver: Receiver, clock: Clock,
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    endpoint_id = endpoint_for(dev_api, admin, receiver)
    delivery_id = store.delivery_id_of(endpoint_id, seed_alert(db, admin.tenant_id))
    receiver.answer(400)
    sender = dispatcher()
    sender.run_once(db, clock.now)
    monkeypatch.setenv("WARDSTREAM_PG_DSN", settings.pg_dsn.get_secret_value())
    assert cli_main(["webhooks", "replay", delivery_id]) == 0
    assert cli_main(["webhooks", "replay", delivery_id]) == 1
    assert "not dead" in capsys.readouterr().err
    sender.run_once(db, clock.advance(1))
    assert [(r.delivery_id, r.answered) for r in receiver.received] == [
        (delivery_id, 400), (delivery_id, 200)]


def test_two_dispatchers_at_once_send_each_attempt_exactly_once(
    dev_api: str, admin: Admin, db: psycopg.Connection, receiver: Receiver, clock: Clock,
    settings: Settings,
) -> None:
    endpoint_id = endpoint_for(dev_api, admin, receiver)
    alerts = [seed_alert(db, admin.tenant_id, raw_user=f"u-{i}") for i in range(12)]
    receiver.fail(4)  # some attempts fail, so a second round has retries to share
    start = threading.Barrier(2)
    reports: list[Report] = []

    def run(now: datetime) -> None:
        with psycopg.connect(settings.pg_dsn.get_secret_value(), autocommit=True) as conn:
            start.wait(timeout=30)
            reports.append(dispatcher(batch=4).run_once(conn, now))  # both claim at once

    for _ in range(3):
        now = clock.advance(1)
        threads = [threading.Thread(target=run, args=(now,)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    expected = {store.delivery_id_of(endpoint_id, a) for a in alerts}
    assert sum(r.enqueued for r in reports) == 12
    assert sum(r.delivered for r in reports) == 12
    assert sum(r.retried for r in reports) == 4
    sent = [r.delivery_id for r in receiver.received]
    assert len(sent) == 16 and set(sent) == expected
    attempts = db.execute(
        "SELECT delivery_id, count(*), max(attempt) FROM webhook_attempts"
        " WHERE delivery_id = ANY(%s) GROUP BY delivery_id", (list(expected),)).fetchall()
    assert all(count == top for _, count, top in attempts)
    assert sum(count for _, count, _ in attempts) == 16


def test_a_name_repointed_at_a_private_address_is_refused_at_delivery(
    admin: Admin, db: psycopg.Connection, clock: Clock,
) -> None:
    endpoint_id = store.new_endpoint_id()
    box = SecretBox(MASTER_KEY.encode())
    store.insert_endpoint(db, endpoint_id, admin.tenant_id, "https://hooks.rebind.test/in", "",
                          box.seal("whsec_x", tenant_id=admin.tenant_id,
                                   endpoint_id=endpoint_id))
    alert_id = seed_alert(db, admin.tenant_id)

    def rebinding(host: str, port: int) -> list[IPAddress]:
        """The name was public at registration; now it points inside the network."""
        return [ipaddress.ip_address("10.0.0.8")]

    config = DispatchConfig(policy=RetryPolicy(3, 0.01, 0.05, 60.0), timeout_seconds=0.5,
                            batch=50, poll_seconds=0.05)
    strict = Dispatcher(config, box, Sender(timeout_seconds=0.5, allow_private=False,
                                            resolver=rebinding))
    assert strict.run_once(db, clock.now).dead == 1
    row = delivery_row(db, store.delivery_id_of(endpoint_id, alert_id))
    assert (row["status"], row["last_error"]) == (
        "dead", "refused at delivery: url resolves to a private address, which webhooks "
                "may not call")
