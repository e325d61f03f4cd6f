"""``wardstream export dsa|transparency|osa``: a regulatory export of one tenant's period.

    wardstream export transparency --tenant acme --from 2026-01-01 --to 2026-06-30 \\
        --out report.md --format md

Each export appends an audit record (kind ``export``) to the tenant's log before
the file is written. Exit codes: 0 written, 1 the database refused, 2 the
command cannot run (a malformed or reversed date, an unknown tenant, a bad risk
assessment file, configuration); the message names the option.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import Final

import psycopg

from pipeline.audit.records import TENANT_RE
from pipeline.errors import ConfigError
from pipeline.exports.errors import ExportError, InvalidExportRequest, InvalidRiskAssessment
from pipeline.exports.period import parse_period
from pipeline.exports.service import FORMATS, KINDS, run_export

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_CANNOT_RUN: Final = 2
_OPTION: Final = {"from": "--from", "to": "--to", "tenant": "--tenant"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", choices=KINDS,
                        help="dsa: statements of reasons; transparency: the period's report; "
                             "osa: the Online Safety Act record pack")
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--from", dest="date_from", required=True, metavar="YYYY-MM-DD",
                        help="first day of the period (UTC)")
    parser.add_argument("--to", dest="date_to", required=True, metavar="YYYY-MM-DD",
                        help="last day of the period (UTC, included); at most 3 years after --from")
    parser.add_argument("--out", type=Path, required=True, metavar="FILE")
    parser.add_argument("--format", choices=FORMATS, default="json")
    parser.add_argument("--risk-assessment", type=Path, metavar="FILE",
                        help="osa: the risk assessment file (default: the one in the repository)")


def _say(message: str) -> None:
    print(f"wardstream export: {message}", file=sys.stderr, flush=True)


def _requester() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def run(args: argparse.Namespace) -> int:
    from pipeline.settings import load_settings

    try:
        period = parse_period(args.date_from, args.date_to)
        if not TENANT_RE.match(args.tenant):
            raise InvalidExportRequest("tenant", "format", "must be 1..64 of [A-Za-z0-9_.-]")
    except InvalidExportRequest as exc:
        _say(f"{_OPTION.get(exc.field, exc.field)}: {exc.message}")
        return EXIT_CANNOT_RUN
    try:
        dsn = load_settings().pg_dsn.get_secret_value()
    except ConfigError as exc:
        _say(f"configuration: {exc}")
        return EXIT_CANNOT_RUN
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
            if conn.execute("SELECT 1 FROM tenants WHERE tenant_id = %s",
                            (args.tenant,)).fetchone() is None:
                _say(f"--tenant: no tenant {args.tenant!r}")
                return EXIT_CANNOT_RUN
            export = run_export(conn, args.kind, args.tenant, period,
                                requested_by=_requester(), risk_assessment=args.risk_assessment)
    except InvalidRiskAssessment as exc:
        _say(f"--risk-assessment: {exc}")
        return EXIT_CANNOT_RUN
    except ExportError as exc:
        _say(str(exc))
        return EXIT_FAILED
    except psycopg.Error as exc:
        _say(f"{type(exc).__name__}: {exc}".splitlines()[0])
        return EXIT_FAILED
    out: Path = args.out
    partial = out.with_name(out.name + ".partial")
    partial.write_text(export.render(args.format), encoding="utf-8")
    os.replace(partial, out)
    print(f"wrote {out}: {args.kind} export of {args.tenant} for {period.first} to "
          f"{period.last}; sha256 {export.sha256}; audit seq {export.audit_seq}")
    return EXIT_OK
