"""An evidence package (pipeline/evidence) mapped onto a :class:`ReportInput` (pure).

A human has confirmed a package; this module turns what the package preserved
into the report NCMEC receives. It reads the package document only (format
``wardstream.evidence.v1``, docs/evidence.md) plus what the package cannot
hold and the caller passes in:

- the reporting ESP and its contact, and the service name (settings);
- the confirmation: its id, the reviewer's pseudonym and when;
- :class:`Counterpart` facts for the other people in the conversation (their
  raw platform id and age band), because a package keeps raw identifiers of
  its subject only; profile events of theirs inside the package win over the
  passed age band;
- earlier CyberTipline report ids about the same subject.

What comes from the package: the incident time (the alert's or escalation's),
the subject's raw user id, display name and email (``account.identities``),
the IP captures (the subject's own events carrying an IP, with port, time and
kind), the counterparts of the conversation, and the conversation itself as a
text file (one line per message) with its SHA-256.

A fact the report cannot do without and the package does not hold raises
:class:`PackageIncomplete` naming the place in the package; there is no
partial report.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Final

from pipeline.ncmec.errors import InvalidReportInput
from pipeline.ncmec.model import (
    ONLINE_ENTICEMENT,
    Attachment,
    IpCaptureEvent,
    IpEventName,
    Recipient,
    ReportedPerson,
    Reporter,
    ReportInput,
)

PACKAGE_FORMAT: Final = "wardstream.evidence.v1"
CONVERSATION_FILENAME: Final = "conversation.txt"
CONVERSATION_HEADER: Final = "time\tsender\trecipient\ttext"
NO_TEXT: Final = "[text not preserved]"
# Age bands of the event contract (pipeline/contract/spec.py) as NCMEC age ranges; adult and
# unknown bands give no age at all.
AGE_RANGES: Final[Mapping[str, str]] = {"under_13": "0-12", "13_15": "13-15", "16_17": "16-17"}
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


class PackageIncomplete(InvalidReportInput):
    """The package lacks a fact the report needs (``field`` says where it should be).

    Nothing was built. Check the package (``GET /v1/evidence/{id}``) and the
    identity map: an erased identity cannot be reported; a report needs a
    package that still holds the subject's identities and the conversation.
    """


@dataclass(frozen=True)
class Counterpart:
    """Someone else in the conversation: as the package kept them, or as stored now."""

    platform_user_id: str | None
    age_band: str | None = None
    screen_name: str | None = None


@dataclass(frozen=True)
class Confirmation:
    """The human confirmation a report is built from."""

    confirmation_id: str
    confirmed_by: str
    confirmed_at: datetime


def _need(value: object, where: str, message: str) -> Any:
    if value is None or value == "" or value == [] or value == {}:
        raise PackageIncomplete(where, message)
    return value


def _time(value: object, where: str) -> datetime:
    if not isinstance(value, str):
        raise PackageIncomplete(where, "is missing (an ISO 8601 time)")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise PackageIncomplete(where, "is not an ISO 8601 time") from None
    if parsed.utcoffset() is None:
        raise PackageIncomplete(where, "has no time zone")
    return parsed


def _events(package: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    events = package.get("events")
    if not isinstance(events, list):
        raise PackageIncomplete("package.events", "is missing")
    return [e for e in events if isinstance(e, Mapping)
            and isinstance(e.get("original"), Mapping)]


def _original(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    original: Mapping[str, Any] = entry["original"]
    return original


def _local_time(entry: Mapping[str, Any], where: str) -> datetime:
    """The event's time in the offset the platform sent it with (UTC otherwise)."""
    original = _original(entry)
    micros, offset = original.get("occurred_at_us"), original.get("utc_offset_min")
    if isinstance(micros, int) and not isinstance(micros, bool):
        moment = _EPOCH + timedelta(microseconds=micros)
        if isinstance(offset, int) and not isinstance(offset, bool) and abs(offset) < 24 * 60:
            return moment.astimezone(timezone(timedelta(minutes=offset)))
        return moment
    return _time(entry.get("occurred_at"), where)


def _messages(package: Mapping[str, Any], conversation: str) -> list[Mapping[str, Any]]:
    found = [e for e in _events(package) if e.get("type") == "message"
             and _original(e).get("conversation") == conversation]
    return sorted(found, key=lambda e: (str(e.get("occurred_at")), str(e.get("event_id"))))


def _recipients(entry: Mapping[str, Any]) -> list[str]:
    value = _original(entry).get("recipients")
    return [str(r) for r in value] if isinstance(value, list) else []


def subject_of(package: Mapping[str, Any]) -> str:
    """The package's subject (a pseudonym); PackageIncomplete when the document is not one."""
    if package.get("format") != PACKAGE_FORMAT:
        raise PackageIncomplete("package.format", f"must be {PACKAGE_FORMAT}")
    subject = package.get("subject")
    if not isinstance(subject, str) or not subject:
        raise PackageIncomplete("package.subject", "is missing")
    return subject


