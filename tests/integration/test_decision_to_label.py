"""A reviewer's decision posted over HTTP reaches the trainer as a label, end to end.

API -> events.raw.json -> normalize -> dedupe -> route -> actors step -> labels
-> trainer -> fairness gate -> models, on the real broker with a running worker:
the loop issue 5 promises ("moderation decisions posted back feed the labels
topic"), and the gate issue 6 audits.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pytest

from pipeline.audit.events import SYSTEM_TENANT
from pipeline.detect.text.learning import learn
from pipeline.detect.text.model import load_model
from pipeline.kafka.lag import group_lag
from pipeline.pseudonym import Pseudonymizer
from pipeline.score.config import load_config
from pipeline.settings import Settings
from pipeline.storage.tenants import create_key
from pipeline.topology import load_topology
from tests.integration.conftest import MASTER_KEY, Process, Tenant, wait_until
from tests.integration.helpers import count
from tests.integration.streams import read_topic
from tests.unit.events import message

pytestmark = pytest.mark.integration

TEXTS = ["how old are you?", "you are so mature for your age",
         "don't tell your parents we talk", "add me on another app, it's more private"]


def test_a_confirmed_decision_becomes_a_label_the_trainer_consumes(
    settings: Settings, tenant: Tenant, db: psycopg.Connection, api: str,
    worker_factory: Callable[..., Process],
) -> None:
    worker = worker_factory().start()  # trainer on, as deployed
    t = tenant.tenant_id
    start = datetime.now(UTC) - timedelta(hours=2)
    events = [message(tenant_id=t, event_id=f"m-{i}", actor_id="adult-7",
                      recipient_ids=["kid-3"], conversation_id="c-1", content=text,
                      occurred_at=(start + timedelta(minutes=10 * i)).isoformat())
              for i, text in enumerate(TEXTS)]
    posted = httpx.post(f"{api}/v1/events", content=json.dumps(events).encode(),
                        headers={"Authorization": f"Bearer {tenant.api_key}",
                                 "Content-Type": "application/json"}, timeout=30)
    assert posted.status_code == 202, posted.text
    wait_until(lambda: worker.running() and count(db, t) >= len(events), 180,
               "the messages stored")

    moderator = create_key(db, t, ["moderate"])
    decided = httpx.post(f"{api}/v1/decisions", json={
        "subject": "adult-7", "decision": "confirmed_grooming", "reviewer": "mod-1"},
        headers={"Authorization": f"Bearer {moderator}"}, timeout=30)
    assert decided.status_code == 202, decided.text

    subject = Pseudonymizer(MASTER_KEY.encode()).pseudonym(t, "user", "adult-7")
    topology = load_topology(settings.topology_file)
    labels_topic = topology.port("actors", "writes", "labels")

    def label() -> dict[str, object] | None:
        found = [r for _, r in read_topic(settings.kafka_bootstrap, labels_topic)
                 if r["tenant_id"] == t]
        return found[0] if found else None

    got = wait_until(lambda: worker.running() and label(), 180, "a label for the decision")
    assert (got["subject"], got["decision"]) == (subject, "confirmed_grooming")
    assert got["label_id"] and got["at_us"] > int(start.timestamp() * 1_000_000)
    wait_until(lambda: worker.running() and group_lag(
        settings.kafka_bootstrap, settings.app_id, [labels_topic]) == 0, 180,
        "the trainer to consume the label")

    # The label teaches the seed model these texts (this session's models topic starts
    # empty), so the trainer's fairness gate judged that version: its record is in the
    # system log, and the version was published on `models` only if it passed.
    config = load_config()
    version = learn(load_model(), TEXTS, "confirmed_grooming", config.stage_threshold).version

    def system_record(record_id: str) -> dict[str, object] | None:
        row = db.execute("SELECT leaf FROM audit_leaves WHERE tenant_id = %s"
                         " AND record_id = %s", (SYSTEM_TENANT, record_id)).fetchone()
        return None if row is None else json.loads(bytes(row[0]))["details"]

    gate = wait_until(lambda: system_record(f"fairness:{version}:benign_styles"), 60,
                      "the fairness gate's audit record")
    assert gate["suite"] == "benign_styles" and gate["max_gap"] == "0.0200"
    assert gate["parent_version"] == load_model().version
    models_topic = topology.port("trainer", "writes", "models")

    def published() -> list[str]:
        return [r["version"] for _, r in read_topic(settings.kafka_bootstrap, models_topic)]

    if gate["passed"]:
        assert wait_until(lambda: version in published(), 60, "the version on models")
        deployed = system_record(f"model:{version}")
        assert deployed is not None and deployed["labels_learned"] == len(TEXTS)
    else:
        assert version not in published()
