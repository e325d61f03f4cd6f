"""A stand-in for a platform's webhook endpoint: a real HTTP server in a thread.

It checks both signatures of every request with the endpoint's secret, records
what arrived, and answers from a script: ``fail(n)`` (500 n times),
``throttle(retry_after)`` (429 with Retry-After), ``hang(seconds)`` (answer only
after the sender's timeout), ``answer(status)``; then 200 again.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pipeline.webhooks import signing


@dataclass(frozen=True)
class Received:
    delivery_id: str
    event: str
    body: bytes
    headers: dict[str, str]
    signature_ok: bool
    legacy_ok: bool
    signed_at: int | None
    answered: int | None  # None: hung up on

    @property
    def payload(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


@dataclass
class _Answer:
    status: int
    headers: dict[str, str]
    hang_seconds: float = 0.0


class Receiver:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.secret = ""
        self.clock = clock
        self.received: list[Received] = []
        self._script: list[_Answer] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks/wardstream"

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # The script: each call adds answers for the next requests, in order.
    def fail(self, times: int, status: int = 500) -> None:
        self._add(times, _Answer(status, {}))

    def throttle(self, retry_after: str, times: int = 1) -> None:
        self._add(times, _Answer(429, {"Retry-After": retry_after}))

    def hang(self, seconds: float, times: int = 1) -> None:
        self._add(times, _Answer(200, {}, hang_seconds=seconds))

    def answer(self, status: int, times: int = 1) -> None:
        self._add(times, _Answer(status, {}))

    def recover(self) -> None:
        """Drop what is left of the script: 200 from now on."""
        with self._lock:
            self._script.clear()

    def _add(self, times: int, answer: _Answer) -> None:
        with self._lock:
            self._script.extend([answer] * times)

    def _next(self) -> _Answer:
        with self._lock:
            return self._script.pop(0) if self._script else _Answer(200, {})

    def _record(self, handler: BaseHTTPRequestHandler, body: bytes, answered: int | None) -> None:
        headers = {k.lower(): v for k, v in handler.headers.items()}
        try:
            signed_at: int | None = signing.verify(
                self.secret, body, headers.get(signing.SIGNATURE_HEADER.lower()),
                now=self.clock())
        except signing.SignatureError:
            signed_at = None
        try:
            signing.verify_legacy(self.secret, body,
                                  headers.get(signing.LEGACY_SIGNATURE_HEADER.lower()))
            legacy_ok = True
        except signing.SignatureError:
            legacy_ok = False
        with self._lock:
            self.received.append(Received(
                delivery_id=headers.get(signing.DELIVERY_HEADER.lower(), ""),
                event=headers.get(signing.EVENT_HEADER.lower(), ""), body=body,
                headers=headers, signature_ok=signed_at is not None, legacy_ok=legacy_ok,
                signed_at=signed_at, answered=answered))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                answer = receiver._next()
                if answer.hang_seconds:
                    receiver._record(self, body, None)
                    time.sleep(answer.hang_seconds)
                    self.close_connection = True
                    return
                receiver._record(self, body, answer.status)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler
