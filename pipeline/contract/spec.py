"""The field tables of the event contract, version 1: which fields, which rules.

Read beside shared/spec/events.md; each line here is one line there. Lengths the
contract leaves open (ids other than ``actor_id``, user agents) are bounded here
so a hostile sender cannot store megabytes in them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.contract.fields import (
    EPOCH_CEILING,
    EPOCH_FLOOR,
    Checker,
    Choice,
    Country,
    Hex,
    Integer,
    IpAddress,
    Mapping,
    Text,
    TextList,
    Timestamp,
    Timezone,
    UnitNumber,
)

EVENT_TYPES = ("message", "contact", "session", "profile", "media", "report", "moderation")
AGE_BANDS = ("under_13", "13_15", "16_17", "18_plus", "unknown")
MINOR_AGE_BANDS = frozenset({"under_13", "13_15", "16_17"})
CHANNELS = ("private", "group", "public")
CONTACT_ACTIONS = ("request", "accept", "decline", "block", "remove", "follow", "unfollow")
SESSION_ACTIONS = ("login", "logout")
AGE_SOURCES = ("declared", "estimated", "verified")
MEDIA_TYPES = ("image", "video")
DECISIONS = ("confirmed_grooming", "confirmed_other_harm", "cleared", "escalated")

TIMESTAMP = Timestamp(EPOCH_FLOOR, EPOCH_CEILING)
USER_ID = Text(1, 256)
_BCP47 = Text(
    2, 35, re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*"), "a BCP 47 language tag, e.g. en-GB"
)
_TENANT = Text(1, 64, re.compile(r"[A-Za-z0-9_.-]+"), "letters, digits, '_', '.' or '-'")
_EMAIL = Text(3, 320, re.compile(r"[^@\s]+@[^@\s]+"), "an email address")
_PHONE = Text(3, 32, re.compile(r"\+?[0-9][0-9 ()./-]*"), "a phone number")


@dataclass(frozen=True)
class FieldSpec:
    checker: Checker
    required: bool


def _req(checker: Checker) -> FieldSpec:
    return FieldSpec(checker, required=True)


def _opt(checker: Checker) -> FieldSpec:
    return FieldSpec(checker, required=False)


COMMON_FIELDS: dict[str, FieldSpec] = {
    "event_id": _req(Text(1, 128)),
    "tenant_id": _req(_TENANT),
    "type": _req(Choice(EVENT_TYPES)),
    "occurred_at": _req(TIMESTAMP),
    "actor_id": _req(USER_ID),
}

_NETWORK_FIELDS: dict[str, FieldSpec] = {
    "ip": _opt(IpAddress()),
    "port": _opt(Integer(0, 65535)),
    "user_agent": _opt(Text(1, 1024)),
    "device_id": _opt(Text(1, 256)),
}

TYPE_FIELDS: dict[str, dict[str, FieldSpec]] = {
    "message": {
        "conversation_id": _req(Text(1, 256)),
        "recipient_ids": _req(TextList(USER_ID, 1, 100)),
        "channel": _req(Choice(CHANNELS)),
        "content": _opt(Text(0, 20_000)),
        "content_sha256": _opt(Hex(64)),
        "content_signals": _opt(Mapping(UnitNumber(), max_entries=64)),
        "language": _opt(_BCP47),
        **_NETWORK_FIELDS,
    },
    "contact": {
        "action": _req(Choice(CONTACT_ACTIONS)),
        "target_id": _req(USER_ID),
    },
    "session": {
        "action": _req(Choice(SESSION_ACTIONS)),
        **_NETWORK_FIELDS,
    },
    "profile": {
        "age_band": _opt(Choice(AGE_BANDS)),
        "age_source": _opt(Choice(AGE_SOURCES)),
        "account_created_at": _opt(TIMESTAMP),
        "country": _opt(Country()),
        "language": _opt(_BCP47),
        "timezone": _opt(Timezone()),
        "display_name": _opt(Text(1, 256)),
        "email": _opt(_EMAIL),
        "phone": _opt(_PHONE),
        "cohort": _opt(Mapping(Text(0, 128), max_entries=16)),
    },
    "media": {
        "media_type": _req(Choice(MEDIA_TYPES)),
        "sha256": _req(Hex(64)),
        "pdq": _opt(Hex(64, lowercase_only=False)),
        "conversation_id": _opt(Text(1, 256)),
        "recipient_ids": _opt(TextList(USER_ID, 1, 100)),
    },
    "report": {
        "target_id": _req(USER_ID),
        "reason": _opt(Text(0, 1000)),
    },
    "moderation": {
        "subject_id": _req(USER_ID),
        "decision": _req(Choice(DECISIONS)),
        "reviewer_id": _req(USER_ID),
        "note": _opt(Text(0, 2000)),
    },
}

TENANT_ID = _TENANT
