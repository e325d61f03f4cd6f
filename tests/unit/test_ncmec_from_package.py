"""An evidence package document mapped onto a ReportInput (pipeline/ncmec/from_package.py).

The package is built by hand here, in the shape pipeline/evidence/package.py
writes (``wardstream.evidence.v1``); expected values (times, hashes, the file's
bytes) are computed in the test, not taken from the module. Synthetic people,
documentation IP ranges, no real data.
"""

from __future__ import annotations

import copy
import hashlib
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from pipeline.ncmec.errors import InvalidReportInput
from pipeline.ncmec.from_package import (
    Confirmation,
    Counterpart,
    PackageIncomplete,
    conversation_of,
    counterparts_of,
    participants,
    report_from_package,
)
from pipeline.ncmec.model import ONLINE_ENTICEMENT, Reporter
from pipeline.ncmec.report_xml import report_document

TENANT = "t-sample"
SUBJECT = "u_" + "a" * 26
MINOR = "u_" + "c" * 26
FRIEND = "u_" + "d" * 26
REVIEWER = "u_" + "b" * 26
CONV = "c_" + "e" * 26
OTHER_CONV = "c_" + "f" * 26
IP_A, IP_B = "i_" + "g" * 26, "i_" + "h" * 26
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
INCIDENT = datetime(2026, 2, 25, 20, 0, tzinfo=UTC)
REPORTER = Reporter(esp_name="Example Chat Inc.", first_name="Dana", last_name="Reviewer",
                    email="trust-safety@example.test")
