"""``wardstream ncmec``: build a report for review, submit it, show and reconcile submissions.

``build`` needs nothing but the input file; ``build`` and ``submit`` with
``--package`` instead read a preserved evidence package through the logged
read path (``--reason``), build the report from it, store it as ``built`` and
need PostgreSQL, the pseudonym key for ``--session`` and the reporter settings
(WARDSTREAM_NCMEC_REPORTER_*, WARDSTREAM_NCMEC_SERVICE). ``submit``, ``status`` and
``reconcile`` read settings from the environment (PostgreSQL; ``submit`` also
WARDSTREAM_NCMEC_URL, _USERNAME and _PASSWORD).

Exit codes: 0 done (built, or the report is finished), 1 the report ended
retracted or failed, or NCMEC is unavailable for now (run ``submit`` again),
2 the command cannot run (input, configuration), 3 a person must reconcile
the report with NCMEC first.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from pipeline.errors import ConfigError, WardstreamError
from pipeline.evidence.errors import PackageNotFound
from pipeline.ncmec.errors import (
    AmbiguousSubmit,
    InvalidReportInput,
    NcmecUnavailable,
    NeedsReconciliation,
    ReportXmlInvalid,
)
from pipeline.ncmec.inputs import load_input
from pipeline.ncmec.model import ReportInput
from pipeline.ncmec.report_xml import document_sha256, report_document
from pipeline.ncmec.summary import render

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_CANNOT_RUN: Final = 2
EXIT_RECONCILE: Final = 3
CLI_READER: Final = "cli:wardstream-ncmec"  # the reader logged with a package read


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="ncmec_action", required=True, metavar="ACTION")
    build = actions.add_parser("build", help="write report.xml and summary.md for review")
    _source_arguments(build)
    build.add_argument("--out", type=Path, required=True, metavar="DIR")
    submit = actions.add_parser(
        "submit", help="file the report with NCMEC (resumes; never files twice)")
    _source_arguments(submit)
    status = actions.add_parser("status", help="list submissions and their states")
    status.add_argument("--tenant")
    status.add_argument("--limit", type=int, default=50)
    reconcile = actions.add_parser(
        "reconcile", help="say what NCMEC holds for a report that needs reconciliation")
    reconcile.add_argument("--tenant", required=True)
    reconcile.add_argument("--key", required=True, help="our report key (ncmec status)")
    found = reconcile.add_mutually_exclusive_group(required=True)
    found.add_argument("--report-id", type=int, help="NCMEC holds it under this report id")
    found.add_argument("--not-filed", action="store_true", help="NCMEC has no such report")
    reconcile.add_argument("--operator", required=True,
                           help="the operator's pseudonym (u_...), for the audit log")


def _source_arguments(parser: argparse.ArgumentParser) -> None:
    """``--input FILE.json``, or ``--package`` with the confirmation (read via the logged path)."""
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", type=Path, metavar="FILE.json")
    source.add_argument("--package", metavar="PACKAGE_ID",
                        help="a preserved evidence package (pkg_...): the report is built from "
                        "it and stored as built; needs --tenant, --confirmed-by and --reason")
    parser.add_argument("--tenant", help="the package's tenant (with --package)")
    parser.add_argument("--confirmed-by", metavar="u_...",
                        help="the confirming reviewer's pseudonym (with --package)")
    parser.add_argument("--reason", help="why the package is read; logged (with --package)")
    parser.add_argument("--session", metavar="SESSION_ID",
                        help="the platform's conversation id to report, when the package's "
                        "subject wrote in more than one (with --package)")


def _from_package(args: argparse.Namespace) -> ReportInput:
    """The report of ``--package``, built and stored as ``built`` (pipeline/ncmec/generate.py)."""
    import psycopg

    from pipeline.ncmec.generate import generate_for_package
    from pipeline.pseudonym import Pseudonymizer
    from pipeline.settings import load_settings

    for flag, value in (("--tenant", args.tenant), ("--confirmed-by", args.confirmed_by),
                        ("--reason", args.reason)):
        if not value or not str(value).strip():
            raise InvalidReportInput(flag, "is required with --package")
    if not re.fullmatch(r"u_[a-z2-7]{26}", args.confirmed_by):
        raise InvalidReportInput("--confirmed-by", "must be the reviewer's pseudonym (u_...)")
    settings = load_settings()
    conversation = None
    if args.session:
        conversation = Pseudonymizer(settings.master_key()).pseudonym(
            args.tenant, "conversation", args.session)
    with psycopg.connect(settings.pg_dsn.get_secret_value(), autocommit=True) as conn:
        built = generate_for_package(
            conn, settings, tenant=args.tenant, package_id=args.package,
            reviewer=args.confirmed_by, reader=CLI_READER, reason=args.reason,
            conversation=conversation, clock=lambda: datetime.now(UTC))
    return built.report


def _report_of(args: argparse.Namespace) -> ReportInput:
    return load_input(args.input) if args.input is not None else _from_package(args)


def _say(action: str, message: str) -> None:
    print(f"wardstream ncmec {action}: {message}", file=sys.stderr)


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _build(args: argparse.Namespace) -> int:
    report = _report_of(args)
    document = report_document(report)
    args.out.mkdir(parents=True, exist_ok=True)
    _write_private(args.out / "report.xml", document)
    summary = render(report, document_sha256(document).hex())
    _write_private(args.out / "summary.md", summary.encode("utf-8"))
    print(f"report {report.report_key}: {args.out / 'report.xml'} (valid), "
          f"{args.out / 'summary.md'}")
    return EXIT_OK


def _submit(args: argparse.Namespace) -> int:
    import psycopg

    from pipeline.ncmec.client import CyberTiplineClient
    from pipeline.ncmec.submission import RetryPolicy, Submission
    from pipeline.settings import load_settings

    report = _report_of(args)
    settings = load_settings()
    url, username, password = settings.ncmec_credentials()
    policy = RetryPolicy(max_attempts=settings.ncmec_max_attempts)
    with psycopg.connect(settings.pg_dsn.get_secret_value(), autocommit=True) as conn, \
            CyberTiplineClient(url, username, password,
                               timeout=settings.ncmec_timeout_seconds) as client:
        row = Submission(conn, client, policy).run(report)
    print(f"report {row.report_key}: {row.state}"
          + (f", NCMEC report id {row.ncmec_report_id}" if row.ncmec_report_id else "")
          + (f" ({row.last_error})" if row.last_error and row.state != "finished" else ""))
    return EXIT_OK if row.state == "finished" else EXIT_FAILED


def _status(args: argparse.Namespace) -> int:
    import psycopg

    from pipeline.ncmec.store import list_reports
    from pipeline.settings import load_settings

    settings = load_settings()
    with psycopg.connect(settings.pg_dsn.get_secret_value(), autocommit=True) as conn:
        rows = list_reports(conn, args.tenant, args.limit)
    if not rows:
        print("no NCMEC reports")
    for row in rows:
        ncmec_id = row.ncmec_report_id if row.ncmec_report_id is not None else "-"
        files = f"{len(row.described)}/{row.file_count} files"
        error = f"  last error: {row.last_error}" if row.last_error else ""
        print(f"{row.tenant}  {row.report_key}  {row.state:<20}  ncmec {ncmec_id}  {files}  "
              f"attempts {row.attempts}  updated {row.updated_at.isoformat(timespec='seconds')}"
              f"{error}")
    return EXIT_OK


def _reconcile(args: argparse.Namespace) -> int:
    import psycopg

    from pipeline.ncmec.submission import reconcile
    from pipeline.settings import load_settings

    settings = load_settings()
    with psycopg.connect(settings.pg_dsn.get_secret_value(), autocommit=True) as conn:
        row = reconcile(conn, args.tenant, args.key, args.report_id, args.operator)
    print(f"report {row.report_key}: {row.state}; run wardstream ncmec submit again to continue")
    return EXIT_OK


_ACTIONS: Final = {"build": _build, "submit": _submit, "status": _status,
                   "reconcile": _reconcile}


def run(args: argparse.Namespace) -> int:
    import psycopg  # only the database actions need it; imported here, not at parser build

    action = args.ncmec_action
    try:
        return _ACTIONS[action](args)
    except (InvalidReportInput, ReportXmlInvalid, ConfigError, PackageNotFound) as exc:
        _say(action, str(exc))
        return EXIT_CANNOT_RUN
    except (AmbiguousSubmit, NeedsReconciliation) as exc:
        _say(action, str(exc))
        return EXIT_RECONCILE
    except NcmecUnavailable as exc:
        _say(action, f"{exc}; nothing is lost, run the same command again later")
        return EXIT_FAILED
    except WardstreamError as exc:
        _say(action, str(exc))
        return EXIT_FAILED
    except psycopg.Error as exc:
        _say(action, f"database: {type(exc).__name__}: {exc}".splitlines()[0])
        return EXIT_FAILED
