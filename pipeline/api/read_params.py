"""Checks and cursors for the read endpoints' path and query parameters (pure).

Every check raises :class:`BadParameter` naming the parameter and the rule,
which the router answers as ``400 invalid_parameter``. Cursors are the sort
key of the last row of a page, written as text a client passes back verbatim.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

from pipeline.errors import FieldRuleError

PSEUDONYM = re.compile(r"u_[a-z2-7]{26}")
MAX_USER_ID = 256  # the event contract's limit on a platform user id
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
_LIMIT = re.compile(r"[0-9]{1,6}")
MAX_RECORD_ID = 128
_RECORD_ID = re.compile(r"[0-9A-Za-z_.:-]+")
_SCORE_ID = r"[0-9A-Za-z_-]{1,128}"
_HISTORY_CURSOR = re.compile(rf"(-?[0-9]{{1,19}})~({_SCORE_ID})")
_QUEUE_CURSOR = re.compile(r"([0-9]{1,3}(?:\.[0-9]{1,20})?(?:e-?[0-9]{1,3})?)~(-?[0-9]{1,19})"
                           r"~([0-9]{1,19})")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class BadParameter(FieldRuleError, ValueError):
    """A path or query parameter broke a rule; ``field`` names it."""


def user_ref(value: str, field: str) -> str:
    """A user as given in a path: a pseudonym or the platform's own user id."""
    if not value:
        raise BadParameter(field, "required", "give a user pseudonym (u_...) or user id")
    if len(value) > MAX_USER_ID:
        raise BadParameter(field, "max_length",
                           f"{len(value)} characters; at most {MAX_USER_ID}")
    if not value.isprintable():
        raise BadParameter(field, "characters", "control or non-printable characters")
    return value


def record_id(value: str, field: str) -> str:
    """An id wardstream issued (alerts, scores): short, printable, no spaces."""
    if not 1 <= len(value) <= MAX_RECORD_ID or not _RECORD_ID.fullmatch(value):
        raise BadParameter(field, "format",
                           f"1 to {MAX_RECORD_ID} letters, digits, '-', '_', '.' or ':'")
    return value


def limit(value: str | None) -> int:
    if value is None:
        return DEFAULT_LIMIT
    if not _LIMIT.fullmatch(value):
        raise BadParameter("limit", "integer",
                           f"must be a whole number from 1 to {MAX_LIMIT}")
    number = int(value)
    if not 1 <= number <= MAX_LIMIT:
        raise BadParameter("limit", "range", f"{number} is not from 1 to {MAX_LIMIT}")
    return number


def micros(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def from_micros(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def history_cursor(at: datetime, score_id: str) -> str:
    return f"{micros(at)}~{score_id}"


def history_before(value: str | None) -> tuple[datetime, str] | None:
    """``before``: a ``next_before`` cursor, or an RFC 3339 time (rows strictly older)."""
    if value is None:
        return None
    if len(value) > 160:
        raise BadParameter("before", "max_length", "at most 160 characters")
    match = _HISTORY_CURSOR.fullmatch(value)
    if match:
        try:
            return from_micros(int(match.group(1))), match.group(2)
        except OverflowError:
            raise BadParameter("before", "range", "cursor time out of range") from None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadParameter("before", "format", "a next_before cursor or an RFC 3339 time "
                           "with an offset, e.g. 2026-03-01T21:14:05+00:00") from None
    if moment.tzinfo is None:
        raise BadParameter("before", "offset", "the time needs an offset (e.g. +00:00)")
    return moment, ""  # "" sorts before every id: only rows strictly older than the time


def queue_cursor(score: float, opened_at: datetime, item_id: int) -> str:
    return f"{score!r}~{micros(opened_at)}~{item_id}"


def queue_after(value: str | None) -> tuple[float, datetime, int] | None:
    """``after``: the ``next_after`` cursor of the previous queue page (score, opened, id)."""
    if value is None:
        return None
    match = _QUEUE_CURSOR.fullmatch(value) if len(value) <= 80 else None
    if match is None:
        raise BadParameter("after", "format", "pass the next_after value of the previous page")
    score = float(match.group(1))
    if not (math.isfinite(score) and 0.0 <= score <= 100.0):
        raise BadParameter("after", "range", "the cursor's score is not from 0 to 100")
    try:
        opened = from_micros(int(match.group(2)))
    except OverflowError:
        raise BadParameter("after", "range", "the cursor's time is out of range") from None
    return score, opened, int(match.group(3))
