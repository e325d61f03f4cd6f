"""Event-time scheduling: local days and hours per time zone, night hours, rising frequency.

Times are integer seconds since the Unix epoch. A "day" is a local calendar day
counted from the start date, and an hour may run past 24 (25.5 is 01:30 the
next morning) so a late-night burst belongs to the evening it started in.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta, timezone
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

NIGHT_FROM = 22.0  # local hour a night burst starts at, at the earliest
NIGHT_TO = 25.9  # ... and at the latest (01:54 the next morning)


@cache
def zone(name: str) -> ZoneInfo:
    """The cached `ZoneInfo` for an IANA name."""
    return ZoneInfo(name)


@lru_cache(maxsize=65536)
def _offset_at(tz_name: str, hour: int) -> timezone:
    """The fixed offset in force during one UTC hour (zone changes fall on whole hours)."""
    offset = datetime.fromtimestamp(hour * 3600, zone(tz_name)).utcoffset()
    return timezone(offset if offset is not None else timedelta(0))


def format_ts(ts: int, tz_name: str) -> str:
    """RFC 3339 with the zone's local offset and seconds precision."""
    return datetime.fromtimestamp(ts, _offset_at(tz_name, ts // 3600)).isoformat(
        timespec="seconds")


class Clock:
    """Maps (time zone, local day, local hour) to event time within the simulated span."""

    def __init__(self, start: datetime, weeks: int) -> None:
        self.start_ts = int(start.timestamp())
        self.days = weeks * 7
        self.end_ts = self.start_ts + self.days * 86400
        self._date = start.date()
        self._weekday = start.date().weekday()
        self._midnight: dict[tuple[str, int], int] = {}

    def at(self, tz_name: str, day: int, hour: float) -> int:
        """Event time of `hour` (may exceed 24) on local `day` in `tz_name`."""
        key = (tz_name, day)
        midnight = self._midnight.get(key)
        if midnight is None:
            local = datetime.combine(self._date + timedelta(days=day), datetime.min.time())
            midnight = int(local.replace(tzinfo=zone(tz_name)).timestamp())
            self._midnight[key] = midnight
        return midnight + int(hour * 3600)

    def inside(self, ts: int) -> bool:
        """Whether `ts` falls inside the simulated span (after the first profile hour)."""
        return self.start_ts + 3600 <= ts < self.end_ts

    def weekend(self, day: int) -> bool:
        return (self._weekday + day) % 7 >= 5

    def weekday(self, day: int) -> int:
        return (self._weekday + day) % 7


# Local-hour windows (start, end, weight) by rhythm; weekends use the "_weekend" variant.
_RHYTHMS: dict[str, tuple[tuple[float, float, float], ...]] = {
    "child": ((7.2, 7.8, 0.05), (15.0, 18.5, 0.6), (18.5, 20.5, 0.35)),
    "child_weekend": ((9.0, 12.0, 0.4), (13.0, 19.5, 0.6)),
    "teen": ((7.0, 7.8, 0.08), (12.0, 12.8, 0.07), (15.0, 19.0, 0.45), (19.0, 22.5, 0.4)),
    "teen_weekend": ((10.0, 13.0, 0.3), (13.0, 19.0, 0.35), (19.0, 23.5, 0.35)),
    "night": ((NIGHT_FROM, NIGHT_TO, 1.0),),
    "night_weekend": ((NIGHT_FROM, NIGHT_TO + 0.8, 1.0),),
    "adult": ((7.0, 9.0, 0.15), (12.0, 13.5, 0.2), (17.5, 23.0, 0.65)),
    "adult_weekend": ((9.0, 13.0, 0.35), (13.0, 18.0, 0.3), (18.0, 23.5, 0.35)),
    "daytime": ((9.0, 12.0, 0.3), (13.0, 16.5, 0.4), (16.5, 19.0, 0.3)),
    "daytime_weekend": ((9.0, 13.0, 0.6), (13.0, 17.0, 0.4)),
    "after_school": ((15.0, 19.0, 1.0),),
    "after_school_weekend": ((10.0, 17.0, 1.0),),
    "evening": ((18.0, 21.5, 0.7), (21.5, 22.8, 0.3)),
    "evening_weekend": ((11.0, 18.0, 0.5), (18.0, 22.5, 0.5)),
    "gaming": ((16.0, 19.0, 0.3), (19.0, 23.0, 0.55), (23.0, 24.5, 0.15)),
    "gaming_weekend": ((11.0, 17.0, 0.4), (17.0, 24.5, 0.6)),
}


def pick_hour(rng: random.Random, rhythm: str, weekend: bool) -> float:
    """A local hour drawn from the rhythm's windows."""
    windows = _RHYTHMS[f"{rhythm}_weekend"] if weekend else _RHYTHMS[rhythm]
    low, high, _ = rng.choices(windows, weights=[w[2] for w in windows])[0]
    return float(rng.uniform(low, high))


def ramp(progress: float, low: float, high: float, power: float = 1.0) -> float:
    """`low` at progress 0 rising to `high` at progress 1."""
    return low + (high - low) * math.pow(max(0.0, min(1.0, progress)), power)


class Burst:
    """One planned exchange in a rising relationship: which day, how big, whether at night."""

    __slots__ = ("day", "night", "progress", "size")

    def __init__(self, day: int, progress: float, size: int, night: bool) -> None:
        self.day = day
        self.progress = progress
        self.size = size
        self.night = night


def rising_bursts(rng: random.Random, first_day: int, length: int, *,
                  contact: tuple[float, float] = (0.3, 1.0),
                  size: tuple[float, float] = (2.0, 16.0),
                  night: tuple[float, float] = (0.05, 0.8)) -> list[Burst]:
    """A relationship over `length` days whose contact days, volume and night share rise.

    Each range is (value at the start, value at the end). Used for grooming and,
    with the same shape, for benign look-alikes (teen crushes, adults dating).
    """
    bursts: list[Burst] = []
    last = max(1, length - 1)
    for offset in range(length):
        progress = offset / last
        if rng.random() >= ramp(progress, *contact):
            continue
        total = max(1, round(ramp(progress, *size, power=1.3) * rng.uniform(0.7, 1.3)))
        parts = 1 if total < 6 else 2 if total < 14 else 3
        at_night = ramp(progress, *night, power=1.2)
        for part in range(parts):
            share = total // parts + (1 if part < total % parts else 0)
            bursts.append(Burst(first_day + offset, progress, share, rng.random() < at_night))
    return bursts
