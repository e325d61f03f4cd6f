"""Small hand-written scenarios in the event contract, for tests, docs and demos.

:class:`Scenario` builds contract events at offsets from a start time and
turns them into normalised events with a fixed key. ``grooming_sequence``
plays one adult working one minor through every stage in order over two
weeks with rising, increasingly late contact (the overt pattern); the stage
lines are non-explicit and written for this module. Nothing here is used by
the detection path itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from pipeline.contract import validate_event
from pipeline.model import NormalizedEvent
from pipeline.normalize import normalize
from pipeline.pseudonym import Pseudonymizer

SCENARIO_KEY: Final = b"wardstream/scenario/fixed-key-for-tests/v1"
START: Final = datetime(2026, 3, 2, tzinfo=UTC)

STAGE_LINES: Final[tuple[str, ...]] = (
    "how old r u btw",
    "ur so mature for ur age honestly",
    "i'll send you a gift card for the game store",
    "don't tell your parents we talk ok",
    "your friends don't get you like i do",
    "add me on snap, it's more private",
    "send me a pic of you",
    "we should meet up this weekend",
)
SMALL_TALK: Final[tuple[str, ...]] = (
    "hey how was your day",
    "did you finish that level",
    "lol same",
    "what are you up to",
    "that song is good",
)
MINOR_REPLIES: Final[tuple[str, ...]] = ("ok", "lol", "idk", "yeah", "maybe", "haha ok")


def at(day: float, hour: int = 12, minute: int = 0) -> timedelta:
    """An offset from the scenario start: ``day`` days, then a time of day (UTC)."""
    return timedelta(days=day, hours=hour, minutes=minute)


class Scenario:
    """Collects contract events; ``normalized()`` returns them pseudonymised."""

    def __init__(self, tenant: str = "t1", start: datetime = START) -> None:
        self.tenant = tenant
        self.start = start
        self.events: list[dict[str, Any]] = []
        self._pseudonyms = Pseudonymizer(SCENARIO_KEY)

    def _add(self, kind: str, actor: str, when: timedelta, **fields: Any) -> dict[str, Any]:
        event = {
            "event_id": f"e{len(self.events) + 1}",
            "tenant_id": self.tenant,
            "type": kind,
            "occurred_at": (self.start + when).isoformat(),
            "actor_id": actor,
            **{k: v for k, v in fields.items() if v is not None},
        }
        self.events.append(event)
        return event

    def profile(self, user: str, age_band: str, when: timedelta = timedelta(0), *,
                timezone: str | None = None, age_source: str = "verified",
                created: timedelta | None = None) -> dict[str, Any]:
        created_at = None if created is None else (self.start + created).isoformat()
        return self._add("profile", user, when, age_band=age_band, age_source=age_source,
                         timezone=timezone, account_created_at=created_at)

    def message(self, sender: str, recipients: str | Sequence[str], when: timedelta,
                text: str | None = None, *, channel: str = "private",
                conversation: str | None = None,
                signals: dict[str, float] | None = None) -> dict[str, Any]:
        people = [recipients] if isinstance(recipients, str) else list(recipients)
        if conversation is None:
            conversation = "dm-" + "-".join(sorted([sender, *people]))
        return self._add("message", sender, when, conversation_id=conversation,
                         recipient_ids=people, channel=channel, content=text,
                         content_signals=signals)

    def media(self, sender: str, recipient: str, when: timedelta) -> dict[str, Any]:
        return self._add("media", sender, when, media_type="image", sha256="0" * 64,
                         recipient_ids=[recipient])

    def contact(self, actor: str, target: str, action: str, when: timedelta) -> dict[str, Any]:
        return self._add("contact", actor, when, action=action, target_id=target)

    def report(self, reporter: str, target: str, when: timedelta) -> dict[str, Any]:
        return self._add("report", reporter, when, target_id=target, reason="made me uneasy")

    def moderation(self, subject: str, decision: str, when: timedelta) -> dict[str, Any]:
        return self._add("moderation", "mod-1", when, subject_id=subject, decision=decision,
                         reviewer_id="mod-1")

    def pseudonym(self, user: str) -> str:
        return self._pseudonyms.pseudonym(self.tenant, "user", user)

    def normalized(self) -> list[NormalizedEvent]:
        """The events pseudonymised, in event-time order (stable)."""
        events = [normalize(validate_event(e), self._pseudonyms, "scenario")[0]
                  for e in self.events]
        return sorted(events, key=lambda e: e.occurred_at_us)


def grooming_sequence(scenario: Scenario, adult: str, minor: str, *, first_day: int = 0,
                      days: int = 21, utc_night_hour: int = 23) -> None:
    """One adult working one minor: daily contact rising from 1 to 8 messages, later
    and later at night in UTC, with the eight stages appearing in order."""
    stage_days = {round(first_day + 3 + i * (days - 6) / 7): i for i in range(len(STAGE_LINES))}
    for offset in range(days):
        day = first_day + offset
        progress = offset / max(1, days - 1)
        count = 1 + round(7 * progress)
        hour = 17 if progress < 0.35 else utc_night_hour
        for n in range(count):
            text = SMALL_TALK[(day + n) % len(SMALL_TALK)]
            if n == 0 and day in stage_days:
                text = STAGE_LINES[stage_days[day]]
            scenario.message(adult, minor, at(day, hour, 2 * n), text)
            if n % 2 == 0:
                scenario.message(minor, adult, at(day, hour, 2 * n + 1),
                                 MINOR_REPLIES[(day + n) % len(MINOR_REPLIES)])
