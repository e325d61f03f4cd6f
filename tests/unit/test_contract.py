"""The event contract (shared/spec/events.md) as enforced by pipeline.contract.

Each test feeds one kind of bad input and checks the error names the field and rule.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from pipeline.contract import parse_json, validate_batch_ids, validate_event
from pipeline.errors import InvalidRecord
from tests.unit.events import message, profile


def errors_of(obj: Any) -> list[tuple[str, str]]:
    with pytest.raises(InvalidRecord) as caught:
        validate_event(obj)
    return [(e.field, e.rule) for e in caught.value.errors]


def parse_errors(data: bytes) -> list[tuple[str, str]]:
    with pytest.raises(InvalidRecord) as caught:
        parse_json(data)
    return [(e.field, e.rule) for e in caught.value.errors]


def test_the_spec_example_is_valid_and_gains_a_content_hash() -> None:
    event = validate_event(message())
    assert event.fields["content_sha256"] == (
        "af6a80f2d4f80f87e300d07d51cacf0ae3a7ca527c3bc7c9cb3c11e026f2d2bd"
    )
    assert event.occurred_at.isoformat() == "2026-03-01T21:14:05+00:00"


@pytest.mark.parametrize(
    "event_type,extra",
    [
        ("contact", {"action": "request", "target_id": "u-2"}),
        ("session", {"action": "login", "ip": "2001:db8::1", "port": 443, "device_id": "d"}),
        ("media", {"media_type": "image", "sha256": "a" * 64, "pdq": "F" * 64}),
        ("report", {"target_id": "u-2", "reason": "made me uncomfortable"}),
        ("moderation", {"subject_id": "u-2", "decision": "cleared", "reviewer_id": "r-1"}),
    ],
)
def test_every_event_type_accepts_its_fields(event_type: str, extra: dict[str, Any]) -> None:
    base = {"event_id": "x", "tenant_id": "t", "type": event_type,
            "occurred_at": "2026-01-01T00:00:00Z", "actor_id": "u-1"}
    assert validate_event({**base, **extra}).type == event_type


def test_profile_with_every_optional_field_is_valid() -> None:
    assert validate_event(profile()).fields["timezone"] == "America/New_York"


def test_missing_required_fields_are_each_named() -> None:
    assert errors_of({"type": "message"}) == [
        ("event_id", "required"),
        ("tenant_id", "required"),
        ("occurred_at", "required"),
        ("actor_id", "required"),
        ("conversation_id", "required"),
        ("recipient_ids", "required"),
        ("channel", "required"),
    ]


def test_wrong_types_name_the_field_and_the_type_found() -> None:
    with pytest.raises(InvalidRecord) as caught:
        validate_event(message(actor_id=17, recipient_ids="u-42", port=True))
    by_field = {e.field: e for e in caught.value.errors}
    assert by_field["actor_id"].message == "must be a string, got number"
    assert by_field["recipient_ids"].rule == "type"
    assert by_field["port"].message == "must be an integer, got boolean"


def test_unknown_top_level_field_is_rejected_not_ignored() -> None:
    assert errors_of(message(is_admin=True)) == [("is_admin", "unknown_field")]


def test_a_field_of_another_type_is_unknown_here() -> None:
    assert errors_of(message(action="block")) == [("action", "unknown_field")]


def test_unknown_event_type_is_named() -> None:
    assert ("type", "enum") in errors_of(message(type="telepathy"))


@pytest.mark.parametrize(
    "stamp,rule",
    [
        ("2026-03-01T21:14:05", "timestamp"),  # no offset
        ("2026-03-01 21:14", "timestamp"),
        ("2026-02-30T10:00:00Z", "timestamp"),  # no such day
        ("9999-12-31T23:59:59Z", "out_of_range"),
        ("1969-07-20T20:17:00Z", "out_of_range"),
        ("2026-03-01T21:14:05+25:00", "timestamp"),
    ],
)
def test_bad_timestamps_are_refused(stamp: str, rule: str) -> None:
    assert errors_of(message(occurred_at=stamp)) == [("occurred_at", rule)]


def test_timestamp_with_nanoseconds_and_offset_keeps_microseconds() -> None:
    event = validate_event(message(occurred_at="2026-03-01T21:14:05.123456789-05:00"))
    assert event.occurred_at.microsecond == 123456
    assert event.occurred_at.utcoffset() is not None


def test_ten_megabyte_content_is_refused_by_length() -> None:
    assert errors_of(message(content="x" * 10_000_000)) == [("content", "max_length")]


def test_ten_megabyte_record_is_refused_before_parsing() -> None:
    body = json.dumps(message(content="x" * 10_000_000)).encode()
    assert parse_errors(body) == [("(record)", "too_large")]


def test_invalid_utf8_is_refused_with_the_byte_offset() -> None:
    with pytest.raises(InvalidRecord) as caught:
        parse_json(b'{"event_id": "\xff\xfe"}')
    assert caught.value.first.rule == "utf8"
    assert "byte 14" in caught.value.first.message


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_nan_and_infinity_are_refused(constant: bytes) -> None:
    assert parse_errors(b'{"port": ' + constant + b"}") == [("(record)", "not_finite")]


def test_nan_in_content_signals_is_refused_after_parsing() -> None:
    assert errors_of(message(content_signals={"secrecy": float("nan")})) == [
        ("content_signals.secrecy", "out_of_range")
    ]


def test_repeated_json_keys_are_refused() -> None:
    assert parse_errors(b'{"actor_id": "a", "actor_id": "b"}') == [("actor_id", "duplicate_key")]


def test_deep_nesting_is_refused() -> None:
    assert parse_errors(b"[" * 5000 + b"]" * 5000)[0][1] == "too_deep"


def test_nul_and_lone_surrogates_are_refused() -> None:
    assert errors_of(message(content="a\x00b")) == [("content", "nul_char")]
    assert errors_of(message(conversation_id="\ud800")) == [("conversation_id", "unicode")]


def test_recipients_are_bounded_and_distinct() -> None:
    assert errors_of(message(recipient_ids=[])) == [("recipient_ids", "items")]
    assert errors_of(message(recipient_ids=[f"u{i}" for i in range(101)])) == [
        ("recipient_ids", "items")
    ]
    assert errors_of(message(recipient_ids=["a", "b", "a"])) == [("recipient_ids[2]", "unique")]


def test_content_hash_must_match_content() -> None:
    assert errors_of(message(content_sha256="0" * 64)) == [("content_sha256", "mismatch")]


def test_out_of_range_values() -> None:
    assert errors_of(message(port=70000)) == [("port", "out_of_range")]
    assert errors_of(message(content_signals={"gifts": 1.5})) == [
        ("content_signals.gifts", "out_of_range")
    ]
    assert errors_of(message(ip="999.1.1.1")) == [("ip", "ip")]
    assert errors_of(profile(timezone="Mars/Olympus")) == [("timezone", "timezone")]
    assert errors_of(profile(country="XX")) == [("country", "country")]
    assert errors_of(profile(age_band="12")) == [("age_band", "enum")]


def test_tenant_id_pattern_and_unknown_tenant() -> None:
    assert errors_of(message(tenant_id="acme corp")) == [("tenant_id", "pattern")]
    with pytest.raises(InvalidRecord) as caught:
        validate_event(message(), known_tenants=frozenset({"other"}))
    assert (caught.value.first.field, caught.value.first.rule) == ("tenant_id", "unknown_tenant")


def test_null_optional_is_absent_but_null_required_is_missing() -> None:
    assert "language" not in validate_event(message(language=None)).fields
    assert errors_of(message(actor_id=None)) == [("actor_id", "required")]


def test_a_record_that_is_not_an_object() -> None:
    assert errors_of([message()]) == [("(record)", "type")]
    assert parse_errors(b"{not json") == [("(record)", "json")]


def test_duplicate_ids_within_one_batch_point_at_the_first() -> None:
    batch = [message(event_id="a"), message(event_id="b"), message(event_id="a")]
    problems = validate_batch_ids(batch)
    assert list(problems) == [2]
    assert problems[2].message == "repeats the event_id of item 0"
