"""Checks of the evidence endpoints' parameters and bodies (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.evidence import requests
from pipeline.evidence.errors import InvalidEvidenceRequest

GOOD_ID = "pkg_" + "0123456789abcdef" * 2


def test_package_ids() -> None:
    assert requests.package_id(GOOD_ID) == GOOD_ID
    for bad in ["", "pkg_", GOOD_ID.upper(), GOOD_ID + "0", "pkg_../../etc", "1 OR 1=1"]:
        with pytest.raises(InvalidEvidenceRequest) as caught:
            requests.package_id(bad)
        assert caught.value.field == "package_id"


@pytest.mark.parametrize(("value", "rule"), [
    (None, "required"), ("", "required"), ("   ", "required"), ("x" * 501, "max_length"),
    ("line\nbreak", "characters"), (7, "type"),
])
def test_a_reason_is_required_and_bounded(value: object, rule: str) -> None:
    with pytest.raises(InvalidEvidenceRequest) as caught:
        requests.reason(value)
    assert (caught.value.field, caught.value.rule) == ("reason", rule)


def test_a_reason_is_kept_trimmed() -> None:
    assert requests.reason("  case review 42 ") == "case review 42"
    assert requests.reason("x" * 500) == "x" * 500


@pytest.mark.parametrize(("body", "field", "rule"), [
    ([], "(body)", "type"),
    ({}, "reference", "required"),
    ({"reference": ""}, "reference", "required"),
    ({"reference": "r", "until": "later"}, "until", "unknown"),
    ({"reference": "r" * 257}, "reference", "max_length"),
])
def test_hold_bodies(body: Any, field: str, rule: str) -> None:
    with pytest.raises(InvalidEvidenceRequest) as caught:
        requests.hold_body(body)
    assert (caught.value.field, caught.value.rule) == (field, rule)
    assert requests.hold_body({"reference": " LE-2026-17 "}) == "LE-2026-17"


@pytest.mark.parametrize(("body", "field", "rule"), [
    ({"reference": "r"}, "days", "required"),
    ({"days": "90", "reference": "r"}, "days", "type"),
    ({"days": True, "reference": "r"}, "days", "type"),
    ({"days": 90.0, "reference": "r"}, "days", "type"),
    ({"days": 0, "reference": "r"}, "days", "range"),
    ({"days": 3651, "reference": "r"}, "days", "range"),
    ({"days": 90}, "reference", "required"),
])
def test_extend_bodies(body: Any, field: str, rule: str) -> None:
    with pytest.raises(InvalidEvidenceRequest) as caught:
        requests.extend_body(body)
    assert (caught.value.field, caught.value.rule) == (field, rule)
    assert requests.extend_body({"days": 90, "reference": "2703(f) letter 9"}) == (
        "2703(f) letter 9", 90)
