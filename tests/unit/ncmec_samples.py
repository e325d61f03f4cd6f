"""Synthetic NCMEC report inputs for tests: invented people, documentation IP ranges, no real data.

The conversation is a short, benign-looking grooming-stage exchange (secrecy,
isolation); nothing explicit, on purpose.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.ncmec.inputs import parse_input
from pipeline.ncmec.model import ReportInput

CONVERSATION = (
    b"[2026-03-02 21:14 -05:00] nightowl_77: you can tell me anything, i'm not like the others\n"
    b"[2026-03-02 21:16 -05:00] sky.bird.13: ok lol\n"
    b"[2026-03-02 21:17 -05:00] nightowl_77: don't tell your parents we talk, "
    b"they wouldn't understand\n"
    b"[2026-03-02 21:18 -05:00] sky.bird.13: why not\n"
    b"[2026-03-02 21:19 -05:00] nightowl_77: it's our secret. delete this chat later ok?\n"
)

REPORTED_SUBJECT = "u_" + "a" * 26
REVIEWER = "u_" + "b" * 26
SECRETS_IN_REPORT = ("nightowl_77", "sky.bird.13", "203.0.113.24", "198.51.100.7",
                     "owl77@example.test", "esp-user-4411", "esp-user-9120")


def document(tenant: str = "t-sample", package_id: str = "pkg-0001",
             confirmation_id: str = "dec-0001") -> dict[str, Any]:
    """The JSON input of a typical online enticement report."""
    return {
        "tenant": tenant,
        "package_id": package_id,
        "confirmation_id": confirmation_id,
        "confirmed_by": REVIEWER,
        "confirmed_at": "2026-03-04T10:30:00+00:00",
        "incident_type": "Online Enticement of Children for Sexual Acts",
        "incident_time": "2026-03-02T21:17:00-05:00",
        "incident_time_description": "Time of the first message asking for secrecy.",
        "service": "Example Chat direct messages",
        "narrative": "An adult account repeatedly asked a 13-15 account to keep their "
                     "contact secret from parents and to delete the chat.",
        "reporter": {
            "esp_name": "Example Chat Inc.",
            "first_name": "Dana",
            "last_name": "Reviewer",
            "email": "trust-safety@example.test",
            "phone": "+1-555-0100",
        },
        "reported": {
            "esp_user_id": "esp-user-4411",
            "screen_name": "nightowl_77",
            "subject": REPORTED_SUBJECT,
            "email": "owl77@example.test",
            "ip_events": [
                {"ip_address": "203.0.113.24", "event_name": "Login",
                 "at": "2026-03-02T21:05:00-05:00", "port": 51234},
                {"ip_address": "198.51.100.7", "event_name": "Upload",
                 "at": "2026-03-02T21:17:30-05:00", "port": 443, "possible_proxy": False},
            ],
            "prior_report_ids": [],
        },
        "recipients": [
            {"screen_name": "sky.bird.13", "esp_user_id": "esp-user-9120",
             "estimated_age": "13-15"},
        ],
        "conversation": {
            "filename": "conversation-pkg-0001.txt",
            "sha256": hashlib.sha256(CONVERSATION).hexdigest(),
            "content_base64": base64.b64encode(CONVERSATION).decode(),
        },
    }


def report_input(**kwargs: str) -> ReportInput:
    return parse_input(document(**kwargs), Path("."))


def fixed_clock() -> datetime:
    return datetime(2026, 3, 4, 11, 0, tzinfo=UTC)

