"""A local stand-in of the CyberTipline Reporting API, for tests and demos (stdlib http.server).

Endpoints as the public description has them: ``GET /status``, ``POST
/submit`` (XML, validated against the same XSD as our builder), ``POST
/upload`` (multipart ``id`` + ``file``), ``POST /fileinfo`` (XML),
``POST /finish`` and ``POST /retract`` (form ``id``), all behind basic auth
and all answering a ``reportResponse`` (``reportDoneResponse`` for finish).

It counts filings (accepted submits) and can be told to misbehave, in-process
(:meth:`StandIn.fail`) or over HTTP (``POST /_control/fail?endpoint=/submit&kind=500&times=2``;
``GET /_control/state`` answers JSON):

- ``500``: answer HTTP 500 and do nothing;
- ``hang``: wait ``hang_seconds`` and close without answering, doing nothing;
- ``accept_then_hang``: do the work (a submit files a report), then wait and
  close without answering: the ambiguous case;
- ``reject``: answer responseCode 4100 (validation failed).

Run it with ``wardstream ncmec-standin --port N``. Never point it at real data.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import secrets
import threading
from collections import deque
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final, Literal, get_args
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from pipeline.ncmec import schema

FaultKind = Literal["500", "hang", "accept_then_hang", "reject"]
FAULT_KINDS: Final[tuple[str, ...]] = get_args(FaultKind)
ENDPOINTS: Final = ("/status", "/submit", "/upload", "/fileinfo", "/finish", "/retract")
MAX_BODY: Final = 64 * 1024 * 1024
STANDIN_PASSWORD: Final = "standin-password"  # noqa: S105 - a local test double's default


@dataclass
class FiledReport:
    report_id: int
    xml: bytes
    status: str = "open"  # open | finished | retracted
    files: dict[str, bytes] = field(default_factory=dict)
    described: list[str] = field(default_factory=list)


class _Hang(Exception):
    """Close the connection without an answer."""


class StandIn:
    """The stand-in's state and its HTTP server; ``start()`` serves it from a thread."""

    def __init__(self, username: str = "standin", password: str = STANDIN_PASSWORD,
                 host: str = "127.0.0.1", port: int = 0, hang_seconds: float = 2.0,
                 first_report_id: int | None = None) -> None:
        self.username = username
        self.password = password
        self.hang_seconds = hang_seconds
        self.reports: dict[int, FiledReport] = {}
        self.calls: dict[str, int] = dict.fromkeys(ENDPOINTS, 0)
        self._faults: dict[str, deque[str]] = {e: deque() for e in ENDPOINTS}
        self._next_id = first_report_id or 10_000_000 + secrets.randbelow(10**9)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer((host, port), _handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def filings(self) -> int:
        """How many reports were opened (accepted submits), finished or not."""
        return len(self.reports)

    def fail(self, endpoint: str, kind: str = "500", times: int = 1) -> None:
        if endpoint not in ENDPOINTS:
            raise ValueError(f"endpoint must be one of {', '.join(ENDPOINTS)}")
        if kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(FAULT_KINDS)}")
        with self._lock:
            self._faults[endpoint].extend([kind] * times)

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {
                "filings": self.filings,
                "calls": dict(self.calls),
                "reports": {str(r.report_id): {"status": r.status, "files": sorted(r.files),
                                               "described": list(r.described)}
                            for r in self.reports.values()},
            }

    def start(self) -> StandIn:
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True, name="ncmec-standin")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def serve_forever(self) -> None:
        self._server.serve_forever()

    # -- endpoint logic (called from handler threads) ---------------------------------------

    def take_fault(self, endpoint: str) -> str | None:
        with self._lock:
            self.calls[endpoint] += 1
            queue = self._faults[endpoint]
            return queue.popleft() if queue else None

    def hang(self) -> None:
        self._stopping.wait(self.hang_seconds)
        raise _Hang

    def submit(self, body: bytes) -> tuple[int, bytes]:
        problems = schema.problems(body, "report")
        if problems:
            return 400, response(4100, f"Validation failed: {problems[0]}")
        with self._lock:
            report_id = self._next_id
            self._next_id += 1
            self.reports[report_id] = FiledReport(report_id, body)
        return 200, response(0, "Success", report_id=report_id)

    def _open(self, raw_id: str | None) -> FiledReport | tuple[int, bytes]:
        try:
            report = self.reports.get(int(raw_id or ""))
        except ValueError:
            report = None
        if report is None:
            return 400, response(5001, "Report does not exist")
        if report.status == "retracted":
            return 400, response(5101, "Report already retracted", report_id=report.report_id)
        if report.status == "finished":
            return 400, response(5102, "Report already finished", report_id=report.report_id)
        return report

    def upload(self, raw_id: str | None, content: bytes | None) -> tuple[int, bytes]:
        with self._lock:
            report = self._open(raw_id)
            if not isinstance(report, FiledReport):
                return report
            if not content:
                return 400, response(4200, "Malformed file submittal",
                                     report_id=report.report_id)
            file_id = secrets.token_hex(16)
            report.files[file_id] = content
        md5 = hashlib.md5(content, usedforsecurity=False).hexdigest()
        return 200, response(0, "Success", report_id=report.report_id, file_id=file_id, md5=md5)

    def fileinfo(self, body: bytes) -> tuple[int, bytes]:
        problems = schema.problems(body, "fileDetails")
        if problems:
            return 400, response(4100, f"Validation failed: {problems[0]}")
        root = schema.parse(body)
        raw_id, file_id = root.findtext("reportId"), root.findtext("fileId") or ""
        with self._lock:
            report = self._open(raw_id)
            if not isinstance(report, FiledReport):
                return report
            if file_id not in report.files:
                return 400, response(5002, "File does not exist", report_id=report.report_id)
            report.described.append(file_id)
        return 200, response(0, "Success", report_id=report.report_id)

    def finish(self, raw_id: str | None) -> tuple[int, bytes]:
        with self._lock:
            report = self._open(raw_id)
            if not isinstance(report, FiledReport):
                return report
            report.status = "finished"
            files = "".join(f"<fileId>{f}</fileId>" for f in report.files)
        body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<reportDoneResponse>"
                f"<responseCode>0</responseCode><responseDescription>Success"
                f"</responseDescription><reportId>{report.report_id}</reportId>"
                f"<files>{files}</files></reportDoneResponse>\n")
        return 200, body.encode()

    def retract(self, raw_id: str | None) -> tuple[int, bytes]:
        with self._lock:
            report = self._open(raw_id)
            if not isinstance(report, FiledReport):
                return report
            report.status = "retracted"
        return 200, response(0, "Success", report_id=report.report_id)


