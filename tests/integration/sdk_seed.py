"""What the SDK integration tests share: a key with every scope the SDK uses, a known user
with a score history and an open review item, and probes of the raw topic."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

import psycopg

from pipeline.detect.stages import STAGES
from pipeline.detect.text.model import load_model, signal_bytes
from pipeline.kafka.read import read_to_end
from pipeline.model import IdentityEntry
from pipeline.pseudonym import Pseudonymizer
from pipeline.settings import Settings
from pipeline.storage.scores import AlertRecord, ScoreBatch, ScoreRecord, write_scores
from pipeline.storage.sink import SinkBatch, write_batch
from pipeline.storage.tenants import create_key
from tests.integration.conftest import MASTER_KEY

T0 = 1_772_000_000_000_000  # 2026-02-25, event time
DAY_US = 86_400_000_000
PRIVACY_TEXT = "don't tell your parents we talk, add me on another app"


@dataclass(frozen=True)
class SeededUser:
    raw_id: str
    pseudonym: str


def sdk_key(db: psycopg.Connection, tenant_id: str) -> str:
    return create_key(db, tenant_id, ["ingest", "read", "moderate"])


def seed_user(db: psycopg.Connection, tenant_id: str, raw_id: str = "sdk-user #1") -> SeededUser:
    """A user in the identity map with three scores and an alert (so an open item)."""
    pseudonym = Pseudonymizer(MASTER_KEY.encode()).pseudonym(tenant_id, "user", raw_id)
    write_batch(db, SinkBatch(identities=[IdentityEntry(tenant_id, "user", pseudonym, raw_id,
                                                         pseudonym, T0)]))
    drivers = [{"signal": "stages", "contribution": 40.0, "explanation": "stages seen"}]
    scores = [ScoreRecord.from_record({
        "score_id": secrets.token_hex(16), "tenant_id": tenant_id, "actor": pseudonym,
        "score": 40.0 + 10 * i, "tier": "restrict", "previous_tier": "watch",
        "at_us": T0 + i * DAY_US, "event_id": f"e-{i}", "max_score": 40.0 + 10 * i,
        "first_alert_at_us": None, "explanation": "stages seen", "drivers": drivers,
    }) for i in range(3)]
    alerts = [AlertRecord.from_record({
        "alert_id": secrets.token_hex(16), "tenant_id": tenant_id, "actor": pseudonym,
        "tier": "restrict", "score": 60.0, "raised_at_us": T0 + 2 * DAY_US, "event_id": "e-2",
        "explanation": "stages seen", "drivers": drivers,
    })]
    write_scores(db, ScoreBatch(scores=scores, alerts=alerts))
    return SeededUser(raw_id, pseudonym)


def raw_records(settings: Settings, topic: str, tenant_id: str) -> list[dict[str, Any]]:
    """Every record of the tenant on the raw JSON topic (what the API produced)."""
    return [value for m in read_to_end(settings.kafka_bootstrap, topic)
            if (value := json.loads(m.value())).get("tenant_id") == tenant_id]


def assert_private_record(record: dict[str, Any], text: str) -> None:
    """``record`` carries no text, the text's hash, and the signals the pipeline's own
    model computes from the text (to 1e-9; the same bytes once quantised)."""
    assert "content" not in record
    assert record["content_sha256"] == hashlib.sha256(text.encode("utf-8")).hexdigest()
    model = load_model()
    expected = dict(zip(STAGES, model.predict(text), strict=True))
    signals = record["content_signals"]
    assert set(signals) == set(STAGES)
    for stage in STAGES:
        assert abs(signals[stage] - expected[stage]) <= 1e-9, stage
    assert signal_bytes(signals) == model.stage_bytes(text)
