"""The platform-integration mappings (pipeline.api.mapping): pure, no services.

Every mapped event must pass the contract's own validation, and every error
must name the field the request used, not the contract's.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import pytest

from pipeline.api import mapping
from pipeline.api.mapping import Mapped
from pipeline.contract import validate_event
from pipeline.contract.spec import DECISIONS
from pipeline.errors import InvalidRecord

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def contract_errors(mapped: Mapped) -> list[tuple[str, str]]:
    """The request-named (field, rule) pairs the contract finds in the mapped events."""
    items: list[dict[str, Any]] = []
    for index, event in enumerate(mapped.events):
        try:
            validate_event(event)
        except InvalidRecord as exc:
            items.extend({"index": index, **e.as_dict()} for e in exc.errors)
    return [(e.field, e.rule) for e in mapped.request_errors(items)]


def rejected(call: Any, *args: Any, **kwargs: Any) -> list[tuple[str, str]]:
    with pytest.raises(InvalidRecord) as caught:
        call(*args, **kwargs)
    return [(e.field, e.rule) for e in caught.value.errors]


# --- decisions ------------------------------------------------------------------------------


def decision_body(**changes: Any) -> dict[str, Any]:
    return {"subject": "user-9", "decision": "confirmed_grooming", "reviewer": "rev-1",
            **changes}


def test_decision_is_a_moderation_event_by_the_reviewer() -> None:
    wanted = mapping.decision(decision_body(note="chat logs seen", alert_id="a-1"),
                              tenant_id="acme", event_id="decision-1", now=NOW)
    assert wanted.alert_id == "a-1"
    [event] = wanted.mapped.events
    valid = validate_event(event)
    assert valid.fields == {
        "event_id": "decision-1", "tenant_id": "acme", "type": "moderation",
        "occurred_at": "2026-03-02T15:00:00+00:00", "actor_id": "rev-1", "subject_id": "user-9",
        "decision": "confirmed_grooming", "reviewer_id": "rev-1", "note": "chat logs seen",
    }


def test_decision_values_are_exactly_the_contracts() -> None:
    for value in DECISIONS:
        [event] = mapping.decision(decision_body(decision=value), tenant_id="t", event_id="e",
                                   now=NOW).mapped.events
        assert validate_event(event).fields["decision"] == value
    assert frozenset(DECISIONS) - {"escalated"} == mapping.CLOSING_DECISIONS


def test_decision_time_may_be_given_as_text_or_unix_time() -> None:
    def occurred(value: Any) -> str:
        [event] = mapping.decision(decision_body(occurred_at=value), tenant_id="t",
                                   event_id="e", now=NOW).mapped.events
        return str(validate_event(event).fields["occurred_at"])

    assert occurred("2026-03-01T10:00:00+01:00") == "2026-03-01T10:00:00+01:00"
    assert occurred(1_772_000_000) == "2026-02-25T06:13:20+00:00"
    assert occurred(1_772_000_000_000) == "2026-02-25T06:13:20+00:00"  # milliseconds


@pytest.mark.parametrize(("changes", "expected"), [
    ({"decision": "banned"}, ("decision", "enum")),
    ({"decision": None}, ("decision", "required")),
    ({"decision": 3}, ("decision", "type")),
    ({"alert_id": ["a"]}, ("alert_id", "type")),
    ({"alert_id": "x" * 129}, ("alert_id", "max_length")),
    ({"verdict": "guilty"}, ("verdict", "unknown_field")),
    ({"occurred_at": float("inf")}, ("occurred_at", "out_of_range")),
])
def test_bad_decisions_are_refused_by_the_mapping(changes: dict[str, Any],
                                                  expected: tuple[str, str]) -> None:
    assert expected in rejected(mapping.decision, decision_body(**changes), tenant_id="t",
                                event_id="e", now=NOW)


@pytest.mark.parametrize(("changes", "expected"), [
    ({"subject": None}, [("subject", "required")]),
    ({"subject": 42}, [("subject", "type")]),
    ({"reviewer": None}, [("reviewer", "required")]),  # actor_id and reviewer_id: once
    ({"note": "n" * 2001}, [("note", "max_length")]),
    ({"note": False}, [("note", "type")]),
    ({"occurred_at": "yesterday"}, [("occurred_at", "timestamp")]),
])
def test_contract_errors_name_the_request_fields(changes: dict[str, Any],
                                                 expected: list[tuple[str, str]]) -> None:
    wanted = mapping.decision(decision_body(**changes), tenant_id="t", event_id="e", now=NOW)
    assert contract_errors(wanted.mapped) == expected


def test_decision_body_must_be_an_object() -> None:
    assert rejected(mapping.decision, ["x"], tenant_id="t", event_id="e",
                    now=NOW) == [("(body)", "type")]


# --- idempotency ----------------------------------------------------------------------------


def test_idempotent_ids_depend_on_tenant_purpose_and_key_only() -> None:
    first = mapping.idempotent_event_id("acme", "decision", "k-1")
    assert first == mapping.idempotent_event_id("acme", "decision", "k-1")
    assert first.startswith("decision-") and len(first) <= 128
    assert first != mapping.idempotent_event_id("other", "decision", "k-1")
    assert first != mapping.idempotent_event_id("acme", "msg", "k-1")
    assert first != mapping.idempotent_event_id("acme", "decision", "k-2")
    # The tenant is length-prefixed: no two (tenant, key) pairs share their material.
    assert (mapping.idempotent_event_id("ab", "x", "c|d")
            != mapping.idempotent_event_id("ab|x|c", "x", "d"))


@pytest.mark.parametrize("value", ["", " leading-space", "tab\there", "é", "k" * 256])
def test_bad_idempotency_keys_are_refused(value: str) -> None:
    assert rejected(mapping.idempotency_key, value) == [("Idempotency-Key", "format")]


def test_idempotency_key_is_optional() -> None:
    assert mapping.idempotency_key(None) is None
    assert mapping.idempotency_key("order 17/b") == "order 17/b"


# --- the integration guide's message ----------------------------------------------------------


def guide_message(**changes: Any) -> dict[str, Any]:
    return {"platform_user_id": "p-1", "session_id": "s-9", "content": "hi there",
            "timestamp": "2026-03-01T21:14:05+00:00", "recipient_ids": ["p-2"],
            "metadata": {"ip_address": "192.0.2.7", "user_agent": "app/1.2"}, **changes}


def test_guide_message_maps_onto_a_contract_message() -> None:
    mapped = mapping.compat_message(guide_message(), tenant_id="acme", event_id="msg-1")
    assert validate_event(mapped.events[0]).fields == {
        "event_id": "msg-1", "tenant_id": "acme", "type": "message",
        "occurred_at": "2026-03-01T21:14:05+00:00", "actor_id": "p-1",
        "conversation_id": "s-9", "recipient_ids": ["p-2"], "channel": "private",
        "content": "hi there", "ip": "192.0.2.7", "user_agent": "app/1.2",
        "content_sha256": "9b96a1fe1d548cbbc960cc6a0286668fd74a763667b06366fb2324269fcabaa4",
    }


def test_guide_message_to_several_is_a_group_message_and_metadata_is_optional() -> None:
    body = guide_message(recipient_ids=["p-2", "p-3"])
    del body["metadata"]
    del body["content"]
    fields = validate_event(mapping.compat_message(body, tenant_id="t", event_id="m")
                            .events[0]).fields
    assert (fields["channel"], "ip" in fields, "content" in fields) == ("group", False, False)


@pytest.mark.parametrize(("changes", "expected"), [
    ({"platform_user_id": None}, ("platform_user_id", "required")),
    ({"session_id": 7}, ("session_id", "type")),
    ({"recipient_ids": []}, ("recipient_ids", "items")),
    ({"recipient_ids": None}, ("recipient_ids", "required")),
    ({"timestamp": "soon"}, ("timestamp", "timestamp")),
    ({"content": "x" * 20_001}, ("content", "max_length")),
    ({"metadata": {"ip_address": "999.1.1.1"}}, ("metadata.ip_address", "ip")),
    ({"metadata": {"user_agent": ""}}, ("metadata.user_agent", "min_length")),
])
def test_guide_message_errors_name_the_guides_fields(changes: dict[str, Any],
                                                     expected: tuple[str, str]) -> None:
    mapped = mapping.compat_message(guide_message(**changes), tenant_id="t", event_id="m")
    assert expected in contract_errors(mapped)


@pytest.mark.parametrize(("changes", "expected"), [
    ({"metadata": "ip"}, ("metadata", "type")),
    ({"metadata": {"device": "x"}}, ("metadata.device", "unknown_field")),
    ({"channel": "private"}, ("channel", "unknown_field")),
])
def test_guide_message_shape_errors(changes: dict[str, Any], expected: tuple[str, str]) -> None:
    assert expected in rejected(mapping.compat_message, guide_message(**changes),
                                tenant_id="t", event_id="m")


# --- the client library's POST /v1/events ----------------------------------------------------


def client_body(**changes: Any) -> dict[str, Any]:
    return {"idempotency_key": "k-1", "tenant_id": "acme", "conversation_id": "c-1",
            "actor_external_id_hash": "h-actor", "target_actor_external_id_hashes": ["h-kid"],
            "event_type": "message", "timestamp": "2026-03-01T21:14:05+00:00",
            "content": "hey", **changes}


def test_client_shape_is_told_apart_from_the_contract() -> None:
    assert mapping.is_client_library_shape(client_body())
    assert not mapping.is_client_library_shape({**client_body(), "type": "message"})
    assert not mapping.is_client_library_shape({"event_type": "message"})
    assert not mapping.is_client_library_shape([client_body()])


@pytest.mark.parametrize(("event_type", "kind"), [
    ("message", "message"), ("image", "message"), ("gift", "message"),
    ("voice_clip", "message"), ("friend_request", "contact"), ("profile_change", "profile"),
])
def test_every_client_event_type_maps_onto_a_valid_contract_event(event_type: str,
                                                                   kind: str) -> None:
    content = "hey" if kind == "message" else None
    wanted = mapping.client_event(client_body(event_type=event_type, content=content))
    assert wanted.tenant_id == "acme"
    [event] = wanted.mapped.events
    fields = validate_event(event).fields
    assert fields["type"] == kind
    assert fields["event_id"] == mapping.idempotent_event_id("acme", "client", "k-1")
    assert fields["actor_id"] == "h-actor"
    if kind == "message":
        assert (fields["recipient_ids"], fields["conversation_id"]) == (["h-kid"], "c-1")
        assert (fields["channel"], fields["content"]) == ("private", "hey")
    if kind == "contact":
        assert (fields["action"], fields["target_id"]) == ("request", "h-kid")


def test_recipient_metadata_becomes_profile_events_of_the_recipients() -> None:
    wanted = mapping.client_event(client_body(
        target_actor_external_id_hashes=["h-a", "h-b", "h-c"],
        metadata={"recipient_age_bands": ["13_15", None, "18_plus"],
                  "recipient_timezone": "Europe/Berlin"}))
    main, *profiles = [validate_event(e).fields for e in wanted.mapped.events]
    assert main["channel"] == "group"
    assert [(p["event_id"], p["actor_id"], p.get("age_band"), p["timezone"]) for p in profiles] \
        == [(f"{main['event_id']}.p0", "h-a", "13_15", "Europe/Berlin"),
            (f"{main['event_id']}.p1", "h-b", None, "Europe/Berlin"),
            (f"{main['event_id']}.p2", "h-c", "18_plus", "Europe/Berlin")]
    assert all(p["type"] == "profile" and p["occurred_at"] == main["occurred_at"]
               for p in profiles)

    keyed = mapping.client_event(client_body(metadata={"recipient_age_bands":
                                                       {"h-kid": "under_13"}}))
    assert [e.get("age_band") for e in keyed.mapped.events] == [None, "under_13"]


@pytest.mark.parametrize(("changes", "expected"), [
    ({"event_type": "poke"}, ("event_type", "enum")),
    ({"idempotency_key": None}, ("idempotency_key", "required")),
    ({"tenant_id": 5}, ("tenant_id", "type")),
    ({"event_type": "friend_request", "content": None,
      "target_actor_external_id_hashes": ["a", "b"]},
     ("target_actor_external_id_hashes", "items")),
    ({"event_type": "profile_change"}, ("content", "not_allowed")),
    ({"metadata": {"recipient_age_bands": ["adult"]}},
     ("metadata.recipient_age_bands[0]", "enum")),
    ({"metadata": {"recipient_age_bands": ["13_15", "13_15"]}},
     ("metadata.recipient_age_bands", "items")),
    ({"metadata": {"recipient_age_bands": {"h-stranger": "13_15"}}},
     ("metadata.recipient_age_bands.h-stranger", "unknown_target")),
    ({"metadata": {"sha256": "0"}}, ("metadata.sha256", "unknown_field")),
    ({"extra": 1}, ("extra", "unknown_field")),
])
def test_client_shape_errors(changes: dict[str, Any], expected: tuple[str, str]) -> None:
    assert expected in rejected(mapping.client_event, client_body(**changes))


@pytest.mark.parametrize(("changes", "expected"), [
    ({"actor_external_id_hash": None}, ("actor_external_id_hash", "required")),
    ({"conversation_id": None}, ("conversation_id", "required")),
    ({"target_actor_external_id_hashes": []}, ("target_actor_external_id_hashes", "items")),
    ({"target_actor_external_id_hashes": ["x", 3]},
     ("target_actor_external_id_hashes[1]", "type")),
    ({"timestamp": "2026-03-01 noon"}, ("timestamp", "timestamp")),
    ({"metadata": {"recipient_timezone": "Mars/Olympus"}},
     ("metadata.recipient_timezone", "timezone")),
])
def test_client_contract_errors_name_the_client_fields(changes: dict[str, Any],
                                                       expected: tuple[str, str]) -> None:
    assert expected in contract_errors(mapping.client_event(client_body(**changes)).mapped)


# --- reports ---------------------------------------------------------------------------------


def test_report_request_is_checked() -> None:
    wanted = mapping.report_request({"session_id": "s-1", "confirmed_by": "rev-1"})
    assert (wanted.session_id, wanted.confirmed_by) == ("s-1", "rev-1")
    assert set(rejected(mapping.report_request, {"session_id": 3, "why": "x"})) == {
        ("session_id", "type"), ("confirmed_by", "required"), ("why", "unknown_field")}


# --- purity ----------------------------------------------------------------------------------


def test_mapping_imports_no_io_framework() -> None:
    code = ("import sys, pipeline.api.mapping\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "{'fastapi', 'starlette', 'psycopg', 'faust', 'aiokafka', 'confluent_kafka'}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"
