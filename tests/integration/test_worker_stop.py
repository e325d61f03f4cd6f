"""A worker stopped with SIGTERM while it has a backlog exits cleanly; a restart finishes the job.

Its own module, so it runs on its own topics and consumer group.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest

from pipeline.settings import Settings
from tests.integration.conftest import Process, Tenant, wait_until
from tests.integration.helpers import as_json_records, count, messages, produce, stored_ids

pytestmark = pytest.mark.integration


def test_sigterm_with_a_backlog_stops_cleanly_and_the_restart_finishes(
    settings: Settings, tenant: Tenant, db: psycopg.Connection,
    worker_factory: Callable[[], Process], raw_json_topic: str,
) -> None:
    events = messages(tenant.tenant_id, 4000, prefix="t")
    produce(settings.kafka_bootstrap, raw_json_topic, as_json_records(events))
    first = worker_factory().start()
    wait_until(lambda: first.running() and count(db, tenant.tenant_id) > 300, 120,
               "the first worker to store some events")
    # Fetched-but-unacked events must not keep the worker from stopping.
    exit_code = first.terminate(timeout=60)
    assert exit_code == 0, first.log_tail()
    second = worker_factory().start()
    wait_until(lambda: second.running() and count(db, tenant.tenant_id) >= len(events), 240,
               "every event after a clean stop and restart")
    assert stored_ids(db, tenant.tenant_id) == sorted(e["event_id"] for e in events)
