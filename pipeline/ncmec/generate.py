"""Build and store a report from a preserved evidence package once a person has confirmed it.

Used by ``POST /api/v1/reports/generate`` and ``wardstream ncmec build|submit
--package``. The steps:

1. the package is read through the logged read path
   (:func:`pipeline.evidence.store.read_package`: tenant check, ``access_log``
   row with the stated reason, audit record), never from the table directly;
2. facts the package does not hold are looked up: the raw platform ids of the
   other people in the conversation (identity map) and their newest declared
   or estimated age band (profile events up to the package's window end), and
   the subject's earlier CyberTipline reports (finished ``ncmec_reports`` rows
   of packages about the same subject, finished before this confirmation);
3. :func:`pipeline.ncmec.from_package.report_from_package` maps it all onto a
   ``ReportInput``; the XML is built and XSD-validated, the reviewer's summary
   rendered;
4. the ``ncmec_reports`` row is created in state ``built`` with its ``built``
   audit record. Nothing is sent: filing is ``wardstream ncmec submit``.

Idempotent. The confirmation id is derived from (tenant, conversation,
reviewer), so the same confirmation finds its row again (and the package that
row was built from); ``confirmed_at`` is the row's ``created_at`` (the
database's transaction time, which is also the time put in the first build),
so every rebuild gives the same XML and ``submit`` later matches the stored
``xml_sha256``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import psycopg

from pipeline.audit import store as audit_store
from pipeline.errors import ConfigError
from pipeline.evidence.errors import PackageNotFound
from pipeline.evidence.gather import counterparts as counterparts_as_stored
from pipeline.evidence.store import PackageRead, read_package
from pipeline.ncmec import store
from pipeline.ncmec.audit_records import ncmec_record
from pipeline.ncmec.errors import InputChanged, InvalidReportInput, NcmecError
from pipeline.ncmec.from_package import (
    Confirmation,
    Counterpart,
    PackageIncomplete,
    conversation_of,
    conversations_of,
    participants,
    report_from_package,
    subject_of,
)
from pipeline.ncmec.model import Reporter, ReportInput, report_key
from pipeline.ncmec.report_xml import document_sha256, report_document
from pipeline.ncmec.store import ReportRow
from pipeline.ncmec.summary import render
from pipeline.settings import Settings

MAX_CANDIDATES: Final = 10
_REPORTER_SETTINGS: Final = {
    f"reporter.{field}": f"WARDSTREAM_NCMEC_REPORTER_{setting}" for field, setting in (
        ("esp_name", "ESP_NAME"), ("first_name", "FIRST_NAME"), ("last_name", "LAST_NAME"),
        ("email", "EMAIL"), ("phone", "PHONE"), ("terms_of_service_url", "TERMS_URL"))}

# Packages of the tenant about someone who wrote in the conversation, newest incident first.
# The service role may read package_keys (not packages); the subject and incident time come
# from the trigger: the alert row, or the escalation's moderation event once stored.
_CANDIDATES = """
SELECT k.package_id FROM evidence.package_keys k
LEFT JOIN alerts a ON k.trigger = 'alert' AND a.tenant_id = k.tenant_id
                  AND a.alert_id = k.trigger_id
LEFT JOIN events m ON k.trigger = 'escalation' AND m.tenant_id = k.tenant_id
                  AND m.event_id = k.trigger_id
WHERE k.tenant_id = %(tenant)s
  AND COALESCE(a.actor, m.record->>'subject') IN (
      SELECT DISTINCT actor FROM events
      WHERE tenant_id = %(tenant)s AND record->>'conversation' = %(conversation)s)
ORDER BY COALESCE(a.raised_at, m.occurred_at) DESC NULLS LAST, k.created_at DESC, k.package_id
LIMIT %(limit)s
"""
_BY_CONFIRMATION = """
SELECT report_key FROM ncmec_reports WHERE tenant_id = %s AND confirmation_id = %s
ORDER BY created_at LIMIT 1
"""
_PRIOR = """
SELECT DISTINCT r.ncmec_report_id FROM ncmec_reports r
JOIN evidence.package_keys k ON k.tenant_id = r.tenant_id AND k.package_id = r.package_id
LEFT JOIN alerts a ON k.trigger = 'alert' AND a.tenant_id = k.tenant_id
                  AND a.alert_id = k.trigger_id
LEFT JOIN events m ON k.trigger = 'escalation' AND m.tenant_id = k.tenant_id
                  AND m.event_id = k.trigger_id
WHERE r.tenant_id = %(tenant)s AND r.state = 'finished' AND r.ncmec_report_id IS NOT NULL
  AND r.finished_at <= %(before)s AND r.report_key <> %(key)s
  AND COALESCE(a.actor, m.record->>'subject') = %(subject)s
