"""Avro with the Confluent wire framing, as wardstream's topics carry it.

A framed record is byte 0, the 4-byte big-endian schema id, then the Avro
body. The ids and schema files are listed in ``schemas/registry.json`` of the
wardstream repository; copy that directory next to your consumer, or point
``--schemas`` at it.
"""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path
from typing import Any

import fastavro

HEADER = struct.Struct(">bI")


class Schemas:
    def __init__(self, directory: Path) -> None:
        registry = json.loads((directory / "registry.json").read_text(encoding="utf-8"))
        self.by_id: dict[int, Any] = {}
        self.id_of_subject: dict[str, int] = {}
        for schema_id, entry in registry["schemas"].items():
            self.by_id[int(schema_id)] = fastavro.schema.load_schema(directory / entry["file"])
            self.id_of_subject[entry["subject"]] = int(schema_id)

    def event_type_id(self, event_type: str) -> int:
        """The schema id of a raw event type (``message``, ``contact``, ...)."""
        return self.id_of_subject[f"events.raw-{event_type}"]

    def frame(self, schema_id: int, record: dict[str, Any]) -> bytes:
        body = io.BytesIO()
        body.write(HEADER.pack(0, schema_id))
        fastavro.schemaless_writer(body, self.by_id[schema_id], record)
        return body.getvalue()

    def unframe(self, data: bytes) -> tuple[int, dict[str, Any]]:
        magic, schema_id = HEADER.unpack_from(data)
        if magic != 0 or schema_id not in self.by_id:
            raise ValueError(f"not a wardstream record (magic {magic}, schema id {schema_id})")
        record = fastavro.schemaless_reader(io.BytesIO(data[HEADER.size:]),
                                            self.by_id[schema_id], None)
        return schema_id, record
