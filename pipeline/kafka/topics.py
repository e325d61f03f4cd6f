"""``wardstream topics apply``: make the broker's topics match ``topologies/``.

``plan`` is pure: it compares the declared topology with what the broker
reports and says what to create, grow or reconfigure, and what cannot be fixed
in place (fewer partitions, other replication). ``apply`` carries a plan out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from confluent_kafka import KafkaException
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewPartitions,
    NewTopic,
)

from pipeline.errors import WardstreamError
from pipeline.topology import TopicSpec, Topology


@dataclass(frozen=True)
class ActualTopic:
    name: str
    partitions: int
    replication: int
    configs: dict[str, str]


@dataclass
class TopicPlan:
    create: list[TopicSpec] = field(default_factory=list)
    grow: list[tuple[TopicSpec, int]] = field(default_factory=list)
    reconfigure: list[tuple[TopicSpec, dict[str, tuple[str, str]]]] = field(default_factory=list)
    unfixable: list[str] = field(default_factory=list)

    @property
    def in_sync(self) -> bool:
        return not (self.create or self.grow or self.reconfigure or self.unfixable)

    def lines(self) -> list[str]:
        """One human-readable line per difference."""
        out = [f"create {t.name} ({t.partitions} partitions, {t.cleanup})" for t in self.create]
        out += [f"grow {t.name} from {n} to {t.partitions} partitions" for t, n in self.grow]
        for topic, changes in self.reconfigure:
            for key, (old, new) in sorted(changes.items()):
                out.append(f"set {topic.name} {key}: {old} -> {new}")
        out += [f"DRIFT {line}" for line in self.unfixable]
        return out


def plan(desired: Topology, actual: dict[str, ActualTopic]) -> TopicPlan:
    result = TopicPlan()
    for name, spec in sorted(desired.topics.items()):
        have = actual.get(name)
        if have is None:
            result.create.append(spec)
            continue
        if have.partitions < spec.partitions:
            result.grow.append((spec, have.partitions))
        elif have.partitions > spec.partitions:
            result.unfixable.append(
                f"{name}: has {have.partitions} partitions, topology says {spec.partitions} "
                "(partitions cannot shrink)"
            )
        if have.replication != spec.replication:
            result.unfixable.append(
                f"{name}: replication is {have.replication}, topology says {spec.replication} "
                "(reassign partitions by hand)"
            )
        changes = {
            key: (have.configs.get(key, "?"), value)
            for key, value in spec.configs().items()
            if have.configs.get(key) != value
        }
        if changes:
            result.reconfigure.append((spec, changes))
    return result


class TopicAdminError(WardstreamError):
    """The broker refused a topic operation; the message names the topic and the error."""


def describe(admin: AdminClient, names: list[str], timeout: float = 15.0) -> dict[str, ActualTopic]:
    metadata = admin.list_topics(timeout=timeout)
    present = [n for n in names if n in metadata.topics]
    actual: dict[str, ActualTopic] = {}
    if not present:
        return actual
    resources = [ConfigResource(ConfigResource.Type.TOPIC, n) for n in present]
    configs = admin.describe_configs(resources, request_timeout=timeout)
    for resource, future in configs.items():
        entries = future.result(timeout=timeout)
        topic = metadata.topics[resource.name]
        partitions = topic.partitions
        replication = len(next(iter(partitions.values())).replicas) if partitions else 0
        actual[resource.name] = ActualTopic(
            resource.name,
            len(partitions),
            replication,
            {k: str(v.value) for k, v in entries.items()},
        )
    return actual


def apply(admin: AdminClient, topic_plan: TopicPlan, timeout: float = 30.0) -> None:
    """Create, grow and reconfigure; unfixable drift is left for a person."""
    futures: dict[str, object] = {}
    if topic_plan.create:
        new = [
            NewTopic(t.name, num_partitions=t.partitions, replication_factor=t.replication,
                     config=t.configs())
            for t in topic_plan.create
        ]
        futures.update(admin.create_topics(new, request_timeout=timeout))
    if topic_plan.grow:
        grow = [NewPartitions(t.name, t.partitions) for t, _ in topic_plan.grow]
        futures.update(admin.create_partitions(grow, request_timeout=timeout))
    for name, future in futures.items():
        try:
            future.result()  # type: ignore[attr-defined]
        except KafkaException as exc:
            if exc.args[0].name() != "TOPIC_ALREADY_EXISTS":
                raise TopicAdminError(f"{name}: {exc.args[0].str()}") from exc
    for topic, changes in topic_plan.reconfigure:
        resource = ConfigResource(
            ConfigResource.Type.TOPIC,
            topic.name,
            incremental_configs=[
                ConfigEntry(key, new, incremental_operation=AlterConfigOpType.SET)
                for key, (_, new) in changes.items()
            ],
        )
        for future in admin.incremental_alter_configs([resource]).values():
            try:
                future.result(timeout=timeout)
            except KafkaException as exc:
                raise TopicAdminError(f"{topic.name}: {exc.args[0].str()}") from exc
