"""The fetch loop and getmany we put into Faust's consumer, on a stand-in consumer.

Faust's own loop drops records below a partition's read offset and moves that
offset past records a flow stop cancelled; our getmany sought back to held-back
records even after a rebalance had already sought to the committed offsets.
Both lost records in the two-worker stream test (agents/draining.py,
agents/commits.py).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any, NamedTuple

from agents import commits, draining


class TopicPartition(NamedTuple):
    topic: str
    partition: int


TP = TopicPartition("t.events.raw.json", 0)


class Record(SimpleNamespace):
    offset: int


class StandInConsumer:
    """The attributes of Faust's consumer the two patched functions use."""

    def __init__(self, batches: list[list[int]], generation: int = 1) -> None:
        self._batches = batches
        self._read_offset: defaultdict[Any, int | None] = defaultdict(lambda: None)
        self._commit_every = None
        self._n_acked = 0
        self.suspend_flow = asyncio.Event()
        self.flow_active = True
        self.should_stop = False
        self._buffered_partitions: set[Any] = set()
        self.active: set[Any] | None = {TP}
        self.gaps: list[tuple[int, int]] = []
        self.seeks: list[int] = []
        self.closed = False
        self.on_record: Any = None  # called with each record as it is iterated
        self.app = SimpleNamespace(
            consumer_generation_id=generation,
            topics=SimpleNamespace(acks_enabled_for=lambda topic: True),
            monitor=SimpleNamespace(track_tp_end_offset=lambda tp, offset: None),
        )
        self.scheduler = SimpleNamespace(iterate=self._iterate)

    def _iterate(self, records: dict[Any, list[Record]]) -> Any:
        for tp, batch in records.items():
            for record in batch:
                if self.on_record is not None:
                    self.on_record(record)
                yield tp, record

    async def _wait_next_records(self, timeout: float) -> tuple[Any, Any]:
        del timeout
        offsets = self._batches.pop(0) if self._batches else []
        return {TP: [Record(offset=o) for o in offsets]}, self.active

    def assignment(self) -> set[Any]:
        return {TP}

    async def seek(self, tp: Any, offset: int) -> None:
        self.seeks.append(offset)
        self._read_offset[tp] = offset

    async def perform_seek(self) -> None:
        raise AssertionError("not expected")

    def highwater(self, tp: Any) -> int:
        return 0

    def _to_message(self, tp: Any, record: Record) -> Any:
        return SimpleNamespace(tp=tp, topic=tp.topic, offset=record.offset)

    async def _add_gap(self, tp: Any, start: int, end: int) -> None:
        self.gaps.append((start, end))

    async def getmany(self, timeout: float) -> AsyncIterator[tuple[Any, Any]]:
        try:
            async for item in commits._getmany(self, timeout):
                yield item
        finally:
            self.closed = True


async def _collect(consumer: StandInConsumer) -> list[int]:
    handed: list[int] = []

    async def callback(message: Any) -> None:
        handed.append(message.offset)

    await draining._drain_batch(consumer, callback)
    return handed


def test_records_below_the_read_offset_are_handed_on_not_dropped() -> None:
    consumer = StandInConsumer([[112, 113, 114]])
    consumer._read_offset[TP] = 119  # left from before a rebalance
    handed = asyncio.run(_collect(consumer))
    assert handed == [112, 113, 114]
    assert consumer._read_offset[TP] == 114
    assert consumer.gaps == []


def test_a_jump_past_the_read_offset_is_recorded_as_a_gap() -> None:
    consumer = StandInConsumer([[10, 11, 15]])
    consumer._read_offset[TP] = 9
    assert asyncio.run(_collect(consumer)) == [10, 11, 15]
    assert consumer.gaps == [(12, 15)]


def test_a_flow_stop_leaves_the_read_offset_before_the_record_it_interrupted() -> None:
    consumer = StandInConsumer([[5, 6, 7]])
    consumer._read_offset[TP] = 4
    handed: list[int] = []

    async def callback(message: Any) -> None:
        if message.offset == 6:
            consumer.suspend_flow.set()  # a rebalance starts while 6 waits to be queued
            await asyncio.sleep(3600)
        handed.append(message.offset)

    asyncio.run(draining._drain_batch(consumer, callback))
    assert handed == [5]
    assert consumer._read_offset[TP] == 5
    assert consumer.closed


def test_an_inactive_partition_is_sought_back_to_its_first_held_back_record() -> None:
    consumer = StandInConsumer([[20, 21]])
    consumer.active = set()  # paused while its table recovers
    assert asyncio.run(_collect(consumer)) == []
    assert consumer.seeks == [20]


def test_no_seek_back_once_a_rebalance_has_sought_to_the_committed_offsets() -> None:
    consumer = StandInConsumer([[112, 113, 119, 120]])

    def rebalance_during(record: Record) -> None:
        if record.offset == 119:
            consumer.app.consumer_generation_id = 2

    consumer.on_record = rebalance_during
    handed = asyncio.run(_collect(consumer))
    assert handed == [112, 113]
    assert consumer.seeks == []  # seeking to 119 would skip what the new assignment rereads


def test_a_hole_reread_decided_before_a_rebalance_is_not_applied_after_it() -> None:
    consumer = StandInConsumer([[], []], generation=1)
    commits._rereads.clear()
    commits._rereads[TP] = (100, 1)
    consumer.app.consumer_generation_id = 2
    asyncio.run(_collect(consumer))
    assert consumer.seeks == []
    commits._rereads[TP] = (100, 2)
    asyncio.run(_collect(consumer))
    assert consumer.seeks == [100]
