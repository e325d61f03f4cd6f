"""Drive one report through submit -> upload -> fileinfo -> finish, never filing it twice.

The row in ``ncmec_reports`` is the single source of truth; every step first
reads what the row says, then calls NCMEC, then records the answer together
with its audit record in one transaction. Re-running the same input resumes.

What keeps a report from being filed twice:

- the row's key comes from package + confirmation, so a second submit finds it;
- ``submitting`` is stored *before* ``/submit`` is sent. A run that finds a row
  in ``submitting`` knows a previous run died after sending and before storing
  the answer: NCMEC may hold the report, and the API has no way to look it up
  by our key. The row goes to ``needs_reconciliation`` and nothing is sent until
  an operator says what NCMEC holds (:func:`reconcile`);
- ``/submit`` is retried only when NCMEC certainly did not take it (an HTTP 5xx
  answer, or no connection at all). A read timeout or a dropped connection after
  sending is ambiguous and goes to ``needs_reconciliation`` too.

Uploads, fileinfo, finish and retract concern an existing report id and are
retried on any transport failure (at worst an attachment is uploaded twice
into the same report). A failure after submit that retries do not fix
retracts the unfinished report. Backoff is exponential with jitter-free,
injectable sleeping so tests run instantly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Protocol, TypeVar

import psycopg

from pipeline.audit import store as audit_store
from pipeline.audit.records import AuditRecord, DetailValue
from pipeline.ncmec import store
from pipeline.ncmec.audit_records import ncmec_record
from pipeline.ncmec.client import Answer, TransportFailure
from pipeline.ncmec.errors import (
    AmbiguousSubmit,
    InputChanged,
    NcmecError,
    NcmecRejected,
    NcmecUnavailable,
    NeedsReconciliation,
)
from pipeline.ncmec.model import ReportInput
from pipeline.ncmec.report_xml import document_sha256, file_details_document, report_document
from pipeline.ncmec.states import next_step
from pipeline.ncmec.store import ReportRow

T = TypeVar("T")

ALREADY_RETRACTED = 5101
ALREADY_FINISHED = 5102


class Api(Protocol):
    """What the run needs of :class:`pipeline.ncmec.client.CyberTiplineClient`."""

    def submit(self, report_xml: bytes) -> Answer: ...
    def upload(self, report_id: int, filename: str, content: bytes) -> Answer: ...
    def fileinfo(self, file_details_xml: bytes) -> Answer: ...
    def finish(self, report_id: int) -> Answer: ...
    def retract(self, report_id: int) -> Answer: ...


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    first_delay: float = 0.5
    factor: float = 2.0
    max_delay: float = 30.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        return float(min(self.max_delay, self.first_delay * self.factor ** (attempt - 1)))


def _now() -> datetime:
    return datetime.now(UTC)


def _no_checkpoint(name: str) -> None:
    return None


class UploadMismatch(NcmecError):
    """NCMEC's MD5 of an uploaded file differs from ours: the bytes were changed in transit."""


