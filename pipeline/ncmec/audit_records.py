"""Audit records (kind ``report``) of NCMEC activity, free of personal data.

One record per step that changed what NCMEC holds or what we know of it. The
leaf carries our report key, the step, the state and counts; NCMEC's report
id, the reviewer and the reported user's pseudonym enter only as salted
commitments (pipeline/audit/records.py), never a screen name, an address or
message text. Record ids are deterministic (report key, submit round, step,
file index), so a resumed run appends nothing twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Final

from pipeline.audit.records import AuditRecord, DetailValue
from pipeline.ncmec.model import ReportInput
from pipeline.ncmec.store import ReportRow

ACTOR: Final = "system:ncmec"

_INCIDENT_CODES: Final = {
    "Child Pornography (possession, manufacture, and distribution)": "child_pornography",
    "Child Sex Trafficking": "child_sex_trafficking",
    "Child Sex Tourism": "child_sex_tourism",
    "Child Sexual Molestation": "child_sexual_molestation",
    "Misleading Domain Name": "misleading_domain_name",
    "Misleading Words or Digital Images on the Internet": "misleading_words_or_images",
    "Online Enticement of Children for Sexual Acts": "online_enticement",
    "Unsolicited Obscene Material Sent to a Child": "unsolicited_obscene_material",
}


def ncmec_record(row: ReportRow, step: str, occurred_at: datetime,
                 report: ReportInput | None = None, actor: str = ACTOR,
                 extra: Mapping[str, DetailValue] | None = None) -> AuditRecord:
    """The record of ``step`` (``submitted``, ``file_uploaded``, ...) on ``row`` as it is now.

    ``report`` adds the incident type and commitments to the reviewer and the
    reported user; an operator's reconciliation has no input and goes without.
    """
    extra = extra or {}
    index = extra.get("file_index")
    suffix = f":{index}" if index is not None else ""
    details: dict[str, DetailValue] = {
        "report_key": row.report_key,
        "step": step,
        "state": row.state,
        "submit_round": row.submit_rounds,
        "attempts": row.attempts,
        "file_count": row.file_count,
        **extra,
    }
    personal: dict[str, str] = {}
    if report is not None:
        details["incident"] = _INCIDENT_CODES[report.incident_type]
        personal = {"confirmed_by": report.confirmed_by, "subject": report.reported.subject}
    if row.ncmec_report_id is not None:
        personal["ncmec_report_id"] = str(row.ncmec_report_id)
    return AuditRecord(
        record_id=f"ncmec:{row.report_key}:{row.submit_rounds}:{step}{suffix}",
        kind="report",
        occurred_at=occurred_at,
        actor=actor,
        details=details,
        personal=personal,
    )
