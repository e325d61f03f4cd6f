"""A second worker joins mid-stream; the final scores should still equal ``wardstream replay``'s.

KNOWN FAILURE, kept running as a non-strict xfail so it keeps reporting: it
failed in most CI runs until the queue clearing at the end of each recovery was
found and fixed (agents/flow.py); since then it passed in 3 of 6 runs. In the
failures a hole at the rebalance was re-read for seconds, out of order
(docs/stream.md, "Open").

Its own module, so its own topics and consumer group: the first worker starts
on empty changelogs. In the equivalence module it ran third and its first
worker first restored the earlier tests' tables (some 60,000 changelog
records); records produced in the seconds right after such a long recovery
were read again out of order (docs/stream.md, open issue), which is not what
this test is about.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from pipeline.settings import Settings
from tests.integration.conftest import Process, Tenant, wait_until
from tests.integration.equivalence import (
    NO_TRAINER,
    compare,
    settle,
    stream_a_platform,
    stream_scores,
)
from tests.integration.helpers import count

pytestmark = [
    pytest.mark.integration,
    pytest.mark.xfail(strict=False, reason="a hole at the committed offset after the "
                      "rebalance is re-read late, out of order (docs/stream.md, Open)"),
]

# One partition per topic, as in test_stream_equivalence.py (docs/stream.md says why).
TOPIC_PARTITIONS = 1


def test_a_second_worker_joining_mid_stream_matches_replay(
    settings: Settings, tenant: Tenant, db: psycopg.Connection, tmp_path: Path,
    worker_factory: Callable[..., Process], raw_json_topic: str,
) -> None:
    first = worker_factory(**NO_TRAINER).start()
    total, expected = stream_a_platform(settings, tenant, tmp_path, 23, [first],
                                         raw_json_topic)
    # The second worker joins mid-stream: partitions are revoked and assigned while
    # records are in flight, which is where a late seek lost records (agents/commits.py).
    wait_until(lambda: first.running() and count(db, tenant.tenant_id) > total // 4, 300,
               "a quarter of the events stored")
    second = worker_factory(**NO_TRAINER).start()
    workers = [first, second]
    assert count(db, tenant.tenant_id) < total, "the join came too late to test anything"
    settle(settings, workers, db, tenant, total)
    compare(stream_scores(settings, db, tenant.tenant_id), expected)
    assert "Successfully synced group" in second.log_tail(100000)
    generations = re.findall(r"Successfully synced group \S+ with generation (\d+)",
                             first.log_tail(100000))
    assert max(map(int, generations)) >= 2, "the first worker never saw the join"
