"""Idempotent PostgreSQL writes of normalised events, dead letters and identity entries.

Every write is an upsert keyed by a deterministic id (DESIGN.md principle 3):
``(tenant_id, event_id)`` for events, the source position for dead letters,
``(tenant_id, kind, pseudonym)`` for identity entries. One batch is one
transaction, so the caller may commit its Kafka offsets once this returns.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from pipeline.model import DeadLetter, IdentityEntry, NormalizedEvent

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_INSERT_EVENT = """
INSERT INTO events (tenant_id, event_id, type, occurred_at, utc_offset_min, actor, record,
                    content, source)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (tenant_id, event_id) DO NOTHING
"""
_INSERT_DEAD_LETTER = """
INSERT INTO dead_letters (dead_letter_id, source, received_at, tenant_id, field, rule, reason,
                          errors, original, original_sha256)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (dead_letter_id) DO NOTHING
"""
_UPSERT_IDENTITY = """
INSERT INTO identity_map (tenant_id, kind, pseudonym, value, owner, first_seen_at)
VALUES (%s, %s, %s, %s, %s, %s)
ON CONFLICT (tenant_id, kind, pseudonym)
DO UPDATE SET first_seen_at = LEAST(identity_map.first_seen_at, EXCLUDED.first_seen_at)
"""
_DELETE_IDENTITY = "DELETE FROM identity_map WHERE tenant_id = %s AND kind = %s AND pseudonym = %s"


def from_micros(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


@dataclass
class SinkBatch:
    """What one flush writes. ``erased_identities`` are identity-map tombstones (keys)."""

    events: list[NormalizedEvent] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    identities: list[IdentityEntry] = field(default_factory=list)
    erased_identities: list[tuple[str, str, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return (
            len(self.events)
            + len(self.dead_letters)
            + len(self.identities)
            + len(self.erased_identities)
        )


def _event_row(event: NormalizedEvent) -> tuple[Any, ...]:
    record = event.to_record()
    content = record.pop("content")
    return (
        event.tenant_id,
        event.event_id,
        event.type,
        from_micros(event.occurred_at_us),
        event.utc_offset_min,
        event.actor,
        json.dumps(record, separators=(",", ":"), ensure_ascii=False),
        content,
        event.source,
    )


def _dead_letter_row(letter: DeadLetter) -> tuple[Any, ...]:
    return (
        letter.dead_letter_id,
        letter.source,
        from_micros(letter.received_at_us),
        letter.tenant_id,
        letter.field,
        letter.rule,
        letter.reason,
        json.dumps(letter.errors, ensure_ascii=False),
        letter.original,
        hashlib.sha256(letter.original).hexdigest(),
    )


def _identity_row(entry: IdentityEntry) -> tuple[Any, ...]:
    return (
        entry.tenant_id,
        entry.kind,
        entry.pseudonym,
        entry.value,
        entry.owner,
        from_micros(entry.first_seen_at_us),
    )


def _dedupe_identities(entries: Sequence[IdentityEntry]) -> list[IdentityEntry]:
    # One batch often names the same user many times; write each key once.
    unique: dict[str, IdentityEntry] = {}
    for entry in entries:
        kept = unique.get(entry.key)
        if kept is None or entry.first_seen_at_us < kept.first_seen_at_us:
            unique[entry.key] = entry
    return sorted(unique.values(), key=lambda e: e.key)


def insert_dead_letters(cur: psycopg.Cursor[Any], letters: Sequence[DeadLetter]) -> None:
    """Insert dead letters inside the caller's transaction; a stored one is kept as it is."""
    if letters:
        cur.executemany(_INSERT_DEAD_LETTER, [_dead_letter_row(d) for d in letters])


def write_batch(conn: psycopg.Connection, batch: SinkBatch) -> None:
    """Write ``batch`` in one transaction; raise ``psycopg.Error`` and write nothing on failure."""
    with conn.transaction(), conn.cursor() as cur:
        if batch.events:
            cur.executemany(_INSERT_EVENT, [_event_row(e) for e in batch.events])
        insert_dead_letters(cur, batch.dead_letters)
        if batch.identities:
            cur.executemany(
                _UPSERT_IDENTITY, [_identity_row(e) for e in _dedupe_identities(batch.identities)]
            )
        if batch.erased_identities:
            cur.executemany(_DELETE_IDENTITY, batch.erased_identities)
