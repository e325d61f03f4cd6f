"""Hand every fetched record on, in order, even across a rebalance.

Faust 0.15's fetch loop (``Consumer._drain_messages``) loses records in two
ways when partitions are revoked and given back to the same worker:

- Records still to be handed on when the flow stops are cancelled, yet the
  partition's *read offset* moves past them.
- After the new assignment the consumer fetches again from the committed
  offset, and the loop silently drops every record below that stale read
  offset, then hands on the ones after it.

Measured on the two-worker test: the first 17 records of a burst that arrived
with the second worker's join were skipped, the 18th went on, and the 17 came
through only when the commit guard (``agents/commits.py``) read the hole again
seconds later, far out of event-time order. Scores then differed from replay.

Here a record is handed on whenever the consumer returns it. A record below
the read offset is one whose delivery was lost, since the consumer only moves
back by seeking to offsets not yet committed; delivering it again is at least
once, which dedupe and the step guards absorb. A flow stop interrupts the
batch without moving the read offset.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from faust.transport.consumer import CONSUMER_FETCHING, Consumer

log = logging.getLogger(__name__)


async def _hand_on(consumer: Any, callback: Any, message: Any) -> bool:
    """Deliver ``message`` to the agents; False when a flow stop interrupted it."""
    if consumer.suspend_flow.is_set():
        return False
    delivery = asyncio.ensure_future(callback(message))
    stop = asyncio.ensure_future(consumer.suspend_flow.wait())
    try:
        await asyncio.wait({delivery, stop}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
    if not delivery.done():
        delivery.cancel()
        return False
    delivery.result()  # a failure in the callback is the loop's failure
    return True


async def _drain_batch(consumer: Any, callback: Any) -> None:
    read_offsets = consumer._read_offset
    acks_enabled_for = consumer.app.topics.acks_enabled_for
    handed = 0
    reread: set[Any] = set()
    records = consumer.getmany(timeout=1.0)
    try:
        async for tp, message in records:
            handed += 1
            if handed % 100 == 0:
                await asyncio.sleep(0)
            offset = message.offset
            last_read = read_offsets[tp]
            if (last_read is not None and offset > last_read + 1
                    and acks_enabled_for(message.topic)):
                # Compaction or transaction markers: the commit check counts these as read.
                await consumer._add_gap(tp, last_read + 1, offset)
            elif last_read is not None and offset < last_read and tp not in reread:
                reread.add(tp)
                log.info("%s is read again from offset %d (read up to %d before)",
                         tp, offset, last_read)
            commit_every = consumer._commit_every
            if commit_every is not None and consumer._n_acked >= commit_every:
                consumer._n_acked = 0
                await consumer.commit()
            if not await _hand_on(consumer, callback, message):
                log.info("flow stopped before offset %d of %s was handed on", offset, tp)
                return  # flow stopped: the new assignment reads from the committed offset
            read_offsets[tp] = offset
    finally:
        await records.aclose()


async def _drain_messages(self: Any, fetcher: Any) -> None:
    """Faust's fetch loop, keeping every record (see the module docstring)."""
    callback = self.callback
    try:
        while not (self._stopped.is_set() or fetcher._stopped.is_set()):
            self.diag.set_flag(CONSUMER_FETCHING)
            await self.sleep(0)
            if not self.should_stop:
                await _drain_batch(self, callback)
            self.diag.unset_flag(CONSUMER_FETCHING)
    except self.consumer_stopped_errors:
        if not self.transport.app.should_stop:
            raise
        log.info("broker stopped the consumer, shutting down")
    except asyncio.CancelledError:
        if not self.transport.app.should_stop:
            raise
    except Exception:
        log.exception("the fetch loop failed")
        raise
    finally:
        self.diag.unset_flag(CONSUMER_FETCHING)


def install() -> None:
    """Patch Faust's consumer in this process (call before the app starts)."""
    Consumer._drain_messages = _drain_messages
