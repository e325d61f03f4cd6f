"""SIGUSR2: write every asyncio task's whole await chain to the log.

mode's SIGUSR1 dump stops at the first async generator, which is where Faust
agents and timers live, so a stalled worker showed no line of our code. This
walks ``cr_await``/``ag_await`` down to the innermost awaitable instead.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

from agents.acks import TRACKERS

log = logging.getLogger(__name__)


def _chain(awaitable: Any) -> list[str]:
    lines: list[str] = []
    seen = 0
    while awaitable is not None and seen < 64:
        seen += 1
        frame = getattr(awaitable, "cr_frame", None) or getattr(awaitable, "ag_frame", None)
        if frame is not None:
            lines.append(f"{frame.f_code.co_filename}:{frame.f_lineno} {frame.f_code.co_name}")
        nxt = getattr(awaitable, "cr_await", None)
        if nxt is None:
            nxt = getattr(awaitable, "ag_await", None)
        if nxt is None and frame is None:
            lines.append(f"awaiting {awaitable!r}"[:300])
            break
        awaitable = nxt
    return lines


def _consumer_state(app: Any) -> str:
    consumer = app.consumer
    fields = {
        "flow_control_active": app.flow_control.is_active(),
        "in_recovery": app.in_recovery,
        "rebalancing": app.rebalancing,
        "assignment": sorted(map(str, consumer.assignment())),
        "active": sorted(map(str, consumer._active_partitions or ())),
        "paused": sorted(map(str, consumer._paused_partitions or ())),
        "buffered": sorted(map(str, consumer._buffered_partitions or ())),
        "producer_buffer": app.producer.buffer.size,
        # Events waiting for each agent: one full queue blocks the fetch loop for all.
        "agent_queues": {"+".join(sorted(channel.topics)): channel.queue.qsize()
                         for channel in list(app.topics._topics)
                         if getattr(channel, "_queue", None) is not None},
    }
    return "\n".join(f"  {k}: {v}" for k, v in fields.items())


def dump_tasks(app: Any = None) -> None:
    parts = []
    for task in asyncio.all_tasks():
        parts.append(f"task {task.get_name()}:\n    " + "\n    ".join(_chain(task.get_coro())))
    if app is not None:
        log.warning("consumer:\n%s", _consumer_state(app))
    log.warning("acks:\n%s", "\n".join(f"  {t.describe()}" for t in list(TRACKERS)))
    log.warning("await chains of %d tasks:\n%s", len(parts), "\n".join(parts))


def install(app: Any) -> None:
    """Call from inside the running loop (after mode installed its own handlers)."""
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR2, dump_tasks, app)
