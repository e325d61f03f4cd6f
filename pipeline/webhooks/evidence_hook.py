"""The evidence package named in an alert's webhook payload.

The payload is fixed when the delivery is enqueued, and a platform that gets
an alert should be able to fetch its evidence (``GET /v1/evidence/{id}``), so
the package is built here if the evidence builder (``wardstream evidence run``)
has not built it yet. Building is idempotent: one package per alert, whoever
builds it first (``pipeline.evidence.builder``).
"""

from __future__ import annotations

import logging
from typing import Protocol

import psycopg

from pipeline.evidence.builder import build
from pipeline.evidence.package import Incident
from pipeline.evidence.policy import EvidenceConfig

log = logging.getLogger(__name__)


class EvidenceLookup(Protocol):
    def __call__(self, conn: psycopg.Connection, tenant_id: str, alert_id: str) -> str | None:
        """The id of the alert's evidence package, or None."""
        ...


def evidence_lookup(config: EvidenceConfig) -> EvidenceLookup:
    """A lookup building packages with ``config`` (the deployment's window and retention)."""

    def lookup(conn: psycopg.Connection, tenant_id: str, alert_id: str) -> str | None:
        """The alert's package id, built now if needed; None if the alert is unknown or the
        build failed (the delivery then goes out without it rather than not at all)."""
        row = conn.execute("SELECT actor, raised_at FROM alerts WHERE tenant_id = %s "
                           "AND alert_id = %s", (tenant_id, alert_id)).fetchone()
        if row is None:
            return None
        incident = Incident(tenant_id, "alert", alert_id, row[0], row[1])
        try:
            built = build(conn, incident, config)
        except psycopg.Error as exc:
            log.warning("evidence package for an alert not built: %s", type(exc).__name__)
            return None
        # None: another builder holds the package's lock and is writing it now.
        return incident.package_id if built is None else built.package_id

    return lookup


evidence_package_id: EvidenceLookup = evidence_lookup(EvidenceConfig())
