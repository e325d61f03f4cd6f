"""User reports and reviewer decisions, including the noise real queues have.

Minors (and their relatives) sometimes report groomers; minors who refused a
request sometimes report the stranger; benign users get reported too. A few
reported subjects receive a moderation decision, mostly but not always right.
"""

from __future__ import annotations

import random

from pipeline.simulate.grooming import Plan
from pipeline.simulate.phrases import MODERATION_NOTES, REPORT_REASONS
from pipeline.simulate.population import User, make_moderator
from pipeline.simulate.world import World

_DECISIONS_GROOMER = (("confirmed_grooming", 0.7), ("escalated", 0.25), ("cleared", 0.05))
_DECISIONS_BENIGN = (("cleared", 0.8), ("confirmed_other_harm", 0.1), ("escalated", 0.1))
_FALSELY_REPORTED_ROLES = ("coach", "teacher", "gamer", "adult_flirt", "teen_social", "adult",
                           "minor", "tutor", "relative")


class _Reports:
    """Files reports and remembers when each subject was first reported."""

    def __init__(self, world: World, rng: random.Random) -> None:
        self.world = world
        self.rng = rng
        self.first: dict[str, tuple[User, int]] = {}

    def file(self, ts: int, reporter: User, target: User, kind: str) -> None:
        reason = self.rng.choice(REPORT_REASONS[kind])
        if self.world.log.report(ts, reporter, target, reason):
            known = self.first.get(target.actor_id)
            if known is None or ts < known[1]:
                self.first[target.actor_id] = (target, ts)


def generate(world: World, plan: Plan) -> list[User]:
    """Emit reports and moderation; returns the reviewers who made a decision."""
    rng = world.rng("reports")
    reports = _Reports(world, rng)
    for case in plan.cases:
        end = case.blocked_ts or case.last_ts
        if end is None or case.first_contact_ts is None:
            continue
        chance = 0.6 if case.blocked_ts else 0.12 if case.groomer.careful else 0.25
        if rng.random() < chance:
            reports.file(end + rng.randint(60, 3 * 86400), case.victim, case.groomer, "by_victim")
        relatives = world.relatives_of.get(case.victim.actor_id, [])
        if relatives and rng.random() < 0.2:
            when = rng.randint(case.first_contact_ts, end) + rng.randint(3600, 86400)
            reports.file(when, rng.choice(relatives), case.groomer, "by_parent")
    for minor, groomer, ts in plan.refused:
        if rng.random() < 0.2:
            reports.file(ts + rng.randint(30, 7200), minor, groomer, "by_stranger")
    pool = [u for u in world.users if u.role in _FALSELY_REPORTED_ROLES]
    for _ in range(max(1, len(world.users) // 120) if len(pool) >= 2 else 0):
        target, reporter = rng.sample(pool, 2)
        day = rng.randrange(world.clock.days)
        reports.file(world.clock.at(reporter.tz, day, rng.uniform(8, 23)), reporter, target,
                     "benign")
    return _moderate(world, reports.first, rng)


def _moderate(world: World, first_report: dict[str, tuple[User, int]],
              rng: random.Random) -> list[User]:
    reviewers = [make_moderator(n, world.clock.start_ts) for n in range(1, 5)]
    acted: dict[str, User] = {}
    for subject, reported_at in first_report.values():
        if rng.random() >= 0.5:
            continue
        table = _DECISIONS_GROOMER if subject.is_groomer else _DECISIONS_BENIGN
        decision = rng.choices([d for d, _ in table], weights=[w for _, w in table])[0]
        reviewer = rng.choice(reviewers)
        ts = reported_at + rng.randint(86400, 5 * 86400)
        if world.log.moderation(ts, reviewer, subject, decision,
                                rng.choice(MODERATION_NOTES[decision])):
            acted.setdefault(reviewer.actor_id, reviewer)
    return [acted[key] for key in sorted(acted)]
