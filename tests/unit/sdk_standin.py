"""A scripted stand-in for the wardstream API, for the SDK's retry and batching tests.

Each request takes the next step of a script: ``503`` / ``429`` / ``500`` / ``422``
answer that status (429 and 503 with ``Retry-After: 0``), ``drop`` closes the
connection without an answer (a network error for the client), and ``ok`` (also
what an exhausted script gives) answers the way the API does. Every request is
recorded with its path, headers and parsed body.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class StandIn:
    url: str
    script: list[str] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_step(self) -> str:
        with self.lock:
            return self.script.pop(0) if self.script else "ok"

    def posted_ids(self) -> list[list[str]]:
        """The event ids of every ``POST /v1/events`` attempt, in order."""
        return [[e["event_id"] for e in (s.body if isinstance(s.body, list) else [s.body])]
                for s in self.seen if s.path == "/v1/events"]


def _ok_body(path: str, body: Any, headers: dict[str, str]) -> dict[str, Any]:
    if path == "/v1/events":
        items = body if isinstance(body, list) else [body]
        return {"accepted": [e["event_id"] for e in items], "count": len(items)}
    if path == "/v1/decisions":
        return {"event_id": f"decision-{headers.get('idempotency-key', '')[:8]}",
                "queue_item_closed": True}
    if path.startswith("/v1/queue"):
        return {"items": [], "next_after": None}
    return {"actor": "u_x", "items": [], "next_before": None}


def _handler(stand_in: StandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_: Any) -> None:
            return

        def _answer(self, status: int, body: dict[str, Any], extra: dict[str, str]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            body = json.loads(raw) if raw else None
            stand_in.seen.append(Seen(self.command, self.path.split("?")[0], headers, body))
            step = stand_in.next_step()
            if step == "drop":
                self.close_connection = True
                self.connection.close()
                return
            if step == "ok":
                self._answer(202 if self.command == "POST" else 200,
                             _ok_body(self.path.split("?")[0], body, headers), {})
                return
            status = int(step)
            extra = {"Retry-After": "0"} if status in (429, 503) else {}
            self._answer(status, {"error": "scripted", "message": f"scripted {status}",
                                  "field": "event_id" if status == 422 else None}, extra)

        def do_GET(self) -> None:
            self._handle()

        def do_POST(self) -> None:
            self._handle()

    return Handler


@contextmanager
def stand_in(script: list[str] | None = None) -> Iterator[StandIn]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state := StandIn("")))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    state.script.extend(script or [])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
