"""Event-time arithmetic: UTC days, local hours in a time zone, night hours.

Everything here is a function of event time (UTC microseconds) and a time
zone name or fixed offset, never of the clock on the wall. Zone offsets are
cached per zone and UTC hour: a transition that falls inside an hour (a few
zones move at half past) takes effect from the next hour, so at most one
half-hour a year can be classed in the neighbouring offset.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

US_PER_SECOND: Final = 1_000_000
US_PER_MINUTE: Final = 60 * US_PER_SECOND
US_PER_HOUR: Final = 60 * US_PER_MINUTE
US_PER_DAY: Final = 24 * US_PER_HOUR

# Night in the recipient's local time: from 22:00 until 06:00.
NIGHT_START_HOUR: Final = 22
NIGHT_END_HOUR: Final = 6

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def day_index(at_us: int) -> int:
    """The UTC day number (days since 1970-01-01) of an instant."""
    return at_us // US_PER_DAY


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@lru_cache(maxsize=65_536)
def _zone_offset_min(name: str, hour_index: int) -> int | None:
    zone = _zone(name)
    if zone is None:
        return None
    moment = _EPOCH + timedelta(hours=hour_index)
    offset = zone.utcoffset(moment.astimezone(zone))
    return int(offset.total_seconds() // 60) if offset is not None else 0


def local_offset_min(timezone: str | None, at_us: int, fallback_min: int) -> int:
    """UTC offset in minutes of ``timezone`` at ``at_us``, or ``fallback_min``."""
    if timezone is None:
        return fallback_min
    offset = _zone_offset_min(timezone, at_us // US_PER_HOUR)
    return fallback_min if offset is None else offset


def local_hour(at_us: int, offset_min: int) -> int:
    """Hour of day 0..23 at ``at_us`` in a place ``offset_min`` minutes from UTC."""
    return (at_us + offset_min * US_PER_MINUTE) // US_PER_HOUR % 24


def is_night(at_us: int, offset_min: int) -> bool:
    """True from 22:00 until 06:00 local time."""
    hour = local_hour(at_us, offset_min)
    return hour >= NIGHT_START_HOUR or hour < NIGHT_END_HOUR


def to_rfc3339(at_us: int) -> str:
    """An instant as RFC 3339 in UTC (microseconds shown only when present)."""
    moment = _EPOCH + timedelta(microseconds=at_us)
    return moment.isoformat().replace("+00:00", "Z")
