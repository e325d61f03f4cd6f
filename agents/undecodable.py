"""Internal records that do not decode go to the dead-letter topic, never silently away."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from agents.context import WorkerContext
from pipeline.avro import DEAD_LETTER_SCHEMA_ID
from pipeline.errors import InvalidRecord
from pipeline.ingest import dead_letter

log = logging.getLogger(__name__)


async def send_dead_letter(ctx: WorkerContext, topic: Any, agent: str, message: Any,
                           exc: InvalidRecord) -> asyncio.Future[Any]:
    position = f"{message.topic}/{message.partition}/{message.offset}"
    letter = dead_letter(exc.errors, message.value or b"", position,
                         int(time.time() * 1_000_000))
    log.error("%s: undecodable record at %s (%s: %s)", agent, position, exc.errors[0].field,
              exc.errors[0].rule)
    future: asyncio.Future[Any] = await topic.send(
        key=letter.dead_letter_id.encode(),
        value=ctx.schemas.encode(DEAD_LETTER_SCHEMA_ID, letter.to_record()))
    return future
