"""``wardstream audit``: verify an export offline; export, sign, prove and show the key.

``verify`` needs nothing but the file (and, to trust the result, the public key
obtained some other way). The others read settings from the environment:
``export``, ``sign``, ``sign-all`` and ``prove`` use PostgreSQL, ``sign``,
``sign-all`` and ``public-key`` the signing key (WARDSTREAM_AUDIT_SIGNING_KEY).
``sign-all`` is the scheduled job: a head for every tenant whose log grew,
once (from cron) or every ``--every`` seconds.

Exit codes: 0 verified (or done), 1 verification failed or the database
refused, 2 the command cannot run (unreadable or malformed input, configuration).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pipeline.audit.errors import AuditError, MalformedExport, VerificationFailed
from pipeline.audit.export import (
    MAX_EXPORT_BYTES,
    MAX_PROOF_BYTES,
    consistency_document,
    inclusion_document,
    parse_export,
    parse_proof,
)
from pipeline.audit.signing import decode_b64_key, public_key_bytes, signing_key
from pipeline.audit.verify import verify_export, verify_proof
from pipeline.errors import ConfigError

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_CANNOT_RUN: Final = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="audit_action", required=True, metavar="ACTION")
    verify = actions.add_parser(
        "verify", help="check an export offline: records, signatures, consistency")
    verify.add_argument("export", type=Path, metavar="EXPORT_FILE")
    verify.add_argument("--public-key", metavar="KEY_B64",
                        help="the log's Ed25519 public key (base64); the export's own otherwise")
    verify.add_argument("--proof", type=Path, metavar="PROOF_FILE",
                        help="also check an inclusion or consistency proof against the heads")
    verify.add_argument("--max-bytes", type=int, default=MAX_EXPORT_BYTES,
                        help=f"refuse larger export files (default {MAX_EXPORT_BYTES})")
    export = actions.add_parser("export", help="write a tenant's log for offline checking")
    export.add_argument("--tenant", required=True)
    export.add_argument("--out", type=Path, required=True, metavar="FILE")
    sign = actions.add_parser("sign", help="sign a tree head over a tenant's log now")
    sign.add_argument("--tenant", required=True)
    sign_all = actions.add_parser(
        "sign-all", help="sign a head for every tenant whose log grew since its last head")
    sign_all.add_argument("--every", type=float, metavar="SECONDS",
                          help="keep running, signing again every SECONDS (a scheduler of "
                               "its own); once and exit when not given")
    prove = actions.add_parser("prove", help="write an inclusion or consistency proof")
    prove.add_argument("--tenant", required=True)
    which = prove.add_mutually_exclusive_group(required=True)
    which.add_argument("--seq", type=int, help="inclusion proof of this record")
    which.add_argument("--old-size", type=int, help="consistency proof from this size")
    prove.add_argument("--tree-size", type=int, required=True,
                       help="the size of a signed tree head")
    prove.add_argument("--out", type=Path, required=True, metavar="FILE")
    actions.add_parser("public-key", help="print the public key of the signing key (base64)")


def _say(action: str, message: str) -> None:
    print(f"wardstream audit {action}: {message}", file=sys.stderr)


def _read_capped(path: Path, limit: int, what: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            raw = handle.read(limit + 1)
    except OSError as exc:
        raise MalformedExport("(file)", f"cannot read {what} {path}: {exc.strerror}") from None
    if len(raw) > limit:
        raise MalformedExport("(document)", f"{what} is larger than {limit} bytes")
    return raw


def _verify(args: argparse.Namespace) -> int:
    try:
        export = parse_export(_read_capped(args.export, args.max_bytes, "the export"),
                              args.max_bytes)
    except MalformedExport as exc:
        _say("verify", f"malformed export: {exc}")
        return EXIT_CANNOT_RUN
    try:
        proof = (parse_proof(_read_capped(args.proof, MAX_PROOF_BYTES, "the proof"))
                 if args.proof else None)
    except MalformedExport as exc:
        _say("verify", f"malformed proof: {exc}")
        return EXIT_CANNOT_RUN
    if args.public_key is None:
        key = export.public_key
        _say("verify", "warning: no --public-key given; trusting the key inside the export")
    else:
        try:
            key = decode_b64_key(args.public_key)
        except ValueError as exc:
            _say("verify", f"--public-key: {exc}")
            return EXIT_CANNOT_RUN
    try:
        report = verify_export(export, key)
        proof_line = verify_proof(export, proof) if proof is not None else None
    except VerificationFailed as exc:
        _say("verify", f"FAILED: {exc}")
        return EXIT_FAILED
    print(report.line())
    if proof_line:
        print(f"ok: {proof_line}")
    return EXIT_OK


def _write_json(path: Path, document: dict[str, Any]) -> None:
    """Write whole or not at all: a half-written export would look like tampering."""
    partial = path.with_name(path.name + ".partial")
    with open(partial, "w", encoding="ascii") as handle:
        json.dump(document, handle, separators=(",", ":"))
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(path)


def _with_database(args: argparse.Namespace) -> int:
    import psycopg

    from pipeline.audit import store
    from pipeline.settings import load_settings

    settings = load_settings()
    if args.audit_action == "sign-all":
        return _sign_all(settings.pg_dsn.get_secret_value(), signing_key(settings.audit_seed()),
                         args.every)
    with psycopg.connect(settings.pg_dsn.get_secret_value(), autocommit=True) as conn:
        if args.audit_action == "sign":
            head = store.sign_head(conn, args.tenant, signing_key(settings.audit_seed()))
            print(f"signed tree head: size {head.tree_size}, root {head.root_hash.hex()}")
            return EXIT_OK
        if args.audit_action == "export":
            document = store.export(conn, args.tenant)
            _write_json(args.out, document)
            print(f"exported {len(document['leaves'])} records and "
                  f"{len(document['tree_heads'])} tree heads to {args.out}")
            return EXIT_OK
        if args.seq is not None:
            leaf, path = store.inclusion_proof(conn, args.tenant, args.seq, args.tree_size)
            proof = inclusion_document(args.tenant, args.seq, leaf, args.tree_size, path)
        else:
            path = store.consistency_proof(conn, args.tenant, args.old_size, args.tree_size)
            proof = consistency_document(args.tenant, args.old_size, args.tree_size, path)
        _write_json(args.out, proof)
        print(f"proof written to {args.out}")
        return EXIT_OK


def _sign_all(dsn: str, key: Ed25519PrivateKey, every: float | None) -> int:
    """One round (``every`` None) or rounds every ``every`` seconds until interrupted.

    A round's exit code is 1 when any tenant failed; a lost connection in a
    loop is reported and retried at the next round.
    """
    import psycopg

    from pipeline.audit import store

    if every is not None and every <= 0:
        _say("sign-all", "--every must be a positive number of seconds")
        return EXIT_CANNOT_RUN
    while True:
        try:
            with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
                done = store.sign_all(conn, key)
            for head in done.signed:
                print(f"signed tree head: tenant {head.tenant}, size {head.tree_size}, "
                      f"root {head.root_hash.hex()}", flush=True)
            for tenant, why in done.failed:
                _say("sign-all", f"tenant {tenant}: {why}")
            status = EXIT_FAILED if done.failed else EXIT_OK
        except psycopg.OperationalError as exc:
            if every is None:
                raise
            _say("sign-all", f"database unavailable ({type(exc).__name__}); next round in "
                 f"{every:g}s")
            status = EXIT_FAILED
        if every is None:
            return status
        try:
            time.sleep(every)
        except KeyboardInterrupt:
            return status


def run(args: argparse.Namespace) -> int:
    action: str = args.audit_action
    if action == "verify":
        return _verify(args)
    import psycopg  # the other actions reach settings and the database

    try:
        if action == "public-key":
            from pipeline.settings import load_settings

            key = signing_key(load_settings().audit_seed())
            print(base64.b64encode(public_key_bytes(key)).decode("ascii"))
            return EXIT_OK
        return _with_database(args)
    except ConfigError as exc:
        _say(action, f"configuration: {exc}")
        return EXIT_CANNOT_RUN
    except OSError as exc:
        _say(action, f"cannot write {getattr(exc, 'filename', '')}: {exc.strerror}")
        return EXIT_CANNOT_RUN
    except AuditError as exc:
        _say(action, str(exc))
        return EXIT_FAILED
    except psycopg.Error as exc:
        # The class and the first line only: details can quote row values.
        _say(action, f"database: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        return EXIT_FAILED


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="wardstream audit", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
