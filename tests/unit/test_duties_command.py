"""``wardstream duties`` without services: options, settings, which duties are off, --once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pipeline import cli
from pipeline.duties import jobs
from pipeline.duties.config import DUTIES, load_duties_settings, parse_only
from pipeline.duties.jobs import Database, Plan, plan_duties
from pipeline.duties.scheduler import Counts, Job
from pipeline.errors import ConfigError
from pipeline.settings import REPO_ROOT, Settings

AUDIT_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="  # 32 bytes 0..31, tests only


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("WARDSTREAM_PSEUDONYM_MASTER_KEY", "WARDSTREAM_AUDIT_SIGNING_KEY",
                 *(f"WARDSTREAM_DUTIES_{d.upper()}_SECONDS" for d in DUTIES)):
        monkeypatch.delenv(name, raising=False)


def test_only_keeps_run_order_and_ignores_spaces() -> None:
    assert parse_only("retention, evidence") == ("evidence", "retention")
    assert parse_only("webhooks,webhooks") == ("webhooks",)


@pytest.mark.parametrize(("text", "says"), [
    ("bogus", "unknown duty 'bogus': choose from evidence, webhooks, audit, expire, retention"),
    ("evidence,,audit", "unknown duty an empty name"),
    ("", "name at least one duty"),
])
def test_bad_only_is_refused_naming_the_option(text: str, says: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["duties", "--only", text])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "argument --only:" in err
    assert says in err


def test_defaults() -> None:
    intervals = load_duties_settings()
    assert [intervals.interval(d) for d in DUTIES] == [5.0, 2.0, 600.0, 3600.0, 86_400.0]


@pytest.mark.parametrize("value", ["0", "-1", "soon", "9999999"])
def test_bad_interval_names_the_setting(monkeypatch: pytest.MonkeyPatch, value: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("WARDSTREAM_DUTIES_AUDIT_SECONDS", value)
    with pytest.raises(ConfigError, match="WARDSTREAM_DUTIES_AUDIT_SECONDS"):
        load_duties_settings()
    assert cli.main(["duties", "--once"]) == 2
    assert "configuration: WARDSTREAM_DUTIES_AUDIT_SECONDS:" in capsys.readouterr().err


def test_tenant_with_a_duty_over_every_tenant_is_refused(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["duties", "--once", "--tenant", "t-1"]) == 2
    err = capsys.readouterr().err
    assert "--tenant: webhooks, expire cannot be limited to a tenant" in err


def _plan(settings: Settings, selected: tuple[str, ...] = DUTIES,
          required: bool = False) -> Plan:
    return plan_duties(selected, settings, load_duties_settings(), Database("postgresql://unused"),
                       threading.Event(), required=required)


def test_without_keys_webhooks_and_audit_are_off_and_say_why() -> None:
    plan = _plan(Settings())
    try:
        assert [job.name for job in plan.jobs] == ["evidence", "expire", "retention"]
        assert dict(plan.off) == {
            "webhooks": "WARDSTREAM_PSEUDONYM_MASTER_KEY is not set",
            "audit": "signing is off: WARDSTREAM_AUDIT_SIGNING_KEY is not set"}
    finally:
        plan.close()


def test_with_keys_every_duty_runs_on_its_interval() -> None:
    settings = Settings(pseudonym_master_key="k" * 40, audit_signing_key=AUDIT_KEY)
    plan = _plan(settings)
    try:
        assert [(job.name, job.interval) for job in plan.jobs] == [
            ("evidence", 5.0), ("webhooks", 2.0), ("audit", 600.0), ("expire", 3600.0),
            ("retention", 86_400.0)]
        assert plan.off == []
    finally:
        plan.close()


def test_a_duty_named_with_only_but_not_configured_is_an_error() -> None:
    with pytest.raises(ConfigError, match="WARDSTREAM_AUDIT_SIGNING_KEY is not set"):
        _plan(Settings(), ("audit",), required=True)


def test_once_prints_a_line_per_duty_and_fails_if_one_did(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def broken() -> Counts:
        raise ConnectionError("db down")

    def fake_plan(selected: tuple[str, ...], *args: object, **kwargs: object) -> Plan:
        return Plan(jobs=[Job("evidence", 5, lambda: {"built": 3}), Job("expire", 3600, broken)],
                    off=[("audit", "signing is off: WARDSTREAM_AUDIT_SIGNING_KEY is not set")])

    monkeypatch.setattr(jobs, "plan_duties", fake_plan)
    assert cli.main(["duties", "--once"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "audit: off (signing is off: WARDSTREAM_AUDIT_SIGNING_KEY is not set)"
    assert lines[1] == "evidence: built=3"
    assert lines[2].startswith("expire: failed (ConnectionError at test_duties_command.py:")
    assert "db down" not in "\n".join(lines)


def test_a_failed_job_drops_the_connection_and_the_next_run_reconnects(
        monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[FakeConnection] = []

    def connect(*args: object, **kwargs: object) -> FakeConnection:
        opened.append(FakeConnection())
        return opened[-1]

    monkeypatch.setattr(jobs.psycopg, "connect", connect)
    db = Database("postgresql://unused")
    with pytest.raises(RuntimeError), db.connection():
        raise RuntimeError("server closed the connection")
    assert opened[0].closed
    with db.connection() as conn:
        assert conn is opened[1]
    with db.connection() as conn:
        assert conn is opened[1]   # kept while jobs succeed
    db.close()
    assert len(opened) == 2 and opened[1].closed


class FakeConnection:
    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


def test_runs_until_sigterm_and_a_failing_duty_does_not_stop_the_others(
        tmp_path: Path) -> None:
    """No database at all: every run fails, is logged, and is tried again; SIGTERM ends it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARDSTREAM_")}
    env.update(WARDSTREAM_PG_DSN="postgresql://nobody:pw-not-logged@127.0.0.1:1/none",
               WARDSTREAM_DUTIES_EVIDENCE_SECONDS="0.5", WARDSTREAM_DUTIES_EXPIRE_SECONDS="0.5")
    log_path = tmp_path / "duties.log"
    with open(log_path, "w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli", "duties", "--only", "evidence,expire"],
            env=env, stdout=log_file, stderr=subprocess.STDOUT, cwd=REPO_ROOT)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            text = log_path.read_text()
            if text.count("duty evidence failed") >= 2 and text.count("duty expire failed") >= 2:
                break
            assert process.poll() is None, text
            time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    text = log_path.read_text()
    assert "duty evidence failed (OperationalError at " in text
    assert "duty expire failed (OperationalError at " in text
    assert "duties: stopped" in text
    assert "pw-not-logged" not in text and "Traceback" not in text
