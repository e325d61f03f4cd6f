"""Shared state of one run: users, clock, event log, conversations and chat helpers.

Scenario modules (`social`, `benign`, `grooming`, `reports`) read and extend the
`World`; each draws from its own seeded random stream so that changing one
scenario does not reshuffle the others.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from pipeline.simulate.config import SimulationConfig
from pipeline.simulate.emit import EventLog
from pipeline.simulate.phrases import render
from pipeline.simulate.population import ADULT_BAND, UNDER_13, User
from pipeline.simulate.styles import apply_style
from pipeline.simulate.timeline import Clock

MAX_RECIPIENTS = 100


@dataclass(slots=True)
class Group:
    """A group or public conversation; `joins` lists members who arrive later."""

    conv_id: str
    channel: str
    kind: str
    members: list[User]
    joins: list[tuple[int, User]] = field(default_factory=list)

    def recipients(self, sender: User, ts: int) -> list[str]:
        ids = [m.actor_id for m in self.members if m is not sender]
        ids += [m.actor_id for joined, m in self.joins if joined <= ts and m is not sender]
        return ids[:MAX_RECIPIENTS]


class World:
    """Everything the scenario generators share."""

    def __init__(self, config: SimulationConfig, users: list[User], clock: Clock,
                 log: EventLog) -> None:
        self.config = config
        self.users = users
        self.clock = clock
        self.log = log
        self.groups: list[Group] = []
        self.groups_of: dict[str, list[Group]] = {}
        self.relatives_of: dict[str, list[User]] = {}
        self._dms: dict[tuple[str, str], str] = {}
        self._conv_count = 0
        self.by_role: dict[str, list[User]] = {}
        for user in users:
            self.by_role.setdefault(user.role, []).append(user)
        self.minors = [u for u in users if u.age_band != ADULT_BAND]
        self.children = [u for u in self.minors if u.age_band == UNDER_13]
        self.teens = [u for u in self.minors if u.age_band != UNDER_13]
        self.adults = [u for u in users if u.age_band == ADULT_BAND]

    def rng(self, stream: str) -> random.Random:
        """A random stream derived from the seed and a name (str seeds hash with SHA-512)."""
        return random.Random(f"{self.config.seed}:{stream}")

    def role(self, name: str) -> list[User]:
        return self.by_role.get(name, [])

    def new_conv(self) -> str:
        self._conv_count += 1
        return f"c-{self._conv_count:06d}"

    def dm_id(self, a: User, b: User) -> str:
        """The stable private conversation id of an unordered pair."""
        key = (a.actor_id, b.actor_id) if a.actor_id < b.actor_id else (b.actor_id, a.actor_id)
        conv = self._dms.get(key)
        if conv is None:
            conv = self._dms[key] = self.new_conv()
        return conv

    def add_group(self, channel: str, kind: str, members: list[User]) -> Group:
        group = Group(self.new_conv(), channel, kind, members[:MAX_RECIPIENTS + 1])
        self.groups.append(group)
        for member in group.members:
            self.groups_of.setdefault(member.actor_id, []).append(group)
        return group

    def join(self, group: Group, user: User, ts: int) -> None:
        """`user` joins `group` at `ts`; joining a group one is already in changes nothing."""
        if user in group.members or any(member is user for _, member in group.joins):
            return
        group.joins.append((ts, user))
        self.groups_of.setdefault(user.actor_id, []).append(group)

    def text(self, sender: User, topic: str, rng: random.Random) -> str | None:
        """Rendered text in the sender's style, or None when their client keeps content."""
        if sender.privacy:
            return None
        return apply_style(render(topic, rng, clean=sender.careful), sender.style, rng)

    def say(self, ts: int, sender: User, to: User, topic: str, rng: random.Random) -> bool:
        """A private message from `sender` to `to`."""
        conv = self.dm_id(sender, to)
        return self.log.message(ts, sender, conv, "private", [to.actor_id],
                                self.text(sender, topic, rng))

    def post(self, ts: int, sender: User, group: Group, topic: str, rng: random.Random) -> bool:
        """A group or public message from `sender`."""
        recipients = group.recipients(sender, ts)
        if not recipients:
            return False
        return self.log.message(ts, sender, group.conv_id, group.channel, recipients,
                                self.text(sender, topic, rng))

    def exchange(self, t0: int, a: User, b: User, n: int, topics: tuple[str, str],
                 rng: random.Random, media_share: float = 0.0) -> int:
        """A private back-and-forth of `n` messages starting with `a`; returns how many landed."""
        landed = 0
        ts = t0
        speaker, other = a, b
        for _ in range(n):
            topic = topics[0] if speaker is a else topics[1]
            if self.say(ts, speaker, other, topic, rng):
                landed += 1
                if media_share and rng.random() < media_share:
                    self.log.media(ts + rng.randint(5, 60), speaker, self.dm_id(a, b),
                                   [other.actor_id])
            ts += rng.randint(15, 300)
            if rng.random() < 0.7:
                speaker, other = other, speaker
        return landed

    def group_talk(self, t0: int, group: Group, speakers: Sequence[User], n: int, topic: str,
                   rng: random.Random, media_share: float = 0.0) -> None:
        """`n` group messages by random `speakers`, a little apart."""
        ts = t0
        for _ in range(n):
            sender = rng.choice(speakers)
            if self.post(ts, sender, group, topic, rng) and rng.random() < media_share:
                self.log.media(ts + rng.randint(5, 60), sender, group.conv_id,
                               group.recipients(sender, ts))
            ts += rng.randint(20, 600)

    def apply_joins(self) -> None:
        """Add late joiners to the recipients of group traffic sent after they joined.

        Group conversations are generated before grooming plans who joins them,
        so this one pass over the log keeps membership consistent afterwards.
        """
        late = {group.conv_id: group for group in self.groups if group.joins}
        if not late:
            return
        for ts, actor_id, kind, fields in self.log.raw:
            if kind not in ("message", "media"):
                continue
            group = late.get(fields.get("conversation_id", ""))
            if group is None:
                continue
            recipients: list[str] = fields["recipient_ids"]
            for joined, member in group.joins:
                if (joined <= ts and member.actor_id != actor_id
                        and member.actor_id not in recipients
                        and len(recipients) < MAX_RECIPIENTS):
                    recipients.append(member.actor_id)
