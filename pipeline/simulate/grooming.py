"""Grooming behaviour: who targets whom, and how each campaign unfolds over the weeks.

Overt groomers use stage phrasing in order (age probe, flattery, gifts, secrecy,
isolation, moving apps, asking for a pic, asking to meet); careful groomers show
the same behaviour (rising frequency, night contact in the minor's time zone,
group-to-private migration, many contact requests to minors, declines and
blocks) with ordinary words only. Parallel groomers work several minors at once;
rings of 2-4 adults converge on the same minor in the same weeks.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from pipeline.simulate.phrases import STAGES
from pipeline.simulate.population import (
    BAND_13_15,
    BAND_16_17,
    GROOMER_PARALLEL,
    GROOMER_RING,
    UNDER_13,
    User,
)
from pipeline.simulate.timeline import (
    Burst,
    pick_hour,
    rising_bursts,
)
from pipeline.simulate.world import Group, World

# Campaign progress (0..1) from which each stage may first appear.
STAGE_FROM = dict(zip(STAGES, (0.0, 0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.88), strict=True))
ESCALATION_STREAK = 3  # consecutive days with night contact that count as "nightly and daily"
_VICTIM_WEIGHT = {UNDER_13: 1.0, BAND_13_15: 3.0, BAND_16_17: 1.5}


@dataclass(slots=True)
class Case:
    """One groomer working one minor, and what the ground truth records about it."""

    groomer: User
    victim: User
    first_day: int
    length: int
    ring_id: str | None = None
    first_contact_ts: int | None = None
    stage_ts: dict[str, int] = field(default_factory=dict)
    escalation_ts: int | None = None
    last_ts: int | None = None
    blocked_ts: int | None = None


@dataclass(slots=True)
class Plan:
    """All grooming cases plus the side effects other scenarios react to."""

    cases: list[Case] = field(default_factory=list)
    rings: dict[str, list[User]] = field(default_factory=dict)
    refused: list[tuple[User, User, int]] = field(default_factory=list)  # minor, groomer, ts
    approached: dict[str, int] = field(default_factory=dict)  # groomer id -> requests sent


def generate(world: World) -> Plan:
    """Plan every campaign, then play it out into the event log."""
    rng = world.rng("grooming")
    plan = _plan(world, rng)
    for case in plan.cases:
        _campaign(world, case, rng)
    for groomer in [u for u in world.users if u.is_groomer]:
        _spray(world, groomer, plan, rng)
    for ring_id, members in plan.rings.items():
        _ring_chat(world, ring_id, members, rng)
    return plan


def _plan(world: World, rng: random.Random) -> Plan:
    plan = Plan()
    days = world.clock.days
    pool = world.minors[:]
    taken: set[str] = set()

    def victim() -> User | None:
        free = [m for m in pool if m.actor_id not in taken]
        if not free:
            return None
        chosen = rng.choices(free, weights=[_VICTIM_WEIGHT[m.age_band] for m in free])[0]
        taken.add(chosen.actor_id)
        return chosen

    def add(groomer: User, target: User | None, first: int, length: int,
            ring_id: str | None = None) -> None:
        if target is None:
            return
        first = max(0, min(first, days - 2))
        plan.cases.append(Case(groomer, target, first, max(2, min(length, days - first)), ring_id))

    ring_members = world.role(GROOMER_RING)[:]
    rng.shuffle(ring_members)
    while len(ring_members) >= 2:
        size = min(len(ring_members), rng.randint(2, 4))
        if len(ring_members) - size == 1:  # never leave a ring of one behind
            size = size + 1 if size < 4 else size - 1
        members, ring_members = ring_members[:size], ring_members[size:]
        ring_id = f"ring-{len(plan.rings) + 1}"
        plan.rings[ring_id] = members
        for member in members:
            member.notes.append(f"member of {ring_id}")
        shared_ip = members[0].ips[0]
        for member in members[1:]:
            member.ips.append(shared_ip)
        for _ in range(1 if rng.random() < 0.7 else 2):
            target = victim()
            start = rng.randrange(max(1, days - 14))
            for member in members:
                add(member, target, start + rng.randint(0, 6), rng.randint(10, 30), ring_id)
    for groomer in world.users:
        if not groomer.is_groomer or groomer.role == GROOMER_RING:
            continue
        if groomer.role == GROOMER_PARALLEL:
            start = rng.randrange(max(1, days // 3))
            for _ in range(rng.randint(3, 6)):
                add(groomer, victim(), start, rng.randint(10, 35))
                start += rng.randint(1, 6)
        else:
            length = rng.randint(7, 42)
            add(groomer, victim(), rng.randrange(max(1, days - length + 1)), length)
    return plan


def _meeting_place(world: World, victim: User, rng: random.Random) -> Group | None:
    places = [g for g in world.groups_of.get(victim.actor_id, []) if g.kind in ("gaming", "public")]
    return rng.choice(places) if places else None


def _campaign(world: World, case: Case, rng: random.Random) -> None:
    clock = world.clock
    g, v = case.groomer, case.victim
    rhythm = "child" if v.age_band == UNDER_13 else "teen"
    day = case.first_day
    place = _meeting_place(world, v, rng) if rng.random() < (0.8 if g.careful else 0.4) else None
    if place is not None:
        for number in range(rng.randint(2, 5)):
            if day >= case.first_day + case.length - 1:
                break
            ts = clock.at(v.tz, day, pick_hour(rng, rhythm, clock.weekend(day)))
            if number == 0:
                world.join(place, g, ts - rng.randint(60, 3600))
            if world.post(ts, g, place, "groomer_group", rng) and case.first_contact_ts is None:
                case.first_contact_ts = ts
            if rng.random() < 0.6:
                world.post(ts + rng.randint(30, 600), v, place, "gaming", rng)
            day += rng.randint(1, 2)
    t_req = clock.at(v.tz, day, pick_hour(rng, rhythm, clock.weekend(day)))
    if not world.log.contact(t_req, g, "request", v):
        return
    world.log.contact(t_req + rng.randint(60, 7200), v, "accept", g)
    if case.first_contact_ts is None:
        case.first_contact_ts = t_req
    length = case.first_day + case.length - day
    bursts = rising_bursts(rng, day, max(2, length), contact=(0.35, 1.0), size=(2.0, 20.0),
                           night=(0.05, 0.8))
    timed = []
    for burst in bursts:
        hour = pick_hour(rng, "night" if burst.night else rhythm, clock.weekend(burst.day))
        timed.append((max(clock.at(v.tz, burst.day, hour), t_req + 3600), burst))
    timed.sort(key=lambda item: item[0])
    pending = [] if g.careful else list(STAGES)
    block_at = rng.uniform(0.5, 0.95) if rng.random() < 0.12 else 2.0
    night_days: dict[int, int] = {}
    for t0, burst in timed:
        if burst.progress >= block_at:
            if world.log.contact(t0, v, "block", g):
                case.blocked_ts = t0
            break
        ts = t0
        speaker = g
        last_topic = ""
        for _ in range(burst.size):
            if speaker is g:
                last_topic = _groomer_topic(pending, burst, g.careful, case, rng)
                if world.say(ts, g, v, last_topic, rng):
                    case.last_ts = ts
                    if last_topic.startswith("stage_"):
                        case.stage_ts.setdefault(last_topic[6:], ts)
                    if burst.night:
                        night_days.setdefault(burst.day, ts)
                    if rng.random() < 0.03:
                        world.log.media(ts + rng.randint(5, 60), g, world.dm_id(g, v),
                                        [v.actor_id])
                speaker = v if rng.random() < 0.6 else g
            else:
                deflect = last_topic in ("stage_photo", "stage_meeting")
                world.say(ts, v, g, "victim_deflect" if deflect else "victim_reply", rng)
                speaker = g
            ts += rng.randint(20, 400)
    case.escalation_ts = _escalation(night_days)


def _groomer_topic(pending: list[str], burst: Burst, careful: bool, case: Case,
                   rng: random.Random) -> str:
    """The next groomer message: a due stage first, sometimes a repeat, else ordinary talk."""
    if pending and burst.progress >= STAGE_FROM[pending[0]]:
        return f"stage_{pending.pop(0)}"
    if not careful and case.stage_ts and rng.random() < 0.12:
        unlocked = [s for s in STAGES if s in case.stage_ts]
        return f"stage_{rng.choice(unlocked[-3:])}"
    return "groomer_night" if burst.night and rng.random() < 0.3 else "groomer_neutral"


def _escalation(night_days: dict[int, int]) -> int | None:
    """First night message on the day contact had been nightly for `ESCALATION_STREAK` days."""
    streak = 0
    previous = -2
    for day in sorted(night_days):
        streak = streak + 1 if day == previous + 1 else 1
        previous = day
        if streak >= ESCALATION_STREAK:
            return night_days[day]
    return None


def _spray(world: World, groomer: User, plan: Plan, rng: random.Random) -> None:
    """Contact requests to many minors: some accept and chat a little, many decline or block."""
    clock = world.clock
    own = {c.victim.actor_id for c in plan.cases if c.groomer is groomer}
    candidates = [m for m in world.minors if m.actor_id not in own]
    targets = rng.sample(candidates, min(len(candidates), rng.randint(8, 30)))
    plan.approached[groomer.actor_id] = len(targets)
    for minor in targets:
        day = min(clock.days - 1, int(rng.triangular(0, clock.days, 0)))
        ts = clock.at(minor.tz, day, pick_hour(rng, "teen", clock.weekend(day)))
        if not world.log.contact(ts, groomer, "request", minor):
            continue
        outcome = rng.random()
        answer_ts = ts + rng.randint(120, 86400)
        if outcome < 0.35:
            world.log.contact(answer_ts, minor, "accept", groomer)
            for offset in range(rng.randint(1, 3)):
                rhythm = "night" if rng.random() < 0.3 else "teen"
                hour = pick_hour(rng, rhythm, clock.weekend(day + 1 + offset))
                t0 = max(clock.at(minor.tz, day + 1 + offset, hour), answer_ts + 60)
                world.exchange(t0, groomer, minor, rng.randint(1, 4),
                               ("groomer_neutral", "victim_reply"), rng)
        elif outcome < 0.75:
            action = "decline" if outcome < 0.62 else "block"
            if world.log.contact(answer_ts, minor, action, groomer):
                plan.refused.append((minor, groomer, answer_ts))


def _ring_chat(world: World, ring_id: str, members: list[User], rng: random.Random) -> None:
    """Ring members keep in touch among themselves in ordinary words."""
    group = world.add_group("group", "ring", members)
    clock = world.clock
    for day in range(clock.days):
        if rng.random() < 0.3:
            t0 = clock.at(members[0].tz, day, pick_hour(rng, "adult", clock.weekend(day)))
            world.group_talk(t0, group, members, rng.randint(2, 5), "ring_chat", rng)
