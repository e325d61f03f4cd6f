"""Where evidence packages plug into webhook payloads.

``evidence_package_id`` is null in every payload until ``pipeline/evidence``
exists. Its author replaces :func:`evidence_package_id` (or passes another
:data:`EvidenceLookup` to the dispatcher) with a lookup of the alert's package.
The payload is fixed when the delivery is enqueued, so the lookup should answer
for packages already built then; a package made later is not in that delivery.
"""

from __future__ import annotations

from typing import Protocol

import psycopg


class EvidenceLookup(Protocol):
    def __call__(self, conn: psycopg.Connection, tenant_id: str, alert_id: str) -> str | None:
        """The id of the alert's evidence package, or None."""
        ...


def evidence_package_id(conn: psycopg.Connection, tenant_id: str, alert_id: str) -> str | None:
    """No evidence packages exist yet: always None."""
    return None
