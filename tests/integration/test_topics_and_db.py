"""`wardstream topics apply` and `db migrate` against the real broker and database."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource

from pipeline.settings import Settings
from pipeline.storage.migrate import migrate
from tests.integration.conftest import REPO, wait_until

pytestmark = pytest.mark.integration


def cli(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("WARDSTREAM_")}
    full_env.update(WARDSTREAM_KAFKA_BOOTSTRAP=settings.kafka_bootstrap,
                    WARDSTREAM_PG_DSN=settings.pg_dsn.get_secret_value(), **env)
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], env=full_env,
                          capture_output=True, text=True, cwd=REPO, timeout=120)


def test_topics_apply_creates_then_reports_and_fixes_drift(
    settings: Settings, tmp_path: Path
) -> None:
    prefix = f"t{secrets.token_hex(3)}"
    topology = tmp_path / "topics.yaml"
    topology.write_text(
        "version: 1\n"
        "topics:\n"
        f"  {prefix}.a: {{partitions: 3, cleanup: delete, retention_ms: 3600000}}\n"
        f"  {prefix}.b: {{partitions: 2, cleanup: compact}}\n"
    )
    env = {"WARDSTREAM_TOPOLOGY_FILE": str(topology)}

    created = cli(settings, "topics", "apply", **env)
    assert created.returncode == 0, created.stderr
    assert f"create {prefix}.a (3 partitions, delete)" in created.stdout
    assert cli(settings, "topics", "apply", "--check", **env).stdout.strip() == (
        "topics in sync (2 declared)")

    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    resource = ConfigResource(ConfigResource.Type.TOPIC, f"{prefix}.a", incremental_configs=[
        ConfigEntry("retention.ms", "60000", incremental_operation=AlterConfigOpType.SET)])
    for future in admin.incremental_alter_configs([resource]).values():
        future.result(timeout=30)

    drift = cli(settings, "topics", "apply", "--check", **env)
    assert drift.returncode == 1
    assert f"set {prefix}.a retention.ms: 60000 -> 3600000" in drift.stdout
    assert cli(settings, "topics", "apply", **env).returncode == 0
    wait_until(lambda: cli(settings, "topics", "apply", "--check", **env).returncode == 0, 30,
               "the retention fix to show")

    topology.write_text(topology.read_text().replace("partitions: 3", "partitions: 1"))
    shrink = cli(settings, "topics", "apply", **env)
    assert shrink.returncode == 1
    assert f"DRIFT {prefix}.a: has 3 partitions, topology says 1" in shrink.stdout


def test_cli_reports_configuration_errors_in_one_line(settings: Settings, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\ntopics: {x: {partitions: many}}\n")
    result = cli(settings, "topics", "apply", WARDSTREAM_TOPOLOGY_FILE=str(bad))
    assert result.returncode == 2
    assert result.stderr.strip().endswith("topics.x.partitions: must be an integer from 1 to 1024,"
                                          " got 'many'")
    worker = cli(settings, "worker")
    assert worker.returncode == 2
    assert "WARDSTREAM_PSEUDONYM_MASTER_KEY is not set" in worker.stderr
    short = cli(settings, "worker", WARDSTREAM_PSEUDONYM_MASTER_KEY="short")
    assert short.returncode == 2
    assert "WARDSTREAM_PSEUDONYM_MASTER_KEY: Value error, must be at least 32 bytes" in short.stderr


def test_migrations_apply_once(settings: Settings, db: psycopg.Connection) -> None:
    assert migrate(settings.pg_dsn.get_secret_value()) == []
    versions = [r[0] for r in db.execute("SELECT version FROM schema_migrations")]
    assert versions == sorted(p.stem for p in (
        REPO / "pipeline/storage/migrations").glob("*.sql"))
    result = cli(settings, "db", "migrate")
    assert result.stdout.strip() == "migrations applied: none pending"


def test_tenant_and_key_commands(settings: Settings, db: psycopg.Connection) -> None:
    tenant = f"cli-{secrets.token_hex(3)}"
    assert cli(settings, "tenants", "add", tenant).stdout.strip() == f"tenant {tenant} added"
    assert "already registered" in cli(settings, "tenants", "add", tenant).stdout
    bad = cli(settings, "tenants", "add", "no spaces")
    assert bad.returncode == 2 and "tenant_id must be letters" in bad.stderr
    created = cli(settings, "keys", "create", tenant, "--scopes", "ingest,read")
    key = created.stdout.strip()
    assert key.startswith("wsk_") and "shown only once" in created.stderr
    unknown = cli(settings, "keys", "create", "nobody-here")
    assert unknown.returncode == 1 and "not registered" in unknown.stderr
    bad_scope = cli(settings, "keys", "create", tenant, "--scopes", "root")
    assert bad_scope.returncode == 2 and "scopes must be" in bad_scope.stderr
    key_id = key.split("_")[1]
    assert cli(settings, "revoke-key", key_id).returncode == 0
    assert cli(settings, "revoke-key", key_id).returncode == 1
