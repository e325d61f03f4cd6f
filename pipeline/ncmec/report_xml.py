"""The XML documents of the Reporting API, built from a :class:`ReportInput`.

``report_document`` is the body of ``POST /submit``; ``file_details_document``
the body of ``POST /fileinfo`` for one uploaded attachment. Both are validated
against the XSD before they are returned, so an invalid document never leaves
this module. Same input, same bytes: the SHA-256 of the report document is what
the submission row remembers (pipeline/ncmec/store.py).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from lxml import etree

from pipeline.ncmec import schema
from pipeline.ncmec.model import Attachment, IpCaptureEvent, Recipient, ReportInput


def _time(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def _add(parent: etree._Element, tag: str, text: str | int | bool | None) -> None:
    if text is None:
        return
    child = etree.SubElement(parent, tag)
    child.text = ("true" if text else "false") if isinstance(text, bool) else str(text)


def _ip_event(parent: etree._Element, event: IpCaptureEvent) -> None:
    node = etree.SubElement(parent, "ipCaptureEvent")
    _add(node, "ipAddress", event.ip_address)
    _add(node, "eventName", event.event_name)
    _add(node, "dateTime", _time(event.at))
    _add(node, "possibleProxy", event.possible_proxy)
    _add(node, "port", event.port)


def _recipient(parent: etree._Element, recipient: Recipient, service: str) -> None:
    tag = "victim" if recipient.role == "victim" else "intendedRecipient"
    node = etree.SubElement(parent, tag)
    if recipient.age is not None:
        person = etree.SubElement(node, f"{tag}Person")
        _add(person, "age", recipient.age)
    _add(node, "espIdentifier", recipient.esp_user_id)
    _add(node, "espService", service)
    _add(node, "screenName", recipient.screen_name)
    if recipient.estimated_age is not None:
        _add(node, "additionalInfo",
             f"Estimated age {recipient.estimated_age} (the platform's age estimate, "
             "not a verified age).")


def _serialise(root: etree._Element) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                pretty_print=True))


def report_document(report: ReportInput) -> bytes:
    """The ``<report>`` document; :class:`ReportXmlInvalid` if it breaks the XSD."""
    root = etree.Element("report")
    summary = etree.SubElement(root, "incidentSummary")
    _add(summary, "incidentType", report.incident_type)
    _add(summary, "escalateToHighPriority", report.escalate)
    _add(summary, "incidentDateTime", _time(report.incident_time))
    _add(summary, "incidentDateTimeDescription", report.incident_time_description)

    internet = etree.SubElement(root, "internetDetails")
    chat = etree.SubElement(internet, "chatImIncident")
    _add(chat, "chatClient", report.service)

    reporter = etree.SubElement(root, "reporter")
    person = etree.SubElement(reporter, "reportingPerson")
    _add(person, "firstName", report.reporter.first_name)
    _add(person, "lastName", report.reporter.last_name)
    _add(person, "phone", report.reporter.phone)
    _add(person, "email", report.reporter.email)
    _add(reporter, "termsOfService", report.reporter.terms_of_service_url)

    reported = report.reported
    suspect = etree.SubElement(root, "personOrUserReported")
    if reported.email is not None:
        _add(etree.SubElement(suspect, "personOrUserReportedPerson"), "email", reported.email)
    _add(suspect, "espIdentifier", reported.esp_user_id)
    _add(suspect, "espService", report.service)
    _add(suspect, "screenName", reported.screen_name)
    _add(suspect, "displayName", reported.display_name)
    _add(suspect, "profileUrl", reported.profile_url)
    for event in reported.ip_events:
        _ip_event(suspect, event)
    for prior in reported.prior_report_ids:
        _add(suspect, "priorCTReports", prior)

    # The schema wants every intendedRecipient before any victim.
    ordered = sorted(report.recipients, key=lambda r: r.role != "intended_recipient")
    for recipient in ordered:
        _recipient(root, recipient, report.service)

    _add(root, "additionalInfo", additional_info(report))
    document = _serialise(root)
    schema.validate(document, "report")
    return document


def additional_info(report: ReportInput) -> str:
    """The report's free text: the reviewer's narrative and what is attached."""
    parts = []
    if report.narrative:
        parts.append(report.narrative.strip())
    attachment = report.conversation
    parts.append(
        f"The conversation is attached as {attachment.filename} "
        f"(SHA-256 {attachment.sha256}), preserved as evidence package {report.package_id} "
        f"and confirmed by a trust and safety reviewer on {_time(report.confirmed_at)}."
    )
    return "\n\n".join(parts)


def file_details_document(attachment: Attachment, report_id: int, file_id: str) -> bytes:
    """The ``<fileDetails>`` document for one uploaded attachment."""
    root = etree.Element("fileDetails")
    _add(root, "reportId", report_id)
    _add(root, "fileId", file_id)
    _add(root, "originalFileName", attachment.filename)
    _add(root, "fileViewedByEsp", True)
    _add(root, "publiclyAvailable", False)
    _add(root, "fileRelevance", "Reported")
    hashed = etree.SubElement(root, "originalFileHash", hashType="SHA256")
    hashed.text = attachment.sha256
    _add(root, "additionalInfo",
         "Text export of the conversation between the reported user and the intended "
         "recipient, as preserved by the reporting service.")
    document = _serialise(root)
    schema.validate(document, "fileDetails")
    return document


def document_sha256(document: bytes) -> bytes:
    return hashlib.sha256(document).digest()
