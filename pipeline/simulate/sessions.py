"""Profiles and sessions: what each account looks like and when it is logged in.

Sessions are derived from activity already in the log (a login shortly before a
burst of activity, a logout after it), plus a few idle visits, so session
times always agree with message times.
"""

from __future__ import annotations

import random

from pipeline.simulate.population import ADULT_BAND, UNKNOWN_BAND, User
from pipeline.simulate.timeline import pick_hour
from pipeline.simulate.world import World

SESSION_GAP = 3 * 3600  # a pause longer than this ends a session
_ACTIVE_KINDS = ("message", "media", "contact", "report")


def profiles(world: World, rng: random.Random) -> None:
    """One profile per user in the first half hour, and an occasional later update."""
    clock = world.clock
    for user in world.users:
        world.log.profile(clock.start_ts + rng.randint(0, 1800), user)
    for user in world.users:
        if rng.random() >= 0.06:
            continue
        ts = clock.at(user.tz, rng.randrange(1, clock.days - 1), rng.uniform(9, 21))
        corrects_age = user.is_minor and user.declared_age_band in (UNKNOWN_BAND, ADULT_BAND)
        if corrects_age and rng.random() < 0.5:
            user.declared_age_band, user.age_source = user.age_band, "estimated"
            world.log.profile(ts, user)
        else:
            world.log.profile(ts, user, display_name=f"{user.display_name}_{rng.randrange(10, 99)}")


def sessions(world: World, rng: random.Random) -> None:
    """Login/logout around each stretch of activity, plus idle visits."""
    clock = world.clock
    activity: dict[str, list[int]] = {}
    for ts, actor_id, kind, _ in world.log.raw:
        if kind in _ACTIVE_KINDS:
            activity.setdefault(actor_id, []).append(ts)
    low, high = clock.start_ts + 3600, clock.end_ts - 1
    for user in world.users:
        times = activity.get(user.actor_id, [])
        for day in range(clock.days):
            if rng.random() < 0.03:
                times.append(clock.at(user.tz, day,
                                      pick_hour(rng, _rhythm(user), clock.weekend(day))))
        for begin, end in _stretches(sorted(t for t in times if low <= t <= high)):
            world.log.session(max(low, begin - rng.randint(20, 600)), user, "login")
            world.log.session(min(high, end + rng.randint(30, 1200)), user, "logout")


def _stretches(times: list[int]) -> list[tuple[int, int]]:
    """(first, last) of each run of sorted times with no pause over `SESSION_GAP`."""
    stretches: list[tuple[int, int]] = []
    for ts in times:
        if stretches and ts - stretches[-1][1] <= SESSION_GAP:
            stretches[-1] = (stretches[-1][0], ts)
        else:
            stretches.append((ts, ts))
    return stretches


def _rhythm(user: User) -> str:
    if user.age_band == "under_13":
        return "child"
    return "teen" if user.is_minor else "adult"
