"""Ordinary lives: school friends, class groups, gaming groups, public channels, adult friends.

This is the bulk of the traffic, and it already contains look-alikes of risky
behaviour (late gaming, new contacts, "add me on discord" in group chats).
"""

from __future__ import annotations

import random

from pipeline.simulate.population import User
from pipeline.simulate.timeline import pick_hour
from pipeline.simulate.world import Group, World


def generate(world: World) -> None:
    """All ordinary-life conversations and contacts."""
    rng = world.rng("social")
    for pair in _friend_pairs(world.children, 3, rng):
        pair_life(world, pair, rng, rate=rng.uniform(0.6, 2.0), rhythm="child",
                  topics=("child_chat", "child_chat"), size=(2, 7), media_share=0.02)
    for pair in _friend_pairs(world.teens, 3, rng):
        pair_life(world, pair, rng, rate=rng.uniform(0.8, 2.4), rhythm="teen",
                  topics=("teen_chat", "teen_chat"), size=(2, 8), media_share=0.03)
    for pair in _friend_pairs(world.adults, 2, rng):
        pair_life(world, pair, rng, rate=rng.uniform(0.5, 2.0), rhythm="adult",
                  topics=("adult_chat", "adult_chat"), size=(2, 6), media_share=0.03)
    _class_groups(world, rng)
    _gaming_groups(world, rng)
    _public_channels(world, rng)
    _adult_groups(world, rng)
    _stray_requests(world, rng)


