"""Idempotent PostgreSQL writes of scores and alerts, and the review queue they feed.

Records come from the risk agent (``scores`` and ``alerts`` topics, schemas
``score.v1`` and ``alert.v1``) with deterministic ids, so a record delivered
twice is written once:

- a score is a ``score_history`` row keyed by ``score_id``, and replaces the
  user's ``scores_latest`` row when it is at the same or a later event time;
- an alert is an ``alerts`` row keyed by ``alert_id``. Only an alert stored
  *now* touches the review queue, in the same statement: it opens an item for
  its user, or raises the user's open item (newest score, tier, explanation
  and alert). A replayed alert therefore never reopens a closed item nor
  counts twice.

Each score that crosses a tier (``previous_tier != tier``) and each alert is
also a leaf of the tenant's audit log (``pipeline.audit.events``), appended
in the same transaction after the rows, with a record id derived from the
score or alert id: a batch written twice appends nothing the second time.

One batch is one transaction, so the caller may commit its Kafka offsets once
:func:`write_scores` returns.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg

from pipeline.audit import store as audit_store
from pipeline.audit.events import alert_record, tier_change_record
from pipeline.audit.records import AuditRecord
from pipeline.model import DeadLetter
from pipeline.storage.sink import from_micros, insert_dead_letters


@dataclass(frozen=True, slots=True)
class DriverRecord:
    """One signal's part in a score at that moment."""

    signal: str
    contribution: float
    explanation: str


def drivers_of(raw: Sequence[dict[str, Any]]) -> tuple[DriverRecord, ...]:
    return tuple(DriverRecord(str(d["signal"]), float(d["contribution"]), str(d["explanation"]))
                 for d in raw)


def drivers_json(drivers: Sequence[DriverRecord]) -> str:
    return json.dumps([{"signal": d.signal, "contribution": d.contribution,
                        "explanation": d.explanation} for d in drivers],
                      separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class ScoreRecord:
    """A ``score.v1`` record."""

    score_id: str
    tenant_id: str
    actor: str
    score: float
    tier: str
    previous_tier: str
    at_us: int
    event_id: str
    max_score: float
    first_alert_at_us: int | None
    explanation: str
    drivers: tuple[DriverRecord, ...]

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> ScoreRecord:
        return cls(
            score_id=record["score_id"], tenant_id=record["tenant_id"], actor=record["actor"],
            score=float(record["score"]), tier=record["tier"],
            previous_tier=record["previous_tier"], at_us=int(record["at_us"]),
            event_id=record["event_id"], max_score=float(record["max_score"]),
            first_alert_at_us=record.get("first_alert_at_us"),
            explanation=record["explanation"], drivers=drivers_of(record["drivers"]),
        )


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """An ``alert.v1`` record."""

    alert_id: str
    tenant_id: str
    actor: str
    tier: str
    score: float
    raised_at_us: int
    event_id: str
    explanation: str
    drivers: tuple[DriverRecord, ...]

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> AlertRecord:
        return cls(
            alert_id=record["alert_id"], tenant_id=record["tenant_id"], actor=record["actor"],
            tier=record["tier"], score=float(record["score"]),
            raised_at_us=int(record["raised_at_us"]), event_id=record["event_id"],
            explanation=record["explanation"], drivers=drivers_of(record["drivers"]),
        )


@dataclass
class ScoreBatch:
    """What one flush of ``sink_scores`` writes, in input order."""

    scores: list[ScoreRecord] = field(default_factory=list)
    alerts: list[AlertRecord] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.scores) + len(self.alerts) + len(self.dead_letters)


