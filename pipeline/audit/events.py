"""Builders of the audit records every part of wardstream appends (docs/audit.md).

One function per thing that happens: a tier change, an alert, a reviewer's
decision, a model deployment, a fairness evaluation, an evidence package built,
read, held, released or extended, an erasure, an export. Each returns an
:class:`AuditRecord` with a deterministic ``record_id`` derived from the id of
what it records (score id, alert id, decision event id, model version, ...),
so appending it again after a crash or a replay adds nothing.

Whom a record is about (a user's pseudonym) and free text (a reviewer's note,
a reason) go in ``personal``: the leaf holds only a salted commitment to them.
Pure: no I/O; appending is ``pipeline.audit.store.append`` / ``append_many``.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Final

from pipeline.audit.errors import InvalidAuditRecord
from pipeline.audit.records import AuditRecord, DetailValue, Kind, format_time

RISK: Final = "system:risk"
TRAINER: Final = "system:trainer"
FAIRNESS: Final = "system:fairness"
EVIDENCE_BUILDER: Final = "system:evidence"
API: Final = "system:api"
# The log of records about the deployment as a whole (one text model serves
# every tenant). Migration 0009 registers it as a disabled tenant.
SYSTEM_TENANT: Final = "_system"

_ID_SAFE: Final = re.compile(r"^[A-Za-z0-9_.:/+=-]{1,96}$")


def score_x100(score: float) -> int:
    """A 0..100 score as an integer of hundredths (leaves hold no floats)."""
    if not math.isfinite(score):
        raise InvalidAuditRecord("details.score_x100", "the score must be a finite number")
    return round(score * 100)


def id_part(value: str) -> str:
    """``value`` when it is a short token, else ``sha256:`` and its first 32 hex digits.

    Keeps record ids within the leaf's token rule whatever the upstream id looks like.
    """
    if _ID_SAFE.match(value):
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8")).hexdigest()[:32]


def tier_change_record(*, score_id: str, subject: str, previous_tier: str, tier: str,
                       score: float, occurred_at: datetime) -> AuditRecord:
    """A user's score moved from ``previous_tier`` to ``tier`` (record id ``tier:<score_id>``)."""
    return AuditRecord(
        record_id=f"tier:{id_part(score_id)}", kind="tier_change", occurred_at=occurred_at,
        actor=RISK,
        details={"score_id": id_part(score_id), "previous_tier": previous_tier, "tier": tier,
                 "score_x100": score_x100(score)},
        personal={"subject": subject},
    )


def alert_record(*, alert_id: str, subject: str, tier: str, score: float,
                 raised_at: datetime) -> AuditRecord:
    """An alert raised about a user (record id ``alert:<alert_id>``)."""
    return AuditRecord(
        record_id=f"alert:{id_part(alert_id)}", kind="alert", occurred_at=raised_at, actor=RISK,
        details={"alert_id": id_part(alert_id), "tier": tier, "score_x100": score_x100(score)},
        personal={"subject": subject},
    )


def decision_record(*, event_id: str, reviewer: str, subject: str, decision: str,
                    decided_at: datetime, alert_id: str | None, queue_item_closed: bool,
                    note: str | None = None) -> AuditRecord:
    """A reviewer's decision (record id ``decision:<event_id>``).

    ``reviewer`` is the reviewer's pseudonym and is the record's actor, in clear:
    the log is for accountability. The decided user and the note are committed.
    """
    personal = {"subject": subject}
    if note:
        personal["note"] = note
    return AuditRecord(
        record_id=f"decision:{id_part(event_id)}", kind="decision", occurred_at=decided_at,
        actor=reviewer,
        details={"event_id": id_part(event_id), "decision": decision,
                 "alert_id": None if alert_id is None else id_part(alert_id),
                 "queue_item_closed": queue_item_closed},
        personal=personal,
    )


def model_deployment_record(*, version: str, parent_version: str | None, labels_learned: int,
                            model_sha256: str, deployed_at: datetime,
                            actor: str = TRAINER) -> AuditRecord:
    """A model version published for use (record id ``model:<version>``).

    Appended to :data:`SYSTEM_TENANT`'s log: the text model is one for the
    whole deployment, trained on every tenant's labels.
    """
    return AuditRecord(
        record_id=f"model:{id_part(version)}", kind="model_deployment", occurred_at=deployed_at,
        actor=actor,
        details={"model_version": id_part(version),
                 "parent_version": None if parent_version is None else id_part(parent_version),
                 "labels_learned": labels_learned, "model_sha256": model_sha256},
    )


