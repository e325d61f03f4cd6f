"""What detectors may know about other users: age band, time zone, account age.

Pair and actor steps need the profile of the *other* side of a contact, which
lives under another key. In the stream this is a Faust GlobalTable fed from
``profile`` events; here it is the :class:`ProfileView` protocol (read-only
lookup) and :class:`ProfileTable` (a dict the harness updates).
``profile_step`` is the pure update both use, so they agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from pipeline.detect.bands import CLAIMED, UNKNOWN, band_code, is_minor
from pipeline.model import NormalizedEvent


@dataclass(frozen=True, slots=True)
class Profile:
    """The detection-relevant part of a user's profile (newest value per field)."""

    age_band: int = UNKNOWN
    age_trusted: bool = False  # the band was verified or estimated by the platform
    timezone: str | None = None
    account_created_at_us: int | None = None
    updated_at_us: int = 0
    # Derived once: the band code steps read for every event (see band_code_of).
    code: int = field(init=False, compare=False, repr=False, default=UNKNOWN)

    def __post_init__(self) -> None:
        band = self.age_band
        code = band | CLAIMED if is_minor(band) and not self.age_trusted else band
        object.__setattr__(self, "code", code)


_TRUSTED_SOURCES = frozenset({"verified", "estimated"})


def band_code_of(profile: Profile | None) -> int:
    """The profile's band code, flagged ``CLAIMED`` when it is a minor band only declared."""
    return UNKNOWN if profile is None else profile.code


class ProfileView(Protocol):
    """Read-only profile lookup by user pseudonym."""

    def get(self, user: str) -> Profile | None: ...


def profile_step(current: Profile | None, event: NormalizedEvent) -> Profile:
    """The profile after ``event`` (a ``profile`` event of its actor).

    The newest event wins field by field; an older event (late arrival) only
    fills fields still unknown, so the result does not depend on arrival order
    except between two events with different values at the same instant, where
    the later arrival wins.
    """
    base = current if current is not None else Profile()
    band = band_code(event.age_band) if event.age_band is not None else None
    trusted = event.age_source in _TRUSTED_SOURCES
    newer = event.occurred_at_us >= base.updated_at_us
    if newer:
        return Profile(
            age_band=base.age_band if band is None else band,
            age_trusted=base.age_trusted if band is None else trusted,
            timezone=event.timezone if event.timezone is not None else base.timezone,
            account_created_at_us=(
                event.account_created_at_us
                if event.account_created_at_us is not None
                else base.account_created_at_us
            ),
            updated_at_us=event.occurred_at_us,
        )
    fill = base.age_band == UNKNOWN and band is not None
    return Profile(
        age_band=band if fill and band is not None else base.age_band,
        age_trusted=trusted if fill else base.age_trusted,
        timezone=base.timezone if base.timezone is not None else event.timezone,
        account_created_at_us=(
            base.account_created_at_us
            if base.account_created_at_us is not None
            else event.account_created_at_us
        ),
        updated_at_us=base.updated_at_us,
    )


class ProfileTable:
    """A dict-backed :class:`ProfileView` the in-process harness keeps current."""

    __slots__ = ("_profiles",)

    def __init__(self) -> None:
        self._profiles: dict[str, Profile] = {}

    def get(self, user: str) -> Profile | None:
        return self._profiles.get(user)

    def apply(self, event: NormalizedEvent) -> Profile:
        """Fold a ``profile`` event into the table; return the actor's new profile."""
        updated = profile_step(self._profiles.get(event.actor), event)
        self._profiles[event.actor] = updated
        return updated

    def __len__(self) -> int:
        return len(self._profiles)
