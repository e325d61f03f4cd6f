"""The getmany we put into Faust's consumer (agents/commits.py), on a stand-in consumer.

It seeks back to records it holds back, but not once a rebalance has sought
to the committed offsets: that late seek skipped a burst's first records in
the stream test where a second worker joins mid-stream.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any, NamedTuple

from agents import commits


class TopicPartition(NamedTuple):
    topic: str
    partition: int


TP = TopicPartition("t.events.raw.json", 0)


class Record(SimpleNamespace):
    offset: int


class StandInConsumer:
    """The attributes of Faust's consumer our getmany uses."""

    def __init__(self, batches: list[list[int]], generation: int = 1) -> None:
        self._batches = batches
        self.flow_active = True
        self.should_stop = False
        self._buffered_partitions: set[Any] = set()
        self.active: set[Any] | None = {TP}
        self.seeks: list[int] = []
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

    async def perform_seek(self) -> None:
        raise AssertionError("not expected")

    def highwater(self, tp: Any) -> int:
        return 0

    def _to_message(self, tp: Any, record: Record) -> Any:
        return SimpleNamespace(tp=tp, topic=tp.topic, offset=record.offset)

    async def getmany(self, timeout: float) -> AsyncIterator[tuple[Any, Any]]:
        async for item in commits._getmany(self, timeout):
            yield item


async def _collect(consumer: StandInConsumer) -> list[int]:
    """The offsets our getmany hands on in one call."""
    return [message.offset async for _, message in consumer.getmany(timeout=1.0)]


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
