"""Clients for the wardstream HTTP API: :class:`Client` (blocking) and :class:`AsyncClient`.

Both send contract events (``POST /v1/events``, one or a batch), post reviewers'
decisions (``POST /v1/decisions``), and read scores, score history, the review
queue and pair analyses. Every request is retried on connection errors,
timeouts, 429 and 5xx (see :mod:`wardstream.retry`); retries are safe because
each event carries its ``event_id`` (assigned here once, before the first
attempt, when the caller did not set one) and each decision one
``Idempotency-Key`` for all its attempts.

With ``privacy=True`` a message's ``content`` never leaves the process: it is
replaced by ``content_sha256`` and ``content_signals`` computed locally
(:mod:`wardstream.privacy`).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Final, cast
from urllib.parse import quote

import httpx

from wardstream.batching import AsyncBatcher, Batcher
from wardstream.errors import ApiError, NotFound, TransportError
from wardstream.privacy import StageExtractor, private_message
from wardstream.retry import RetryPolicy, parse_retry_after, retryable_status
from wardstream.types import (
    ActorScore,
    Decision,
    DecisionResult,
    Event,
    IngestResult,
    PairAnalysis,
    QueuePage,
    ScoreHistory,
)

__all__ = ["AsyncClient", "Client"]

DEFAULT_MAX_BATCH: Final = 500
USER_AGENT: Final = "wardstream-client-python/0.1.0"


def new_event_id() -> str:
    """A fresh event id (the SDK's default when an event has none)."""
    return f"sdk-{uuid.uuid4().hex}"


class _Core:
    """What both clients share: preparing bodies and judging answers (no I/O)."""

    def __init__(self, base_url: str, api_key: str, *, tenant_id: str | None,
                 privacy: bool, extractor: StageExtractor | None, retry: RetryPolicy | None,
                 max_batch: int) -> None:
        if not api_key:
            raise ValueError("api_key is required (wsk_<key id>_<secret>)")
        if not 1 <= max_batch <= 1000:
            raise ValueError("max_batch must be 1..1000 (the API's limit)")
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {api_key}", "User-Agent": USER_AGENT,
                        "Accept": "application/json"}
        self.tenant_id = tenant_id
        self.privacy = privacy
        self.extractor = extractor if extractor is not None or not privacy else (
            StageExtractor.bundled())
        self.retry = retry or RetryPolicy()
        self.max_batch = max_batch

    def prepare(self, event: Mapping[str, Any]) -> Event:
        """A copy of ``event`` ready to send: ``event_id`` and ``tenant_id`` filled in
        when missing, and in privacy mode the text replaced by its signals."""
        out = dict(event)
        if not out.get("event_id"):
            out["event_id"] = new_event_id()
        if self.tenant_id is not None and "tenant_id" not in out:
            out["tenant_id"] = self.tenant_id
        if self.privacy and self.extractor is not None:
            out = private_message(out, self.extractor)
        return out

    def chunks(self, events: list[Event]) -> list[list[Event]]:
        return [events[i:i + self.max_batch] for i in range(0, len(events), self.max_batch)]

    def request_parts(self, path: str, body: object, headers: dict[str, str] | None
                      ) -> tuple[str, bytes | None, dict[str, str]]:
        """The URL, JSON body and headers of one request to ``path``."""
        content = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        all_headers = {**self.headers, **(headers or {})}
        if content is not None:
            all_headers["Content-Type"] = "application/json"
        return self.base_url + path, content, all_headers

    def judge(self, response: httpx.Response, attempt: int) -> tuple[Any, float | None]:
        """``(parsed body, None)`` on success, ``(None, delay)`` to retry; raises
        :class:`ApiError` for a final failure."""
        if response.status_code < 400:
            return (response.json() if response.content else {}), None
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        if retryable_status(response.status_code) and attempt < self.retry.max_attempts:
            return None, self.retry.delay(attempt, retry_after)
        raise api_error(response, retry_after)

    def transport_failed(self, exc: httpx.TransportError, attempt: int, url: str) -> float:
        if attempt >= self.retry.max_attempts:
            raise TransportError(f"{url}: {type(exc).__name__}: {exc} "
                                 f"(after {attempt} attempts)") from exc
        return self.retry.delay(attempt)

    def decision_body(self, subject: str, decision: Decision, reviewer: str, *,
                      alert_id: str | None, note: str | None,
                      occurred_at: str | float | None) -> dict[str, Any]:
        body: dict[str, Any] = {"subject": subject, "decision": decision, "reviewer": reviewer}
        for name, value in (("alert_id", alert_id), ("note", note),
                            ("occurred_at", occurred_at)):
            if value is not None:
                body[name] = value
        return body


