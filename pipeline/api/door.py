"""The one way events enter over HTTP: read a capped body, check events, produce them.

``POST /v1/events``, ``POST /v1/decisions`` and the compatibility paths all
produce through :class:`EventDoor`: every event is checked against the contract
and the caller's tenant by :func:`pipeline.api.batch.check_batch`, keyed for
dedupe by :func:`pipeline.api.batch.to_records`, and answered only after the
broker acknowledged every record (503 with ``Retry-After`` otherwise).
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import Request

from pipeline.api.batch import BatchRejected, check_batch, to_records
from pipeline.api.errors import ApiError
from pipeline.api.mapping import Mapped, idempotency_key, idempotent_event_id
from pipeline.contract import ValidEvent, parse_json
from pipeline.errors import InvalidRecord
from pipeline.kafka.producer import AckedProducer, ProduceFailed
from pipeline.settings import Settings


async def read_capped(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "body_too_large", f"the body is {declared} bytes; limit is {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "body_too_large", f"the body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def json_body(request: Request, limit: int) -> Any:
    """The parsed JSON body (400 ``malformed_body`` naming where it broke)."""
    raw = await read_capped(request, limit)
    try:
        return parse_json(raw, max_bytes=limit)
    except InvalidRecord as exc:
        raise ApiError(400, "malformed_body", exc.first.message, field=exc.first.field) from None


def invalid_request(exc: InvalidRecord) -> ApiError:
    """422 naming the first broken field and listing every one."""
    return ApiError(422, "invalid_request", str(exc), field=exc.first.field,
                    errors=[e.as_dict() for e in exc.errors])


def event_id_for(request: Request, tenant_id: str, purpose: str) -> str:
    """A deterministic id from the ``Idempotency-Key`` header, else a random one."""
    try:
        key = idempotency_key(request.headers.get("idempotency-key"))
    except InvalidRecord as exc:
        raise ApiError(400, "invalid_header", exc.first.message, field=exc.first.field,
                       errors=[e.as_dict() for e in exc.errors]) from None
    if key is None:
        return f"{purpose}-{secrets.token_hex(20)}"
    return idempotent_event_id(tenant_id, purpose, key)


class EventDoor:
    """Checks and produces events to the raw JSON topic for one API process."""

    def __init__(self, settings: Settings, raw_topic: str) -> None:
        self._settings = settings
        self._topic = raw_topic
        self._producer: AckedProducer | None = None

    def open(self) -> None:
        self._producer = AckedProducer(self._settings.kafka_bootstrap)

    async def close(self) -> None:
        if self._producer is not None:
            await asyncio.to_thread(self._producer.close)

    def check(self, body: Any, tenant_id: str) -> list[ValidEvent]:
        """``body`` (an event or a list) validated for ``tenant_id``; raises
        :class:`BatchRejected`."""
        return check_batch(
            body,
            tenant_id=tenant_id,
            now=datetime.now(UTC),
            max_items=self._settings.api_max_batch,
            max_future=timedelta(seconds=self._settings.api_max_future_skew_seconds),
        )

    def check_mapped(self, mapped: Mapped, tenant_id: str) -> list[ValidEvent]:
        """The events a request was mapped to, validated; errors name the request's
        fields (422 ``invalid_request``)."""
        try:
            return self.check(mapped.events, tenant_id)
        except BatchRejected as exc:
            errors = mapped.request_errors(exc.items)
            if not errors:
                raise ApiError(exc.status, exc.code, exc.message) from None
            raise invalid_request(InvalidRecord(errors)) from None

    async def produce(self, events: list[ValidEvent]) -> None:
        """Return once the broker acknowledged every event (503 + Retry-After if not)."""
        if self._producer is None:
            raise ApiError(503, "unavailable", "the producer is not started; retry shortly",
                           headers={"Retry-After": "5"})
        try:
            await self._producer.send_all(self._topic, to_records(events),
                                          self._settings.api_produce_timeout_seconds)
        except ProduceFailed as exc:
            raise ApiError(503, "unavailable", str(exc),
                           headers={"Retry-After": str(exc.retry_after)}) from None