def response(code: int, description: str, report_id: int | None = None,
             file_id: str | None = None, md5: str | None = None) -> bytes:
    """A ``reportResponse`` document."""
    parts = [f"<responseCode>{code}</responseCode>",
             f"<responseDescription>{escape(description)}</responseDescription>"]
    if report_id is not None:
        parts.append(f"<reportId>{report_id}</reportId>")
    if file_id is not None:
        parts.append(f"<fileId>{file_id}</fileId>")
    if md5 is not None:
        parts.append(f"<hash>{md5}</hash>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<reportResponse>' + "".join(parts)
            + "</reportResponse>\n").encode()


def _form(content_type: str, body: bytes) -> dict[str, bytes]:
    """Fields of a urlencoded or multipart body; a file field's value is its bytes."""
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
        fields: dict[str, bytes] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if isinstance(name, str) and isinstance(payload, bytes):
                fields[name] = payload
        return fields
    return {k: v[0].encode() for k, v in parse_qs(body.decode("utf-8", "replace")).items()}


def _handler(standin: StandIn) -> type[BaseHTTPRequestHandler]:
    expected = "Basic " + base64.b64encode(
        f"{standin.username}:{standin.password}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return  # quiet: tests read state, not logs

        def _send(self, status: int, body: bytes, content_type: str = "text/xml") -> None:
            self.send_response(status)
            self.send_header("Content-Type", f"{content_type}; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(min(length, MAX_BODY))

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_POST(self) -> None:
            self._dispatch("POST")

        def _dispatch(self, method: str) -> None:
            parts = urlsplit(self.path)
            path = parts.path.rstrip("/")
            if path.endswith(tuple(ENDPOINTS)):
                path = "/" + path.rsplit("/", 1)[1]
            body = self._body() if method == "POST" else b""
            if path.startswith("/_control/"):
                self._control(path, parse_qs(parts.query))
                return
            if self.headers.get("Authorization") != expected:
                self._send(401, response(2000, "Authentication required"))
                return
            if path not in ENDPOINTS or (method == "GET") != (path == "/status"):
                self._send(404, response(1210, "Resource not found"))
                return
            try:
                self._endpoint(path, body)
            except _Hang:
                self.close_connection = True

        def _endpoint(self, path: str, body: bytes) -> None:
            fault = standin.take_fault(path)
            if fault == "500":
                self._send(500, response(1000, "Server error"))
                return
            if fault == "hang":
                standin.hang()
            if fault == "reject":
                self._send(400, response(4100, "Validation failed (stand-in told to reject)"))
                return
            status, answer = self._work(path, body)
            if fault == "accept_then_hang":
                standin.hang()
            self._send(status, answer)

        def _work(self, path: str, body: bytes) -> tuple[int, bytes]:
            if path == "/status":
                return 200, response(0, "Success")
            if path == "/submit":
                return standin.submit(body)
            if path == "/fileinfo":
                return standin.fileinfo(body)
            fields = _form(self.headers.get("Content-Type", ""), body)
            raw_id = fields["id"].decode() if "id" in fields else None
            if path == "/upload":
                return standin.upload(raw_id, fields.get("file"))
            if path == "/finish":
                return standin.finish(raw_id)
            return standin.retract(raw_id)

        def _control(self, path: str, query: dict[str, list[str]]) -> None:
            if path == "/_control/state":
                self._send(200, json.dumps(standin.state()).encode(), "application/json")
                return
            if path == "/_control/fail":
                try:
                    standin.fail(query.get("endpoint", [""])[0], query.get("kind", ["500"])[0],
                                 int(query.get("times", ["1"])[0]))
                except ValueError as exc:
                    self._send(400, json.dumps({"error": str(exc)}).encode(), "application/json")
                    return
                self._send(200, json.dumps(standin.state()).encode(), "application/json")
                return
            self._send(404, b"{}", "application/json")

    return Handler


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--username", default="standin")
    parser.add_argument("--password", default=STANDIN_PASSWORD)


def run(args: argparse.Namespace) -> int:
    standin = StandIn(args.username, args.password, host=args.host, port=args.port)
    print(f"NCMEC stand-in on {standin.url} (user {args.username}); Ctrl-C stops it",
          flush=True)
    try:
        standin.serve_forever()
    except KeyboardInterrupt:
        return 130
    finally:
        standin.stop()
    return 0
