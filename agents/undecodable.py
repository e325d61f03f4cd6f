"""Internal records that do not decode, or are keyed wrongly, go to the dead-letter topic."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from agents.acks import DeliveryAcks
from agents.context import WorkerContext
from pipeline.avro import DEAD_LETTER_SCHEMA_ID
from pipeline.errors import FieldError, InvalidRecord
from pipeline.ingest import dead_letter

log = logging.getLogger(__name__)
R = TypeVar("R")


async def send_dead_letter(ctx: WorkerContext, topic: Any, agent: str, message: Any,
                           exc: InvalidRecord) -> asyncio.Future[Any]:
    position = f"{message.topic}/{message.partition}/{message.offset}"
    letter = dead_letter(exc.errors, message.value or b"", position,
                         int(time.time() * 1_000_000))
    log.error("%s: refused record at %s (%s: %s)", agent, position, exc.errors[0].field,
              exc.errors[0].rule)
    future: asyncio.Future[Any] = await topic.send(
        key=letter.dead_letter_id.encode(),
        value=ctx.schemas.encode(DEAD_LETTER_SCHEMA_ID, letter.to_record()))
    return future


async def decode_or_dead_letter(ctx: WorkerContext, topic: Any, agent: str, event: Any,
                                acks: DeliveryAcks, decode: Callable[[bytes], R],
                                key_of: Callable[[R], str]) -> R | None:
    """The event's record decoded, or None once it went to the dead-letter topic.

    A record is refused when it does not decode, or when its Kafka key is not the
    key its content names (the state it would change lives under that key).
    """
    message = event.message
    try:
        record = decode(message.value or b"")
        if message.key != key_of(record).encode():
            raise InvalidRecord([FieldError("key", "mismatch",
                                            "record key differs from the key in the record")])
    except InvalidRecord as exc:
        await acks.add(event, [await send_dead_letter(ctx, topic, agent, message, exc)])
        return None
    return record
