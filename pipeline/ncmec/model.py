"""The pure input of one CyberTipline report, and the key that makes filing it idempotent.

``ReportInput`` is everything a report needs once a human has confirmed a
preserved evidence package: the reporting ESP, the incident, the reported
person's identifiers and IP captures, the intended recipient (or victim), the
conversation as an attached file, prior reports and who confirmed.
docs/ncmec.md maps an evidence package onto it. Values here are raw platform
facts (they go to NCMEC); pseudonyms are only for our own audit log.
Every check raises :class:`InvalidReportInput` naming the field.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal, get_args

from pipeline.ncmec.errors import InvalidReportInput

IncidentType = Literal[
    "Child Pornography (possession, manufacture, and distribution)",
    "Child Sex Trafficking",
    "Child Sex Tourism",
    "Child Sexual Molestation",
    "Misleading Domain Name",
    "Misleading Words or Digital Images on the Internet",
    "Online Enticement of Children for Sexual Acts",
    "Unsolicited Obscene Material Sent to a Child",
]
INCIDENT_TYPES: Final[tuple[str, ...]] = get_args(IncidentType)
ONLINE_ENTICEMENT: Final = "Online Enticement of Children for Sexual Acts"

IpEventName = Literal["Login", "Registration", "Purchase", "Upload", "Other", "Unknown"]
IP_EVENT_NAMES: Final[tuple[str, ...]] = get_args(IpEventName)

RecipientRole = Literal["intended_recipient", "victim"]

_SHA256_RE: Final = re.compile(r"^[0-9a-f]{64}$")
_EMAIL_RE: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_FILENAME_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,127}$")
_PSEUDONYM_RE: Final = re.compile(r"^u_[a-z2-7]{26}$")
_ID_RE: Final = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
_AGE_RANGE_RE: Final = re.compile(r"^\d{1,2}-\d{1,2}$")
MAX_TEXT: Final = 4000
MAX_ATTACHMENT_BYTES: Final = 32 * 1024 * 1024


def _need(condition: bool, where: str, message: str) -> None:
    if not condition:
        raise InvalidReportInput(where, message)


def _text(value: str | None, where: str, required: bool = False, limit: int = 200) -> None:
    if value is None:
        _need(not required, where, "is required")
        return
    _need(bool(value.strip()), where, "must not be empty")
    _need(len(value) <= limit, where, f"at most {limit} characters")


def _aware(value: datetime, where: str) -> None:
    _need(value.utcoffset() is not None, where, "must carry a time zone (ISO 8601 with offset)")


@dataclass(frozen=True)
class Reporter:
    """The reporting ESP and the person at it NCMEC and law enforcement reach."""

    esp_name: str
    first_name: str
    last_name: str
    email: str
    phone: str | None = None
    terms_of_service_url: str | None = None

    def __post_init__(self) -> None:
        _text(self.esp_name, "reporter.esp_name", required=True)
        _text(self.first_name, "reporter.first_name", required=True)
        _text(self.last_name, "reporter.last_name", required=True)
        _need(bool(_EMAIL_RE.match(self.email)), "reporter.email", "must be an email address")
        _text(self.phone, "reporter.phone", limit=40)
        _text(self.terms_of_service_url, "reporter.terms_of_service_url", limit=500)


@dataclass(frozen=True)
class IpCaptureEvent:
    """One IP address the reported person used, when, on which port, doing what."""

    ip_address: str
    event_name: IpEventName
    at: datetime
    port: int | None = None
    possible_proxy: bool | None = None

    def check(self, where: str) -> None:
        try:
            ipaddress.ip_address(self.ip_address)
        except ValueError:
            raise InvalidReportInput(f"{where}.ip_address", "must be an IPv4 or IPv6 address"
                                     ) from None
        _need(self.event_name in IP_EVENT_NAMES, f"{where}.event_name",
              f"must be one of {', '.join(IP_EVENT_NAMES)}")
        _aware(self.at, f"{where}.at")
        if self.port is not None:
            _need(0 < self.port < 65536, f"{where}.port", "must be 1..65535")


@dataclass(frozen=True)
class ReportedPerson:
    """The reported user: the platform's identifiers, never our pseudonym (that is ``subject``)."""

    esp_user_id: str
    screen_name: str
    subject: str
    email: str | None = None
    display_name: str | None = None
    profile_url: str | None = None
    ip_events: tuple[IpCaptureEvent, ...] = ()
    prior_report_ids: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        _text(self.esp_user_id, "reported.esp_user_id", required=True)
        _text(self.screen_name, "reported.screen_name", required=True)
        _need(bool(_PSEUDONYM_RE.match(self.subject)), "reported.subject",
              "must be the user's pseudonym (u_...), used only in our audit log")
        if self.email is not None:
            _need(bool(_EMAIL_RE.match(self.email)), "reported.email", "must be an email address")
        _text(self.display_name, "reported.display_name")
        _text(self.profile_url, "reported.profile_url", limit=500)
        for index, event in enumerate(self.ip_events):
            event.check(f"reported.ip_events[{index}]")
        for index, report_id in enumerate(self.prior_report_ids):
            _need(report_id > 0, f"reported.prior_report_ids[{index}]",
                  "must be a positive CyberTipline report id")


