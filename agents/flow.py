"""Resuming flow control clears the agents' queues only if the flow was suspended.

Faust's recovery resumes the stream partitions, seeks them to the committed
offsets and then calls ``app.flow_control.resume()``, which (mode's
``FlowControlEvent``) empties every agent's queue, whether or not the flow had
been suspended. Records fetched while the seek waited for the broker were in
those queues and vanished. Their partitions' read offsets then made the next
records look like the ones after a hole: a worker started onto a backlog lost
one event in three runs of the compression test, committed over as if
compacted away, and left others to the 5 s hole re-read (docs/stream.md).

A rebalance suspends the flow and clears the queues itself; resuming after it
still clears them here. Resuming a flow that was running keeps what is queued:
records fetched before the seek are read again from the committed offset too,
and those duplicates are absorbed (dedupe, the step guards, upserting sinks).
"""

from __future__ import annotations

from typing import Any

from mode.utils.queues import FlowControlEvent

_mode_resume = FlowControlEvent.resume


def _resume(self: Any) -> None:
    if self.is_active():
        return
    _mode_resume(self)


def install() -> None:
    """Patch mode's flow control in this process (call before the app starts)."""
    FlowControlEvent.resume = _resume
