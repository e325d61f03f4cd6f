"""The ``ncmec_reports`` row of each report (migration 0006): created once, then moved by CAS.

A row is keyed by (tenant, report key), so running ``submit`` again for the
same package and confirmation finds the row and resumes it. Every state change
is ``UPDATE ... WHERE state = <expected>``: if another process moved the row
first, :class:`ConcurrentChange` is raised instead of writing over it. A
session-level advisory lock (:func:`locked`) keeps two runs off one report; it
is released when the run's connection closes, also when the process dies.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from pipeline.ncmec.errors import NcmecError, ReportBusy
from pipeline.ncmec.states import check_transition

_COLUMNS: Final = sql.SQL(
    "tenant_id, report_key, package_id, confirmation_id, state, xml_sha256, file_count,"
    " ncmec_report_id, file_ids, described, attempts, submit_rounds, last_error, created_at,"
    " updated_at, submitted_at, finished_at"
)


class ConcurrentChange(NcmecError):
    """The row changed under us (another run, or an operator); run the command again."""


@dataclass(frozen=True)
class ReportRow:
    tenant: str
    report_key: str
    package_id: str
    confirmation_id: str
    state: str
    xml_sha256: bytes
    file_count: int
    ncmec_report_id: int | None
    file_ids: dict[int, str]
    described: frozenset[int]
    attempts: int
    submit_rounds: int
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    finished_at: datetime | None


def _row(values: tuple[Any, ...]) -> ReportRow:
    (tenant, key, package, confirmation, state, sha, count, report_id, file_ids, described,
     attempts, rounds, error, created, updated, submitted, finished) = values
    return ReportRow(
        tenant, key, package, confirmation, state, bytes(sha), int(count),
        int(report_id) if report_id is not None else None,
        {int(k): str(v) for k, v in dict(file_ids).items()},
        frozenset(int(i) for i in described), int(attempts), int(rounds), error,
        created, updated, submitted, finished,
    )


@contextmanager
def locked(conn: psycopg.Connection, tenant: str, report_key: str) -> Iterator[None]:
    """Hold the report's advisory lock for the block; :class:`ReportBusy` if someone else has it."""
    digest = hashlib.sha256(f"wardstream/ncmec\x00{tenant}\x00{report_key}".encode()).digest()
    lock_id = int.from_bytes(digest[:8], "big", signed=True)
    row = conn.execute("SELECT pg_try_advisory_lock(%s)", (lock_id,)).fetchone()
    if not row or not row[0]:
        raise ReportBusy(f"report {report_key} is being worked on by another process")
    try:
        yield
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (lock_id,))


def get(conn: psycopg.Connection, tenant: str, report_key: str) -> ReportRow | None:
    query = sql.SQL("SELECT {} FROM ncmec_reports WHERE tenant_id = %s AND report_key = %s")
    row = conn.execute(query.format(_COLUMNS), (tenant, report_key)).fetchone()
    return _row(row) if row else None


def create(conn: psycopg.Connection, tenant: str, report_key: str, package_id: str,
           confirmation_id: str, xml_sha256: bytes, file_count: int) -> tuple[ReportRow, bool]:
    """The row of this report, inserted in state ``built`` if new; (row, created)."""
    query = sql.SQL(
        "INSERT INTO ncmec_reports (tenant_id, report_key, package_id, confirmation_id, state,"
        " xml_sha256, file_count) VALUES (%s, %s, %s, %s, 'built', %s, %s)"
        " ON CONFLICT DO NOTHING RETURNING {}")
    inserted = conn.execute(
        query.format(_COLUMNS),
        (tenant, report_key, package_id, confirmation_id, xml_sha256, file_count),
    ).fetchone()
    if inserted:
        return _row(inserted), True
    found = get(conn, tenant, report_key)
    if found is None:
        raise ConcurrentChange(f"report {report_key} conflicts with another row of its package")
    return found, False


def _update(conn: psycopg.Connection, row: ReportRow, expected: str, sets: str,
            params: tuple[Any, ...]) -> ReportRow:
    """``sets`` is always a constant of this module (assignments with %s placeholders)."""
    query = sql.SQL(
        "UPDATE ncmec_reports SET {}, updated_at = now()"
        " WHERE tenant_id = %s AND report_key = %s AND state = %s RETURNING {}")
    updated = conn.execute(
        query.format(sql.SQL(sets), _COLUMNS),
        (*params, row.tenant, row.report_key, expected),
    ).fetchone()
    if updated is None:
        raise ConcurrentChange(f"report {row.report_key} is no longer {expected}")
    return _row(updated)


def transition(conn: psycopg.Connection, row: ReportRow, new: str, *,
               ncmec_report_id: int | None = None, error: str | None = None) -> ReportRow:
    """Move ``row`` to ``new`` (a legal edge only), stamping the times that state implies."""
    check_transition(row.state, new)
    sets = ["state = %s", "last_error = %s"]
    params: list[Any] = [new, error]
    if ncmec_report_id is not None:
        sets.append("ncmec_report_id = %s")
        params.append(ncmec_report_id)
    if new == "submitting":
        sets.append("submit_rounds = submit_rounds + 1")
    if new == "submitted":
        sets.append("submitted_at = coalesce(submitted_at, now())")
    if new in ("finished", "retracted", "failed"):
        sets.append("finished_at = now()")
    if new == "built":  # an operator said NCMEC never got it: forget what a failed try left
        sets.append("ncmec_report_id = NULL, file_ids = '{}'::jsonb, described = '[]'::jsonb")
    return _update(conn, row, row.state, ", ".join(sets), tuple(params))


def set_xml(conn: psycopg.Connection, row: ReportRow, xml_sha256: bytes,
            file_count: int) -> ReportRow:
    """A changed input may replace the XML only while nothing has been sent."""
    return _update(conn, row, "built", "xml_sha256 = %s, file_count = %s",
                   (xml_sha256, file_count))


def record_file(conn: psycopg.Connection, row: ReportRow, index: int, file_id: str) -> ReportRow:
    return _update(conn, row, row.state, "file_ids = file_ids || %s",
                   (Jsonb({str(index): file_id}),))


def record_described(conn: psycopg.Connection, row: ReportRow, index: int) -> ReportRow:
    return _update(conn, row, row.state, "described = described || %s", (Jsonb([index]),))


def record_failure(conn: psycopg.Connection, row: ReportRow, error: str) -> ReportRow:
    """One failed HTTP attempt: counted, and the error kept for ``ncmec status``."""
    return _update(conn, row, row.state, "attempts = attempts + 1, last_error = %s",
                   (error[:500],))


def list_reports(conn: psycopg.Connection, tenant: str | None = None,
                 limit: int = 50) -> list[ReportRow]:
    where = sql.SQL("WHERE tenant_id = %s" if tenant else "")
    params = (tenant, limit) if tenant else (limit,)
    query = sql.SQL("SELECT {} FROM ncmec_reports {} ORDER BY updated_at DESC LIMIT %s")
    rows = conn.execute(query.format(_COLUMNS, where), params).fetchall()
    return [_row(r) for r in rows]
