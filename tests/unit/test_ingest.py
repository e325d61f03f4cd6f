"""pipeline.ingest.accept: raw bytes to normalised event or dead letter, never an exception."""

from __future__ import annotations

import json

from pipeline.avro import load_schema_map
from pipeline.ingest import Accepted, accept, event_key, is_replayed_copy
from pipeline.model import DeadLetter
from pipeline.pseudonym import Pseudonymizer
from tests.unit.events import message

SCHEMAS = load_schema_map()
PSEUDONYMS = Pseudonymizer(b"k" * 32)


def run(data: bytes, fmt: str = "json", known: set[str] | None = None) -> Accepted | DeadLetter:
    return accept(data, fmt, source="events.raw.json/1/7", received_at_us=5,  # type: ignore[arg-type]
                  pseudonyms=PSEUDONYMS, schemas=SCHEMAS,
                  is_known_tenant=None if known is None else known.__contains__)


def test_valid_json_is_accepted_and_normalised() -> None:
    result = run(json.dumps(message()).encode())
    assert isinstance(result, Accepted)
    assert result.event.source == "events.raw.json/1/7"
    assert result.event.actor.startswith("u_")


def test_json_and_avro_of_one_event_normalise_identically() -> None:
    from_json = run(json.dumps(message()).encode())
    from_avro = run(SCHEMAS.encode(1, message()), "avro")
    assert isinstance(from_json, Accepted) and isinstance(from_avro, Accepted)
    assert from_json.event == from_avro.event


def test_bad_record_becomes_a_dead_letter_with_reason_and_original() -> None:
    data = json.dumps(message(channel="carrier-pigeon")).encode()
    result = run(data)
    assert isinstance(result, DeadLetter)
    assert (result.field, result.rule) == ("channel", "enum")
    assert result.reason.startswith("channel: 'carrier-pigeon' is not one of")
    assert result.original == data
    assert result.dead_letter_id == "events.raw.json/1/7"
    assert result.tenant_id == "acme"


def test_every_error_is_kept_in_the_dead_letter() -> None:
    result = run(json.dumps(message(port=-1, channel=None)).encode())
    assert isinstance(result, DeadLetter)
    assert [e["field"] for e in result.errors] == ["channel", "port"]


def test_unknown_tenant_is_a_dead_letter() -> None:
    result = run(json.dumps(message()).encode(), known={"someone-else"})
    assert isinstance(result, DeadLetter) and result.rule == "unknown_tenant"


def test_garbage_bytes_are_dead_letters_not_crashes() -> None:
    for data in (b"\xff\xfe", b"{", b"[]", b"null", b"\x00" * 50):
        assert isinstance(run(data), DeadLetter)
        assert isinstance(run(data, "avro"), DeadLetter)


def test_event_key_groups_copies_of_one_event_only() -> None:
    assert event_key("acme", "e-1") == event_key("acme", "e-1")
    assert event_key("acme", "e-1") != event_key("acme2", "e-1")
    assert event_key("a", "b\x00c") != event_key("a\x00b", "c")


def test_dedupe_decision_distinguishes_a_replay_from_a_duplicate() -> None:
    assert is_replayed_copy(None, "v/0/1") is None
    assert is_replayed_copy("v/0/1", "v/0/1") is True
    assert is_replayed_copy("v/0/1", "v/0/9") is False
