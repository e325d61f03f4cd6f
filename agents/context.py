"""What every agent needs, built once per worker process and passed in."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

import psycopg

from pipeline.avro import SchemaMap
from pipeline.pseudonym import Pseudonymizer
from pipeline.settings import Settings
from pipeline.storage.tenants import known_tenants
from pipeline.topology import Topology

log = logging.getLogger(__name__)


@dataclass
class TenantDirectory:
    """Registered tenants, refreshed from PostgreSQL on a miss at most every few seconds."""

    dsn: str
    min_refresh_seconds: float = 3.0
    tenants: frozenset[str] = frozenset()
    _refreshed_at: float = field(default=0.0, repr=False)

    def _load(self) -> frozenset[str]:
        with psycopg.connect(self.dsn, connect_timeout=10) as conn:
            return known_tenants(conn)

    async def refresh(self) -> None:
        self.tenants = await asyncio.to_thread(self._load)
        self._refreshed_at = time.monotonic()

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
