"""The reporting period of an export: two calendar dates, validated, as a UTC half-open range."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final

from pipeline.exports.errors import InvalidExportRequest

# Three years, counting a leap day: long enough for any annual report and its
# comparison years, short enough that one request cannot scan a tenant's whole history.
MAX_SPAN_DAYS: Final = 3 * 365 + 1
EARLIEST: Final = date(2000, 1, 1)
_DATE_RE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Period:
    """``first`` to ``last``, both days included (UTC)."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the period (exclusive bound)."""
        return datetime.combine(self.last + timedelta(days=1), time(), tzinfo=UTC)

    def as_dict(self) -> dict[str, str]:
        return {"from": self.first.isoformat(), "to": self.last.isoformat()}


def parse_date(value: str | None, field: str) -> date:
    """A YYYY-MM-DD date; InvalidExportRequest naming ``field`` otherwise."""
    if value is None or value == "":
        raise InvalidExportRequest(field, "required", "is required (YYYY-MM-DD)")
    if not _DATE_RE.match(value):
        raise InvalidExportRequest(field, "format", "must be a date as YYYY-MM-DD")
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise InvalidExportRequest(field, "format", "is not a calendar date") from None
    if parsed < EARLIEST:
        raise InvalidExportRequest(field, "range", f"must be on or after {EARLIEST}")
    return parsed


def parse_period(first: str | None, last: str | None) -> Period:
    """The period from ``first`` to ``last`` (fields ``from`` and ``to``)."""
    start = parse_date(first, "from")
    end = parse_date(last, "to")
    if end < start:
        raise InvalidExportRequest("to", "order", "must not be before from")
    if (end - start).days + 1 > MAX_SPAN_DAYS:
        raise InvalidExportRequest(
            "to", "span", f"the period may cover at most {MAX_SPAN_DAYS} days (3 years)")
    return Period(start, end)
