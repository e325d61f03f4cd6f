"""Avro records in the Confluent wire framing, against a local schema map.

A framed record is ``0x00``, a 4-byte big-endian schema id, then the Avro
binary body. Ids come from ``schemas/registry.json``, so a schema registry can
replace the map later without changing a byte on the wire.
"""

from __future__ import annotations

import io
import json
import os
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import fastavro

from pipeline.errors import FieldError, InvalidRecord, SchemaError

MAGIC = 0
_HEADER = struct.Struct(">bI")

NORMALIZED_EVENT_SCHEMA_ID = 100
DEAD_LETTER_SCHEMA_ID = 101
IDENTITY_ENTRY_SCHEMA_ID = 102
ROUTED_EVENT_SCHEMA_ID = 200
SIGNAL_BATCH_SCHEMA_ID = 201
SCORE_SCHEMA_ID = 202
ALERT_SCHEMA_ID = 203
MODEL_VERSION_SCHEMA_ID = 204
LABEL_SCHEMA_ID = 205


def default_schema_dir() -> Path:
    """``$WARDSTREAM_SCHEMA_DIR`` or the repository's ``schemas/``."""
    configured = os.environ.get("WARDSTREAM_SCHEMA_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parent.parent / "schemas"


@dataclass(frozen=True)
class SchemaMap:
    """Parsed schemas by wire id, and the id of each raw event type."""

    by_id: dict[int, Any]
    event_type_ids: dict[str, int]

    def encode(self, schema_id: int, record: dict[str, Any]) -> bytes:
        schema = self.by_id.get(schema_id)
        if schema is None:
            raise SchemaError(f"no schema with id {schema_id} in the schema map")
        buffer = io.BytesIO()
        buffer.write(_HEADER.pack(MAGIC, schema_id))
        try:
            fastavro.schemaless_writer(buffer, schema, record)
        except (ValueError, TypeError) as exc:
            raise SchemaError(f"record does not fit schema {schema_id}: {exc}") from exc
        return buffer.getvalue()

    def decode(self, data: bytes) -> tuple[int, dict[str, Any]]:
        """Schema id and record of a framed message; :class:`InvalidRecord` if broken."""
        if len(data) < _HEADER.size:
            raise InvalidRecord(
                [FieldError("(record)", "avro_framing", "shorter than the 5-byte Avro header")]
            )
        magic, schema_id = _HEADER.unpack_from(data)
        if magic != MAGIC:
            raise InvalidRecord(
                [FieldError("(record)", "avro_framing", f"magic byte is {magic}, expected 0")]
            )
        schema = self.by_id.get(schema_id)
        if schema is None:
            raise InvalidRecord(
                [FieldError("(record)", "schema_id", f"unknown schema id {schema_id}")]
            )
        body = io.BytesIO(data[_HEADER.size :])
        try:
            record = fastavro.schemaless_reader(body, schema, None)
        except (EOFError, ValueError, TypeError, IndexError, UnicodeDecodeError, OverflowError,
                MemoryError, struct.error) as exc:
            raise InvalidRecord(
                [FieldError("(record)", "avro", f"body does not decode with schema "
                            f"{schema_id}: {type(exc).__name__}")]
            ) from None
        if body.tell() != len(data) - _HEADER.size:
            raise InvalidRecord(
                [FieldError("(record)", "avro", "trailing bytes after the Avro body")]
            )
        if not isinstance(record, dict):
            raise InvalidRecord([FieldError("(record)", "avro", "body is not a record")])
        return schema_id, record


@lru_cache(maxsize=4)
def load_schema_map(schema_dir: Path | None = None) -> SchemaMap:
    """Read ``registry.json`` and every schema it names; fail loudly if inconsistent."""
    directory = schema_dir or default_schema_dir()
    registry_path = directory / "registry.json"
    try:
        registry = json.loads(registry_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SchemaError(f"cannot read schema map {registry_path}: {exc}") from exc
    by_id: dict[int, Any] = {}
    event_type_ids: dict[str, int] = {}
    for key, entry in registry["schemas"].items():
        path = directory / entry["file"]
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            parsed = fastavro.parse_schema(raw)
        except (OSError, ValueError, fastavro.schema.SchemaParseException) as exc:
            raise SchemaError(f"cannot load schema {path}: {exc}") from exc
        schema_id = int(key)
        by_id[schema_id] = parsed
        namespace = raw.get("namespace", "")
        if namespace == "wardstream.events.v1":
            event_type_ids[entry["file"].split(".")[0].removeprefix("event_")] = schema_id
    return SchemaMap(by_id, event_type_ids)
