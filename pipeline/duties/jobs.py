"""The duties themselves: thin wrappers over the functions the separate commands call.

Each returns a :class:`~pipeline.duties.scheduler.Job` whose run is one round
(what ``wardstream evidence run --once``, ``webhooks run --once``, ``audit
sign-all``, ``evidence expire`` and ``retention run`` each do once) and
returns counts. The jobs share one autocommit connection, opened when first
needed and dropped after any failure, so the next run reconnects: a database
that was briefly down costs one failed run per duty, nothing more.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

import psycopg

from pipeline.duties.config import DutiesSettings
from pipeline.duties.scheduler import Counts, Job
from pipeline.settings import Settings

log = logging.getLogger(__name__)

EVIDENCE_BATCH: Final = 100
# Batches (evidence) or rounds (webhooks) per run when running on intervals: a backlog
# is worked off over several runs, so one duty never keeps the others waiting long.
ROUNDS_PER_RUN: Final = 10


class Database:
    """One lazily opened autocommit connection, discarded when a job using it fails."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._conn: psycopg.Connection | None = None

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self._dsn, autocommit=True, connect_timeout=10)
        try:
            yield self._conn
        except Exception:
            self.close()  # its state is unknown (a lost server, a half-done statement)
            raise

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


@dataclass
class Plan:
    """The jobs to run, the duties switched off (with why) and what to close at the end."""

    jobs: list[Job] = field(default_factory=list)
    off: list[tuple[str, str]] = field(default_factory=list)
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for close in reversed(self.closers):
            close()


def evidence_round(db: Database, settings: Settings, tenants: Sequence[str] | None,
                   stop: threading.Event, max_rounds: int | None) -> Callable[[], Counts]:
    from pipeline.evidence.builder import build_pending
    from pipeline.evidence.policy import config_from_settings

    config = config_from_settings(settings)

    def run() -> Counts:
        built = 0
        with db.connection() as conn:
            for tenant in tenants if tenants is not None else [None]:
                rounds = 0
                while True:
                    done = build_pending(conn, config, tenant_id=tenant, limit=EVIDENCE_BATCH)
                    built += sum(1 for item in done if item.created)
                    rounds += 1
                    if (len(done) < EVIDENCE_BATCH or stop.is_set()
                            or (max_rounds is not None and rounds >= max_rounds)):
                        break
        return {"built": built}

    return run


def webhooks_round(db: Database, settings: Settings, stop: threading.Event,
                   max_rounds: int | None, plan: Plan) -> Callable[[], Counts]:
    from pipeline.evidence.policy import config_from_settings
    from pipeline.webhooks.dispatcher import DispatchConfig, Dispatcher, Report
    from pipeline.webhooks.evidence_hook import evidence_lookup
    from pipeline.webhooks.sealing import SecretBox
    from pipeline.webhooks.sender import Sender

    config = DispatchConfig.from_settings(settings)
    box = SecretBox(settings.master_key())
    sender = Sender(timeout_seconds=config.timeout_seconds,
                    allow_private=settings.webhook_allow_private)
    plan.closers.append(sender.close)
    dispatcher = Dispatcher(config, box, sender,
                            evidence=evidence_lookup(config_from_settings(settings)))

    def run() -> Counts:
        total, rounds = Report(), 0
        with db.connection() as conn:
            while True:
                report = dispatcher.run_once(conn, datetime.now(UTC))
                for name, value in dataclasses.asdict(report).items():
                    setattr(total, name, getattr(total, name) + value)
                rounds += 1
                if (report.delivered + report.retried + report.dead < config.batch
                        or stop.is_set() or (max_rounds is not None and rounds >= max_rounds)):
                    break
        return dataclasses.asdict(total)

    return run


def audit_round(db: Database, settings: Settings,
                tenants: Sequence[str] | None) -> Callable[[], Counts]:
    from pipeline.audit import store
    from pipeline.audit.signing import signing_key

    key = signing_key(settings.audit_seed())
    wanted = None if tenants is None else frozenset(tenants)

    def run() -> Counts:
        with db.connection() as conn:
            grown = None if wanted is None else [
                t for t in store.tenants_to_sign(conn) if t in wanted]
            done = store.sign_all(conn, key, tenants=grown)
        for tenant, why in done.failed:
            # The exception's class only: the rest of the reason can quote row values.
            log.warning("duty audit: tenant %s not signed (%s)", tenant, why.split(":", 1)[0])
        return {"signed": len(done.signed), "failed": len(done.failed)}

    return run


def expire_round(db: Database) -> Callable[[], Counts]:
    from pipeline.evidence.retention import expire

    def run() -> Counts:
        with db.connection() as conn:
            return {"destroyed": len(expire(conn))}

    return run


def retention_round(db: Database, settings: Settings,
                    tenants: Sequence[str] | None) -> Callable[[], Counts]:
    from pipeline.privacy.policy import policy_from_settings
    from pipeline.privacy.retention import run_once

    policy = policy_from_settings(settings)

    def run() -> Counts:
        with db.connection() as conn:
            result = run_once(conn, datetime.now(UTC), policy, tenants=tenants)
        return {"removed": sum(r.removed for r in result.results.values()),
                "held": sum(r.held for r in result.results.values())}

    return run


def plan_duties(selected: Sequence[str], settings: Settings, intervals: DutiesSettings,
                db: Database, stop: threading.Event, *, tenants: Sequence[str] | None = None,
                required: bool = False, max_rounds: int | None = ROUNDS_PER_RUN) -> Plan:
    """The jobs of ``selected``. Webhooks need the master key and audit the signing key:
    without them the duty is off (in ``plan.off``), or a ConfigError if ``required``
    (the operator named it with ``--only``). Other configuration errors always raise.
    ``max_rounds`` None: evidence and webhooks work off their whole backlog in one run."""
    plan = Plan()
    try:
        for duty in selected:
            run: Callable[[], Counts]
            if duty == "evidence":
                run = evidence_round(db, settings, tenants, stop, max_rounds)
            elif duty == "webhooks":
                if settings.pseudonym_master_key is None and not required:
                    plan.off.append((duty, "WARDSTREAM_PSEUDONYM_MASTER_KEY is not set"))
                    continue
                run = webhooks_round(db, settings, stop, max_rounds, plan)
            elif duty == "audit":
                if settings.audit_signing_key is None and not required:
                    plan.off.append((duty, "signing is off: WARDSTREAM_AUDIT_SIGNING_KEY "
                                     "is not set"))
                    continue
                run = audit_round(db, settings, tenants)
            elif duty == "expire":
                run = expire_round(db)
            elif duty == "retention":
                run = retention_round(db, settings, tenants)
            else:
                raise ValueError(f"unknown duty {duty!r}")
            plan.jobs.append(Job(duty, intervals.interval(duty), run))
    except Exception:
        plan.close()
        raise
    return plan
