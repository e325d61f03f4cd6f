"""The text model every worker uses, kept current from the compacted ``models`` topic.

The ``models`` topic is the changelog of a Faust GlobalTable held in memory, so
every worker reads every version (compaction keeps the newest). A timer swaps
the model in when the version changes; until a version is published, the
packaged seed model is used. The trainer (``agents/trainer.py``) publishes.
"""

from __future__ import annotations

import logging
from typing import Any

import faust

from agents.context import WorkerContext
from pipeline.avro import MODEL_VERSION_SCHEMA_ID
from pipeline.detect.text.model import StageModel, model_from_bytes
from pipeline.errors import ConfigError, InvalidRecord
from pipeline.stream.records import decode_as

log = logging.getLogger(__name__)
MODEL_KEY = b"stage-model"
_CHECK_SECONDS = 2.0


class ModelHolder:
    """The model in use and the raw bytes of the version it came from."""

    def __init__(self, model: StageModel) -> None:
        self.model = model
        self._source: bytes | None = None

    def offer(self, ctx: WorkerContext, value: bytes | None) -> None:
        """Switch to the version in ``value`` when it differs from the one in use."""
        if value is None or value is self._source or value == self._source:
            return
        try:
            record = decode_as(ctx.schemas, value, MODEL_VERSION_SCHEMA_ID, "a model version")
            model = model_from_bytes(record["model"], f"models topic version {record['version']}")
        except (InvalidRecord, ConfigError) as exc:
            log.error("models topic: unusable version ignored (%s)", exc)
            self._source = value
            return
        self._source = value
        if model.version != self.model.version:
            log.info("text model %s -> %s", self.model.version, model.version)
        self.model = model


def register(app: faust.App, ctx: WorkerContext, holder: ModelHolder) -> Any:
    topo = ctx.topology
    changelog = app.topic(topo.port("models", "reads", "models"), partitions=1, internal=True,
                          key_type=bytes, value_type=bytes,
                          key_serializer="raw", value_serializer="raw")
    versions = app.GlobalTable("models", default=None, partitions=1, changelog_topic=changelog,
                               store="memory://", key_type=bytes, value_type=bytes)

    @app.timer(_CHECK_SECONDS)
    async def follow_models() -> None:
        holder.offer(ctx, versions.get(MODEL_KEY))

    return versions
