"""The evidence package document: event hashes, ids, network facts, integrity (pure)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from pipeline.evidence.gather import exchanged_with
from pipeline.evidence.package import (
    FORMAT,
    Gathered,
    Incident,
    StoredEvent,
    assemble,
    encode,
    event_sha256,
    network_facts,
    original_of,
    package_id_of,
    verify_package,
)
from pipeline.evidence.policy import EvidenceConfig
from pipeline.model import NormalizedEvent

AT = datetime(2026, 3, 10, 21, 30, tzinfo=UTC)
ACTOR = "u_" + "a" * 26
OTHER = "u_" + "b" * 26


def normalized(event_id: str, kind: str = "message", actor: str = ACTOR, minutes: int = 0,
               **fields: Any) -> NormalizedEvent:
    at = AT + timedelta(minutes=minutes)
    return NormalizedEvent(event_id=event_id, tenant_id="t1", type=kind,
                           occurred_at_us=int(at.timestamp() * 1_000_000), utc_offset_min=60,
                           actor=actor, source="test", **fields)


def stored(event: NormalizedEvent) -> StoredEvent:
    """As the events table gives it back: record without content, content beside it."""
    record = event.to_record()
    content = record.pop("content")
    occurred = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=event.occurred_at_us)
    return StoredEvent(event.event_id, event.type, occurred, event.actor, occurred,
                       original_of(json.loads(json.dumps(record)), content))


def test_an_events_hash_is_over_its_normalised_record_as_first_stored() -> None:
    event = normalized("m-1", conversation="c_" + "c" * 26, recipients=(OTHER,),
                       channel="private", content="see you at practice, café?",
                       content_signals={"question": 0.5})
    expected = hashlib.sha256(json.dumps(event.to_record(), sort_keys=True,
                                         separators=(",", ":")).encode()).hexdigest()
    assert stored(event).entry()["sha256"] == expected
    assert event_sha256(stored(event).original) == expected
    assert stored(event).entry()["original"] == event.to_record()


def test_event_hash_is_pinned() -> None:
    # Changing the hashed form breaks every stored package's event hashes: add a format.
    original = {"event_id": "e1", "content": "hi", "recipients": ["u_x"], "n": 1.5}
    assert event_sha256(original) == hashlib.sha256(
        b'{"content":"hi","event_id":"e1","n":1.5,"recipients":["u_x"]}').hexdigest()


def test_package_ids_are_deterministic_and_distinct_per_trigger() -> None:
    first = package_id_of("t1", "alert", "a-1")
    assert first == package_id_of("t1", "alert", "a-1")
    assert first == "pkg_" + hashlib.sha256(
        b"wardstream/evidence-package\x00t1\x00alert\x00a-1").hexdigest()[:32]
    others = {package_id_of("t2", "alert", "a-1"), package_id_of("t1", "escalation", "a-1"),
              package_id_of("t1", "alert", "a-2")}
    assert first not in others
    assert len(others) == 3


def test_network_facts_come_only_from_the_subjects_own_messages_and_sessions() -> None:
    events = [stored(e) for e in [
        normalized("s-1", "session", action="login", ip="i_1", port=443, device="d_1",
                   user_agent="synthetic-browser/1"),
        normalized("m-1", minutes=5, ip="i_1", device="d_1"),
        normalized("m-2", minutes=9, ip="i_2"),
        normalized("m-3", minutes=10, actor=OTHER, ip="i_9"),
        normalized("p-1", "profile", minutes=11, age_band="18_plus"),
    ]]
    facts = network_facts(events, ACTOR)
    assert facts["ips"] == [
        {"ip": "i_1", "first_seen_at": "2026-03-10T21:30:00.000000Z",
         "last_seen_at": "2026-03-10T21:35:00.000000Z", "events": 2},
        {"ip": "i_2", "first_seen_at": "2026-03-10T21:39:00.000000Z",
         "last_seen_at": "2026-03-10T21:39:00.000000Z", "events": 1},
    ]
    assert [d["device"] for d in facts["devices"]] == ["d_1"]
    assert facts["user_agents"][0]["user_agent"] == "synthetic-browser/1"
    assert facts["sessions"] == [{
        "event_id": "s-1", "occurred_at": "2026-03-10T21:30:00.000000Z", "action": "login",
        "ip": "i_1", "port": 443, "device": "d_1", "user_agent": "synthetic-browser/1"}]


def _package() -> tuple[dict[str, Any], bytes, bytes]:
    incident = Incident("t1", "alert", "a-1", ACTOR, AT)
    profile = normalized("p-1", "profile", minutes=-60 * 24,
                         account_created_at_us=1_700_000_000_000_000)
    gathered = Gathered(events=[stored(normalized("m-1", content="hello"))],
                        profiles=[stored(profile)],
                        alerts=[{"alert_id": "a-1", "explanation": "contact rose"}],
                        trigger_alert={"alert_id": "a-1", "explanation": "contact rose"})
    document = assemble(incident, EvidenceConfig().window(AT), AT, "US", gathered)
    content, sha256 = encode(document)
    return document, content, sha256


def test_the_package_document() -> None:
    document, content, sha256 = _package()
    assert document["format"] == FORMAT
    assert document["package_id"] == package_id_of("t1", "alert", "a-1")
    assert document["window"] == {"start": "2026-02-08T21:30:00.000000Z",
                                  "end": "2026-03-11T21:30:00.000000Z"}
    assert document["event_counts"] == {"message": 1}
    assert document["account"]["account_created_at"] == "2023-11-14T22:13:20.000000Z"
    assert document["explanation"] == {"alert_id": "a-1", "explanation": "contact rose"}
    assert sha256 == hashlib.sha256(content).digest()
    assert json.loads(content) == document


def test_verify_package_detects_tampering() -> None:
    _, content, sha256 = _package()
    intact = verify_package(content, sha256, sha256.hex())
    assert intact.intact
    assert intact.as_dict()["matches_audit_log"] is True
    assert verify_package(content, sha256).intact  # no audit record to compare: not failed

    edited = content.replace(b"hello", b"hellO")
    assert not verify_package(edited, sha256, sha256.hex()).matches_stored_hash
    # Both the content and the stored hash replaced: the audit log's hash still differs.
    rehashed = hashlib.sha256(edited).digest()
    caught = verify_package(edited, rehashed, sha256.hex())
    assert caught.matches_stored_hash
    assert caught.matches_audit_log is False
    assert not caught.intact
    spaced = json.dumps(json.loads(content), indent=1).encode()
    assert not verify_package(spaced, hashlib.sha256(spaced).digest()).canonical
    assert not verify_package(b"\xff", hashlib.sha256(b"\xff").digest()).canonical


def test_counterparts_are_the_people_the_subject_exchanged_messages_with() -> None:
    at = datetime(2026, 3, 1, tzinfo=UTC)

    def stored(event_id: str, kind: str, actor: str, recipients: list[str]) -> StoredEvent:
        return StoredEvent(event_id, kind, at, actor, at, {"recipients": recipients})

    events = [
        stored("1", "message", "subj", ["kid"]),
        stored("2", "message", "kid", ["subj"]),
        stored("3", "message", "friend", ["kid"]),         # not to or from the subject
        stored("4", "message", "other", ["subj", "kid"]),
        stored("5", "report", "parent", ["subj"]),          # not a message
        stored("6", "message", "subj", ["kid", "subj", "teen"]),
    ]
    assert exchanged_with(events, "subj") == ["kid", "other", "teen"]
