"""Hard-benign roles: behaviour that looks like grooming on one axis but is not.

Coaches and teachers message many minors (group announcements, daytime 1:1
logistics); relatives chat with minors, sometimes in the evening; tutors hold
steady scheduled 1:1 sessions; teenagers talk late at night among themselves
("don't tell mom I'm still up", "add me on snap"); adults date adults with
rising, late contact ("send a pic", meeting up); adult gamers swap Discord
names in groups and add teenagers they play with.
"""

from __future__ import annotations

import random

from pipeline.simulate.population import User
from pipeline.simulate.social import pair_life
from pipeline.simulate.timeline import pick_hour, rising_bursts
from pipeline.simulate.world import World


def generate(world: World) -> None:
    """All hard-benign behaviour."""
    rng = world.rng("benign")
    for relative in world.role("relative"):
        _family(world, relative, rng)
    for coach in world.role("coach"):
        pool = world.teens if rng.random() < 0.6 else world.minors
        _team(world, coach, pool, rng, ("coach_group", "coach_dm"), (10, 25), weekdays_only=False)
    for teacher in world.role("teacher"):
        _team(world, teacher, world.minors, rng, ("teacher_group", "teacher_dm"), (18, 30),
              weekdays_only=True)
    for tutor in world.role("tutor"):
        _tutoring(world, tutor, rng)
    _night_owls(world, rng)
    _dating(world, rng)
    for gamer in world.role("gamer"):
        _gamer_contacts(world, gamer, rng)


def _nearby(world: World, user: User, pool: list[User], count: int,
            rng: random.Random) -> list[User]:
    """Up to `count` people from `pool`, preferring `user`'s time zone."""
    local = [p for p in pool if p.tz == user.tz and p is not user]
    chosen = rng.sample(local, min(count, len(local)))
    if len(chosen) < count:
        others = [p for p in pool if p.tz != user.tz and p is not user]
        chosen += rng.sample(others, min(count - len(chosen), len(others)))
    return chosen


def _family(world: World, relative: User, rng: random.Random) -> None:
    kids = _nearby(world, relative, world.minors, rng.choice((1, 1, 2, 3)), rng)
    for kid in kids:
        world.relatives_of.setdefault(kid.actor_id, []).append(relative)
        pair_life(world, (relative, kid), rng, rate=rng.uniform(1.0, 4.0), rhythm="evening",
                  topics=("family_to_minor", "minor_to_family"), size=(2, 5), media_share=0.06)
    if len(kids) >= 2:
        group = world.add_group("group", "family", [relative, *kids])
        clock = world.clock
        for day in range(clock.days):
            if rng.random() < 0.25:
                t0 = clock.at(relative.tz, day, pick_hour(rng, "evening", clock.weekend(day)))
                world.group_talk(t0, group, [relative], rng.randint(1, 3), "family_to_minor",
                                 rng, media_share=0.1)
                world.post(t0 + rng.randint(300, 2400), rng.choice(kids), group,
                           "minor_to_family", rng)


def _team(world: World, leader: User, pool: list[User], rng: random.Random,
          topics: tuple[str, str], size: tuple[int, int], *, weekdays_only: bool) -> None:
    """A coach's or teacher's group of minors: announcements, replies, daytime 1:1 logistics."""
    clock = world.clock
    team = _nearby(world, leader, pool, rng.randint(*size), rng)
    if len(team) < 2:
        return
    group = world.add_group("group", "team", [leader, *team])
    for kid in team:
        if rng.random() < 0.4:
            day = rng.randrange(min(7, clock.days))
            ts = clock.at(leader.tz, day, pick_hour(rng, "daytime", clock.weekend(day)))
            world.log.contact(ts, leader, "request", kid)
            world.log.contact(ts + rng.randint(600, 30000), kid,
                              "accept" if rng.random() < 0.92 else "decline", leader)
    dm_kids = [k for k in team if rng.random() < 0.3]
    for day in range(clock.days):
        weekend = clock.weekend(day)
        if weekdays_only and weekend:
            continue
        if rng.random() < 0.45:
            t0 = clock.at(leader.tz, day, pick_hour(rng, "daytime", weekend))
            world.group_talk(t0, group, [leader], rng.randint(1, 2), topics[0], rng)
            for kid in rng.sample(team, min(len(team), rng.randint(0, 3))):
                world.post(t0 + rng.randint(300, 5400), kid, group, "student_reply", rng)
        for kid in dm_kids:
            if rng.random() < 0.08:
                t0 = clock.at(leader.tz, day, pick_hour(rng, "daytime", weekend))
                world.exchange(t0, leader, kid, 2, (topics[1], "student_reply"), rng)


