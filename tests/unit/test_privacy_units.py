"""Erasure requests, the retention policy and the keys erasure tombstones (pure, no services)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.errors import ConfigError
from pipeline.privacy.errors import InvalidErasureRequest, InvalidRetentionConfig
from pipeline.privacy.policy import CLASSES, DEFAULT_FILE, load_policy, parse_policy
from pipeline.privacy.requests import erasure_request
from pipeline.privacy.tombstones import keyed_topics
from pipeline.topology import load_topology

REPO = Path(__file__).resolve().parents[2]
P = "u_" + "a" * 26
OTHER = "u_" + "b" * 26
GOOD = {"user_id": "user-17", "reason": "GDPR Art. 17 request #42", "requested_by": "dpo"}


def test_a_request_keeps_its_fields_and_never_shows_the_raw_id() -> None:
    request = erasure_request(GOOD)
    assert (request.user_id, request.reason, request.requested_by) == (
        "user-17", "GDPR Art. 17 request #42", "dpo")
    assert "user-17" not in repr(request)


@pytest.mark.parametrize(("body", "field", "rule"), [
    ([], "(body)", "type"),
    ({**GOOD, "tenant_id": "other"}, "tenant_id", "unknown_field"),
    ({"reason": "r", "requested_by": "x"}, "user_id", "required"),
    ({**GOOD, "user_id": 17}, "user_id", "type"),
    ({**GOOD, "user_id": "x" * 257}, "user_id", "max_length"),
    ({**GOOD, "reason": "   "}, "reason", "blank"),
    ({**GOOD, "reason": "r" * 501}, "reason", "max_length"),
    ({**GOOD, "requested_by": None}, "requested_by", "required"),
])
def test_a_bad_request_names_its_field(body: Any, field: str, rule: str) -> None:
    with pytest.raises(InvalidErasureRequest) as caught:
        erasure_request(body)
    assert (caught.value.field, caught.value.rule) == (field, rule)


def _document(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(DEFAULT_FILE.read_text(encoding="utf-8"))
    document.update(changes)
    return document


def test_the_packaged_policy_loads_and_jurisdictions_override_defaults() -> None:
    policy = load_policy(tenant_jurisdictions={"t-eu": "EU"}, default_jurisdiction="US")
    assert set(policy.defaults) == set(CLASSES)
    assert policy.days("t-us", "raw_content") == 90
    assert policy.days("t-eu", "raw_content") == 30
    assert policy.days("t-eu", "scores") == 365
    assert policy.days(None, "dead_letters") == 30
    assert len(policy.sha256) == 64


@pytest.mark.parametrize(("document", "key"), [
    ("not a mapping", "(document)"),
    (_document(version=2), "version"),
    (_document(extra=1), "extra"),
    (_document(defaults={**_document()["defaults"], "raw_content": "90"}),
     "defaults.raw_content"),
    (_document(defaults={**_document()["defaults"], "scores": 0}), "defaults.scores"),
    (_document(defaults={k: v for k, v in _document()["defaults"].items() if k != "alerts"}),
     "defaults.alerts"),
    (_document(defaults={**_document()["defaults"], "photos": 3}), "defaults.photos"),
    (_document(jurisdictions={"EU": {"events": True}}), "jurisdictions.EU.events"),
    (_document(jurisdictions={"EU": {"evidence": 5}}), "jurisdictions.EU.evidence"),
    (_document(jurisdictions=["EU"]), "jurisdictions"),
])
def test_a_malformed_policy_names_the_key(document: Any, key: str) -> None:
    with pytest.raises(InvalidRetentionConfig) as caught:
        parse_policy(document)
    assert caught.value.key == key
    assert key in str(caught.value)
    assert isinstance(caught.value, ConfigError)


def test_an_unreadable_or_invalid_file_names_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "retention.yaml"
    broken.write_text("defaults: [", encoding="utf-8")
    with pytest.raises(InvalidRetentionConfig, match=r"retention\.yaml"):
        load_policy(broken)
    with pytest.raises(InvalidRetentionConfig, match=r"missing\.yaml"):
        load_policy(tmp_path / "missing.yaml")


def test_tombstoned_keys_are_exactly_the_persons_on_each_compacted_topic() -> None:
    topology = load_topology(REPO / "topologies" / "topics.yaml")
    topics = {t.place: t for t in keyed_topics(topology, "t1", P, [f"t1/ip/i_{'c' * 26}"])}
    for place in ("profiles table", "actors table", "texts table", "targets table",
                  "risk table"):
        assert topics[place].matches(P.encode())
        assert not topics[place].matches(OTHER.encode())
        assert topology.topics[topics[place].topic].cleanup == "compact"
    pairs = topics["pairs table"]
    assert pairs.matches(f"{P}|{OTHER}".encode()) and pairs.matches(f"{OTHER}|{P}".encode())
    assert not pairs.matches(f"{OTHER}|u_{'c' * 26}".encode())
    assert not pairs.matches(P.encode() + b"x|" + OTHER.encode())
    latest = topics["latest scores"]
    assert latest.matches(f"t1/{P}".encode()) and not latest.matches(f"t2/{P}".encode())
    identity = topics["identity map"]
    assert identity.matches(f"t1/user/{P}".encode())
    assert identity.matches(f"t1/ip/i_{'c' * 26}".encode())
    assert not identity.matches(f"t2/user/{P}".encode())
    assert all(topology.topics[t.topic].cleanup == "compact" for t in topics.values())
