"""DeliveryAcks: input order, state writes after delivery, acks after the writes land."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest
from faust.streams import current_event

from agents.acks import DeliveryAcks, DeliveryFailed


@dataclass
class Message:
    offset: int
    tp: str = "t/0"


class Event:
    def __init__(self, offset: int) -> None:
        self.message = Message(offset)


@dataclass
class FakeStream:
    acked: list[int] = field(default_factory=list)

    async def ack(self, event: Any) -> bool:
        self.acked.append(event.message.offset)
        return True


def test_events_are_acked_in_order_once_their_output_and_writes_are_delivered() -> None:
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        stream = FakeStream()
        acks = DeliveryAcks(stream)
        sent = [loop.create_future() for _ in range(3)]
        changelog = [loop.create_future() for _ in range(3)]
        writes: list[tuple[int, int | None]] = []

        def writer(index: int) -> Any:
            def write() -> list[asyncio.Future[Any]]:
                event = current_event()
                writes.append((index, event.message.offset if event else None))
                return [changelog[index]]
            return write

        events = [Event(10 + i) for i in range(3)]
        for index, event in enumerate(events):
            await acks.add(event, [sent[index]], writer(index))
        sent[1].set_result(None)
        sent[2].set_result(None)
        await acks.settle()
        assert writes == [] and stream.acked == []  # the first output is still in flight
        sent[0].set_result(None)
        await acks.settle()
        # Every delivered output's state is written at once, in input order, each in
        # the context of the event it belongs to.
        assert writes == [(0, 10), (1, 11), (2, 12)]
        assert stream.acked == []
        changelog[1].set_result(None)
        changelog[2].set_result(None)
        await acks.settle()
        assert stream.acked == []  # the first write has not landed: order holds
        changelog[0].set_result(None)
        await acks.settle()
        assert stream.acked == [10, 11, 12]
        assert len(acks) == 0

    asyncio.run(scenario())


def test_a_failed_send_is_never_acked() -> None:
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        stream = FakeStream()
        acks = DeliveryAcks(stream)
        failed = loop.create_future()
        await acks.add(Event(5), [failed])
        failed.set_exception(RuntimeError("broker said no"))
        with pytest.raises(DeliveryFailed, match="offset 5"):
            await acks.settle()
        assert stream.acked == []
        assert "offset 5" in acks.describe()

    asyncio.run(scenario())
