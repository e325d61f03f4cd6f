"""topologies/: loading with clear errors, and the pure drift planner."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from pipeline.errors import ConfigError
from pipeline.kafka.topics import ActualTopic, plan
from pipeline.settings import Settings
from pipeline.topology import load_topology, parse_topology


def shipped() -> Any:
    return load_topology(Settings().topology_file)


def doc(**topic: Any) -> dict[str, Any]:
    return {"version": 1, "topics": {"t": {"cleanup": "delete", **topic}}}


def test_shipped_topology_is_consistent() -> None:
    topology = shipped()
    assert topology.port("normalize", "writes", "dead_letters") == "events.dlq"
    validated = topology.topics[topology.port("dedupe", "reads", "validated")]
    changelog = topology.topics[topology.port("dedupe", "tables", "dedupe")]
    assert changelog.partitions == validated.partitions
    assert changelog.cleanup == "compact"
    assert topology.topics["identity.map"].cleanup == "compact"


@pytest.mark.parametrize(
    "document,message",
    [
        ({"version": 2}, "version: 1"),
        (doc(partitions=0), "topics.t.partitions: must be an integer from 1 to 1024"),
        (doc(partitions="4"), "topics.t.partitions"),
        (doc(cleanup="forever"), "topics.t.cleanup"),
        (doc(retention_ms=5), "topics.t.retention_ms"),
        (doc(colour="red"), "unknown keys ['colour']"),
        ({"version": 1, "topics": {"t": {}}, "agents": {"a": {"reads": {"x": "nope"}}}},
         "agents.a: names topic 'nope'"),
    ],
)
def test_bad_topology_names_the_key(document: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_topology(document)


def test_unknown_port_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="no writes port 'nope'"):
        shipped().port("normalize", "writes", "nope")


def test_plan_creates_missing_topics_and_nothing_else() -> None:
    topology = shipped()
    result = plan(topology, {})
    assert sorted(t.name for t in result.create) == sorted(topology.topics)
    assert not (result.grow or result.reconfigure or result.unfixable)


def test_plan_reports_each_kind_of_drift() -> None:
    topology = parse_topology({"version": 1, "topics": {
        "a": {"partitions": 4, "retention_ms": 86_400_000},
        "b": {"partitions": 2},
        "c": {"partitions": 1, "replication": 3},
    }})
    actual = {
        "a": ActualTopic("a", 2, 1, {"cleanup.policy": "delete", "retention.ms": "1000"}),
        "b": ActualTopic("b", 4, 1, {"cleanup.policy": "compact", "retention.ms": "-1"}),
        "c": ActualTopic("c", 1, 1, {"cleanup.policy": "delete", "retention.ms": "-1"}),
    }
    result = plan(topology, actual)
    assert [(t.name, n) for t, n in result.grow] == [("a", 2)]
    assert {t.name: c for t, c in result.reconfigure} == {
        "a": {"retention.ms": ("1000", "86400000")},
        "b": {"cleanup.policy": ("compact", "delete")},
    }
    assert result.unfixable == [
        "b: has 4 partitions, topology says 2 (partitions cannot shrink)",
        "c: replication is 1, topology says 3 (reassign partitions by hand)",
    ]
    assert not result.in_sync


def test_plan_in_sync() -> None:
    topology = parse_topology({"version": 1, "topics": {"a": {"partitions": 1}}})
    actual = {"a": ActualTopic("a", 1, 1, {"cleanup.policy": "delete", "retention.ms": "-1"})}
    assert plan(topology, actual).in_sync


def test_replication_override() -> None:
    assert {t.replication for t in shipped().with_replication(3).topics.values()} == {3}


def test_a_prefixed_document_renames_every_topic_and_port_and_leaves_the_original() -> None:
    from pipeline.settings import REPO_ROOT
    from pipeline.topology import parse_topology, prefixed_document

    document = yaml.safe_load((REPO_ROOT / "topologies" / "topics.yaml").read_text())
    renamed = parse_topology(prefixed_document(document, "run1"))
    assert all(name.startswith("run1.") for name in renamed.topics)
    assert renamed.port("risk", "reads", "signals") == "run1.signals"
    assert "signals" in document["topics"]  # the input is not modified
