"""Avro schemas, the Confluent wire framing and their agreement with the contract."""

from __future__ import annotations

import dataclasses
import json
import struct
from pathlib import Path

import pytest

from pipeline.avro import (
    DEAD_LETTER_SCHEMA_ID,
    IDENTITY_ENTRY_SCHEMA_ID,
    NORMALIZED_EVENT_SCHEMA_ID,
    default_schema_dir,
    load_schema_map,
)
from pipeline.contract import validate_event
from pipeline.contract.spec import COMMON_FIELDS, TYPE_FIELDS
from pipeline.errors import InvalidRecord
from pipeline.ingest import decode_avro
from pipeline.model import DeadLetter, IdentityEntry, NormalizedEvent
from pipeline.normalize import normalize
from pipeline.pseudonym import Pseudonymizer
from tests.unit.events import message

SCHEMAS = load_schema_map()


def _fields(schema_file: str) -> dict[str, object]:
    raw = json.loads((default_schema_dir() / schema_file).read_text())
    return {f["name"]: f["type"] for f in raw["fields"]}


@pytest.mark.parametrize("event_type", sorted(TYPE_FIELDS))
def test_each_event_schema_has_exactly_the_contract_fields(event_type: str) -> None:
    fields = _fields(f"event_{event_type}.v1.avsc")
    specs = {**COMMON_FIELDS, **TYPE_FIELDS[event_type]}
    assert set(fields) == set(specs)
    for name, spec in specs.items():
        nullable = isinstance(fields[name], list) and "null" in fields[name]  # type: ignore[operator]
        assert nullable == (not spec.required), name


@pytest.mark.parametrize(
    "schema_file,cls",
    [
        ("normalized_event.v1.avsc", NormalizedEvent),
        ("dead_letter.v1.avsc", DeadLetter),
        ("identity_entry.v1.avsc", IdentityEntry),
    ],
)
def test_internal_schemas_mirror_their_classes(schema_file: str, cls: type) -> None:
    assert list(_fields(schema_file)) == [f.name for f in dataclasses.fields(cls)]


def test_schema_ids_never_change_meaning() -> None:
    registry = json.loads((default_schema_dir() / "registry.json").read_text())["schemas"]
    pinned = {"1": "event_message.v1.avsc", "2": "event_contact.v1.avsc",
              "3": "event_session.v1.avsc", "4": "event_profile.v1.avsc",
              "5": "event_media.v1.avsc", "6": "event_report.v1.avsc",
              "7": "event_moderation.v1.avsc", "100": "normalized_event.v1.avsc",
              "101": "dead_letter.v1.avsc", "102": "identity_entry.v1.avsc",
              "200": "routed_event.v1.avsc", "201": "signal_batch.v1.avsc",
              "202": "score.v1.avsc", "203": "alert.v1.avsc", "204": "model_version.v1.avsc",
              "205": "label.v1.avsc"}
    assert {k: v["file"] for k, v in registry.items()} == pinned


def test_raw_avro_event_decodes_to_what_json_would_give() -> None:
    event = message(language="en")
    framed = SCHEMAS.encode(SCHEMAS.event_type_ids["message"], event)
    assert framed[0] == 0 and struct.unpack(">I", framed[1:5])[0] == 1
    decoded = decode_avro(framed, SCHEMAS)
    assert decoded == event
    assert validate_event(decoded).fields["content_sha256"]


def test_normalized_event_round_trips() -> None:
    event, identities = normalize(validate_event(message()), Pseudonymizer(b"k" * 32), "s/0/1")
    framed = SCHEMAS.encode(NORMALIZED_EVENT_SCHEMA_ID, event.to_record())
    assert NormalizedEvent.from_record(SCHEMAS.decode(framed)[1]) == event
    entry = identities[0]
    framed = SCHEMAS.encode(IDENTITY_ENTRY_SCHEMA_ID, entry.to_record())
    assert IdentityEntry(**SCHEMAS.decode(framed)[1]) == entry


def test_dead_letter_round_trips_with_original_bytes() -> None:
    letter = DeadLetter("t/0/5", "t/0/5", 1, None, "(record)", "utf8", "bad", [], b"\xff\x00")
    framed = SCHEMAS.encode(DEAD_LETTER_SCHEMA_ID, letter.to_record())
    assert DeadLetter.from_record(SCHEMAS.decode(framed)[1]) == letter


@pytest.mark.parametrize(
    "data,rule",
    [
        (b"", "avro_framing"),
        (b"\x01\x00\x00\x00\x01abc", "avro_framing"),
        (b"\x00\x00\x00\x03\xe7abc", "schema_id"),
        (b"\x00\x00\x00\x00\x01\x02", "avro"),
        # A string length of 2**62 must not allocate or hang.
        (b"\x00\x00\x00\x00\x01\xfe\xff\xff\xff\xff\xff\xff\xff\x7f", "avro"),
    ],
)
def test_hostile_avro_bytes_become_field_errors(data: bytes, rule: str) -> None:
    with pytest.raises(InvalidRecord) as caught:
        SCHEMAS.decode(data)
    assert caught.value.first.rule == rule


def test_avro_record_whose_type_disagrees_with_its_schema_is_refused() -> None:
    framed = SCHEMAS.encode(1, message(type="contact"))
    with pytest.raises(InvalidRecord) as caught:
        decode_avro(framed, SCHEMAS)
    assert caught.value.first.field == "type"


def test_internal_schema_id_is_not_a_platform_event() -> None:
    event, _ = normalize(validate_event(message()), Pseudonymizer(b"k" * 32), "s/0/1")
    framed = SCHEMAS.encode(NORMALIZED_EVENT_SCHEMA_ID, event.to_record())
    with pytest.raises(InvalidRecord) as caught:
        decode_avro(framed, SCHEMAS)
    assert caught.value.first.rule == "schema_id"


def test_schema_dir_is_the_repository_folder() -> None:
    assert default_schema_dir() == Path(__file__).resolve().parents[2] / "schemas"