CONFIRMATION = Confirmation("conf-1", REVIEWER, datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
COUNTERPARTS = {MINOR: Counterpart("kid-2002", age_band="13_15"),
                FRIEND: Counterpart("friend-3003", age_band="16_17")}


def us(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry(event_id: str, kind: str, actor: str, at: datetime, offset: int = -300,
          **fields: Any) -> dict[str, Any]:
    original = {"event_id": event_id, "tenant_id": TENANT, "type": kind, "actor": actor,
                "occurred_at_us": us(at), "utc_offset_min": offset, "source": "test",
                "conversation": None, "recipients": [], "content": None, "ip": None,
                "port": None, "action": None, "age_band": None, **fields}
    return {"event_id": event_id, "type": kind, "actor": actor, "occurred_at": utc(at),
            "stored_at": utc(at), "sha256": "0" * 64, "original": original}


def message(event_id: str, actor: str, to: list[str], at: datetime, text: str | None,
            conversation: str = CONV, **fields: Any) -> dict[str, Any]:
    return entry(event_id, "message", actor, at, conversation=conversation, recipients=to,
                 content=text, **fields)


DAY = timedelta(days=1)
EVENTS = [
    entry("s-1", "session", SUBJECT, INCIDENT - 20 * DAY, action="login", ip=IP_A, port=51234),
    message("m-1", SUBJECT, [MINOR], INCIDENT - 20 * DAY + timedelta(minutes=5),
            "how old are you?", ip=IP_A),
    message("m-2", MINOR, [SUBJECT], INCIDENT - 19 * DAY, "14, why", offset=60),
    message("m-3", SUBJECT, [MINOR], INCIDENT - DAY,
            "don't tell your parents we talk\nok?", ip=IP_B, port=40000),
    message("m-4", MINOR, [SUBJECT], INCIDENT - DAY + timedelta(hours=1), None),
    message("m-5", FRIEND, [MINOR], INCIDENT - DAY + timedelta(hours=2), "who is that\tguy",
            offset=60),
    entry("c-1", "contact", MINOR, INCIDENT - 18 * DAY, action="accept", target=SUBJECT),
]


def package(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "format": "wardstream.evidence.v1", "package_id": "pkg_" + "1" * 32,
        "tenant_id": TENANT, "trigger": {"kind": "alert", "id": "alert-1"},
        "subject": SUBJECT, "incident_at": utc(INCIDENT), "built_at": utc(INCIDENT),
        "jurisdiction": "US",
        "window": {"start": utc(INCIDENT - 30 * DAY), "end": utc(INCIDENT + DAY)},
        "events": copy.deepcopy(EVENTS),
        "account": {"profiles": [], "account_created_at": None, "identities": [
            {"kind": "user", "pseudonym": SUBJECT, "value": "suspect-1001",
             "first_seen_at": utc(INCIDENT - 90 * DAY)},
            {"kind": "ip", "pseudonym": IP_A, "value": "203.0.113.7",
             "first_seen_at": utc(INCIDENT - 20 * DAY)},
            {"kind": "ip", "pseudonym": IP_B, "value": "2001:db8::5",
             "first_seen_at": utc(INCIDENT - DAY)},
            {"kind": "display_name", "pseudonym": "n_old", "value": "oldname",
             "first_seen_at": utc(INCIDENT - 80 * DAY)},
            {"kind": "display_name", "pseudonym": "n_new", "value": "nightowl_77",
             "first_seen_at": utc(INCIDENT - 10 * DAY)},
            {"kind": "email", "pseudonym": "e_1", "value": "owl@example.test",
             "first_seen_at": utc(INCIDENT - 90 * DAY)}]},
        "scores": {"history": [], "alerts": []}, "explanation": None,
        "prior_actions": {"review_items": [], "moderation_events": []},
        "network": {"ips": [], "devices": [], "user_agents": [], "sessions": []},
    }
    document.update(changes)
    return document


def build(document: dict[str, Any], counterparts: dict[str, Counterpart] | None = None,
          **kwargs: Any) -> Any:
    return report_from_package(
        document, conversation=CONV, reporter=REPORTER, service="Example Chat direct messages",
        confirmation=CONFIRMATION,
        counterparts=COUNTERPARTS if counterparts is None else counterparts, **kwargs)


def test_the_report_carries_what_the_package_preserved() -> None:
    report = build(package(), prior_report_ids=[812, 77, 812])
    assert (report.tenant, report.package_id) == (TENANT, "pkg_" + "1" * 32)
    assert (report.confirmation_id, report.confirmed_by) == ("conf-1", REVIEWER)
    assert report.incident_type == ONLINE_ENTICEMENT
    assert report.incident_time == INCIDENT
    assert report.incident_time_description is not None
    assert "alert" in report.incident_time_description

    reported = report.reported
    assert (reported.esp_user_id, reported.screen_name, reported.display_name, reported.email,
            reported.subject) == ("suspect-1001", "nightowl_77", "nightowl_77",
                                  "owl@example.test", SUBJECT)
    assert reported.prior_report_ids == (77, 812)
    minus5 = timezone(timedelta(hours=-5))
    assert [(e.ip_address, e.event_name, e.at, e.port) for e in reported.ip_events] == [
        ("203.0.113.7", "Login", (INCIDENT - 20 * DAY).astimezone(minus5), 51234),
        ("203.0.113.7", "Other", (INCIDENT - 20 * DAY + timedelta(minutes=5)).astimezone(minus5),
         None),
        ("2001:db8::5", "Other", (INCIDENT - DAY).astimezone(minus5), 40000),
    ]
    # Only the minor exchanged messages with the subject; the friend wrote to the minor only.
    [recipient] = report.recipients
    assert (recipient.esp_user_id, recipient.screen_name, recipient.estimated_age,
            recipient.age, recipient.role) == ("kid-2002", "kid-2002", "13-15", None,
                                               "intended_recipient")


def test_the_conversation_file_is_one_line_per_message_with_its_hash() -> None:
    report = build(package())
    plus1, minus5 = timezone(timedelta(hours=1)), timezone(timedelta(hours=-5))
    expected = (
        "time\tsender\trecipient\ttext\n"
        f"{(INCIDENT - 20 * DAY + timedelta(minutes=5)).astimezone(minus5).isoformat()}"
        "\tsuspect-1001\tkid-2002\thow old are you?\n"
        f"{(INCIDENT - 19 * DAY).astimezone(plus1).isoformat()}\tkid-2002\tsuspect-1001\t14, why\n"
        f"{(INCIDENT - DAY).astimezone(minus5).isoformat()}\tsuspect-1001\tkid-2002"
        "\tdon't tell your parents we talk\\nok?\n"
        f"{(INCIDENT - DAY + timedelta(hours=1)).astimezone(minus5).isoformat()}"
        "\tkid-2002\tsuspect-1001\t[text not preserved]\n"
        f"{(INCIDENT - DAY + timedelta(hours=2)).astimezone(plus1).isoformat()}"
        "\tfriend-3003\tkid-2002\twho is that\\tguy\n"
    ).encode()
    assert report.conversation.filename == "conversation.txt"
    assert report.conversation.content == expected
    assert report.conversation.sha256 == hashlib.sha256(expected).hexdigest()


def test_the_report_builds_a_valid_xml_document() -> None:
    xml = report_document(build(package()))
    assert b"<espIdentifier>suspect-1001</espIdentifier>" in xml
    assert b"<ipAddress>2001:db8::5</ipAddress>" in xml
    assert b"<screenName>kid-2002</screenName>" in xml
    assert b"Estimated age 13-15" in xml


def test_the_same_package_gives_the_same_report() -> None:
    assert report_document(build(package())) == report_document(build(package()))


def test_a_profile_in_the_package_wins_over_the_passed_age_band() -> None:
    document = package()
    document["events"].append(entry("p-1", "profile", MINOR, INCIDENT - 5 * DAY,
                                    age_band="under_13"))
    [recipient] = build(document).recipients
    assert recipient.estimated_age == "0-12"
    adult = {**COUNTERPARTS, MINOR: Counterpart("kid-2002", age_band="18_plus")}
    [recipient] = build(package(), adult).recipients
    assert recipient.estimated_age is None


@pytest.mark.parametrize(("change", "field", "words"), [
    (lambda d: d["account"].update(identities=[]), "package.account.identities",
     "no identities"),
    (lambda d: d["account"].update(identities=[i for i in d["account"]["identities"]
                                               if i["kind"] != "user"]),
     "package.account.identities", "no platform user id"),
    (lambda d: d["account"].update(identities=[i for i in d["account"]["identities"]
                                               if i["pseudonym"] != IP_B]),
     "package.account.identities", "no raw address for IP"),
    (lambda d: d.update(events=[e for e in d["events"] if e["type"] != "message"]),
     "package.events", "no message"),
    (lambda d: d.update(incident_at=None), "package.incident_at", "missing"),
    (lambda d: d.update(trigger={"kind": "rumour", "id": "x"}), "package.trigger.kind",
     "alert or escalation"),
    (lambda d: d.update(format="something.else"), "package.format", "wardstream.evidence.v1"),
    (lambda d: d.update(subject=None), "package.subject", "missing"),
])
def test_missing_facts_are_named_and_nothing_is_built(change: Any, field: str,
                                                      words: str) -> None:
    document = package()
    change(document)
    with pytest.raises(PackageIncomplete) as raised:
        build(document)
    assert raised.value.field == field
    assert words in raised.value.message


def test_an_unresolved_participant_is_named() -> None:
    with pytest.raises(PackageIncomplete) as raised:
        build(package(), {MINOR: COUNTERPARTS[MINOR]})
    assert raised.value.field == f"counterparts[{FRIEND}]"
    with pytest.raises(PackageIncomplete) as raised:
        build(package(), {MINOR: Counterpart(None), FRIEND: COUNTERPARTS[FRIEND]})
    assert raised.value.field == f"counterparts[{MINOR}]"


def test_a_bad_confirmation_is_refused_by_the_model() -> None:
    with pytest.raises(InvalidReportInput) as raised:
        report_from_package(package(), conversation=CONV, reporter=REPORTER, service="chat",
                            confirmation=Confirmation("conf-1", "reviewer-1",
                                                      CONFIRMATION.confirmed_at),
                            counterparts=COUNTERPARTS)
    assert raised.value.field == "confirmed_by"


def test_conversations_participants_and_counterparts() -> None:
    document = package()
    assert conversation_of(document) == CONV
    assert participants(document, CONV) == [MINOR, FRIEND]
    assert counterparts_of(document, CONV) == [MINOR]
    document["events"].append(message("m-9", SUBJECT, [FRIEND], INCIDENT, "hi",
                                      conversation=OTHER_CONV))
    with pytest.raises(PackageIncomplete) as raised:
        conversation_of(document)
    assert raised.value.field == "conversation"
    with pytest.raises(PackageIncomplete):
        build(document | {"events": []})


def test_the_adapter_imports_no_database_or_web_framework() -> None:
    code = ("import sys, pipeline.ncmec.from_package\n"
            "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('psycopg', 'fastapi', 'starlette', 'faust', 'aiokafka'))))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == ""