def fairness_evaluation_record(*, evaluation_id: str, model_version: str, passed: bool,
                               evaluated_at: datetime,
                               metrics: Mapping[str, DetailValue] | None = None,
                               actor: str = FAIRNESS) -> AuditRecord:
    """A fairness evaluation of a model version (record id ``fairness:<evaluation_id>``).

    ``metrics`` are non-personal figures by snake_case name, as integers or
    decimal strings (``"0.031"``), never floats; at most 28 of them. Nothing
    evaluates fairness yet: the gate that will (DESIGN.md, ``trainer``) appends
    this to :data:`SYSTEM_TENANT`'s log before the version is published, e.g.

        store.append(conn, SYSTEM_TENANT, fairness_evaluation_record(
            evaluation_id=f"{version}:{suite}", model_version=version, passed=ok,
            evaluated_at=now, metrics={"fpr_gap_age_band": "0.012"}))
    """
    details: dict[str, DetailValue] = {"evaluation_id": id_part(evaluation_id),
                                       "model_version": id_part(model_version),
                                       "passed": passed}
    for name, value in (metrics or {}).items():
        if name in details:
            raise ValueError(f"metrics.{name}: clashes with a fixed detail")
        details[name] = value
    return AuditRecord(
        record_id=f"fairness:{id_part(evaluation_id)}", kind="fairness_evaluation",
        occurred_at=evaluated_at, actor=actor, details=details,
    )


def evidence_built_record(*, package_id: str, subject: str, trigger: str, package_sha256: str,
                          content_bytes: int, jurisdiction: str, retain_until: datetime,
                          built_at: datetime) -> AuditRecord:
    """An evidence package stored; its hash anchors the package (``evidence:built:<id>``)."""
    return AuditRecord(
        record_id=f"evidence:built:{package_id}", kind="evidence_built", occurred_at=built_at,
        actor=EVIDENCE_BUILDER,
        details={"action": "package_built", "package_id": package_id, "trigger": trigger,
                 "package_sha256": package_sha256, "content_bytes": content_bytes,
                 "jurisdiction": jurisdiction, "retain_until": format_time(retain_until)},
        personal={"subject": subject},
    )


def evidence_read_record(*, access_id: int, package_id: str, key_id: str, subject: str,
                         reason: str, accessed_at: datetime) -> AuditRecord:
    """A package read through the API, with its stated reason (``evidence:access:<id>``)."""
    return AuditRecord(
        record_id=f"evidence:access:{access_id}", kind="evidence_access",
        occurred_at=accessed_at, actor=API,
        details={"action": "read", "package_id": package_id, "key_id": key_id,
                 "access_id": access_id},
        personal={"subject": subject, "reason": reason},
    )


_RETENTION_KINDS: Final[dict[str, Kind]] = {"hold": "evidence_hold", "release": "evidence_release",
                           "extend": "evidence_extend"}


def evidence_retention_record(*, action: str, action_id: int, package_id: str, key_id: str,
                              subject: str, reference: str, retain_until: datetime,
                              on_hold: bool, days: int | None,
                              acted_at: datetime) -> AuditRecord:
    """A legal hold placed or released, or a clock extended (``evidence:<action>:<id>``)."""
    kind = _RETENTION_KINDS.get(action)
    if kind is None:
        raise ValueError(f"action: must be one of {', '.join(_RETENTION_KINDS)}")
    details: dict[str, DetailValue] = {
        "action": action, "package_id": package_id, "key_id": key_id, "action_id": action_id,
        "retain_until": format_time(retain_until), "on_hold": on_hold}
    if days is not None:
        details["days"] = days
    return AuditRecord(
        record_id=f"evidence:{action}:{action_id}",
        kind=kind, occurred_at=acted_at, actor=API, details=details,
        personal={"subject": subject, "reference": reference},
    )


def erasure_record(*, erasure_id: str, scope: str, erased_at: datetime, actor: str,
                   counts: Mapping[str, int] | None = None,
                   reference: str | None = None) -> AuditRecord:
    """Personal data erased (record id ``erasure:<erasure_id>``).

    Never names whom: the erased pseudonym must not enter the log, not even as
    a commitment (its salt row would hold the value the erasure removed).
    ``scope`` is a token (``user``, ``tenant``, ``retention``); ``counts`` the
    rows removed per table or store (``{"events": 41, "audit_salts": 3}``);
    ``reference`` (a ticket or request reference, free text) is committed.
    """
    details: dict[str, DetailValue] = {"erasure_id": id_part(erasure_id), "scope": scope}
    for name, value in (counts or {}).items():
        details[f"{name}_removed"] = int(value)
    return AuditRecord(
        record_id=f"erasure:{id_part(erasure_id)}", kind="erasure", occurred_at=erased_at,
        actor=actor, details=details,
        personal={} if reference is None else {"reference": reference},
    )


def export_record(*, export_id: str, export_kind: str, exported_at: datetime, actor: str,
                  item_count: int, content_sha256: str | None = None,
                  recipient: str | None = None) -> AuditRecord:
    """Data handed out of the system (record id ``export:<export_id>``).

    ``export_kind`` is a token (``regulator_transparency``, ``audit_log``, ...);
    ``content_sha256`` the hex hash of what was handed over, so the export
    itself can be matched later; ``recipient`` (free text) is committed.
    """
    return AuditRecord(
        record_id=f"export:{id_part(export_id)}", kind="export", occurred_at=exported_at,
        actor=actor,
        details={"export_id": id_part(export_id), "export_kind": export_kind,
                 "item_count": item_count, "content_sha256": content_sha256},
        personal={} if recipient is None else {"recipient": recipient},
    )


def model_digest(model: bytes) -> str:
    """The hex SHA-256 of a serialised model, as model deployment records carry it."""
    return hashlib.sha256(model).hexdigest()
