"""Synthetic rows for the evidence tests: events, identities, scores and alerts of one subject.

Everything is written through the project's own sinks, as the stream writes it.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from pipeline.model import IdentityEntry, NormalizedEvent
from pipeline.pseudonym import Pseudonymizer
from pipeline.storage.scores import AlertRecord, ScoreBatch, ScoreRecord, write_scores
from pipeline.storage.sink import SinkBatch, write_batch
from tests.integration.conftest import MASTER_KEY

PSEUDONYMS = Pseudonymizer(MASTER_KEY.encode())
INCIDENT = datetime(2026, 2, 25, 20, 0, tzinfo=UTC)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def us(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def user(tenant_id: str, raw: str) -> str:
    return PSEUDONYMS.pseudonym(tenant_id, "user", raw)


def expected_sha256(event: NormalizedEvent) -> str:
    """Computed here, apart from pipeline.evidence: the normalised record in canonical JSON."""
    text = json.dumps(event.to_record(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("ascii")).hexdigest()


@dataclass
class Scene:
    """What was seeded, and which event ids belong in the package's window."""

    tenant_id: str
    subject: str
    alert_id: str
    inside: dict[str, NormalizedEvent] = field(default_factory=dict)
    outside: list[str] = field(default_factory=list)


def event(tenant_id: str, event_id: str, kind: str, actor: str, at: datetime,
          **fields: Any) -> NormalizedEvent:
    return NormalizedEvent(event_id=event_id, tenant_id=tenant_id, type=kind,
                           occurred_at_us=us(at), utc_offset_min=-300, actor=actor,
                           source="evidence-test", **fields)


def alert(db: psycopg.Connection, tenant_id: str, actor: str, at: datetime,
          alert_id: str | None = None) -> str:
    """An alert about ``actor`` as the score sink writes it (opens a review item)."""
    alert_id = alert_id or secrets.token_hex(16)
    write_scores(db, ScoreBatch(alerts=[AlertRecord.from_record({
        "alert_id": alert_id, "tenant_id": tenant_id, "actor": actor, "tier": "restrict",
        "score": 72.0, "raised_at_us": us(at), "event_id": f"e-{alert_id[:8]}",
        "explanation": "contact with one 13-15 account rose from 2 to 19 messages a week",
        "drivers": [{"signal": "escalation", "contribution": 72.0,
                     "explanation": "contact rose from 2 to 19 messages a week"}],
    })]))
    return alert_id


def scene(db: psycopg.Connection, tenant_id: str) -> Scene:
    """A subject, a younger account it writes to, a bystander; one alert at INCIDENT."""
    subject, minor, bystander = (user(tenant_id, n) for n in ("suspect", "minor", "bystander"))
    conversation = PSEUDONYMS.pseudonym(tenant_id, "conversation", "conv-1")
    ip = PSEUDONYMS.pseudonym(tenant_id, "ip", "203.0.113.7")
    device = PSEUDONYMS.pseudonym(tenant_id, "device", "device-1")
    day = timedelta(days=1)

    def message(event_id: str, actor: str, to: str, at: datetime, text: str,
                **extra: Any) -> NormalizedEvent:
        return event(tenant_id, event_id, "message", actor, at, conversation=conversation,
                     recipients=(to,), channel="private", content=text, **extra)

    inside = [
        event(tenant_id, "session-1", "session", subject, INCIDENT - 20 * day, action="login",
              ip=ip, port=51234, device=device, user_agent="synthetic-browser/1.0"),
        message("m-subject-1", subject, minor, INCIDENT - 20 * day, "how was practice?",
                ip=ip, device=device, content_signals={"question": 0.25}),
        message("m-minor-1", minor, subject, INCIDENT - 19 * day, "fine, tired"),
        message("m-subject-2", subject, minor, INCIDENT - day, "talk later, café?", ip=ip),
        event(tenant_id, "contact-1", "contact", minor, INCIDENT - 18 * day, action="accept",
              target=subject),
        message("m-subject-3", subject, minor, INCIDENT + day, "see you"),  # end included
    ]
    outside = [
        message("m-too-early", subject, minor, INCIDENT - 30 * day - timedelta(seconds=1),
                "hi there"),
        message("m-too-late", subject, minor, INCIDENT + day + timedelta(seconds=1), "bye"),
        event(tenant_id, "m-bystander", "message", bystander, INCIDENT - day,
              conversation=PSEUDONYMS.pseudonym(tenant_id, "conversation", "conv-2"),
              recipients=(minor,), channel="group", content="team photo is up"),
    ]
    profile = event(tenant_id, "profile-1", "profile", subject, INCIDENT - 90 * day,
                    age_band="18_plus", age_source="declared", country="US",
                    account_created_at_us=us(INCIDENT - 100 * day))
    moderation = event(tenant_id, "moderation-1", "moderation", bystander,
                       INCIDENT - 60 * day, subject=subject, decision="cleared",
                       reviewer=bystander)
    write_batch(db, SinkBatch(
        events=[*inside, *outside, profile, moderation],
        identities=[
            IdentityEntry(tenant_id, "user", subject, "suspect", subject, us(INCIDENT - 90 * day)),
            IdentityEntry(tenant_id, "ip", ip, "203.0.113.7", subject, us(INCIDENT - 20 * day)),
        ]))
    write_scores(db, ScoreBatch(scores=[ScoreRecord.from_record({
        # Score ids are unique across tenants, as the sink's are (derived from the event).
        "score_id": f"{tenant_id}-s-{n}", "tenant_id": tenant_id, "actor": subject, "score": score,
        "tier": tier, "previous_tier": "none", "at_us": us(INCIDENT - n * day),
        "event_id": f"m-{n}", "max_score": score, "first_alert_at_us": None,
        "explanation": f"score {score}", "drivers": []})
        for n, score, tier in ((3, 40.0, "watch"), (0, 72.0, "restrict"), (45, 5.0, "none"))]))
    alert_id = alert(db, tenant_id, subject, INCIDENT)
    return Scene(tenant_id, subject, alert_id, {e.event_id: e for e in inside},
                 [e.event_id for e in outside])
