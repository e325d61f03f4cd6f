"""The simulated population: who exists, their true age, role, cohort and writing style.

Roles are dealt from counts and shuffled, and cohorts are drawn independently
afterwards, so a cohort never predicts a role. Writing style is drawn from the
cohort's dialect (and age), so fairness across cohorts can be measured honestly.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from pipeline.simulate.config import SimulationConfig

MINOR = "minor"
TEEN_SOCIAL = "teen_social"
GROOMER_OVERT = "groomer_overt"
GROOMER_CAREFUL = "groomer_careful"
GROOMER_PARALLEL = "groomer_parallel"
GROOMER_RING = "groomer_ring"
COACH = "coach"
TEACHER = "teacher"
TUTOR = "tutor"
RELATIVE = "relative"
FLIRT = "adult_flirt"
GAMER = "gamer"
ADULT = "adult"
MODERATOR = "moderator"

GROOMER_ROLES = (GROOMER_OVERT, GROOMER_CAREFUL, GROOMER_PARALLEL, GROOMER_RING)
ALL_ROLES = (
    MINOR, TEEN_SOCIAL, *GROOMER_ROLES, COACH, TEACHER, TUTOR, RELATIVE, FLIRT, GAMER, ADULT,
    MODERATOR,
)

UNDER_13 = "under_13"
BAND_13_15 = "13_15"
BAND_16_17 = "16_17"
ADULT_BAND = "18_plus"
UNKNOWN_BAND = "unknown"
MINOR_BANDS = (UNDER_13, BAND_13_15, BAND_16_17)

STYLES = ("standard", "abbrev", "emoji", "nonnative", "leet")

# (IANA zone, country, language, weight)
PLACES: tuple[tuple[str, str, str, float], ...] = (
    ("America/New_York", "US", "en-US", 0.28),
    ("America/Los_Angeles", "US", "en-US", 0.18),
    ("Europe/London", "GB", "en-GB", 0.20),
    ("Europe/Berlin", "DE", "de-DE", 0.16),
    ("Asia/Manila", "PH", "en-PH", 0.18),
)
_PLACE_WEIGHTS = tuple(place[3] for place in PLACES)

# Style weights (standard, abbrev, emoji, nonnative) per dialect.
_DIALECT_STYLE: dict[str, tuple[float, float, float, float]] = {
    "a": (0.60, 0.20, 0.15, 0.05),
    "b": (0.15, 0.45, 0.35, 0.05),
    "c": (0.20, 0.15, 0.10, 0.55),
}
_LEET_SHARE_BENIGN = 0.04
_LEET_SHARE_GROOMER = 0.30

_USER_AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 Chrome/122.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/122.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_3) AppleWebKit/605.1.15 Version/17.3 Safari/605",
    "PlatformApp/5.12.0 (Android 13; SM-A536B)",
    "PlatformApp/5.12.1 (iOS 17.2; iPad13,18)",
)
_NAME_WORDS = (
    "sky", "pixel", "river", "nova", "blaze", "echo", "maple", "storm", "lucky", "frost",
    "ember", "comet", "moss", "orbit", "sunny", "shadow", "tiger", "cloud", "quartz", "zen",
)


@dataclass(slots=True, eq=False)
class User:
    """One simulated account and what the ground truth records about it; equal only to itself."""

    actor_id: str
    role: str
    age_band: str
    declared_age_band: str
    age_source: str
    tz: str
    country: str
    language: str
    cohort: dict[str, str]
    style: str
    careful: bool
    privacy: bool
    created_ts: int
    display_name: str
    devices: list[str]
    ips: list[str]
    user_agent: str
    notes: list[str] = field(default_factory=list)

    @property
    def is_minor(self) -> bool:
        return self.age_band != ADULT_BAND

    @property
    def is_groomer(self) -> bool:
        return self.role in GROOMER_ROLES


def build_population(config: SimulationConfig, rng: random.Random, start_ts: int) -> list[User]:
    """Deal roles and age bands from the config's shares, then draw everything else."""
    specs = _role_specs(config, rng)
    rng.shuffle(specs)
    private = set(rng.sample(range(len(specs)), round(len(specs) * config.privacy_share)))
    return [
        _make_user(index, role, band, careful, index in private, config, rng, start_ts)
        for index, (role, band, careful) in enumerate(specs)
    ]


def make_moderator(number: int, start_ts: int) -> User:
    """A platform reviewer: staff, not part of the simulated population's behaviour."""
    return User(
        actor_id=f"mod-{number}", role=MODERATOR, age_band=ADULT_BAND,
        declared_age_band=ADULT_BAND, age_source="verified", tz="Europe/London", country="GB",
        language="en-GB", cohort={}, style="standard", careful=False, privacy=False,
        created_ts=start_ts, display_name=f"reviewer {number}", devices=[], ips=[],
        user_agent=_USER_AGENTS[2],
    )