def _tutoring(world: World, tutor: User, rng: random.Random) -> None:
    clock = world.clock
    for student in _nearby(world, tutor, world.minors, rng.randint(2, 6), rng):
        if rng.random() < 0.3:
            ts = clock.at(tutor.tz, 0, rng.uniform(9, 17))
            world.log.contact(ts, tutor, "request", student)
            world.log.contact(ts + rng.randint(600, 20000), student, "accept", tutor)
        weekdays = rng.sample(range(5), rng.choice((1, 1, 2)))
        hour = rng.choice((15.5, 16.0, 16.5, 17.0, 18.0))
        for day in range(clock.days):
            if clock.weekday(day) not in weekdays or rng.random() < 0.1:
                continue
            before = clock.at(tutor.tz, day, hour - rng.uniform(0.5, 3.0))
            world.exchange(before, tutor, student, rng.randint(1, 3), ("tutor_dm", "student_reply"),
                           rng)
            if rng.random() < 0.3:
                after = clock.at(tutor.tz, day, hour + rng.uniform(1.0, 1.5))
                world.say(after, tutor, student, "tutor_dm", rng)


def _pairs_of(people: list[User], per_person: int, rng: random.Random) -> list[tuple[User, User]]:
    order = people[:]
    rng.shuffle(order)
    pairs: list[tuple[User, User]] = []
    for i, person in enumerate(order):
        for step in range(1, per_person + 1):
            if i + step < len(order) and rng.random() < 0.8:
                pairs.append((person, order[i + step]))
    return pairs


def _rising_pair(world: World, pair: tuple[User, User], rng: random.Random, topic: str,
                 day_rhythm: str, media_share: float) -> None:
    """A relationship that starts mid-run and grows: more days, more messages, later hours."""
    a, b = pair
    clock = world.clock
    first = rng.randrange(max(1, clock.days - 7))
    length = min(clock.days - first, rng.randint(7, 35))
    t_req = clock.at(a.tz, first, pick_hour(rng, day_rhythm, clock.weekend(first)))
    world.log.contact(t_req, a, "request", b)
    world.log.contact(t_req + rng.randint(60, 7200), b, "accept", a)
    for burst in rising_bursts(rng, first, length, size=(2.0, 12.0), night=(0.1, 0.7)):
        hour = pick_hour(rng, "night" if burst.night else day_rhythm, clock.weekend(burst.day))
        t0 = max(clock.at(a.tz, burst.day, hour), t_req + 7200)
        first_speaker, other = (a, b) if rng.random() < 0.55 else (b, a)
        world.exchange(t0, first_speaker, other, burst.size, (topic, topic), rng, media_share)


def _night_owls(world: World, rng: random.Random) -> None:
    owls = world.role("teen_social")
    by_tz: dict[str, list[User]] = {}
    for owl in owls:
        by_tz.setdefault(owl.tz, []).append(owl)
    for members in by_tz.values():
        for pair in _pairs_of(members, 2, rng):
            if rng.random() < 0.3:
                _rising_pair(world, pair, rng, "teen_night", "teen", media_share=0.04)
            else:
                pair_life(world, pair, rng, rate=rng.uniform(2.0, 5.0), rhythm="night",
                          topics=("teen_night", "teen_night"), size=(3, 12), media_share=0.04)


def _dating(world: World, rng: random.Random) -> None:
    for pair in _pairs_of(world.role("adult_flirt"), 1, rng):
        if rng.random() < 0.7:
            _rising_pair(world, pair, rng, "flirt", "evening", media_share=0.06)
        else:
            pair_life(world, pair, rng, rate=rng.uniform(1.5, 4.0), rhythm="evening",
                      topics=("flirt", "adult_chat"), size=(2, 8), media_share=0.05)


def _gamer_contacts(world: World, gamer: User, rng: random.Random) -> None:
    """Adult gamers add teenagers they play with and talk games 1:1, sometimes late."""
    mates = list(dict.fromkeys(
        m for g in world.groups_of.get(gamer.actor_id, []) if g.kind == "gaming"
        for m in g.members if m.age_band in ("13_15", "16_17")))
    clock = world.clock
    for teen in mates[:: max(1, len(mates) // 3)][:3]:
        if rng.random() >= 0.5:
            continue
        day = rng.randrange(clock.days)
        ts = clock.at(teen.tz, day, pick_hour(rng, "gaming", clock.weekend(day)))
        world.log.contact(ts, gamer, "request", teen)
        answer = rng.random()
        if answer >= 0.8:
            world.log.contact(ts + rng.randint(300, 40000), teen,
                              "decline" if answer < 0.95 else "block", gamer)
            continue
        world.log.contact(ts + rng.randint(300, 40000), teen, "accept", gamer)
        pair_life(world, (gamer, teen), rng, rate=rng.uniform(0.4, 1.5), rhythm="gaming",
                  topics=("gaming", "gaming"), size=(2, 6), first_day=day + 1)
