"""Path and query parameters of the read endpoints: limits, user references, cursors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipeline.api import read_params
from pipeline.api.read_params import BadParameter


@pytest.mark.parametrize(("value", "rule"), [
    ("0", "range"), ("201", "range"), ("-1", "integer"), ("ten", "integer"), ("", "integer"),
    ("1e3", "integer"), ("9" * 40, "integer"), (" 5", "integer"),
])
def test_bad_limits_name_the_field_and_rule(value: str, rule: str) -> None:
    with pytest.raises(BadParameter) as caught:
        read_params.limit(value)
    assert (caught.value.field, caught.value.rule) == ("limit", rule)


def test_limit_default_and_bounds() -> None:
    assert read_params.limit(None) == read_params.DEFAULT_LIMIT
    assert read_params.limit("1") == 1
    assert read_params.limit(str(read_params.MAX_LIMIT)) == read_params.MAX_LIMIT


@pytest.mark.parametrize(("value", "rule"), [
    ("", "required"), ("x" * 257, "max_length"), ("bad\nid", "characters"),
    ("nul\x00", "characters"),
])
def test_bad_user_references(value: str, rule: str) -> None:
    with pytest.raises(BadParameter) as caught:
        read_params.user_ref(value, "actor")
    assert (caught.value.field, caught.value.rule) == ("actor", rule)


def test_user_references_keep_platform_ids() -> None:
    assert read_params.user_ref("user-17@shard 3", "a") == "user-17@shard 3"


def test_history_cursor_round_trip_and_times() -> None:
    moment = datetime(2026, 3, 1, 21, 14, 5, 123456, tzinfo=UTC)
    cursor = read_params.history_cursor(moment, "0a1b")
    assert read_params.history_before(cursor) == (moment, "0a1b")
    assert read_params.history_before("2026-03-01T22:14:05+01:00") == (
        datetime(2026, 3, 1, 21, 14, 5, tzinfo=UTC), "")
    assert read_params.history_before(None) is None


@pytest.mark.parametrize(("value", "rule"), [
    ("2026-03-01T21:14:05", "offset"), ("yesterday", "format"), ("1~bad id", "format"),
    ("9" * 19 + "~abc", "range"), ("x" * 200, "max_length"),
])
def test_bad_history_cursors(value: str, rule: str) -> None:
    with pytest.raises(BadParameter) as caught:
        read_params.history_before(value)
    assert (caught.value.field, caught.value.rule) == ("before", rule)


def test_queue_cursor_round_trip() -> None:
    opened = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    cursor = read_params.queue_cursor(87.3, opened, 42)
    assert read_params.queue_after(cursor) == (87.3, opened, 42)


@pytest.mark.parametrize("value", ["", "abc", "101.0~0~1", "50~0~-1", "nan~0~1", "5~0~1" * 30])
def test_bad_queue_cursors(value: str) -> None:
    with pytest.raises(BadParameter) as caught:
        read_params.queue_after(value)
    assert caught.value.field == "after"
