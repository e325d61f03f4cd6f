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
ACK_SETTLE_SECONDS = 1.0


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


class DeliveryAcks:
    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._pending: deque[tuple[Any, list[asyncio.Future[Any]], OnDelivered | None]] = (
            deque())

    def __len__(self) -> int:
        return len(self._pending)

    async def add(self, event: Any, sent: Iterable[asyncio.Future[Any]] = (),
                  on_delivered: OnDelivered | None = None) -> None:
        """Ack ``event`` once ``sent`` are delivered, after calling ``on_delivered``."""
        self._pending.append((event, list(sent), on_delivered))
        await self.settle()

    async def settle(self) -> None:
        """Ack, in input order, every leading event whose sends are all done.

        An event with ``on_delivered`` goes through two rounds: its output is
        delivered, then ``on_delivered`` writes state and the event waits again
        for what that sent.
        """
        while self._pending and all(f.done() for f in self._pending[0][1]):
            event, futures, on_delivered = self._pending[0]
            for future in futures:
                if future.cancelled() or future.exception() is not None:
                    raise DeliveryFailed(
                        f"a record produced for {event.message.tp} offset "
                        f"{event.message.offset} was not delivered"
                    )
            if on_delivered is not None:
                with as_current_event(event):
                    self._pending[0] = (event, on_delivered(), None)
                continue
            self._pending.popleft()
            await self._stream.ack(event)