class Submission:
    """One run over one report. ``checkpoint`` is a seam for crash tests (a no-op otherwise)."""

    _report: ReportInput
    _row: ReportRow

    def __init__(self, conn: psycopg.Connection, api: Api, policy: RetryPolicy = RetryPolicy(),
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], datetime] = _now,
                 checkpoint: Callable[[str], None] = _no_checkpoint) -> None:
        self._conn = conn
        self._api = api
        self._policy = policy
        self._sleep = sleep
        self._clock = clock
        self._checkpoint = checkpoint

    # -- bookkeeping -----------------------------------------------------------------------

    def _audit(self, record: AuditRecord) -> None:
        audit_store.append(self._conn, self._report.tenant, record)

    def _move(self, row: ReportRow, new: str, step: str, *, ncmec_report_id: int | None = None,
              error: str | None = None, **extra: DetailValue) -> ReportRow:
        with self._conn.transaction():
            moved = store.transition(self._conn, row, new, ncmec_report_id=ncmec_report_id,
                                     error=error)
            self._audit(ncmec_record(moved, step, self._clock(), self._report, extra=extra))
        return moved

    def _retrying(self, endpoint: str, call: Callable[[], T], ambiguous_ok: bool) -> T:
        """``call`` until it answers, up to the policy's attempts; see the module docstring."""
        last = ""
        for attempt in range(1, self._policy.max_attempts + 1):
            try:
                return call()
            except TransportFailure as failure:
                last = failure.reason
                self._row = store.record_failure(self._conn, self._row, f"{endpoint}: {last}")
                if failure.maybe_processed and not ambiguous_ok:
                    raise
            if attempt < self._policy.max_attempts:
                self._sleep(self._policy.delay(attempt))
        raise NcmecUnavailable(endpoint, self._policy.max_attempts, last)

    # -- the run ---------------------------------------------------------------------------

    def run(self, report: ReportInput) -> ReportRow:
        """Take ``report`` as far as it goes; the row in a final state (finished, retracted,
        failed). Raises for what needs a later run or a person: NcmecUnavailable,
        AmbiguousSubmit, NeedsReconciliation, InputChanged, ReportBusy."""
        self._report = report
        document = report_document(report)
        digest = document_sha256(document)
        with store.locked(self._conn, report.tenant, report.report_key):
            with self._conn.transaction():
                row, created = store.create(self._conn, report.tenant, report.report_key,
                                            report.package_id, report.confirmation_id, digest,
                                            len(report.attachments))
                if created:
                    self._audit(ncmec_record(row, "built", self._clock(), report))
            if row.xml_sha256 != digest:
                if row.state != "built":
                    raise InputChanged(
                        f"report {row.report_key} was sent as a different XML "
                        f"(state {row.state}); keep the original input")
                row = store.set_xml(self._conn, row, digest, len(report.attachments))
            self._row = row
            return self._drive(document)

    def _drive(self, document: bytes) -> ReportRow:
        while True:
            step = next_step(self._row.state)
            if step == "done":
                return self._row
            if step == "reconcile":
                if self._row.state == "submitting":
                    self._row = self._move(self._row, "needs_reconciliation",
                                           "needs_reconciliation",
                                           error="a previous run stopped after sending submit")
                raise NeedsReconciliation(self._row.report_key)
            if step == "submit":
                self._submit(document)
            elif step == "upload_files":
                self._after_submit(self._upload_files)
            elif step == "finish":
                self._after_submit(self._finish)
            else:
                self._retract_now()

    def _submit(self, document: bytes) -> None:
        self._row = self._move(self._row, "submitting", "submitting")
        self._checkpoint("submitting_stored")
        try:
            answer = self._retrying("/submit", lambda: self._api.submit(document),
                                    ambiguous_ok=False)
        except TransportFailure as failure:  # sent, no answer: NCMEC may hold it
            self._row = self._move(self._row, "needs_reconciliation", "needs_reconciliation",
                                   error=f"/submit: {failure.reason}")
            raise AmbiguousSubmit(self._row.report_key, failure.reason) from None
        except NcmecUnavailable as exc:  # every try certainly failed: nothing filed
            self._row = self._move(self._row, "built", "submit_unavailable", error=str(exc))
            raise
        except NcmecRejected as exc:
            self._row = self._move(self._row, "failed", "submit_rejected", error=str(exc),
                                   response_code=exc.code)
            return
        self._checkpoint("submit_answered")
        self._row = self._move(self._row, "submitted", "submitted",
                               ncmec_report_id=answer.report_id)

    def _after_submit(self, step: Callable[[int], None]) -> None:
        report_id = self._row.ncmec_report_id
        if report_id is None:  # the table's CHECK makes this impossible
            raise NcmecError(f"report {self._row.report_key} has no NCMEC report id")
        try:
            step(report_id)
        except (NcmecRejected, NcmecUnavailable, UploadMismatch) as exc:
            self._row = self._move(self._row, "retracting", "retract_started", error=str(exc))

    def _upload_files(self, report_id: int) -> None:
        for index, attachment in enumerate(self._report.attachments):
            file_id = self._row.file_ids.get(index)
            if file_id is None:
                answer = self._retrying(
                    "/upload",
                    partial(self._api.upload, report_id, attachment.filename, attachment.content),
                    ambiguous_ok=True)
                if answer.hash and answer.hash.lower() != attachment.md5:
                    raise UploadMismatch(f"/upload: NCMEC's MD5 {answer.hash} is not ours")
                file_id = str(answer.file_id)
                with self._conn.transaction():
                    self._row = store.record_file(self._conn, self._row, index, file_id)
                    self._audit(ncmec_record(self._row, "file_uploaded", self._clock(),
                                             self._report, extra={"file_index": index}))
            if index not in self._row.described:
                details = file_details_document(attachment, report_id, file_id)
                self._retrying("/fileinfo", partial(self._api.fileinfo, details),
                               ambiguous_ok=True)
                with self._conn.transaction():
                    self._row = store.record_described(self._conn, self._row, index)
                    self._audit(ncmec_record(self._row, "file_described", self._clock(),
                                             self._report, extra={"file_index": index}))
        self._row = self._move(self._row, "files_uploaded", "files_uploaded")

    def _finish(self, report_id: int) -> None:
        try:
            self._retrying("/finish", lambda: self._api.finish(report_id), ambiguous_ok=True)
        except NcmecRejected as exc:
            if exc.code != ALREADY_FINISHED:  # a finish whose answer we lost is a finish
                raise
        self._row = self._move(self._row, "finished", "finished")

    def _retract_now(self) -> None:
        report_id = self._row.ncmec_report_id
        if report_id is None:
            raise NcmecError(f"report {self._row.report_key} has no NCMEC report id")
        reason = self._row.last_error
        try:
            self._retrying("/retract", lambda: self._api.retract(report_id), ambiguous_ok=True)
        except NcmecRejected as exc:
            if exc.code == ALREADY_FINISHED:
                self._row = self._move(self._row, "finished", "finished_before_retract",
                                       error=reason)
                return
            if exc.code != ALREADY_RETRACTED:
                self._row = self._move(self._row, "failed", "retract_rejected",
                                       error=f"{reason}; then {exc}", response_code=exc.code)
                return
        self._row = self._move(self._row, "retracted", "retracted", error=reason)


def reconcile(conn: psycopg.Connection, tenant: str, report_key: str,
              ncmec_report_id: int | None, operator: str,
              clock: Callable[[], datetime] = _now) -> ReportRow:
    """An operator's answer for a report in ``needs_reconciliation``.

    With ``ncmec_report_id`` (the report was found at NCMEC): ``submitted``,
    and the next ``submit`` run uploads, describes and finishes it. Without
    (NCMEC has no such report): ``built``, and the next run submits it.
    ``operator`` is the operator's pseudonym (u_...) for the audit log.
    """
    with store.locked(conn, tenant, report_key):
        row = store.get(conn, tenant, report_key)
        if row is None:
            raise NcmecError(f"no NCMEC report {report_key} for tenant {tenant}")
        if row.state != "needs_reconciliation":
            raise NcmecError(f"report {report_key} is {row.state}, not needs_reconciliation")
        new, step = ("submitted", "reconciled_filed") if ncmec_report_id else (
            "built", "reconciled_not_filed")
        with conn.transaction():
            moved = store.transition(conn, row, new, ncmec_report_id=ncmec_report_id)
            record = ncmec_record(moved, step, clock(), actor=operator)
            audit_store.append(conn, tenant, record)
        return moved
