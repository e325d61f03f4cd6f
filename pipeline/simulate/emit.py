"""Turning simulated behaviour into event-contract dicts (events.md, version 1).

Generators call the typed helpers of `EventLog` with integer event times;
`finalize` sorts by time (ties keep generation order), numbers the events,
formats `occurred_at` in the actor's local offset and adds platform retries.
"""

from __future__ import annotations

import random
from operator import itemgetter
from typing import Any

from pipeline.simulate.config import JsonDict
from pipeline.simulate.population import User
from pipeline.simulate.timeline import Clock, format_ts

Raw = tuple[int, str, str, JsonDict]

_DEVICE_SHARE_MESSAGE = 0.05
_DEVICE_SHARE_SESSION = 0.7


class EventLog:
    """Collects raw events in generation order; nothing outside the simulated span is kept."""

    def __init__(self, tenant_id: str, clock: Clock, rng: random.Random) -> None:
        self.tenant_id = tenant_id
        self.clock = clock
        self.raw: list[Raw] = []
        self._rng = rng

    def _add(self, ts: int, actor: User, kind: str, fields: JsonDict) -> bool:
        if not self.clock.inside(ts):
            return False
        self.raw.append((ts, actor.actor_id, kind, fields))
        return True

    def profile(self, ts: int, user: User, display_name: str | None = None) -> None:
        """The platform's view of `user`; the initial one sits before any activity."""
        fields: JsonDict = {
            "age_band": user.declared_age_band,
            "age_source": user.age_source,
            "account_created_at": format_ts(user.created_ts, user.tz),
            "country": user.country,
            "language": user.language,
            "timezone": user.tz,
            "display_name": display_name or user.display_name,
            "cohort": dict(user.cohort),
        }
        if self.clock.start_ts <= ts < self.clock.end_ts:
            self.raw.append((ts, user.actor_id, "profile", fields))

    def message(self, ts: int, sender: User, conv: str, channel: str,
                recipients: list[str], text: str | None) -> bool:
        fields: JsonDict = {
            "conversation_id": conv,
            "recipient_ids": recipients,
            "channel": channel,
        }
        if text is not None and not sender.privacy:
            fields["content"] = text
        if self._rng.random() < _DEVICE_SHARE_MESSAGE:
            fields.update(self._device(sender))
        return self._add(ts, sender, "message", fields)

    def media(self, ts: int, sender: User, conv: str, recipients: list[str]) -> bool:
        fields: JsonDict = {
            "media_type": "video" if self._rng.random() < 0.08 else "image",
            "sha256": f"{self._rng.getrandbits(256):064x}",
            "conversation_id": conv,
            "recipient_ids": recipients,
        }
        return self._add(ts, sender, "media", fields)

    def contact(self, ts: int, actor: User, action: str, target: User) -> bool:
        return self._add(ts, actor, "contact", {"action": action, "target_id": target.actor_id})

    def session(self, ts: int, user: User, action: str) -> bool:
        fields: JsonDict = {"action": action}
        if self._rng.random() < _DEVICE_SHARE_SESSION:
            fields.update(self._device(user))
        return self._add(ts, user, "session", fields)

    def report(self, ts: int, reporter: User, target: User, reason: str) -> bool:
        return self._add(ts, reporter, "report", {"target_id": target.actor_id, "reason": reason})

    def moderation(self, ts: int, reviewer: User, subject: User, decision: str, note: str) -> bool:
        fields: JsonDict = {
            "subject_id": subject.actor_id,
            "decision": decision,
            "reviewer_id": reviewer.actor_id,
            "note": note,
        }
        return self._add(ts, reviewer, "moderation", fields)

    def _device(self, user: User) -> dict[str, Any]:
        return {
            "ip": self._rng.choice(user.ips),
            "port": self._rng.randint(1024, 65535),
            "user_agent": user.user_agent,
            "device_id": self._rng.choice(user.devices),
        }

    def finalize(self, zones: dict[str, str], duplicate_share: float) -> tuple[list[JsonDict], int]:
        """Sorted contract events with ids, plus the number of retried copies added."""
        self.raw.sort(key=itemgetter(0))
        events: list[JsonDict] = []
        duplicates = 0
        for number, (ts, actor_id, kind, fields) in enumerate(self.raw, start=1):
            event: JsonDict = {
                "event_id": f"ev-{number:07d}",
                "tenant_id": self.tenant_id,
                "type": kind,
                "occurred_at": format_ts(ts, zones[actor_id]),
                "actor_id": actor_id,
            }
            event.update(fields)
            events.append(event)
            if self._rng.random() < duplicate_share:
                events.append(dict(event))
                duplicates += 1
        return events, duplicates