ORDER BY 1
"""


class NoPackage(NcmecError):
    """No preserved package of the tenant covers this conversation.

    A report is built only from a preserved package: wait for the builder
    (``wardstream evidence run``) to preserve the alert, or escalate the case.
    """

    def __init__(self, conversation: str) -> None:
        self.conversation = conversation
        super().__init__(f"no preserved evidence package covers conversation {conversation}")


@dataclass(frozen=True)
class Generated:
    """A built report: its input, XML, summary, and the row it is stored as."""

    report: ReportInput
    xml: bytes
    summary: str
    row: ReportRow
    conversation: str
    created: bool


def reporter_of(settings: Settings) -> tuple[Reporter, str]:
    """The reporting ESP, its contact and the service name; ConfigError naming what is unset."""
    missing = settings.ncmec_reporter_missing()
    if missing:
        raise ConfigError(f"{', '.join(missing)} not set: an NCMEC report names the reporting "
                          "ESP, the person NCMEC and law enforcement contact, and the service")
    try:
        reporter = Reporter(
            esp_name=str(settings.ncmec_reporter_esp_name),
            first_name=str(settings.ncmec_reporter_first_name),
            last_name=str(settings.ncmec_reporter_last_name),
            email=str(settings.ncmec_reporter_email), phone=settings.ncmec_reporter_phone,
            terms_of_service_url=settings.ncmec_reporter_terms_url)
    except InvalidReportInput as exc:
        setting = _REPORTER_SETTINGS.get(exc.field, exc.field)
        raise ConfigError(f"{setting}: {exc.message}") from None
    return reporter, str(settings.ncmec_service)


def confirmation_id_of(tenant: str, conversation: str, reviewer: str) -> str:
    """The confirmation of ``conversation`` by ``reviewer``: the same inputs, the same id."""
    material = "\x00".join(("wardstream/ncmec-confirmation/v1", tenant, conversation, reviewer))
    return "conf-" + hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]


def reason_of(reviewer: str, conversation: str) -> str:
    """The reason logged with the package read of an API report generation."""
    return f"NCMEC report generation confirmed by {reviewer} (conversation {conversation})"


def _existing(conn: psycopg.Connection, tenant: str, confirmation_id: str) -> ReportRow | None:
    row = conn.execute(_BY_CONFIRMATION, (tenant, confirmation_id)).fetchone()
    return store.get(conn, tenant, str(row[0])) if row else None


def preserved_counterparts(document: Mapping[str, Any]) -> dict[str, Counterpart]:
    """The counterparts the package kept when it was built (none in older packages)."""
    kept = document.get("counterparts")
    found: dict[str, Counterpart] = {}
    for entry in kept if isinstance(kept, list) else []:
        if isinstance(entry, Mapping) and entry.get("platform_user_id"):
            band = entry.get("age_band")
            found[str(entry.get("pseudonym"))] = Counterpart(
                platform_user_id=str(entry["platform_user_id"]),
                age_band=None if band is None else str(band))
    return found


def _counterparts(conn: psycopg.Connection, tenant: str, people: Sequence[str],
                  until: datetime, document: Mapping[str, Any]) -> dict[str, Counterpart]:
    """As the package kept them; anyone it did not keep is looked up as stored now."""
    found = {p: c for p, c in preserved_counterparts(document).items() if p in people}
    missing = [p for p in people if p not in found]
    for now in counterparts_as_stored(conn, tenant, missing, until):
        found[str(now["pseudonym"])] = Counterpart(platform_user_id=now["platform_user_id"],
                                                   age_band=now["age_band"])
    return found


def _window_end(document: Mapping[str, Any]) -> datetime:
    window = document.get("window") or {}
    try:
        return datetime.fromisoformat(str(window.get("end")))
    except ValueError:
        raise PackageIncomplete("package.window.end", "is not an ISO 8601 time") from None


@dataclass(frozen=True)
class _Job:
    tenant: str
    conversation: str
    reviewer: str
    confirmation_id: str
    reporter: Reporter
    service: str


def _report(conn: psycopg.Connection, job: _Job, document: Mapping[str, Any],
            confirmed_at: datetime, report_key: str) -> ReportInput:
    subject = subject_of(document)
    people = participants(document, job.conversation)
    prior = [int(r[0]) for r in conn.execute(_PRIOR, {
        "tenant": job.tenant, "before": confirmed_at, "key": report_key,
        "subject": subject}).fetchall()]
    return report_from_package(
        document, conversation=job.conversation, reporter=job.reporter, service=job.service,
        confirmation=Confirmation(job.confirmation_id, job.reviewer, confirmed_at),
        counterparts=_counterparts(conn, job.tenant, people, _window_end(document), document),
        prior_report_ids=prior)


def _store(conn: psycopg.Connection, job: _Job, package_id: str, document: Mapping[str, Any],
           clock: Callable[[], datetime]) -> Generated:
    """Build the report of the package and store its row (or find it), in one transaction."""
    key = report_key(job.tenant, package_id, job.confirmation_id)
    with conn.transaction():
        row = store.get(conn, job.tenant, key)
        if row is None:
            now = conn.execute("SELECT now()").fetchone()
            confirmed_at: datetime = (now[0] if now else clock()).astimezone(UTC)
        else:
            confirmed_at = row.created_at.astimezone(UTC)
        report = _report(conn, job, document, confirmed_at, key)
        xml = report_document(report)
        digest = document_sha256(xml)
        created = False
        if row is None:
            row, created = store.create(conn, job.tenant, key, package_id,
                                        job.confirmation_id, digest, len(report.attachments))
            if created:
                audit_store.append(conn, job.tenant, ncmec_record(row, "built", clock(), report))
        if row.xml_sha256 != digest and not created:
            if row.created_at != confirmed_at:  # a concurrent first build won: rebuild as it did
                report = _report(conn, job, document, row.created_at.astimezone(UTC), key)
                xml = report_document(report)
                digest = document_sha256(xml)
            if row.xml_sha256 != digest:
                if row.state != "built":
                    raise InputChanged(
                        f"report {key} was sent as a different XML (state {row.state}); the "
                        "package's facts changed since, confirm again for a new report")
                row = store.set_xml(conn, row, digest, len(report.attachments))
    return Generated(report, xml, render(report, digest.hex()), row, job.conversation, created)


def _read(conn: psycopg.Connection, tenant: str, package_id: str, reader: str,
          reason: str) -> PackageRead | None:
    try:
        return read_package(conn, tenant, package_id, reader=reader, reason=reason)
    except PackageNotFound:
        return None


def generate_for_conversation(conn: psycopg.Connection, settings: Settings, *, tenant: str,
                              conversation: str, reviewer: str, reader: str,
                              clock: Callable[[], datetime]) -> Generated:
    """The report about ``conversation`` confirmed by ``reviewer`` (a user pseudonym).

    The package is the one an earlier generation of the same confirmation used,
    else the newest package of the tenant whose events include the conversation.
    NoPackage when there is none; ``conn`` must be in autocommit mode.
    """
    reporter, service = reporter_of(settings)
    confirmation_id = confirmation_id_of(tenant, conversation, reviewer)
    job = _Job(tenant, conversation, reviewer, confirmation_id, reporter, service)
    reason = reason_of(reviewer, conversation)
    existing = _existing(conn, tenant, confirmation_id)
    if existing is not None:
        candidates = [existing.package_id]
    else:
        candidates = [str(r[0]) for r in conn.execute(_CANDIDATES, {
            "tenant": tenant, "conversation": conversation,
            "limit": MAX_CANDIDATES}).fetchall()]
    for package_id in candidates:
        read = _read(conn, tenant, package_id, reader, reason)
        document = None if read is None else read.document()
        if document is not None and conversation in conversations_of(document):
            return _store(conn, job, package_id, document, clock)
    raise NoPackage(conversation)


def generate_for_package(conn: psycopg.Connection, settings: Settings, *, tenant: str,
                         package_id: str, reviewer: str, reader: str, reason: str,
                         conversation: str | None,
                         clock: Callable[[], datetime]) -> Generated:
    """The report of one named package (``wardstream ncmec build|submit --package``).

    ``conversation`` (a pseudonym) may be None when the subject wrote in only one
    conversation of the package. PackageNotFound for an unknown or foreign package.
    """
    reporter, service = reporter_of(settings)
    read = read_package(conn, tenant, package_id, reader=reader, reason=reason)
    document = read.document()
    chosen = conversation or conversation_of(document)
    if chosen not in conversations_of(document):
        raise PackageIncomplete("conversation", f"the package holds no message of the subject "
                                f"in conversation {chosen}")
    confirmation_id = confirmation_id_of(tenant, chosen, reviewer)
    existing = _existing(conn, tenant, confirmation_id)
    if existing is not None and existing.package_id != package_id:
        raise InputChanged(
            f"this confirmation already built report {existing.report_key} from package "
            f"{existing.package_id}; use that package, or another reviewer confirms anew")
    return _store(conn, _Job(tenant, chosen, reviewer, confirmation_id, reporter, service),
                  package_id, document, clock)
