"""One export end to end: read the figures, build the document, log it in the audit log.

``run_export`` is what the CLI and the API call. The document is built first,
then an audit record of kind ``export`` naming the kind, the period and the
SHA-256 of the canonical JSON is appended to the tenant's log, and only then is
the document handed out: an export nobody can account for never leaves.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal, get_args

import psycopg

from pipeline.audit import store
from pipeline.audit.events import export_record
from pipeline.audit.records import canonical_json
from pipeline.exports import dsa, osa, queries, render
from pipeline.exports.figures import ExportInputs
from pipeline.exports.period import Period
from pipeline.exports.transparency import transparency_report

Kind = Literal["dsa", "transparency", "osa"]
KINDS: Final[tuple[str, ...]] = get_args(Kind)
Format = Literal["json", "md"]
FORMATS: Final[tuple[str, ...]] = get_args(Format)
ACTOR: Final = "system:exports"
_AUDIT_KIND: Final = {"dsa": "dsa_statements_of_reasons", "transparency": "transparency_report",
                      "osa": "osa_record_pack"}


@dataclass(frozen=True)
class Export:
    kind: str
    document: dict[str, Any]
    sha256: str
    audit_seq: int

    def render(self, fmt: str) -> str:
        """The document as JSON (canonical bytes, pretty-printed) or Markdown."""
        if fmt == "md":
            return {"dsa": render.dsa_markdown, "transparency": render.transparency_markdown,
                    "osa": render.osa_markdown}[self.kind](self.document)
        return json.dumps(self.document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@functools.cache
def seed_model_version() -> str | None:
    """The packaged text model's version (read once; river is heavy to import)."""
    from pipeline.detect.text.model import load_model

    return load_model().version


def build_document(kind: str, tenant: str, period: Period, inputs: ExportInputs,
                   generated_at: datetime, *, policy: dsa.SorPolicy,
                   assessment: dict[str, Any] | None = None) -> dict[str, Any]:
    """The document of ``kind`` from figures already read (pure)."""
    sors = dsa.statements(inputs.decisions, tenant, policy)
    if kind == "dsa":
        return {"statements": sors}
    if kind == "transparency":
        return transparency_report(tenant, period, inputs.figures, len(sors), generated_at)
    if kind == "osa":
        if assessment is None:
            raise ValueError("the OSA record pack needs a risk assessment")
        return osa.osa_record_pack(tenant, period, assessment, inputs, generated_at)
    raise ValueError(f"unknown export kind {kind!r}")


def read_inputs(conn: psycopg.Connection, kind: str, tenant: str, period: Period,
                assessment: dict[str, Any] | None) -> ExportInputs:
    decisions = queries.closed_decisions(conn, tenant, period)
    if kind == "dsa":
        return ExportInputs(decisions=decisions)
    figures = queries.period_figures(conn, tenant, period)
    if kind != "osa" or assessment is None:
        return ExportInputs(decisions=decisions, figures=figures)
    facts = queries.measure_facts(conn, tenant, period, assessment["review_queue_sla_hours"],
                                  seed_model_version())
    return ExportInputs(decisions=decisions, figures=figures, measures=facts)


def _items(kind: str, document: dict[str, Any]) -> int:
    if kind == "dsa":
        return len(document["statements"])
    if kind == "transparency":
        return int(document["decisions"]["total"])
    return len(document["risk_assessment"]["risks"])


def run_export(conn: psycopg.Connection, kind: str, tenant: str, period: Period, *,
               requested_by: str, policy: dsa.SorPolicy | None = None,
               risk_assessment: Path | None = None,
               clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Export:
    """Build the export and append its audit record; the export with the record's seq."""
    assessment = (osa.load_risk_assessment(risk_assessment or osa.DEFAULT_RISK_ASSESSMENT)
                  if kind == "osa" else None)
    generated_at = clock()
    inputs = read_inputs(conn, kind, tenant, period, assessment)
    document = build_document(kind, tenant, period, inputs, generated_at,
                              policy=policy or dsa.SorPolicy(), assessment=assessment)
    digest = hashlib.sha256(canonical_json(document)).hexdigest()
    # Unique per run (the clock), so every export appends its own record.
    export_id = f"{kind}-{generated_at.astimezone(UTC):%Y%m%dT%H%M%S%f}-{digest[:24]}"
    seq = store.append(conn, tenant, export_record(
        export_id=export_id, export_kind=_AUDIT_KIND[kind], exported_at=generated_at,
        actor=ACTOR, item_count=_items(kind, document), content_sha256=digest,
        recipient=requested_by))
    return Export(kind, document, digest, seq)
