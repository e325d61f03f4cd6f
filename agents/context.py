"""What every agent needs, built once per worker process and passed in."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

import psycopg

from pipeline.avro import SchemaMap
from pipeline.pseudonym import Pseudonymizer
from pipeline.score.config import ScoreConfig
from pipeline.settings import Settings
from pipeline.storage.tenants import known_tenants_async
from pipeline.topology import Topology

log = logging.getLogger(__name__)

@dataclass
class TenantDirectory:
    """Registered tenants, refreshed from PostgreSQL on a miss at most every few seconds.

    The lookup runs on the event loop with an async connection and a deadline, not in
    a worker thread: a refresh that cannot finish is logged and retried, never waited
    on silently. While PostgreSQL is unreachable the asking agent waits (its event is
    not acknowledged), so an outage delays events instead of dead-lettering them.
    """

    dsn: str
    min_refresh_seconds: float = 3.0
    timeout_seconds: float = 10.0
    max_backoff_seconds: float = 30.0
    tenants: frozenset[str] = frozenset()
    _refreshed_at: float = field(default=0.0, repr=False)

    async def _load(self) -> frozenset[str]:
        async with await psycopg.AsyncConnection.connect(
            self.dsn, connect_timeout=int(self.timeout_seconds), autocommit=True
        ) as conn:
            return await known_tenants_async(conn)

    async def refresh(self) -> None:
        backoff = 0.5
        while True:
            try:
                self.tenants = await asyncio.wait_for(self._load(), self.timeout_seconds)
                self._refreshed_at = time.monotonic()
                return
            except (psycopg.OperationalError, TimeoutError) as exc:
                log.warning("tenant directory: PostgreSQL not answering (%s); retrying in "
                            "%.1fs", type(exc).__name__, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff_seconds)

    async def is_known(self, tenant_id: str) -> bool:
        if tenant_id in self.tenants:
            return True
        if time.monotonic() - self._refreshed_at >= self.min_refresh_seconds:
            await self.refresh()
        return tenant_id in self.tenants


@dataclass
class WorkerContext:
    settings: Settings
    topology: Topology
    schemas: SchemaMap
    pseudonyms: Pseudonymizer
    tenants: TenantDirectory
    config: ScoreConfig
