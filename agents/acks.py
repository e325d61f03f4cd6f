"""Acknowledge an input event only once everything it produced is delivered.

Faust's default iteration acks the event in hand when an agent is cancelled
(at shutdown or rebalance), and ``take_events`` acks its whole buffer in a
``finally``: an event whose output never left the process could be committed
and lost. Our agents iterate ``stream.noack()`` instead and hand each event,
with the delivery futures of what it sent, to a :class:`DeliveryAcks`. It acks
events whose sends have all completed; Faust then commits those offsets (after
flushing its producer). An event whose output failed is never acked, so it is
processed again after a restart.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from faust.streams import _current_event

# How often a timer acks events whose sends completed while the stream was idle.
ACK_SETTLE_SECONDS = 0.1


async def settle_all() -> None:
    """Settle every live tracker (one app timer calls this; see agents/app.py)."""
    for tracker in list(TRACKERS):
        await tracker.settle()


class DeliveryFailed(RuntimeError):
    """A record an agent produced was refused by the broker; the worker must restart."""


# Runs once an event's output is delivered (a state write); returns the futures of
# what it sent in turn (the changelog records), which must be delivered before the ack.
OnDelivered = Callable[[], list[asyncio.Future[Any]]]


@contextmanager
def as_current_event(event: Any) -> Iterator[None]:
    """Make ``event`` Faust's current event while a table is written after the fact.

    Faust picks the RocksDB partition and the changelog partition of a table
    write from the event being processed (a context variable). A state written
    once its step's output is delivered belongs to the event that produced it,
    which is no longer the one in hand, so it is set back for the write.
    """
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)


TRACKERS: weakref.WeakSet[DeliveryAcks] = weakref.WeakSet()


class DeliveryAcks:
    """Acknowledges one agent's events in input order, each once what it caused is safe.

    An event waits in ``_outputs`` until the records its step sent are delivered;
    then its state write (``on_delivered``) runs, and it waits in ``_acks`` until
    that write's changelog record is delivered too; then it is acknowledged.
    Writes run in input order, so the newest state of a key is written last.
    """

    def __init__(self, stream: Any) -> None:
        TRACKERS.add(self)
        self._stream = stream
        self._outputs: deque[tuple[Any, list[asyncio.Future[Any]], OnDelivered | None]] = (
            deque())
        self._acks: deque[tuple[Any, list[asyncio.Future[Any]]]] = deque()

    def __len__(self) -> int:
        return len(self._outputs) + len(self._acks)

    def describe(self) -> str:
        """The oldest unacknowledged event and what it waits for (diagnostics)."""
        if self._acks:
            event, futures = self._acks[0]
            stage = "its state write"
        elif self._outputs:
            event, futures, _ = self._outputs[0]
            stage = "its output"
        else:
            return "nothing pending"
        done = sum(1 for f in futures if f.done())
        return (f"{len(self)} pending; oldest {event.message.tp} offset "
                f"{event.message.offset} waits for {stage}: {done}/{len(futures)} delivered")

    async def add(self, event: Any, sent: Iterable[asyncio.Future[Any]] = (),
                  on_delivered: OnDelivered | None = None) -> None:
        """Ack ``event`` once ``sent`` are delivered and ``on_delivered``'s writes too."""
        self._outputs.append((event, list(sent), on_delivered))
        await self.settle()

    @staticmethod
    def _check(event: Any, futures: list[asyncio.Future[Any]]) -> None:
        for future in futures:
            if future.cancelled() or future.exception() is not None:
                raise DeliveryFailed(
                    f"a record produced for {event.message.tp} offset "
                    f"{event.message.offset} was not delivered"
                )

    async def settle(self) -> None:
        """Write the states of delivered outputs, then ack every leading safe event."""
        outputs, acks = self._outputs, self._acks
        while outputs and all(f.done() for f in outputs[0][1]):
            event, futures, on_delivered = outputs[0]
            self._check(event, futures)
            outputs.popleft()
            written: list[asyncio.Future[Any]] = []
            if on_delivered is not None:
                with as_current_event(event):
                    written = on_delivered()
            acks.append((event, written))
        while acks and all(f.done() for f in acks[0][1]):
            event, futures = acks[0]
            self._check(event, futures)
            acks.popleft()
            await self._stream.ack(event)