def api_error(response: httpx.Response, retry_after: float | None) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {"error": "http_error", "message": response.text[:200] or response.reason_phrase}
    kind = NotFound if response.status_code == 404 else ApiError
    return kind(response.status_code, str(body.get("error", "http_error")),
                str(body.get("message", "")), field=body.get("field"),
                errors=body.get("errors"), retry_after=retry_after)


def _segment(value: str) -> str:
    return quote(value, safe="")


def _params(**values: object) -> dict[str, str]:
    return {k: str(v) for k, v in values.items() if v is not None}


def _merge(results: list[IngestResult]) -> IngestResult:
    accepted = [event_id for r in results for event_id in r["accepted"]]
    return {"accepted": accepted, "count": len(accepted)}


class Client:
    """Blocking client. Use as a context manager, or call :meth:`close`.

    ``tenant_id`` fills events that do not name one; ``privacy=True`` sends
    signals instead of text; ``retry`` sets attempts and backoff; ``max_batch``
    splits :meth:`send_events` into requests of at most that many events.
    """

    def __init__(self, base_url: str, api_key: str, *, tenant_id: str | None = None,
                 privacy: bool = False, extractor: StageExtractor | None = None,
                 retry: RetryPolicy | None = None, timeout: float = 30.0,
                 max_batch: int = DEFAULT_MAX_BATCH,
                 sleep: Callable[[float], None] = time.sleep,
                 http: httpx.Client | None = None) -> None:
        self._core = _Core(base_url, api_key, tenant_id=tenant_id, privacy=privacy,
                           extractor=extractor, retry=retry, max_batch=max_batch)
        self._http = http or httpx.Client(timeout=timeout)
        self._sleep = sleep

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def prepare(self, event: Mapping[str, Any]) -> Event:
        """The event as it would be sent (ids filled in, privacy applied)."""
        return self._core.prepare(event)

    def _request(self, method: str, path: str, *, body: object = None,
                 params: dict[str, str] | None = None,
                 headers: dict[str, str] | None = None) -> Any:
        url, content, all_headers = self._core.request_parts(path, body, headers)
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._http.request(method, url, content=content, params=params,
                                              headers=all_headers)
            except httpx.TransportError as exc:
                self._sleep(self._core.transport_failed(exc, attempt, url))
                continue
            result, delay = self._core.judge(response, attempt)
            if delay is None:
                return result
            self._sleep(delay)

    def send_prepared(self, events: list[Event]) -> IngestResult:
        """Send events already passed through :meth:`prepare` (the batcher's path)."""
        results = [cast(IngestResult, self._request("POST", "/v1/events", body=chunk))
                   for chunk in self._core.chunks(events)]
        return _merge(results)

    def send_event(self, event: Mapping[str, Any]) -> IngestResult:
        """Send one contract event; answers once the broker acknowledged it."""
        return self.send_prepared([self._core.prepare(event)])

    def send_events(self, events: Iterable[Mapping[str, Any]]) -> IngestResult:
        """Send events in requests of at most ``max_batch``. A request is accepted
        whole or refused whole (422 names each bad event's index and field)."""
        prepared = [self._core.prepare(e) for e in events]
        if not prepared:
            return {"accepted": [], "count": 0}
        return self.send_prepared(prepared)

    def batcher(self, *, max_events: int = 100, max_delay: float = 1.0,
                on_error: Callable[[list[Event], Exception], None] | None = None) -> Batcher:
        """A buffer that sends when it holds ``max_events`` or its oldest event has
        waited ``max_delay`` seconds (see :class:`wardstream.batching.Batcher`)."""
        return Batcher(self.prepare, self.send_prepared, max_events=max_events,
                       max_delay=max_delay, on_error=on_error)

    def post_decision(self, subject: str, decision: Decision, reviewer: str, *,
                      alert_id: str | None = None, note: str | None = None,
                      occurred_at: str | float | None = None,
                      idempotency_key: str | None = None) -> DecisionResult:
        """Post a reviewer's decision; one ``Idempotency-Key`` (given or made here)
        for every attempt, so a retry never records a second decision."""
        body = self._core.decision_body(subject, decision, reviewer, alert_id=alert_id,
                                        note=note, occurred_at=occurred_at)
        key = idempotency_key or uuid.uuid4().hex
        return cast(DecisionResult, self._request("POST", "/v1/decisions", body=body,
                                                  headers={"Idempotency-Key": key}))

    def actor_score(self, actor: str) -> ActorScore:
        """The user's newest score (``actor``: your user id or a ``u_`` pseudonym)."""
        return cast(ActorScore, self._request("GET", f"/v1/actors/{_segment(actor)}/score"))

    def actor_history(self, actor: str, *, limit: int | None = None,
                      before: str | None = None) -> ScoreHistory:
        return cast(ScoreHistory, self._request(
            "GET", f"/v1/actors/{_segment(actor)}/history",
            params=_params(limit=limit, before=before)))

    def queue(self, *, limit: int | None = None, after: str | None = None) -> QueuePage:
        return cast(QueuePage, self._request("GET", "/v1/queue",
                                             params=_params(limit=limit, after=after)))

    def pair_analysis(self, a: str, b: str) -> PairAnalysis:
        return cast(PairAnalysis, self._request(
            "GET", f"/v1/pairs/{_segment(a)}/{_segment(b)}/analysis"))