def conversations_of(package: Mapping[str, Any]) -> list[str]:
    """The conversations the subject wrote messages in, in the package, oldest first."""
    subject = subject_of(package)
    seen: dict[str, None] = {}
    for entry in sorted(_events(package), key=lambda e: str(e.get("occurred_at"))):
        conversation = _original(entry).get("conversation")
        if entry.get("type") == "message" and entry.get("actor") == subject \
                and isinstance(conversation, str):
            seen.setdefault(conversation, None)
    return list(seen)


def conversation_of(package: Mapping[str, Any]) -> str:
    """The conversation a report about this package concerns, when the package shows only one.

    With several, the caller must say which (``--session``); PackageIncomplete otherwise.
    """
    found = conversations_of(package)
    if len(found) != 1:
        raise PackageIncomplete(
            "conversation", "the package holds no conversation the subject wrote in" if not found
            else f"the subject wrote in {len(found)} conversations; name the one to report")
    return found[0]


def participants(package: Mapping[str, Any], conversation: str) -> list[str]:
    """Everyone but the subject who sent or received a message of ``conversation``."""
    subject = subject_of(package)
    seen: dict[str, None] = {}
    for entry in _messages(package, conversation):
        for person in (str(entry.get("actor")), *_recipients(entry)):
            if person != subject:
                seen.setdefault(person, None)
    return list(seen)


def counterparts_of(package: Mapping[str, Any], conversation: str) -> list[str]:
    """Who the subject exchanged messages with in ``conversation``, in order of first contact."""
    subject = subject_of(package)
    seen: dict[str, None] = {}
    for entry in _messages(package, conversation):
        sender, recipients = str(entry.get("actor")), _recipients(entry)
        if sender == subject:
            for person in recipients:
                if person != subject:
                    seen.setdefault(person, None)
        elif subject in recipients:
            seen.setdefault(sender, None)
    return list(seen)


