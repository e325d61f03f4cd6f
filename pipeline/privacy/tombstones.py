"""Tombstones for one person's keys on the compacted topics.

Which keys are theirs (``pseudonym`` = the user's pseudonym at one tenant):

- ``identity.map``: ``<tenant>/<kind>/<pseudonym>`` for every identity entry
  the person owns (their user id, IPs, devices, email, phone, display names),
  as listed in PostgreSQL's ``identity_map`` before it is cleared;
- the profiles GlobalTable, the actors, texts, targets and risk tables'
  changelogs: the pseudonym itself (UTF-8 bytes, ``agents/route.py``,
  ``agents/steps.py``, ``agents/risk.py``);
- the pairs table's changelog: ``a|b`` with the pseudonym on either side
  (``pipeline.detect.routing.pair_key_str``);
- ``scores.latest``: ``<tenant>/<pseudonym>`` (``pipeline.stream.records.score_key``).

A compacted topic drops a key only from the partition that receives the
tombstone, and Faust writes a table's changelog to the partition of the input
event (not the key's hash), so the keys are found by reading each topic to its
end and the tombstone is sent to each partition where the key's newest record
is not already a tombstone. The cost is one full read of each compacted topic
per request (they hold one record per live key once compacted);
docs/erasure.md has the figures and the alternatives.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer

from pipeline.kafka.producer import base_config
from pipeline.kafka.read import read_to_end
from pipeline.privacy.errors import KafkaUnavailable
from pipeline.topology import Topology

Matcher = Callable[[bytes], bool]


@dataclass(frozen=True)
class KeyedTopic:
    """One compacted topic and how to tell the person's keys on it."""

    place: str      # what it is, for the receipt: "profiles table", "identity map", ...
    topic: str
    matches: Matcher


def _equal(wanted: bytes) -> Matcher:
    return lambda key: key == wanted


def _pair_with(pseudonym: bytes) -> Matcher:
    return lambda key: pseudonym in key.split(b"|")


def keyed_topics(topology: Topology, tenant_id: str, pseudonym: str,
                 identity_keys: Iterable[str]) -> list[KeyedTopic]:
    """The compacted topics holding the person's keys, with a matcher for each."""
    own = pseudonym.encode()
    identities = frozenset(k.encode() for k in identity_keys) | {
        f"{tenant_id}/user/{pseudonym}".encode()}
    return [
        KeyedTopic("identity map", topology.port("normalize", "writes", "identity"),
                   identities.__contains__),
        KeyedTopic("profiles table", topology.port("route", "tables", "profiles"),
                   _equal(own)),
        KeyedTopic("pairs table", topology.port("pairs", "tables", "state"), _pair_with(own)),
        KeyedTopic("actors table", topology.port("actors", "tables", "state"), _equal(own)),
        KeyedTopic("texts table", topology.port("actors", "tables", "texts"), _equal(own)),
        KeyedTopic("targets table", topology.port("targets", "tables", "state"), _equal(own)),
        KeyedTopic("risk table", topology.port("risk", "tables", "state"), _equal(own)),
        KeyedTopic("latest scores", topology.port("risk", "writes", "latest"),
                   _equal(f"{tenant_id}/{pseudonym}".encode())),
    ]


def find_live_keys(bootstrap: str, topic: KeyedTopic,
                   timeout: float = 10.0) -> list[tuple[int, bytes]]:
    """(partition, key) of the person's keys whose newest record on ``topic`` is not null."""
    live: dict[tuple[int, bytes], bool] = {}
    try:
        for message in read_to_end(bootstrap, topic.topic, timeout=timeout):
            key = message.key()
            if key is not None and topic.matches(key):
                live[(message.partition(), key)] = message.value() is not None
    except (KafkaException, TimeoutError, RuntimeError, KeyError) as exc:
        raise KafkaUnavailable(f"reading {topic.place} ({topic.topic}) failed: "
                               f"{type(exc).__name__}") from None
    return sorted(where for where, alive in live.items() if alive)


def write_tombstones(bootstrap: str, tombstones: Mapping[str, list[tuple[int, bytes]]],
                     timeout: float = 30.0) -> dict[str, int]:
    """Produce a null value for each (partition, key) per topic; how many per topic.

    Returns only once the broker acknowledged every one (``acks=all``); raises
    :class:`KafkaUnavailable` otherwise.
    """
    counts = {topic: 0 for topic in tombstones}
    if not any(tombstones.values()):
        return counts
    failures: list[str] = []
    producer = Producer(base_config(bootstrap))

    def delivered(err: KafkaError | None, message: Any) -> None:
        if err is not None:
            failures.append(err.str())
        else:
            counts[message.topic()] += 1

    try:
        for topic, keys in tombstones.items():
            for partition, key in keys:
                producer.produce(topic, key=key, value=None, partition=partition,
                                 on_delivery=delivered)
                producer.poll(0)
        left = producer.flush(timeout)
    except (KafkaException, BufferError) as exc:
        raise KafkaUnavailable(f"writing tombstones failed: {type(exc).__name__}") from None
    if left or failures:
        raise KafkaUnavailable(f"{left} tombstones unacknowledged, {len(failures)} refused"
                               + (f" ({failures[0]})" if failures else ""))
    return counts


def erase_keys(bootstrap: str, topics: Iterable[KeyedTopic],
               timeout: float = 10.0) -> dict[str, int]:
    """Find the person's live keys on every topic and tombstone them; count per place."""
    found: dict[str, list[tuple[int, bytes]]] = {}
    places: dict[str, str] = {}
    for topic in topics:
        found[topic.topic] = find_live_keys(bootstrap, topic, timeout)
        places[topic.topic] = topic.place
    written = write_tombstones(bootstrap, found, timeout=max(timeout, 30.0))
    return {places[topic]: count for topic, count in written.items()}
