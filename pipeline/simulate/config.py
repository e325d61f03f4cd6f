"""Typed, frozen configuration of one simulation run and the result it produces.

`SimulationConfig` validates itself on construction, so a bad value fails early
with a `SimulationConfigError` naming the field. `SimulationResult` holds the
generated events and ground truth plus a small summary used by the CLI and tests.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from pipeline.simulate.errors import SimulationConfigError

JsonDict = dict[str, Any]

DEFAULT_START = datetime(2026, 3, 2, tzinfo=UTC)
MAX_USERS = 1_000_000
MAX_WEEKS = 52
MIN_USERS = 20
_TENANT_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")

# Shares of the adult population; together they may not exceed 1.
ADULT_ROLE_SHARES = (
    "groomer_share",
    "coach_share",
    "tutor_share",
    "relative_share",
    "flirt_share",
    "gamer_share",
)


@dataclass(frozen=True)
class SimulationConfig:
    """Everything one run depends on; the same config always gives the same output.

    Role-mix fields are fractions: `minor_share` of all users, `under_13_share`
    of minors, `teen_social_share` of 13-17s, the `ADULT_ROLE_SHARES` of adults
    (the rest are ordinary adults), and `careful_share`, `parallel_share`,
    `ring_share` of groomers (groomers neither parallel nor in a ring work one
    victim). `unknown_age_share` is the share of profiles declaring `unknown`.
    """

    seed: int
    users: int = 2000
    weeks: int = 6
    tenant_id: str = "demo"
    start: datetime = DEFAULT_START
    privacy_share: float = 0.0
    duplicate_share: float = 0.002
    minor_share: float = 0.40
    under_13_share: float = 0.30
    teen_social_share: float = 0.35
    groomer_share: float = 0.015
    careful_share: float = 0.40
    parallel_share: float = 0.25
    ring_share: float = 0.25
    coach_share: float = 0.03
    tutor_share: float = 0.02
    relative_share: float = 0.20
    flirt_share: float = 0.10
    gamer_share: float = 0.15
    unknown_age_share: float = 0.05

    def __post_init__(self) -> None:
        _check_int("seed", self.seed, -(2**63), 2**63 - 1)
        _check_int("users", self.users, MIN_USERS, MAX_USERS)
        _check_int("weeks", self.weeks, 1, MAX_WEEKS)
        if not isinstance(self.tenant_id, str) or not _TENANT_RE.fullmatch(self.tenant_id):
            raise SimulationConfigError("tenant_id", "must be 1..64 chars of [A-Za-z0-9_.-]")
        if not isinstance(self.start, datetime) or self.start.utcoffset() is None:
            raise SimulationConfigError("start", "must be a datetime with a UTC offset")
        for item in fields(self):
            if item.type == "float":
                _check_share(item.name, getattr(self, item.name))
        adult_total = sum(float(getattr(self, name)) for name in ADULT_ROLE_SHARES)
        if adult_total > 1.0 + 1e-9:
            raise SimulationConfigError(
                "groomer_share", f"the adult role shares {ADULT_ROLE_SHARES} sum to more than 1"
            )
        if self.parallel_share + self.ring_share > 1.0 + 1e-9:
            raise SimulationConfigError("ring_share", "parallel_share + ring_share exceeds 1")


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SimulationConfigError(name, f"must be an integer, got {value!r}")
    if not low <= value <= high:
        raise SimulationConfigError(name, f"must be in {low}..{high}, got {value}")


def _check_share(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SimulationConfigError(name, f"must be a number in 0..1, got {value!r}")
    if math.isnan(value) or not 0.0 <= value <= 1.0:
        raise SimulationConfigError(name, f"must be in 0..1, got {value}")


@dataclass(frozen=True)
class SimulationResult:
    """Events (sorted by `occurred_at`, ties in generation order) and ground truth.

    `duplicates` counts the deliberate platform retries: extra copies of an
    event with the same `event_id`, placed right after the original.
    """

    events: list[JsonDict]
    truth: list[JsonDict]
    duplicates: int

    def summary(self) -> JsonDict:
        """Counts by event type and by role, plus duplicates, for printing and tests."""
        by_type = Counter(str(event["type"]) for event in self.events)
        by_role = Counter(str(row["role"]) for row in self.truth)
        return {
            "events": len(self.events),
            "duplicates": self.duplicates,
            "truth_rows": len(self.truth),
            "groomers": sum(1 for row in self.truth if row["is_groomer"]),
            "by_type": dict(sorted(by_type.items())),
            "by_role": dict(sorted(by_role.items())),
        }