def _identities(package: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    account = package.get("account")
    identities = account.get("identities") if isinstance(account, Mapping) else None
    if not isinstance(identities, list) or not identities:
        raise PackageIncomplete(
            "package.account.identities", "the package holds no identities of the subject "
            "(erased before it was built?); the reported user's platform id cannot be given")
    return [i for i in identities if isinstance(i, Mapping)]


def _newest(identities: Iterable[Mapping[str, Any]], kind: str,
            owner_pseudonym: str | None = None) -> str | None:
    found = [i for i in identities if i.get("kind") == kind and isinstance(i.get("value"), str)
             and (owner_pseudonym is None or i.get("pseudonym") == owner_pseudonym)]
    found.sort(key=lambda i: (str(i.get("first_seen_at")), str(i.get("pseudonym"))))
    return str(found[-1]["value"]) if found else None


def _event_name(entry: Mapping[str, Any]) -> IpEventName:
    if entry.get("type") == "session" and _original(entry).get("action") == "login":
        return "Login"
    return "Other"


def ip_events(package: Mapping[str, Any]) -> tuple[IpCaptureEvent, ...]:
    """Every event of the subject's own that carries an IP, its raw address from the identities."""
    subject = subject_of(package)
    addresses = {str(i.get("pseudonym")): str(i["value"]) for i in _identities(package)
                 if i.get("kind") == "ip" and isinstance(i.get("value"), str)}
    captures = []
    for index, entry in enumerate(_events(package)):
        original = _original(entry)
        ip = original.get("ip")
        if entry.get("actor") != subject or not isinstance(ip, str) or not ip:
            continue
        if ip not in addresses:
            raise PackageIncomplete(
                "package.account.identities",
                f"no raw address for IP {ip} of event {entry.get('event_id')} (erased?)")
        port = original.get("port")
        captures.append(IpCaptureEvent(
            ip_address=addresses[ip], event_name=_event_name(entry),
            at=_local_time(entry, f"package.events[{index}].occurred_at"),
            port=port if isinstance(port, int) and not isinstance(port, bool) else None))
    return tuple(sorted(captures, key=lambda c: c.at))


def reported_person(package: Mapping[str, Any],
                    prior_report_ids: Sequence[int] = ()) -> ReportedPerson:
    """The subject's raw identifiers, IP captures and prior reports."""
    subject = subject_of(package)
    identities = _identities(package)
    user_id = _newest(identities, "user", subject)
    if user_id is None:
        raise PackageIncomplete("package.account.identities",
                                f"no platform user id (kind user) for the subject {subject}")
    display_name = _newest(identities, "display_name")
    email = _newest(identities, "email")
    return ReportedPerson(
        esp_user_id=user_id, screen_name=display_name or user_id, subject=subject,
        email=email if email and "@" in email else None, display_name=display_name,
        ip_events=ip_events(package), prior_report_ids=tuple(sorted(set(prior_report_ids))))


def _profile_age_band(package: Mapping[str, Any], person: str) -> str | None:
    """The newest age band a profile event of ``person`` inside the package gave, if any."""
    bands = [(str(e.get("occurred_at")), _original(e).get("age_band")) for e in _events(package)
             if e.get("type") == "profile" and e.get("actor") == person]
    bands = [b for b in bands if isinstance(b[1], str)]
    return str(max(bands)[1]) if bands else None


def _resolved(counterparts: Mapping[str, Counterpart], person: str) -> str:
    known = counterparts.get(person)
    if known is None or not known.platform_user_id:
        raise PackageIncomplete(
            f"counterparts[{person}]",
            "no platform user id for this participant of the conversation (not in the "
            "identity map any more?)")
    return known.platform_user_id


def recipients(package: Mapping[str, Any], conversation: str,
               counterparts: Mapping[str, Counterpart]) -> tuple[Recipient, ...]:
    """The intended recipients: whom the subject exchanged messages with in ``conversation``."""
    found = counterparts_of(package, conversation)
    if not found:
        raise PackageIncomplete(
            "package.events", f"no message between the subject and anyone in {conversation}")
    people = []
    for person in found:
        user_id = _resolved(counterparts, person)
        known = counterparts[person]
        band = _profile_age_band(package, person) or known.age_band
        people.append(Recipient(screen_name=known.screen_name or user_id, esp_user_id=user_id,
                                estimated_age=AGE_RANGES.get(band or "")))
    return tuple(people)


def _one_line(text: str) -> str:
    return (text.replace("\\", "\\\\").replace("\r", "\\r").replace("\n", "\\n")
            .replace("\t", "\\t"))


def conversation_file(package: Mapping[str, Any], conversation: str, subject_user_id: str,
                      counterparts: Mapping[str, Counterpart]) -> bytes:
    """The conversation as UTF-8 text: a header, then one line per message of the package,
    oldest first: time (the sender's offset), sender, recipients (comma-separated), text.
    People are named by their raw platform ids; tabs, newlines and backslashes in text are
    escaped (``\\t``, ``\\n``, ``\\\\``) so a line is always one message."""
    subject = subject_of(package)
    messages = _messages(package, conversation)
    if not messages:
        raise PackageIncomplete("package.events", f"no message of conversation {conversation}")

    def name(person: str) -> str:
        return subject_user_id if person == subject else _resolved(counterparts, person)

    lines = [CONVERSATION_HEADER]
    for index, entry in enumerate(messages):
        content = _original(entry).get("content")
        text = _one_line(content) if isinstance(content, str) else NO_TEXT
        at = _local_time(entry, f"package.events[{index}].occurred_at")
        lines.append("\t".join((at.isoformat(), name(str(entry.get("actor"))),
                                ",".join(name(r) for r in _recipients(entry)), text)))
    return ("\n".join(lines) + "\n").encode("utf-8")


def incident_time(package: Mapping[str, Any]) -> tuple[datetime, str]:
    """The alert's (or escalation's) time and a sentence saying what that time is."""
    at = _time(package.get("incident_at"), "package.incident_at")
    trigger = package.get("trigger")
    kind = trigger.get("kind") if isinstance(trigger, Mapping) else None
    what = {"alert": "wardstream raised the alert on this account",
            "escalation": "a reviewer escalated this account"}.get(str(kind))
    if what is None:
        raise PackageIncomplete("package.trigger.kind", "must be alert or escalation")
    window = package.get("window")
    span = ""
    if isinstance(window, Mapping) and window.get("start") and window.get("end"):
        span = f"; the preserved events run from {window['start']} to {window['end']}"
    return at, f"The time {what} (UTC){span}."


def report_from_package(package: Mapping[str, Any], *, conversation: str, reporter: Reporter,
                        service: str, confirmation: Confirmation,
                        counterparts: Mapping[str, Counterpart],
                        prior_report_ids: Sequence[int] = (),
                        narrative: str | None = None) -> ReportInput:
    """The report of ``package`` about ``conversation`` (a conversation pseudonym, ``c_...``).

    PackageIncomplete names what is missing; InvalidReportInput what is malformed.
    """
    subject_of(package)
    tenant = _need(package.get("tenant_id"), "package.tenant_id", "is missing")
    package_id = _need(package.get("package_id"), "package.package_id", "is missing")
    reported = reported_person(package, prior_report_ids)
    content = conversation_file(package, conversation, reported.esp_user_id, counterparts)
    at, description = incident_time(package)
    return ReportInput(
        tenant=str(tenant), package_id=str(package_id),
        confirmation_id=confirmation.confirmation_id, confirmed_by=confirmation.confirmed_by,
        confirmed_at=confirmation.confirmed_at, reporter=reporter,
        incident_type=ONLINE_ENTICEMENT, incident_time=at,
        incident_time_description=description, service=service, reported=reported,
        recipients=recipients(package, conversation, counterparts),
        conversation=Attachment(filename=CONVERSATION_FILENAME, content=content,
                                sha256=hashlib.sha256(content).hexdigest()),
        narrative=narrative)
