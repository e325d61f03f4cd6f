"""Never commit past an offset that was read but not acknowledged.

Faust 0.15 commits the first run of consecutive acknowledged offsets of a
partition. It checks that the run starts where the last commit left off, but
lets a gap of one through (``min(acked) - committed > 1``, where the committed
offset is already the next one to read), and skips the check when the committed
offset is 0. A record that is read but not acknowledged, typically one in hand
or queued when a rebalance moved partitions, was then committed over and never
read again: in a two-worker test one profile event of 9,285 was lost that way.

The patched check refuses to commit until the acknowledged run starts exactly at
the committed offset, counting the holes Faust saw while fetching (compaction,
transaction markers) as acknowledged, as Faust itself does. Because Faust also
mistook records it dropped itself for such holes, ``getmany`` is replaced too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from faust.transport.consumer import Consumer

log = logging.getLogger(__name__)
_faust_new_offset = Consumer._new_offset


def _head_is_covered(consumer: Any, tp: Any, committed: int, head: int) -> bool:
    """True when every offset in [committed, head) is a hole Faust recorded while fetching."""
    position = committed
    for interval in sorted(consumer._gap[tp].overlap(committed, head), key=lambda i: i.begin):
        if interval.begin > position:
            return False
        position = max(position, interval.end)
    return position >= head


# A hole older than this is read again from the committed offset.
HOLE_GRACE_SECONDS = 5.0
_holes: dict[Any, tuple[int, float]] = {}


def _new_offset(self: Any, tp: Any) -> int | None:
    acked = self._acked[tp]
    committed = self._committed_offset[tp]
    if acked and committed is not None:
        head = min(acked)
        if head > committed and not _head_is_covered(self, tp, committed, head):
            _reread_if_stuck(self, tp, committed)
            return None
    _holes.pop(tp, None)
    result: int | None = _faust_new_offset(self, tp)
    return result


def _reread_if_stuck(consumer: Any, tp: Any, committed: int) -> None:
    """Seek back to ``committed`` once a hole has outlived the grace period.

    A record dropped before any agent saw it (a queue cleared during a rebalance)
    is never acknowledged, so nothing would fill the hole. Reading again from the
    committed offset fills it; records after it are processed twice, which dedupe,
    the step guards and the upserting sinks absorb.
    """
    now = time.monotonic()
    since = _holes.get(tp)
    if since is None or since[0] != committed:
        _holes[tp] = (committed, now)
        return
    if now - since[1] >= HOLE_GRACE_SECONDS:
        _holes[tp] = (committed, now)
        log.warning("offset %d of %s was read but never acknowledged; reading again from it",
                    committed, tp)
        # Applied by the next getmany: seeking while a fetch is in flight races
        # aiokafka's fetcher (it crashed with a KeyError when tried).
        _rereads[tp] = (committed, consumer.app.consumer_generation_id)


# Seeks a later getmany applies: (offset, generation it was decided in).
_rereads: dict[Any, tuple[int, int]] = {}


async def _getmany(self: Any, timeout: float) -> AsyncIterator[tuple[Any, Any]]:
    """Faust's ``getmany``, except that records it does not hand on are read again.

    Faust drops fetched records of partitions that are not active at that moment
    (paused while tables recover, or just reassigned) and the rest of a batch when
    the group generation changes. The consumer's position has moved past them, so
    the next record looks like a hole in the partition, which Faust treats as
    acknowledged and commits over. Here a partition's first held-back record is
    remembered and the partition is sought back to it, so it is fetched again.
    """
    for tp, (offset, decided_in) in list(_rereads.items()):
        del _rereads[tp]
        if tp in self.assignment() and decided_in == self.app.consumer_generation_id:
            await self.seek(tp, offset)
    records, active = await self._wait_next_records(timeout)
    if records is None or self.should_stop:
        return
    if not self.flow_active:
        await self.perform_seek()  # what Faust does: back to the committed offsets
        return
    generation = self.app.consumer_generation_id
    held_back: dict[Any, int] = {}
    for tp, record in self.scheduler.iterate(records):
        if tp in held_back:
            continue  # keep a partition's order: nothing after a held-back record
        deliverable = (active is None or tp in active or tp in self._buffered_partitions)
        if (not deliverable or not self.flow_active
                or self.app.consumer_generation_id != generation):
            held_back[tp] = record.offset
            continue
        self.app.monitor.track_tp_end_offset(tp, self.highwater(tp))
        yield tp, self._to_message(tp, record)
    if self.app.consumer_generation_id != generation:
        # A rebalance came while this batch was handed on. The new assignment seeks
        # to the committed offsets; a seek from here would land after that one and
        # skip what lies between (seen: 7 records of a burst lost that way).
        if held_back:
            log.info("held back %s; the new assignment reads them again",
                     ", ".join(f"{tp.topic}[{tp.partition}]@{o}" for tp, o in held_back.items()))
        return
    assigned = self.assignment()
    for tp, offset in held_back.items():
        log.info("%s held back from offset %d (%s)", tp, offset,
                 "reading it again" if tp in assigned else "no longer assigned")
        if tp in assigned:
            await self.seek(tp, offset)


def install() -> None:
    """Patch Faust's consumer in this process (call before the app starts)."""
    Consumer._new_offset = _new_offset
    Consumer.getmany = _getmany
