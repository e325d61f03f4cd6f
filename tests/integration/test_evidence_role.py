"""Evidence lives apart under its own role where migrations may create it (0007, 0010).

The shared test database is migrated by the service role, which may not create
roles, so there the schema stays the service role's (docs/evidence.md). Here a
scratch database is migrated by the local stack's migrator role (CREATEROLE, as
a deployment's migration owner would have): the schema, its tables and
functions belong to ``wardstream_evidence``, and the migrating role keeps only
what 0007 grants it: no reading or changing packages except through the
logging functions.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pipeline.evidence.builder import build_pending
from pipeline.evidence.errors import PackageNotFound
from pipeline.evidence.policy import EvidenceConfig
from pipeline.evidence.store import read_package
from pipeline.settings import Settings
from pipeline.storage.migrate import migrate
from pipeline.storage.tenants import add_tenant
from tests.integration.evidence_seed import scene

pytestmark = pytest.mark.integration

OWNER = "wardstream_evidence"
NOW = datetime.now(UTC).replace(microsecond=0)


def _migrator_dsn(settings: Settings, dbname: str) -> str:
    params = conninfo_to_dict(settings.pg_dsn.get_secret_value())
    params["user"] = os.environ.get("WARDSTREAM_PG_MIGRATOR_USER", "wardstream_migrator")
    params["dbname"] = dbname
    return make_conninfo(**params)


@pytest.fixture
def scratch(settings: Settings) -> Iterator[str]:
    """A fresh database owned and migrated by the migrator role; its DSN."""
    name = f"ws_role_{secrets.token_hex(4)}"
    admin = _migrator_dsn(settings, conninfo_to_dict(
        settings.pg_dsn.get_secret_value()).get("dbname", "wardstream"))
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        pytest.fail(f"the migrator role is missing (deploy/local/postgres.sh creates it): {exc}")
    try:
        yield _migrator_dsn(settings, name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_evidence_schema_belongs_to_its_own_role(scratch: str) -> None:
    applied = migrate(scratch)
    assert "0007_evidence" in applied and "0010_erasure_retention" in applied
    with psycopg.connect(scratch, autocommit=True) as conn:
        me = conn.execute("SELECT current_user").fetchone()
        assert me is not None
        owners = conn.execute(
            "SELECT c.relname, c.relowner::regrole::text FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'evidence' AND c.relkind = 'r'").fetchall()
        assert {name for name, _ in owners} == {
            "package_keys", "packages", "retention_actions", "access_log", "destructions"}
        assert {owner for _, owner in owners} == {OWNER}
        functions = dict(conn.execute(
            "SELECT p.proname, p.proowner::regrole::text FROM pg_proc p"
            " JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'evidence'"
        ).fetchall())
        assert functions["read_package"] == OWNER
        assert functions["packages_concerning"] == OWNER  # 0010 joined and left the role
        assert set(functions.values()) == {OWNER}
        schema = conn.execute("SELECT nspowner::regrole::text FROM pg_namespace"
                              " WHERE nspname = 'evidence'").fetchone()
        assert schema == (OWNER,)
        member = conn.execute("SELECT pg_has_role(current_user, %s, 'MEMBER')",
                              (OWNER,)).fetchone()
        assert member == (False,)  # the hand-over's membership was given back

        for statement in ("SELECT content FROM evidence.packages",
                          "SELECT reason FROM evidence.access_log",
                          "UPDATE evidence.packages SET on_hold = true",
                          "DELETE FROM evidence.packages",
                          "DELETE FROM evidence.package_keys"):
            with pytest.raises(pg_errors.InsufficientPrivilege):
                conn.execute(statement)

        # What the services do still works: build (insert), read (logged), find for erasure.
        add_tenant(conn, "t-role", "Role test")
        subject = scene(conn, "t-role").subject
        [built] = build_pending(conn, EvidenceConfig(), clock=lambda: NOW, tenant_id="t-role")
        read = read_package(conn, "t-role", built.package_id, reader="key-1",
                            reason="role test")
        assert read.document()["subject"] == subject
        [concerning] = conn.execute("SELECT package_id, relation FROM"
                                    " evidence.packages_concerning('t-role', %s)",
                                    (subject,)).fetchall()
        assert concerning == (built.package_id, "subject")
        with pytest.raises(PackageNotFound):
            read_package(conn, "t-role", "pkg_" + "1" * 32, reader="key-1", reason="role test")