class AsyncClient:
    """The :class:`Client` surface for asyncio (``await`` every call)."""

    def __init__(self, base_url: str, api_key: str, *, tenant_id: str | None = None,
                 privacy: bool = False, extractor: StageExtractor | None = None,
                 retry: RetryPolicy | None = None, timeout: float = 30.0,
                 max_batch: int = DEFAULT_MAX_BATCH,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 http: httpx.AsyncClient | None = None) -> None:
        self._core = _Core(base_url, api_key, tenant_id=tenant_id, privacy=privacy,
                           extractor=extractor, retry=retry, max_batch=max_batch)
        self._http = http or httpx.AsyncClient(timeout=timeout)
        self._sleep = sleep

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def prepare(self, event: Mapping[str, Any]) -> Event:
        return self._core.prepare(event)

    async def _request(self, method: str, path: str, *, body: object = None,
                       params: dict[str, str] | None = None,
                       headers: dict[str, str] | None = None) -> Any:
        url, content, all_headers = self._core.request_parts(path, body, headers)
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._http.request(method, url, content=content,
                                                    params=params, headers=all_headers)
            except httpx.TransportError as exc:
                await self._sleep(self._core.transport_failed(exc, attempt, url))
                continue
            result, delay = self._core.judge(response, attempt)
            if delay is None:
                return result
            await self._sleep(delay)

    async def send_prepared(self, events: list[Event]) -> IngestResult:
        results = [cast(IngestResult, await self._request("POST", "/v1/events", body=chunk))
                   for chunk in self._core.chunks(events)]
        return _merge(results)

    async def send_event(self, event: Mapping[str, Any]) -> IngestResult:
        return await self.send_prepared([self._core.prepare(event)])

    async def send_events(self, events: Iterable[Mapping[str, Any]]) -> IngestResult:
        prepared = [self._core.prepare(e) for e in events]
        if not prepared:
            return {"accepted": [], "count": 0}
        return await self.send_prepared(prepared)

    def batcher(self, *, max_events: int = 100, max_delay: float = 1.0,
                on_error: Callable[[list[Event], Exception], None] | None = None
                ) -> AsyncBatcher:
        return AsyncBatcher(self.prepare, self.send_prepared, max_events=max_events,
                            max_delay=max_delay, on_error=on_error)

    async def post_decision(self, subject: str, decision: Decision, reviewer: str, *,
                            alert_id: str | None = None, note: str | None = None,
                            occurred_at: str | float | None = None,
                            idempotency_key: str | None = None) -> DecisionResult:
        body = self._core.decision_body(subject, decision, reviewer, alert_id=alert_id,
                                        note=note, occurred_at=occurred_at)
        key = idempotency_key or uuid.uuid4().hex
        return cast(DecisionResult, await self._request(
            "POST", "/v1/decisions", body=body, headers={"Idempotency-Key": key}))

    async def actor_score(self, actor: str) -> ActorScore:
        return cast(ActorScore, await self._request(
            "GET", f"/v1/actors/{_segment(actor)}/score"))

    async def actor_history(self, actor: str, *, limit: int | None = None,
                            before: str | None = None) -> ScoreHistory:
        return cast(ScoreHistory, await self._request(
            "GET", f"/v1/actors/{_segment(actor)}/history",
            params=_params(limit=limit, before=before)))

    async def queue(self, *, limit: int | None = None, after: str | None = None) -> QueuePage:
        return cast(QueuePage, await self._request(
            "GET", "/v1/queue", params=_params(limit=limit, after=after)))

    async def pair_analysis(self, a: str, b: str) -> PairAnalysis:
        return cast(PairAnalysis, await self._request(
            "GET", f"/v1/pairs/{_segment(a)}/{_segment(b)}/analysis"))
