"""The retention job: remove what is past its class's limit, keep what a legal hold covers.

``run_once(conn, now, policy)`` works tenant by tenant (each tenant's days come
from its jurisdiction), one data class after another, in batches of
``batch`` rows per statement, and stores one ``retention_runs`` row; a dry run
counts and changes nothing (and stores nothing). ``report(conn, now, policy)``
answers per class: the oldest row's age, rows past the limit, rows kept by a
hold, and when retention last ran. Evidence packages are not handled here:
they run on pipeline/evidence's own clock (``wardstream evidence expire``).

Legal hold: the rows of a person who is the subject of an evidence package
under hold (``evidence.held_subjects``) are kept, whatever their age.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import psycopg
from psycopg import errors as pg_errors
from psycopg.types.json import Jsonb

from pipeline.privacy.errors import EvidenceFunctionsMissing
from pipeline.privacy.policy import CLASSES, RetentionPolicy

DEFAULT_BATCH: Final = 5000


@dataclass(frozen=True)
class Target:
    """One table of a data class: which rows count, and what removing them means."""

    table: str
    time_column: str
    scope: str = "true"          # which rows the class covers at all
    held_column: str | None = "actor"
    clear: str | None = None      # "content = NULL": update in place instead of deleting
    before: str | None = None     # run first with the same predicate (child rows)

    # SQL is built only from the constant fragments in TARGETS, never from input.
    @property
    def predicate(self) -> str:
        return f"{_TENANT} AND {self.time_column} < %(cutoff)s AND ({self.scope})"

    @property
    def held(self) -> str:
        return "false" if self.held_column is None else f"{self.held_column} = ANY(%(held)s)"

    def count_sql(self) -> str:
        return (f"SELECT count(*) FILTER (WHERE NOT ({self.held})),"  # noqa: S608
                f" count(*) FILTER (WHERE {self.held}) FROM {self.table} WHERE {self.predicate}")

    def oldest_sql(self) -> str:
        return (f"SELECT min({self.time_column}) FROM {self.table}"  # noqa: S608
                f" WHERE {_TENANT} AND ({self.scope})")

    def apply_sql(self) -> tuple[str | None, str]:
        """(the ``before`` statement or None, the change), each for one batch."""
        doomed = (f"SELECT ctid FROM {self.table} WHERE {self.predicate}"  # noqa: S608
                  f" AND NOT ({self.held}) ORDER BY ctid LIMIT %(batch)s")
        change = (f"UPDATE {self.table} SET {self.clear}" if self.clear  # noqa: S608
                  else f"DELETE FROM {self.table}")  # noqa: S608
        before = (None if self.before is None else self.before.format(
            predicate=f"{self.predicate} AND ctid = ANY(ARRAY({doomed}))"))
        return before, f"{change} WHERE ctid = ANY(ARRAY({doomed}))"


_TENANT: Final = "tenant_id IS NOT DISTINCT FROM %(tenant)s"
# An alert goes once no review item that stays points at it.
_ALERT_UNREFERENCED: Final = (
    "NOT EXISTS (SELECT 1 FROM review_queue r WHERE (r.first_alert_id = alerts.alert_id"
    " OR r.latest_alert_id = alerts.alert_id) AND NOT (r.status = 'closed'"
    " AND r.raised_at < %(cutoff)s AND NOT (r.actor = ANY(%(held)s))))")

TARGETS: Final[dict[str, tuple[Target, ...]]] = {
    "raw_content": (Target("events", "occurred_at", scope="content IS NOT NULL",
                           clear="content = NULL"),),
    "events": (Target("events", "occurred_at"),),
    "scores": (Target("score_history", "scored_at"), Target("scores_latest", "scored_at")),
    "alerts": (
        Target("review_queue", "raised_at", scope="status = 'closed'"),
        Target("alerts", "raised_at", scope=_ALERT_UNREFERENCED),
    ),
    "dead_letters": (Target("dead_letters", "received_at", held_column=None),),
    "webhook_deliveries": (Target(
        "webhook_deliveries", "created_at", scope="status IN ('delivered', 'dead')",
        before=("DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT delivery_id FROM"
                " webhook_deliveries WHERE {predicate})")),),
}


@dataclass
class ClassResult:
    removed: int = 0       # past the limit and removed (or, on a dry run, that would be)
    held: int = 0          # past the limit but kept: the person is under legal hold

    def as_dict(self) -> dict[str, int]:
        return {"removed": self.removed, "held": self.held}


@dataclass
class RunResult:
    ran_at: datetime
    dry_run: bool
    results: dict[str, ClassResult] = field(default_factory=dict)
    run_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"ran_at": self.ran_at.astimezone(UTC).isoformat(), "dry_run": self.dry_run,
                "run_id": self.run_id,
                "classes": {name: r.as_dict() for name, r in self.results.items()}}


def tenants_in_scope(conn: psycopg.Connection,
                     tenants: Sequence[str] | None) -> list[str | None]:
    """The given tenants, or every registered tenant and the tenant-less rows."""
    if tenants is not None:
        return list(tenants)
    rows = conn.execute("SELECT tenant_id FROM tenants ORDER BY tenant_id").fetchall()
    return [str(row[0]) for row in rows] + [None]


def held_subjects(conn: psycopg.Connection, tenant: str | None) -> list[str]:
    if tenant is None:
        return []
    try:
        with conn.transaction():
            rows = conn.execute("SELECT actor FROM evidence.held_subjects(%s)",
                                (tenant,)).fetchall()
    except (pg_errors.UndefinedFunction, pg_errors.InsufficientPrivilege):
        raise EvidenceFunctionsMissing(
            "evidence.held_subjects is missing or not executable: see docs/erasure.md "
            "(migration 0010)") from None
    return [str(row[0]) for row in rows]


def _count(conn: psycopg.Connection, target: Target, params: dict[str, Any]) -> tuple[int, int]:
    row = conn.execute(target.count_sql(), params).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def _apply(conn: psycopg.Connection, target: Target, params: dict[str, Any], batch: int) -> int:
    before, change = target.apply_sql()
    total = 0
    while True:
        with conn.transaction():
            if before is not None:
                conn.execute(before, {**params, "batch": batch})
            done = conn.execute(change, {**params, "batch": batch}).rowcount
        total += done
        if done < batch:
            return total


def run_once(conn: psycopg.Connection, now: datetime, policy: RetentionPolicy, *,
             dry_run: bool = False, tenants: Sequence[str] | None = None,
             batch: int = DEFAULT_BATCH) -> RunResult:
    """Enforce ``policy`` as of ``now``; with ``dry_run`` only count. One stored run row."""
    if now.utcoffset() is None:
        raise ValueError("now must carry a time zone")
    result = RunResult(now, dry_run, {name: ClassResult() for name in CLASSES})
    for tenant in tenants_in_scope(conn, tenants):
        held = held_subjects(conn, tenant)
        for name in CLASSES:
            params = {"tenant": tenant, "held": held,
                      "cutoff": now - timedelta(days=policy.days(tenant, name))}
            for target in TARGETS[name]:
                past, kept = _count(conn, target, params)
                result.results[name].held += kept
                if dry_run:
                    result.results[name].removed += past
                elif past:
                    result.results[name].removed += _apply(conn, target, params, batch)
    if not dry_run:
        row = conn.execute(
            "INSERT INTO retention_runs (ran_at, config_sha256, tenants, results)"
            " VALUES (%s, %s, %s, %s) RETURNING run_id",
            (now, policy.sha256, None if tenants is None else list(tenants),
             Jsonb({n: r.as_dict() for n, r in result.results.items()}))).fetchone()
        result.run_id = int(row[0]) if row else None
    return result


def last_run(conn: psycopg.Connection, tenants: Sequence[str] | None) -> datetime | None:
    """When retention last ran over all of ``tenants`` (a run over every tenant counts)."""
    row = conn.execute(
        "SELECT max(ran_at) FROM retention_runs WHERE tenants IS NULL"
        " OR (%(tenants)s::text[] IS NOT NULL AND tenants @> %(tenants)s::text[])",
        {"tenants": None if tenants is None else list(tenants)}).fetchone()
    return row[0] if row and row[0] is not None else None


def report(conn: psycopg.Connection, now: datetime, policy: RetentionPolicy, *,
           tenants: Sequence[str] | None = None) -> dict[str, Any]:
    """Per class: the oldest row's age, rows past the limit and held, the limits; last run."""
    classes: dict[str, dict[str, Any]] = {}
    scope = tenants_in_scope(conn, tenants)
    for name in CLASSES:
        oldest: datetime | None = None
        past = kept = 0
        for tenant in scope:
            params = {"tenant": tenant, "held": held_subjects(conn, tenant),
                      "cutoff": now - timedelta(days=policy.days(tenant, name))}
            for target in TARGETS[name]:
                a, b = _count(conn, target, params)
                past, kept = past + a, kept + b
                row = conn.execute(target.oldest_sql(), params).fetchone()
                if row and row[0] is not None and (oldest is None or row[0] < oldest):
                    oldest = row[0]
        classes[name] = {
            "oldest_age_days": None if oldest is None else round(
                (now - oldest).total_seconds() / 86_400, 1),
            "past_limit": past, "held": kept,
            "limit_days": sorted({policy.days(t, name) for t in scope}),
        }
    classes["evidence"] = {"handled_by": "pipeline/evidence (wardstream evidence expire)"}
    ran = last_run(conn, tenants)
    return {"as_of": now.astimezone(UTC).isoformat(), "classes": classes,
            "last_run": None if ran is None else ran.astimezone(UTC).isoformat()}
