"""The figures an export is built from, as plain values (read by ``queries``), and medians."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from pipeline.contract.spec import DECISIONS
from pipeline.exports.dsa import ClosedDecision
from pipeline.ncmec.states import STATES as NCMEC_STATES

# A report counts as filed once NCMEC gave it an id: these states all have one.
FILED_STATES = frozenset({"submitted", "files_uploaded", "finished", "retracting", "retracted"})


def median(values: Iterable[float]) -> float | None:
    """The median (the mean of the two middle values for an even count); None when empty."""
    ordered = sorted(values)
    if not ordered:
        return None
    return float(statistics.median(ordered))


def zero_filled(counts: Mapping[str, int], keys: Sequence[str]) -> dict[str, int]:
    """Every key of ``keys`` with its count (0 when absent), then any other key seen."""
    filled = {key: int(counts.get(key, 0)) for key in keys}
    filled.update({key: int(n) for key, n in sorted(counts.items()) if key not in filled})
    return filled


@dataclass(frozen=True)
class PeriodFigures:
    """What happened in one tenant's period (see docs/exports.md for each definition)."""

    alerts: int = 0
    items_opened: int = 0
    items_closed: int = 0
    decisions: Mapping[str, int] = field(default_factory=dict)
    ncmec_by_state: Mapping[str, int] = field(default_factory=dict)
    ncmec_filed: int = 0
    alert_to_decision_seconds: Sequence[float] = ()
    confirmation_to_filed_seconds: Sequence[float] = ()
    open_at_end: int = 0

    def decisions_by_kind(self) -> dict[str, int]:
        return zero_filled(self.decisions, DECISIONS)

    def ncmec_states(self) -> dict[str, int]:
        return zero_filled(self.ncmec_by_state, NCMEC_STATES)


@dataclass(frozen=True)
class ModelDeployment:
    """One model version put into use, from an audit record of kind ``model_deployment``."""

    version: str
    deployed_at: datetime


@dataclass(frozen=True)
class MeasureFacts:
    """Facts about the measures that ran, beyond the period's counts (OSA record pack)."""

    tenant_registered_at: datetime | None = None
    first_score_at: datetime | None = None
    first_alert_at: datetime | None = None
    seed_model_version: str | None = None
    deployments: Sequence[ModelDeployment] = ()
    closed_within_sla: int = 0


@dataclass(frozen=True)
class ExportInputs:
    """Everything one export reads: the closed decisions and the figures."""

    decisions: Sequence[ClosedDecision] = ()
    figures: PeriodFigures = field(default_factory=PeriodFigures)
    measures: MeasureFacts = field(default_factory=MeasureFacts)


def iso(moment: datetime | date | None) -> str | None:
    return None if moment is None else moment.isoformat()
