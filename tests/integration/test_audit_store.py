"""The audit log in the real PostgreSQL: round trip, append-only, concurrency, erasure."""

from __future__ import annotations

import base64
import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from pipeline.audit import command, merkle, store
from pipeline.audit.records import AuditRecord, commit
from pipeline.audit.signing import public_key_bytes, signing_key
from pipeline.settings import Settings
from tests.integration.conftest import Tenant

pytestmark = pytest.mark.integration

SEED = bytes(range(100, 132))
KEY = signing_key(SEED)
PUBLIC_B64 = base64.b64encode(public_key_bytes(KEY)).decode()
START = datetime(2025, 3, 1, tzinfo=UTC)
SUBJECT = "u_" + "q" * 26


def record(i: int, subject: str = SUBJECT) -> AuditRecord:
    return AuditRecord(
        record_id=f"alert-{i}",
        kind="alert",
        occurred_at=START + timedelta(seconds=i),
        actor="system:risk",
        details={"tier": "high", "score_x100": 8000 + i},
        personal={"subject": subject},
    )


def verify_file(tmp_path: Path, document: dict[str, object],
                capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    path = tmp_path / "export.json"
    path.write_text(json.dumps(document))
    code = command.main(["verify", str(path), "--public-key", PUBLIC_B64])
    out, err = capsys.readouterr()
    return code, out, err


def test_append_sign_export_verify(db: psycopg.Connection, tenant: Tenant, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    t = tenant.tenant_id
    assert [store.append(db, t, record(i)) for i in range(5)] == [0, 1, 2, 3, 4]
    assert store.append(db, t, record(2)) == 2  # a replayed record id adds nothing
    first = store.sign_head(db, t, KEY)
    assert [store.append(db, t, record(i)) for i in range(5, 7)] == [5, 6]
    second = store.sign_head(db, t, KEY)
    assert (first.tree_size, second.tree_size) == (5, 7)
    assert second.timestamp_ms >= first.timestamp_ms

    code, out, err = verify_file(tmp_path, store.export(db, t), capsys)
    assert code == 0, err
    assert out.startswith("ok: 7 records, 2 tree heads")

    hashes = store.leaf_hashes(db, t, 7)
    leaf, path = store.inclusion_proof(db, t, 3, 5)
    assert merkle.verify_inclusion(3, 5, merkle.leaf_hash(leaf), path, first.root_hash)
    assert merkle.leaf_hash(leaf) == hashes[3]
    proof = store.consistency_proof(db, t, 5, 7)
    assert merkle.verify_consistency(5, 7, first.root_hash, second.root_hash, proof)
    assert b"q" * 26 not in leaf  # the subject is committed, not written


def test_cli_sign_export_prove_verify(settings: Settings, tenant: Tenant, tmp_path: Path,
                                      db: psycopg.Connection,
                                      monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    t = tenant.tenant_id
    for i in range(4):
        store.append(db, t, record(i))
    monkeypatch.setenv("WARDSTREAM_PG_DSN", settings.pg_dsn.get_secret_value())
    monkeypatch.setenv("WARDSTREAM_AUDIT_SIGNING_KEY", base64.b64encode(SEED).decode())
    assert command.main(["public-key"]) == 0
    assert capsys.readouterr().out.strip() == PUBLIC_B64
    assert command.main(["sign", "--tenant", t]) == 0
    assert capsys.readouterr().out.startswith("signed tree head: size 4, root ")
    export_file, proof_file = tmp_path / "export.json", tmp_path / "proof.json"
    assert command.main(["export", "--tenant", t, "--out", str(export_file)]) == 0
    assert command.main(["prove", "--tenant", t, "--seq", "1", "--tree-size", "4",
                         "--out", str(proof_file)]) == 0
    capsys.readouterr()
    assert command.main(["verify", str(export_file), "--public-key", PUBLIC_B64,
                         "--proof", str(proof_file)]) == 0
    out = capsys.readouterr().out
    assert "ok: 4 records, 1 tree heads" in out
    assert "ok: record seq 1 is included in the signed tree of size 4" in out
    assert command.main(["export", "--tenant", "nobody-here", "--out",
                         str(tmp_path / "x.json")]) == command.EXIT_FAILED
    assert "has no signed tree head yet" in capsys.readouterr().err


@pytest.mark.parametrize("table", ["audit_leaves", "audit_tree_heads"])
def test_rows_can_be_neither_changed_nor_removed(
    db: psycopg.Connection, tenant: Tenant, table: str
) -> None:
    t = tenant.tenant_id
    store.append(db, t, record(0))
    store.sign_head(db, t, KEY)
    statements = [
        f"UPDATE {table} SET created_at = now() WHERE tenant_id = %s",  # noqa: S608
        f"DELETE FROM {table} WHERE tenant_id = %s",  # noqa: S608
    ]
    for statement in statements:
        with pytest.raises(psycopg.errors.RestrictViolation, match="append-only"):
            db.execute(statement, (t,))
    with pytest.raises(psycopg.errors.RestrictViolation, match="append-only"):
        db.execute(f"TRUNCATE {table} CASCADE")
    assert db.execute(f"SELECT count(*) FROM {table} WHERE tenant_id = %s",  # noqa: S608
                      (t,)).fetchone() == (1,)


def test_concurrent_appends_get_gapless_distinct_seqs(
    settings: Settings, tenant: Tenant, db: psycopg.Connection, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    t = tenant.tenant_id
    per_writer = 40
    seqs: dict[str, list[int]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def writer(name: str) -> None:
        try:
            with psycopg.connect(settings.pg_dsn.get_secret_value(), autocommit=True) as conn:
                start.wait()
                seqs[name] = [store.append(conn, t, AuditRecord(
                    f"{name}-{i}", "decision", START, "system:review")) for i in range(per_writer)]
        except Exception as exc:  # noqa: BLE001 - handed to the main thread to fail the test
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    combined = seqs["a"] + seqs["b"]
    assert sorted(combined) == list(range(2 * per_writer))
    assert seqs["a"] == sorted(seqs["a"]) and seqs["b"] == sorted(seqs["b"])
    store.sign_head(db, t, KEY)
    code, out, err = verify_file(tmp_path, store.export(db, t), capsys)
    assert code == 0, err
    assert out.startswith(f"ok: {2 * per_writer} records, 1 tree heads")


def test_erasing_a_salt_leaves_verification_intact(
    db: psycopg.Connection, tenant: Tenant, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    t = tenant.tenant_id
    other = "u_" + "z" * 26
    store.append(db, t, record(0))
    store.append(db, t, record(1, subject=other))
    store.append(db, t, record(2))
    store.sign_head(db, t, KEY)
    before = store.export(db, t)
    salt, value = store.commitment_openings(db, t, 0)["subject"]
    leaf = json.loads(before["leaves"][0]["leaf"])
    assert value == SUBJECT
    assert leaf["commitments"]["subject"] == commit(salt, value).hex()

    assert store.erase_value(db, t, SUBJECT) == 2
    assert store.commitment_openings(db, t, 0) == {}
    assert store.commitment_openings(db, t, 2) == {}
    assert store.commitment_openings(db, t, 1)["subject"][1] == other
    store.append(db, t, AuditRecord("erasure-1", "erasure", START, "system:erasure",
                                    {"rows": 2}))
    store.sign_head(db, t, KEY)
    after = store.export(db, t)
    assert after["leaves"][:3] == before["leaves"]
    code, out, err = verify_file(tmp_path, after, capsys)
    assert code == 0, err
    assert out.startswith("ok: 4 records, 2 tree heads")