@dataclass(frozen=True)
class Recipient:
    """The child the reported person targeted: an intended recipient, or a victim."""

    screen_name: str
    esp_user_id: str | None = None
    age: int | None = None
    estimated_age: str | None = None
    role: RecipientRole = "intended_recipient"

    def check(self, where: str) -> None:
        _text(self.screen_name, f"{where}.screen_name", required=True)
        _text(self.esp_user_id, f"{where}.esp_user_id")
        if self.age is not None:
            _need(0 <= self.age < 18, f"{where}.age", "must be 0..17 (a minor)")
        if self.estimated_age is not None:
            _need(bool(_AGE_RANGE_RE.match(self.estimated_age)), f"{where}.estimated_age",
                  "must be a range like 13-15")
        _need(self.role in get_args(RecipientRole), f"{where}.role",
              "must be intended_recipient or victim")


@dataclass(frozen=True)
class Attachment:
    """A file sent with the report (the conversation), with the SHA-256 it was preserved under."""

    filename: str
    content: bytes = field(repr=False)
    sha256: str

    def __post_init__(self) -> None:
        _need(bool(_FILENAME_RE.match(self.filename)), "conversation.filename",
              "must be 1..128 characters of letters, digits, space, . _ -")
        _need(0 < len(self.content) <= MAX_ATTACHMENT_BYTES, "conversation.content",
              f"must be 1..{MAX_ATTACHMENT_BYTES} bytes")
        _need(bool(_SHA256_RE.match(self.sha256)), "conversation.sha256",
              "must be 64 lowercase hex digits")
        _need(hashlib.sha256(self.content).hexdigest() == self.sha256, "conversation.sha256",
              "does not match the content: the file is not the one preserved")

    @property
    def md5(self) -> str:
        """NCMEC's upload answer carries an MD5; we compare it with ours."""
        return hashlib.md5(self.content, usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class ReportInput:
    """One report, built from one preserved evidence package after one human confirmation."""

    tenant: str
    package_id: str
    confirmation_id: str
    confirmed_by: str
    confirmed_at: datetime
    reporter: Reporter
    incident_time: datetime
    reported: ReportedPerson
    recipients: tuple[Recipient, ...]
    conversation: Attachment
    service: str
    incident_type: IncidentType = ONLINE_ENTICEMENT
    incident_time_description: str | None = None
    escalate: str | None = None
    narrative: str | None = None

    def __post_init__(self) -> None:
        _need(bool(re.match(r"^[A-Za-z0-9_.-]{1,64}$", self.tenant)), "tenant",
              "must be 1..64 characters of [A-Za-z0-9_.-]")
        _need(bool(_ID_RE.match(self.package_id)), "package_id",
              "must be 1..128 characters of [A-Za-z0-9_.:-]")
        _need(bool(_ID_RE.match(self.confirmation_id)), "confirmation_id",
              "must be 1..128 characters of [A-Za-z0-9_.:-]")
        _need(bool(_PSEUDONYM_RE.match(self.confirmed_by)), "confirmed_by",
              "must be the reviewer's pseudonym (u_...)")
        _aware(self.confirmed_at, "confirmed_at")
        _aware(self.incident_time, "incident_time")
        _need(self.incident_type in INCIDENT_TYPES, "incident_type",
              f"must be one of: {'; '.join(INCIDENT_TYPES)}")
        _need(len(self.recipients) > 0, "recipients", "at least one intended recipient or victim")
        for index, recipient in enumerate(self.recipients):
            recipient.check(f"recipients[{index}]")
        _text(self.service, "service", required=True)
        _text(self.incident_time_description, "incident_time_description", limit=MAX_TEXT)
        _text(self.escalate, "escalate", limit=MAX_TEXT)
        _text(self.narrative, "narrative", limit=MAX_TEXT)

    @property
    def report_key(self) -> str:
        return report_key(self.tenant, self.package_id, self.confirmation_id)

    @property
    def attachments(self) -> tuple[Attachment, ...]:
        return (self.conversation,)


def report_key(tenant: str, package_id: str, confirmation_id: str) -> str:
    """32 hex digits, the same for the same package and confirmation, whoever computes it."""
    material = "\x00".join(("wardstream/ncmec-report/v1", tenant, package_id, confirmation_id))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]
