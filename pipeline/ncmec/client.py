"""The raw CyberTipline Reporting API client: one method per endpoint, no retries, no state.

Follows the public API description (docs/ncmec.md): HTTP basic auth, XML
bodies for ``/submit`` and ``/fileinfo``, multipart ``id`` + ``file`` for
``/upload``, form field ``id`` for ``/finish`` and ``/retract``; every answer
is an XML document with ``responseCode`` (0 is success), ``responseDescription``
and, where it applies, ``reportId``, ``fileId`` and ``hash``. Answers are read
by element name whatever their root, so the finish answer's own root element
needs nothing special.

Failures are split by what they tell us about the server's side, which the
caller (pipeline/ncmec/submission.py) needs to avoid filing twice:

- :class:`TransportFailure` with ``maybe_processed=False``: the request never
  reached NCMEC (connection refused, connect timeout) or NCMEC answered 5xx;
- :class:`TransportFailure` with ``maybe_processed=True``: the request was sent
  and no usable answer came back (read timeout, dropped connection, garbage);
- :class:`NcmecRejected`: NCMEC answered and refused (non-zero responseCode, 4xx).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import httpx
from lxml import etree

from pipeline.ncmec.errors import NcmecError, NcmecRejected

XML_CONTENT_TYPE: Final = "text/xml; charset=utf-8"
MAX_ANSWER_BYTES: Final = 1024 * 1024


class TransportFailure(NcmecError):
    """No usable answer from NCMEC; retried by the submission with backoff."""

    def __init__(self, endpoint: str, reason: str, maybe_processed: bool) -> None:
        self.endpoint = endpoint
        self.reason = reason
        self.maybe_processed = maybe_processed
        super().__init__(f"{endpoint}: {reason}")


@dataclass(frozen=True)
class Answer:
    """A parsed answer of the Reporting API."""

    code: int
    description: str
    report_id: int | None = None
    file_id: str | None = None
    hash: str | None = None


def parse_answer(endpoint: str, body: bytes) -> Answer:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(body[:MAX_ANSWER_BYTES], parser)
    except etree.XMLSyntaxError:
        raise TransportFailure(endpoint, "the answer is not XML", maybe_processed=True) from None

    def text(tag: str) -> str | None:
        found = root.find(f".//{tag}")
        return found.text.strip() if found is not None and found.text else None

    code_text = text("responseCode")
    report_text = text("reportId")
    try:
        code = int(code_text) if code_text is not None else -1
        report_id = int(report_text) if report_text else None
    except ValueError:
        raise TransportFailure(endpoint, "the answer's codes are not numbers",
                               maybe_processed=True) from None
    if code_text is None:
        raise TransportFailure(endpoint, "the answer has no responseCode", maybe_processed=True)
    return Answer(code, text("responseDescription") or "", report_id, text("fileId"),
                  text("hash"))


class CyberTiplineClient:
    """One authenticated HTTP session with the Reporting API at ``base_url``."""

    def __init__(self, base_url: str, username: str, password: str, timeout: float = 30.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self._http = httpx.Client(base_url=base_url.rstrip("/"), auth=(username, password),
                                  timeout=timeout, transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> CyberTiplineClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, endpoint: str, method: str, **kwargs: object) -> Answer:
        try:
            response = self._http.request(method, endpoint, **kwargs)  # type: ignore[arg-type]
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise TransportFailure(endpoint, f"{type(exc).__name__}: {exc}",
                                   maybe_processed=False) from None
        except httpx.TransportError as exc:  # read/write timeouts, dropped connections
            raise TransportFailure(endpoint, f"{type(exc).__name__}: {exc}",
                                   maybe_processed=True) from None
        if response.status_code >= 500:
            raise TransportFailure(endpoint, f"HTTP {response.status_code}",
                                   maybe_processed=False)
        if response.status_code in (401, 403):
            raise NcmecRejected(endpoint, 2000 if response.status_code == 401 else 3000,
                                f"HTTP {response.status_code}: check WARDSTREAM_NCMEC_USERNAME "
                                "and WARDSTREAM_NCMEC_PASSWORD")
        answer = parse_answer(endpoint, response.content)
        if response.status_code >= 400 or answer.code != 0:
            raise NcmecRejected(endpoint, answer.code, answer.description
                                or f"HTTP {response.status_code}")
        return answer

    def status(self) -> Answer:
        return self._call("/status", "GET")

    def submit(self, report_xml: bytes) -> Answer:
        answer = self._call("/submit", "POST", content=report_xml,
                            headers={"Content-Type": XML_CONTENT_TYPE})
        if answer.report_id is None:
            raise TransportFailure("/submit", "success without a reportId", maybe_processed=True)
        return answer

    def upload(self, report_id: int, filename: str, content: bytes) -> Answer:
        answer = self._call("/upload", "POST", data={"id": str(report_id)},
                            files={"file": (filename, content, "application/octet-stream")})
        if not answer.file_id:
            raise TransportFailure("/upload", "success without a fileId", maybe_processed=True)
        return answer

    def fileinfo(self, file_details_xml: bytes) -> Answer:
        return self._call("/fileinfo", "POST", content=file_details_xml,
                          headers={"Content-Type": XML_CONTENT_TYPE})

    def finish(self, report_id: int) -> Answer:
        return self._call("/finish", "POST", data={"id": str(report_id)})

    def retract(self, report_id: int) -> Answer:
        return self._call("/retract", "POST", data={"id": str(report_id)})
