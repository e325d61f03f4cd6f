"""Bodies of the key-management requests: field-named errors."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.api.key_requests import DEFAULT_GRACE_SECONDS, grace_seconds, new_key
from pipeline.errors import InvalidRecord


def problems(body: Any) -> list[tuple[str, str]]:
    with pytest.raises(InvalidRecord) as caught:
        new_key(body)
    return [(e.field, e.rule) for e in caught.value.errors]


def test_a_full_request_and_the_defaults() -> None:
    wanted = new_key({"scopes": ["read", "ingest"], "label": "ci", "rate_per_second": 2.5,
                      "burst": 5})
    assert (wanted.scopes, wanted.label, wanted.rate_per_second, wanted.burst) == (
        ["read", "ingest"], "ci", 2.5, 5)
    assert new_key({"scopes": ["read"]}).burst == 100


def test_bad_requests_name_each_field() -> None:
    assert problems({}) == [("scopes", "required")]
    assert problems({"scopes": ["root"]}) == [("scopes[0]", "enum")]
    assert problems({"scopes": ["read", "read"]}) == [("scopes[1]", "unique")]
    assert problems({"scopes": ["read"], "burst": 0}) == [("burst", "out_of_range")]
    assert problems({"scopes": ["read"], "rate_per_second": True}) == [("rate_per_second", "type")]
    assert problems({"scopes": ["read"], "rate_per_second": 0}) == [
        ("rate_per_second", "out_of_range")]
    assert problems({"scopes": ["read"], "owner": "me"}) == [("owner", "unknown_field")]
    assert problems(["read"]) == [("(body)", "type")]


def test_grace_defaults_to_a_day_and_is_bounded() -> None:
    assert grace_seconds(None) == DEFAULT_GRACE_SECONDS
    assert grace_seconds({"grace_seconds": 0}) == 0
    with pytest.raises(InvalidRecord) as caught:
        grace_seconds({"grace_seconds": 10**9})
    assert caught.value.first.field == "grace_seconds"
