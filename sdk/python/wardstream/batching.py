"""Buffering events and sending them in batches, by size or by age.

A batcher sends when it holds ``max_events`` events or when its oldest event has
waited ``max_delay`` seconds (checked by a background thread, or an asyncio task),
and on :meth:`flush` and :meth:`close`. Each event gets its ``event_id`` when it
is added (returned by ``add``), so every retry of its batch repeats the same id
and the pipeline processes it once.

When a send fails after the client's own retries:

- the API refused the batch (a 4xx such as ``422 invalid_events``): the events are
  removed and given to ``on_error(events, error)``; the batch will not succeed
  as it is;
- the API stayed unreachable or kept answering 429/5xx: the events go back to
  the front of the buffer and are sent again on the next flush; ``on_error`` is
  told too.

An explicit ``flush`` or ``close`` raises the error; in the background it goes to
``on_error`` (or to the ``wardstream`` logger when there is none).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from wardstream.errors import ApiError, WardstreamError
from wardstream.retry import retryable_status
from wardstream.types import Event, IngestResult

log = logging.getLogger("wardstream")
ErrorHandler = Callable[[list[Event], Exception], None]
_EMPTY: IngestResult = {"accepted": [], "count": 0}


def _kept(exc: WardstreamError) -> bool:
    """True when a failed batch should stay buffered (worth sending again)."""
    return not isinstance(exc, ApiError) or retryable_status(exc.status)


class _Buffer:
    def __init__(self, max_events: int, max_delay: float) -> None:
        if max_events < 1 or max_delay <= 0:
            raise ValueError("max_events must be >= 1 and max_delay > 0")
        self.max_events = max_events
        self.max_delay = max_delay
        self.events: list[Event] = []
        self.oldest: float | None = None
        self.closed = False

    def add(self, event: Event) -> bool:
        """Buffer ``event``; True when the buffer is now full."""
        if self.closed:
            raise RuntimeError("the batcher is closed")
        if self.oldest is None:
            self.oldest = time.monotonic()
        self.events.append(event)
        return len(self.events) >= self.max_events

    def take(self) -> list[Event]:
        taken, self.events, self.oldest = self.events, [], None
        return taken

    def put_back(self, events: list[Event]) -> None:
        self.events[:0] = events
        if self.events:
            self.oldest = time.monotonic()

    def due(self) -> bool:
        return self.oldest is not None and time.monotonic() - self.oldest >= self.max_delay

    def wait_time(self) -> float:
        if self.oldest is None:
            return self.max_delay
        return max(0.0, self.max_delay - (time.monotonic() - self.oldest))


class Batcher:
    """Thread-safe batcher for :class:`wardstream.client.Client` (``client.batcher()``)."""

    def __init__(self, prepare: Callable[[Mapping[str, Any]], Event],
                 send: Callable[[list[Event]], IngestResult], *, max_events: int = 100,
                 max_delay: float = 1.0, on_error: ErrorHandler | None = None) -> None:
        self._prepare = prepare
        self._send = send
        self._on_error = on_error
        self._buffer = _Buffer(max_events, max_delay)
        self._lock = threading.Lock()
        self._sending = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._thread = threading.Thread(target=self._run, name="wardstream-batcher",
                                        daemon=True)
        self._thread.start()

    def __enter__(self) -> Batcher:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def add(self, event: Mapping[str, Any]) -> str:
        """Buffer one event (sending the batch if now full); its ``event_id``."""
        prepared = self._prepare(event)
        with self._lock:
            full = self._buffer.add(prepared)
            self._wake.notify()
        if full:
            self.flush()
        return str(prepared["event_id"])

    def pending(self) -> int:
        with self._lock:
            return len(self._buffer.events)

    def flush(self) -> IngestResult:
        """Send everything buffered now; raises what the send raised."""
        with self._sending:
            with self._lock:
                events = self._buffer.take()
            if not events:
                return _EMPTY
            try:
                return self._send(events)
            except WardstreamError as exc:
                if _kept(exc):
                    with self._lock:
                        self._buffer.put_back(events)
                if self._on_error is not None:
                    self._on_error(events, exc)
                raise

    def close(self) -> None:
        """Stop the timer and send what is left (raises if that fails)."""
        with self._lock:
            self._buffer.closed = True
            self._wake.notify()
        self._thread.join()
        self.flush()

    def _run(self) -> None:
        while True:
            with self._lock:
                if self._buffer.closed:
                    return
                if not self._buffer.due():
                    self._wake.wait(self._buffer.wait_time())
                    continue
            try:
                self.flush()
            except WardstreamError as exc:
                if self._on_error is None:
                    log.warning("wardstream batch not sent: %s", exc)


class AsyncBatcher:
    """The :class:`Batcher` for asyncio (``AsyncClient.batcher()``); ``await`` add,
    flush and close. The timer task starts with the first ``add``."""

    def __init__(self, prepare: Callable[[Mapping[str, Any]], Event],
                 send: Callable[[list[Event]], Awaitable[IngestResult]], *,
                 max_events: int = 100, max_delay: float = 1.0,
                 on_error: ErrorHandler | None = None) -> None:
        self._prepare = prepare
        self._send = send
        self._on_error = on_error
        self._buffer = _Buffer(max_events, max_delay)
        self._sending = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> AsyncBatcher:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def add(self, event: Mapping[str, Any]) -> str:
        prepared = self._prepare(event)
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="wardstream-batcher")
        if self._buffer.add(prepared):
            await self.flush()
        return str(prepared["event_id"])

    def pending(self) -> int:
        return len(self._buffer.events)

    async def flush(self) -> IngestResult:
        async with self._sending:
            events = self._buffer.take()
            if not events:
                return _EMPTY
            try:
                return await self._send(events)
            except WardstreamError as exc:
                if _kept(exc):
                    self._buffer.put_back(events)
                if self._on_error is not None:
                    self._on_error(events, exc)
                raise

    async def close(self) -> None:
        self._buffer.closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush()

    async def _run(self) -> None:
        while not self._buffer.closed:
            await asyncio.sleep(self._buffer.wait_time())
            if not self._buffer.due():
                continue
            try:
                await self.flush()
            except WardstreamError as exc:
                if self._on_error is None:
                    log.warning("wardstream batch not sent: %s", exc)