def _friend_pairs(people: list[User], degree: int, rng: random.Random) -> list[tuple[User, User]]:
    """Friendships mostly within a time zone: a shuffled ring lattice plus random links."""
    by_tz: dict[str, list[User]] = {}
    for person in people:
        by_tz.setdefault(person.tz, []).append(person)
    seen: dict[tuple[str, str], tuple[User, User]] = {}
    for members in by_tz.values():
        order = members[:]
        rng.shuffle(order)
        for i, person in enumerate(order):
            for step in range(1, degree // 2 + 1):
                if len(order) > step:
                    _link(seen, person, order[(i + step) % len(order)])
            if rng.random() < 0.5 and len(people) > 1:
                _link(seen, person, rng.choice(people if rng.random() < 0.15 else order))
    return list(seen.values())


def _link(seen: dict[tuple[str, str], tuple[User, User]], a: User, b: User) -> None:
    if a is b:
        return
    key = (a.actor_id, b.actor_id) if a.actor_id < b.actor_id else (b.actor_id, a.actor_id)
    seen.setdefault(key, (a, b))


def pair_life(world: World, pair: tuple[User, User], rng: random.Random, *, rate: float,
              rhythm: str, topics: tuple[str, str], size: tuple[int, int],
              media_share: float = 0.0, first_day: int | None = None) -> None:
    """A steady private friendship: on `rate` days a week, a short exchange.

    Without `first_day`, a share of friendships begin during the run with a
    contact request (rarely declined), so new contacts are ordinary too; with it,
    the caller has already made the contact and talk starts that day.
    """
    a, b = pair
    clock = world.clock
    start = 0 if first_day is None else first_day
    if first_day is None and rng.random() < 0.12:
        start = rng.randrange(clock.days)
        t_req = clock.at(a.tz, start, pick_hour(rng, rhythm, clock.weekend(start)))
        world.log.contact(t_req, a, "request", b)
        if rng.random() < 0.06:
            world.log.contact(t_req + rng.randint(300, 40000), b, "decline", a)
            return
        world.log.contact(t_req + rng.randint(60, 20000), b, "accept", a)
    chance = rate / 7
    for day in range(start, clock.days):
        if rng.random() >= chance:
            continue
        t0 = clock.at(a.tz, day, pick_hour(rng, rhythm, clock.weekend(day)))
        first, second = (a, b) if rng.random() < 0.5 else (b, a)
        world.exchange(t0, first, second, rng.randint(*size), topics, rng, media_share)


def _chunks(people: list[User], low: int, high: int, rng: random.Random) -> list[list[User]]:
    order = people[:]
    rng.shuffle(order)
    chunks: list[list[User]] = []
    i = 0
    while i < len(order):
        size = rng.randint(low, high)
        chunk = order[i:i + size]
        if len(chunk) >= 3:
            chunks.append(chunk)
        i += size
    return chunks


def _group_days(world: World, group: Group, rng: random.Random, *, chance: float,
                rhythm: str, topic: str, size: tuple[int, int], weekdays_only: bool = False,
                alt_topic: str | None = None, media_share: float = 0.0) -> None:
    clock = world.clock
    anchor = group.members[0]
    for day in range(clock.days):
        weekend = clock.weekend(day)
        if (weekdays_only and weekend) or rng.random() >= chance:
            continue
        t0 = clock.at(anchor.tz, day, pick_hour(rng, rhythm, weekend))
        world.group_talk(t0, group, group.members, rng.randint(*size), topic, rng, media_share)
        if alt_topic and rng.random() < 0.25:
            world.post(t0 + rng.randint(600, 3000), rng.choice(group.members), group,
                       alt_topic, rng)


def _class_groups(world: World, rng: random.Random) -> None:
    buckets: dict[tuple[str, str], list[User]] = {}
    for minor in world.minors:
        buckets.setdefault((minor.tz, minor.age_band), []).append(minor)
    for members in buckets.values():
        for chunk in _chunks(members, 12, 30, rng):
            group = world.add_group("group", "school", chunk)
            _group_days(world, group, rng, chance=0.45, rhythm="after_school",
                        topic="school_group", size=(2, 7), weekdays_only=True)


def _gaming_groups(world: World, rng: random.Random) -> None:
    players = [t for t in world.teens if rng.random() < 0.6]
    players += world.role("gamer")
    players += [a for a in world.adults if a.role == "adult" and rng.random() < 0.12]
    by_tz: dict[str, list[User]] = {}
    for player in players:
        by_tz.setdefault(player.tz, []).append(player)
    for members in by_tz.values():
        for chunk in _chunks(members, 4, 12, rng):
            group = world.add_group("group", "gaming", chunk)
            _group_days(world, group, rng, chance=0.4, rhythm="gaming", topic="gaming",
                        size=(3, 10), alt_topic="gaming_discord", media_share=0.03)
    kids = [c for c in world.children if rng.random() < 0.5]
    for chunk in _chunks(kids, 3, 6, rng):
        group = world.add_group("group", "gaming", chunk)
        _group_days(world, group, rng, chance=0.3, rhythm="child", topic="gaming", size=(2, 6))


def _public_channels(world: World, rng: random.Random) -> None:
    clock = world.clock
    for _ in range(max(2, len(world.users) // 250)):
        members = rng.sample(world.users, min(len(world.users), rng.randint(40, 101)))
        group = world.add_group("public", "public", members)
        for day in range(clock.days):
            for _ in range(rng.randint(1, 4)):
                speaker = rng.choice(members)
                t0 = clock.at(speaker.tz, day, pick_hour(rng, "gaming", clock.weekend(day)))
                topic = "gaming_discord" if rng.random() < 0.08 else "public_chat"
                world.group_talk(t0, group, members, rng.randint(1, 6), topic, rng)
        for member in members:
            if rng.random() < 0.1:
                target = rng.choice(members)
                if target is not member:
                    day = rng.randrange(clock.days)
                    action = "follow" if rng.random() < 0.85 else "unfollow"
                    world.log.contact(clock.at(member.tz, day, pick_hour(rng, "adult", False)),
                                      member, action, target)


def _adult_groups(world: World, rng: random.Random) -> None:
    members = [a for a in world.adults if rng.random() < 0.6]
    for chunk in _chunks(members, 3, 10, rng):
        group = world.add_group("group", "adults", chunk)
        _group_days(world, group, rng, chance=0.3, rhythm="adult", topic="adult_group",
                    size=(2, 6), media_share=0.05)


def _stray_requests(world: World, rng: random.Random) -> None:
    """Requests between strangers of similar age: mostly accepted, some declined or blocked."""
    clock = world.clock
    for pool in (world.teens, world.adults, world.children):
        if len(pool) < 2:
            continue
        for user in pool:
            if rng.random() >= 0.3:
                continue
            target = rng.choice(pool)
            if target is user:
                continue
            day = rng.randrange(clock.days)
            ts = clock.at(user.tz, day, pick_hour(rng, "evening", clock.weekend(day)))
            world.log.contact(ts, user, "request", target)
            outcome = rng.random()
            answer = "accept" if outcome < 0.7 else "decline" if outcome < 0.88 else "block"
            if outcome < 0.95:
                world.log.contact(ts + rng.randint(120, 86400), target, answer, user)
            if answer == "accept" and rng.random() < 0.08:
                world.log.contact(ts + rng.randint(86400, 10 * 86400), user, "remove", target)