_INSERT_SCORE = """
INSERT INTO score_history (score_id, tenant_id, actor, score, tier, previous_tier, scored_at,
                           event_id, max_score, first_alert_at, explanation, drivers)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (score_id) DO NOTHING
"""
_UPSERT_LATEST = """
INSERT INTO scores_latest (score_id, tenant_id, actor, score, tier, previous_tier, scored_at,
                           event_id, max_score, first_alert_at, explanation, drivers)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (tenant_id, actor) DO UPDATE SET
    score_id = EXCLUDED.score_id, score = EXCLUDED.score, tier = EXCLUDED.tier,
    previous_tier = EXCLUDED.previous_tier, scored_at = EXCLUDED.scored_at,
    event_id = EXCLUDED.event_id, max_score = EXCLUDED.max_score,
    first_alert_at = EXCLUDED.first_alert_at, explanation = EXCLUDED.explanation,
    drivers = EXCLUDED.drivers, updated_at = now()
WHERE EXCLUDED.scored_at >= scores_latest.scored_at
  AND EXCLUDED.score_id IS DISTINCT FROM scores_latest.score_id
"""
# The CTE inserts the alert; the queue sees a row only when the alert is new.
_INSERT_ALERT = """
WITH stored AS (
    INSERT INTO alerts (alert_id, tenant_id, actor, tier, score, raised_at, event_id,
                        explanation, drivers)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
    ON CONFLICT (alert_id) DO NOTHING
    RETURNING alert_id, tenant_id, actor, tier, score, raised_at, explanation, drivers
)
INSERT INTO review_queue AS q (tenant_id, actor, score, tier, explanation, drivers,
                               first_alert_id, latest_alert_id, opened_at, raised_at)
SELECT tenant_id, actor, score, tier, explanation, drivers, alert_id, alert_id,
       raised_at, raised_at
FROM stored
ON CONFLICT (tenant_id, actor) WHERE status = 'open' DO UPDATE SET
    alert_count = q.alert_count + 1,
    opened_at = LEAST(q.opened_at, EXCLUDED.opened_at),
    first_alert_id = CASE WHEN EXCLUDED.opened_at < q.opened_at
                          THEN EXCLUDED.first_alert_id ELSE q.first_alert_id END,
    score = CASE WHEN EXCLUDED.raised_at >= q.raised_at THEN EXCLUDED.score ELSE q.score END,
    tier = CASE WHEN EXCLUDED.raised_at >= q.raised_at THEN EXCLUDED.tier ELSE q.tier END,
    explanation = CASE WHEN EXCLUDED.raised_at >= q.raised_at
                       THEN EXCLUDED.explanation ELSE q.explanation END,
    drivers = CASE WHEN EXCLUDED.raised_at >= q.raised_at
                   THEN EXCLUDED.drivers ELSE q.drivers END,
    latest_alert_id = CASE WHEN EXCLUDED.raised_at >= q.raised_at
                           THEN EXCLUDED.latest_alert_id ELSE q.latest_alert_id END,
    raised_at = GREATEST(q.raised_at, EXCLUDED.raised_at),
    updated_at = now()
"""


def _score_row(s: ScoreRecord) -> tuple[Any, ...]:
    return (
        s.score_id, s.tenant_id, s.actor, s.score, s.tier, s.previous_tier,
        from_micros(s.at_us), s.event_id, s.max_score,
        None if s.first_alert_at_us is None else from_micros(s.first_alert_at_us),
        s.explanation, drivers_json(s.drivers),
    )


def _alert_row(a: AlertRecord) -> tuple[Any, ...]:
    return (
        a.alert_id, a.tenant_id, a.actor, a.tier, a.score, from_micros(a.raised_at_us),
        a.event_id, a.explanation, drivers_json(a.drivers),
    )


def newest_per_actor(scores: Sequence[ScoreRecord]) -> list[ScoreRecord]:
    """Each user's newest score of a batch: latest event time, later input on a tie.

    Writing only these gives ``scores_latest`` the same rows as writing every
    record in input order, with one upsert per user instead of one per record.
    """
    newest: dict[tuple[str, str], ScoreRecord] = {}
    for record in scores:
        key = (record.tenant_id, record.actor)
        kept = newest.get(key)
        if kept is None or record.at_us >= kept.at_us:
            newest[key] = record
    return list(newest.values())


def score_audit_record(s: ScoreRecord) -> AuditRecord | None:
    """The ``tier_change`` record of a score that crosses a tier; None for one that does not.

    Raises ``InvalidAuditRecord`` (naming the field) for a score that cannot be
    recorded; the sink checks this while decoding and dead-letters such a record.
    """
    if s.previous_tier == s.tier:
        return None
    return tier_change_record(score_id=s.score_id, subject=s.actor,
                              previous_tier=s.previous_tier, tier=s.tier, score=s.score,
                              occurred_at=from_micros(s.at_us))


def alert_audit_record(a: AlertRecord) -> AuditRecord:
    """The ``alert`` record of an alert (``InvalidAuditRecord`` as for scores)."""
    return alert_record(alert_id=a.alert_id, subject=a.actor, tier=a.tier, score=a.score,
                        raised_at=from_micros(a.raised_at_us))


def audit_entries(batch: ScoreBatch) -> list[tuple[str, AuditRecord]]:
    """``(tenant, record)`` for each tier-crossing score and each alert, in input order."""
    entries: list[tuple[str, AuditRecord]] = []
    for s in batch.scores:
        record = score_audit_record(s)
        if record is not None:
            entries.append((s.tenant_id, record))
    entries.extend((a.tenant_id, alert_audit_record(a)) for a in batch.alerts)
    return entries


def write_scores(conn: psycopg.Connection, batch: ScoreBatch) -> None:
    """Write ``batch`` in one transaction; raise ``psycopg.Error`` and write nothing on failure.

    The audit records go last, so the per-tenant audit lock is held only
    from there to the commit (``pipeline.audit.store.append_many``).
    """
    with conn.transaction():
        with conn.cursor() as cur:
            if batch.scores:
                cur.executemany(_INSERT_SCORE, [_score_row(s) for s in batch.scores])
                cur.executemany(_UPSERT_LATEST,
                                [_score_row(s) for s in newest_per_actor(batch.scores)])
            if batch.alerts:
                cur.executemany(_INSERT_ALERT, [_alert_row(a) for a in batch.alerts])
            insert_dead_letters(cur, batch.dead_letters)
        audit_store.append_many(conn, audit_entries(batch))
