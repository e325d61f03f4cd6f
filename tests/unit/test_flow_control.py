"""Resuming a running flow keeps the agents' queues (agents/flow.py).

Faust's recovery calls ``flow_control.resume()`` after seeking the stream
partitions; mode cleared every agent's queue on each resume, and records
fetched during the seek were lost.
"""

from __future__ import annotations

import asyncio

from mode.utils.queues import FlowControlEvent, FlowControlQueue

from agents import flow


def _queue_after(steps: list[str]) -> list[str]:
    """Put one record per "put" into a managed queue; what is left at the end."""

    async def run() -> list[str]:
        flow.install()
        control = FlowControlEvent()
        queue: FlowControlQueue[str] = FlowControlQueue(flow_control=control,
                                                        clear_on_resume=True)
        for index, step in enumerate(steps):
            if step == "put":
                queue.put_nowait(f"record-{index}")
            else:
                getattr(control, step)()
        return [queue.get_nowait() for _ in range(queue.qsize())]

    return asyncio.run(run())


def test_resuming_a_running_flow_keeps_the_queued_records() -> None:
    # start-up resume, records fetched during the final seek, recovery's last resume
    assert _queue_after(["resume", "put", "put", "resume"]) == ["record-1", "record-2"]


def test_resuming_after_a_suspension_still_clears_the_queues() -> None:
    assert _queue_after(["resume", "put", "suspend", "resume"]) == []


def test_a_resumed_flow_lets_producers_through() -> None:
    async def run() -> bool:
        flow.install()
        control = FlowControlEvent()
        control.resume()
        control.resume()
        await asyncio.wait_for(control.acquire(), timeout=1)
        return bool(control.is_active())

    assert asyncio.run(run())
