"""The declared topics and agent wiring (``topologies/topics.yaml``), loaded and checked.

Agents ask the topology for a port (``topology.port("normalize", "writes",
"dead_letters")``) instead of naming topics in code, so a deployment can rename
or resize topics in one file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from pipeline.errors import ConfigError

Cleanup = Literal["delete", "compact"]
_TOPIC_KEYS = {
    "doc", "partitions", "replication", "cleanup", "retention_ms", "max_message_bytes",
}
_AGENT_KEYS = {"reads", "writes", "tables"}


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    replication: int
    cleanup: Cleanup
    retention_ms: int
    doc: str = ""
    max_message_bytes: int | None = None

    def configs(self) -> dict[str, str]:
        """The broker-side topic configs this spec fixes."""
        configs = {"cleanup.policy": self.cleanup, "retention.ms": str(self.retention_ms)}
        if self.max_message_bytes is not None:
            configs["max.message.bytes"] = str(self.max_message_bytes)
        return configs


@dataclass(frozen=True)
class AgentSpec:
    name: str
    reads: dict[str, str]
    writes: dict[str, str]
    tables: dict[str, str]


@dataclass(frozen=True)
class Topology:
    topics: dict[str, TopicSpec]
    agents: dict[str, AgentSpec]

    def port(self, agent: str, direction: Literal["reads", "writes", "tables"], port: str) -> str:
        spec = self.agents.get(agent)
        if spec is None:
            raise ConfigError(f"topology has no agent {agent!r}")
        ports: dict[str, str] = getattr(spec, direction)
        if port not in ports:
            raise ConfigError(f"topology: agent {agent!r} has no {direction} port {port!r}")
        return ports[port]

    def with_replication(self, replication: int | None) -> Topology:
        if replication is None:
            return self
        topics = {
            name: TopicSpec(t.name, t.partitions, replication, t.cleanup, t.retention_ms, t.doc)
            for name, t in self.topics.items()
        }
        return Topology(topics, self.agents)


def _int(where: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{where}: must be an integer from {low} to {high}, got {value!r}")
    return value


def _ports(where: str, value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ConfigError(f"{where}: must map port names to topic names")
    return dict(value)


def parse_topology(document: Any, where: str = "topology") -> Topology:
    """Check a parsed YAML document; every error names the key that is wrong."""
    if not isinstance(document, dict) or document.get("version") != 1:
        raise ConfigError(f"{where}: must be a mapping with 'version: 1'")
    defaults = document.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise ConfigError(f"{where}: defaults must be a mapping")
    default_partitions = _int(
        f"{where}: defaults.partitions", defaults.get("partitions", 1), 1, 1024
    )
    default_replication = _int(
        f"{where}: defaults.replication", defaults.get("replication", 1), 1, 32
    )
    raw_topics = document.get("topics")
    if not isinstance(raw_topics, dict) or not raw_topics:
        raise ConfigError(f"{where}: topics must be a non-empty mapping")
    topics: dict[str, TopicSpec] = {}
    for name, raw in raw_topics.items():
        key = f"{where}: topics.{name}"
        if not isinstance(raw, dict):
            raise ConfigError(f"{key}: must be a mapping")
        unknown = set(raw) - _TOPIC_KEYS
        if unknown:
            raise ConfigError(f"{key}: unknown keys {sorted(unknown)}")
        cleanup = raw.get("cleanup", "delete")
        if cleanup not in ("delete", "compact"):
            raise ConfigError(f"{key}.cleanup: must be 'delete' or 'compact'")
        retention = raw.get("retention_ms", -1)
        if retention != -1:
            retention = _int(f"{key}.retention_ms", retention, 60_000, 10 * 365 * 86_400_000)
        topics[name] = TopicSpec(
            name=name,
            partitions=_int(
                f"{key}.partitions", raw.get("partitions", default_partitions), 1, 1024
            ),
            replication=_int(
                f"{key}.replication", raw.get("replication", default_replication), 1, 32
            ),
            cleanup=cleanup,
            retention_ms=retention,
            doc=str(raw.get("doc", "")),
            max_message_bytes=(
                None if "max_message_bytes" not in raw else _int(
                    f"{key}.max_message_bytes", raw["max_message_bytes"], 1024, 64 * 1024 * 1024)
            ),
        )
    agents: dict[str, AgentSpec] = {}
    for name, raw in (document.get("agents") or {}).items():
        key = f"{where}: agents.{name}"
        if not isinstance(raw, dict) or set(raw) - _AGENT_KEYS:
            raise ConfigError(f"{key}: must be a mapping of {sorted(_AGENT_KEYS)}")
        spec = AgentSpec(
            name,
            _ports(f"{key}.reads", raw.get("reads")),
            _ports(f"{key}.writes", raw.get("writes")),
            _ports(f"{key}.tables", raw.get("tables")),
        )
        for topic in [*spec.reads.values(), *spec.writes.values(), *spec.tables.values()]:
            if topic not in topics:
                raise ConfigError(f"{key}: names topic {topic!r}, which is not declared")
        agents[name] = spec
    return Topology(topics, agents)


def prefixed_document(document: dict[str, Any], prefix: str) -> dict[str, Any]:
    """A parsed topology document with every topic renamed ``<prefix>.<name>``, so a run
    (a test module, a benchmark) gets topics of its own on a shared broker."""
    renamed = dict(document)
    renamed["topics"] = {f"{prefix}.{name}": spec for name, spec in document["topics"].items()}
    renamed["agents"] = {
        agent: {direction: {port: f"{prefix}.{name}" for port, name in ports.items()}
                for direction, ports in spec.items()}
        for agent, spec in (document.get("agents") or {}).items()
    }
    return renamed


def load_topology(path: Path) -> Topology:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read topology {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    return parse_topology(document, str(path))