def _role_specs(config: SimulationConfig, rng: random.Random) -> list[tuple[str, str, bool]]:
    n_minor = round(config.users * config.minor_share)
    n_u13 = round(n_minor * config.under_13_share)
    n_teen = n_minor - n_u13
    n_1315 = round(n_teen * 0.55)
    teen_bands = [BAND_13_15] * n_1315 + [BAND_16_17] * (n_teen - n_1315)
    rng.shuffle(teen_bands)
    n_social = round(n_teen * config.teen_social_share)
    specs: list[tuple[str, str, bool]] = [(MINOR, UNDER_13, False)] * n_u13
    specs += [(TEEN_SOCIAL if i < n_social else MINOR, band, False)
              for i, band in enumerate(teen_bands)]
    n_adult = config.users - n_minor
    specs += _groomer_specs(config, round(n_adult * config.groomer_share), rng)
    n_coachish = round(n_adult * config.coach_share)
    counts = (
        (COACH, n_coachish - n_coachish // 2),
        (TEACHER, n_coachish // 2),
        (TUTOR, round(n_adult * config.tutor_share)),
        (RELATIVE, round(n_adult * config.relative_share)),
        (FLIRT, round(n_adult * config.flirt_share)),
        (GAMER, round(n_adult * config.gamer_share)),
    )
    for role, count in counts:
        room = config.users - len(specs)
        specs += [(role, ADULT_BAND, False)] * max(0, min(count, room))
    specs += [(ADULT, ADULT_BAND, False)] * (config.users - len(specs))
    return specs


def _groomer_specs(config: SimulationConfig, n: int,
                   rng: random.Random) -> list[tuple[str, str, bool]]:
    n_ring = round(n * config.ring_share)
    if n_ring == 1:
        n_ring = 2 if n >= 2 else 0
    n_parallel = min(round(n * config.parallel_share), n - n_ring)
    n_single = n - n_ring - n_parallel
    n_careful_single = round(n_single * config.careful_share)
    specs = [(GROOMER_CAREFUL, ADULT_BAND, True)] * n_careful_single
    specs += [(GROOMER_OVERT, ADULT_BAND, False)] * (n_single - n_careful_single)
    for role, count in ((GROOMER_PARALLEL, n_parallel), (GROOMER_RING, n_ring)):
        specs += [(role, ADULT_BAND, rng.random() < config.careful_share) for _ in range(count)]
    return specs


def _make_user(
    index: int, role: str, band: str, careful: bool, private: bool,
    config: SimulationConfig, rng: random.Random, start_ts: int,
) -> User:
    tz, country, language, _ = rng.choices(PLACES, weights=_PLACE_WEIGHTS)[0]
    cohort = {"dialect": rng.choice("abc"), "region": rng.choice(("north", "south"))}
    groomer = role in GROOMER_ROLES
    declared, source = _declared_age(band, groomer, config.unknown_age_share, rng)
    recent = rng.random() < (0.45 if groomer else 0.12)
    age_days = rng.uniform(3, 60) if recent else rng.uniform(60, 1400)
    devices = [f"d-{rng.getrandbits(40):010x}" for _ in range(rng.choice((1, 1, 2)))]
    ips = [_random_ip(rng) for _ in range(rng.choice((1, 2, 3)))]
    name = f"{rng.choice(_NAME_WORDS)}{rng.choice(_NAME_WORDS)}{rng.randrange(10, 9999)}"
    return User(
        actor_id=f"u-{index + 1:06d}", role=role, age_band=band, declared_age_band=declared,
        age_source=source, tz=tz, country=country, language=language, cohort=cohort,
        style=_style(cohort["dialect"], band != ADULT_BAND, groomer, rng), careful=careful,
        privacy=private, created_ts=start_ts - int(age_days * 86400), display_name=name,
        devices=devices, ips=ips, user_agent=rng.choice(_USER_AGENTS),
    )


def _declared_age(band: str, groomer: bool, unknown_share: float,
                  rng: random.Random) -> tuple[str, str]:
    """What the profile says: sometimes unknown, sometimes a lie, sometimes verified."""
    draw = rng.random()
    if draw < 0.05:
        return band, "verified"
    if draw < 0.20:
        return band, "estimated"
    if rng.random() < unknown_share:
        return UNKNOWN_BAND, "declared"
    lie = rng.random()
    if groomer and lie < 0.25:
        return rng.choice((BAND_13_15, BAND_16_17)), "declared"
    if band == UNDER_13 and lie < 0.15:
        return BAND_13_15, "declared"
    if band in (BAND_13_15, BAND_16_17) and lie < 0.08:
        return ADULT_BAND, "declared"
    return band, "declared"


def _style(dialect: str, minor: bool, groomer: bool, rng: random.Random) -> str:
    if rng.random() < (_LEET_SHARE_GROOMER if groomer else _LEET_SHARE_BENIGN):
        return "leet"
    style = rng.choices(STYLES[:4], weights=_DIALECT_STYLE[dialect])[0]
    if minor and style == "standard" and rng.random() < 0.5:
        return "abbrev"
    return style


def _random_ip(rng: random.Random) -> str:
    """An address from the documentation ranges (RFC 5737 / RFC 3849): never a real host."""
    if rng.random() < 0.15:
        return f"2001:db8:{rng.getrandbits(16):x}:{rng.getrandbits(16):x}::{rng.getrandbits(16):x}"
    prefix = rng.choice(("192.0.2", "198.51.100", "203.0.113"))
    return f"{prefix}.{rng.randrange(1, 255)}"
