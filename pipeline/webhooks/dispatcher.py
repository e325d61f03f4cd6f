"""The webhook dispatcher: fill the outbox from new alerts, then send what is due.

``Dispatcher.run_once(conn, now)`` is one round (tests call it with their own
clock); ``run_forever`` repeats it (``wardstream webhooks run``). Any number of
dispatchers may run: enqueueing is idempotent (one delivery id per endpoint and
alert) and claims skip rows another dispatcher holds. ``now`` drives schedules
and signature timestamps; which alerts are new is judged by the database clock
(``alerts.stored_at`` against the endpoint's ``created_at``).

Logs carry counts and reasons only: never secrets, payloads, URLs or ids of users.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg

from pipeline.settings import Settings
from pipeline.webhooks import signing, store
from pipeline.webhooks.errors import SealedSecretError
from pipeline.webhooks.evidence_hook import EvidenceLookup, evidence_package_id
from pipeline.webhooks.payload import alert_payload, body_bytes
from pipeline.webhooks.retry import AttemptResult, RetryPolicy, next_step, when
from pipeline.webhooks.sealing import SecretBox
from pipeline.webhooks.sender import Sender

log = logging.getLogger(__name__)

_ENQUEUE_LIMIT = 500


@dataclass(frozen=True, slots=True)
class DispatchConfig:
    policy: RetryPolicy
    timeout_seconds: float
    batch: int
    poll_seconds: float
    enqueue_lookback_seconds: float = 86_400.0
    max_parallel: int = 8

    @property
    def lease_seconds(self) -> float:
        """How long a claimed attempt is not due again: past any attempt's timeout."""
        return 2 * self.timeout_seconds + 30

    @classmethod
    def from_settings(cls, settings: Settings) -> DispatchConfig:
        return cls(
            policy=RetryPolicy(settings.webhook_max_attempts,
                               settings.webhook_backoff_base_seconds,
                               settings.webhook_backoff_max_seconds,
                               settings.webhook_retry_after_max_seconds),
            timeout_seconds=settings.webhook_timeout_seconds,
            batch=settings.webhook_batch,
            poll_seconds=settings.webhook_poll_seconds,
        )


@dataclass
class Report:
    enqueued: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    overtaken: int = 0

    def __bool__(self) -> bool:
        return any((self.enqueued, self.delivered, self.retried, self.dead, self.overtaken))


class Dispatcher:
    def __init__(self, config: DispatchConfig, box: SecretBox, sender: Sender, *,
                 rng: random.Random | None = None,
                 evidence: EvidenceLookup = evidence_package_id) -> None:
        self._config = config
        self._box = box
        self._sender = sender
        self._rng = rng or random.Random()  # jitter, not a secret
        self._evidence = evidence

    def enqueue(self, conn: psycopg.Connection, now: datetime) -> int:
        added = 0
        for endpoint_id, facts in store.new_alerts(conn, self._config.enqueue_lookback_seconds,
                                                   _ENQUEUE_LIMIT):
            payload = alert_payload(facts, evidence_package_id=self._evidence(
                conn, facts.tenant_id, facts.alert_id))
            added += store.enqueue(conn, endpoint_id, facts, payload, now)
        return added

    def _attempt(self, claimed: store.Claimed, now: datetime) -> AttemptResult:
        try:
            secret = self._box.open(claimed.secret_sealed, tenant_id=claimed.tenant_id,
                                    endpoint_id=claimed.endpoint_id)
        except SealedSecretError as exc:
            log.error("webhooks: %s", exc)  # the operator restores the key, then replays
            return AttemptResult(None, error="the endpoint's signing secret cannot be unsealed")
        body = body_bytes(claimed.payload)
        timestamp = int(now.timestamp())
        headers = {
            signing.SIGNATURE_HEADER: signing.signature_header(secret, timestamp, body),
            signing.LEGACY_SIGNATURE_HEADER: signing.legacy_signature(secret, body),
            signing.DELIVERY_HEADER: claimed.delivery_id,
            signing.EVENT_HEADER: claimed.event,
        }
        return self._sender.post(claimed.url, headers, body)

    def run_once(self, conn: psycopg.Connection, now: datetime) -> Report:
        """Enqueue new alerts, then make one attempt at each due delivery (up to a batch)."""
        report = Report(enqueued=self.enqueue(conn, now))
        claimed = store.claim_due(conn, now, self._config.batch, self._config.lease_seconds)
        if not claimed:
            return report
        workers = min(self._config.max_parallel, len(claimed))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="webhook") as pool:
            results = list(pool.map(lambda c: self._attempt(c, now), claimed))
        for item, result in zip(claimed, results, strict=True):
            step = next_step(result, item.in_budget, self._config.policy, self._rng, now)
            if not store.finish(conn, item, step, result.status_code, now, when(now, step)):
                report.overtaken += 1
                continue
            if step.kind == "delivered":
                report.delivered += 1
            elif step.kind == "retry":
                report.retried += 1
            else:
                report.dead += 1
                log.warning("webhook delivery dead after attempt %d: %s", item.attempt,
                            step.reason)
        return report

    def run_forever(self, connect: Callable[[], psycopg.Connection], stop: threading.Event,
                    clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        """Rounds until ``stop`` is set; reconnects after losing the database."""
        conn: psycopg.Connection | None = None
        while not stop.is_set():
            try:
                if conn is None or conn.closed:
                    conn = connect()
                report = self.run_once(conn, clock())
            except psycopg.OperationalError as exc:
                log.warning("webhooks: database unavailable (%s); retrying", type(exc).__name__)
                if conn is not None:
                    conn.close()
                conn = None
                stop.wait(self._config.poll_seconds * 5)
                continue
            if report:
                log.info("webhooks: %s", report)
            if report.delivered + report.retried + report.dead < self._config.batch:
                stop.wait(self._config.poll_seconds)
        if conn is not None:
            conn.close()
