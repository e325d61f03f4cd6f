"""NCMEC submissions against real PostgreSQL and the stand-in over HTTP.

Only PostgreSQL is needed (no Kafka): the module has its own small fixtures.
The stand-in counts filings, so "never filed twice" is checked where it matters.
Retries sleep through an injected no-op; the client's timeout is short so the
stand-in's hangs end quickly.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from pipeline.cli import main
from pipeline.ncmec import store
from pipeline.ncmec.client import CyberTiplineClient
from pipeline.ncmec.errors import (
    AmbiguousSubmit,
    InputChanged,
    NcmecUnavailable,
    NeedsReconciliation,
    ReportBusy,
)
from pipeline.ncmec.model import ReportInput
from pipeline.ncmec.standin import StandIn
from pipeline.ncmec.submission import RetryPolicy, Submission, reconcile
from pipeline.storage.migrate import migrate
from pipeline.storage.tenants import add_tenant
from tests.unit.ncmec_samples import REVIEWER, SECRETS_IN_REPORT, document, report_input

pytestmark = pytest.mark.integration

DSN = os.environ.get(
    "WARDSTREAM_PG_DSN",
    "postgresql://wardstream:wardstream@127.0.0.1:"
    f"{os.environ.get('WARDSTREAM_PG_PORT', '54329')}/wardstream")
POLICY = RetryPolicy(max_attempts=3, first_delay=0.01)


class Crash(Exception):
    """Stands for the process dying at a checkpoint."""


@pytest.fixture(scope="module")
def migrated() -> str:
    migrate(DSN)
    return DSN


@pytest.fixture
def conn(migrated: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(migrated, autocommit=True) as connection:
        yield connection


@pytest.fixture
def tenant(conn: psycopg.Connection) -> str:
    tenant_id = f"t-{secrets.token_hex(4)}"
    add_tenant(conn, tenant_id, "ncmec integration test")
    return tenant_id


@pytest.fixture
def standin() -> Iterator[StandIn]:
    running = StandIn(hang_seconds=1.0).start()
    yield running
    running.stop()


@pytest.fixture
def client(standin: StandIn) -> Iterator[CyberTiplineClient]:
    with CyberTiplineClient(standin.url, standin.username, standin.password,
                            timeout=0.3) as http:
        yield http


def _submission(conn: psycopg.Connection, client: CyberTiplineClient,
                crash_at: str | None = None) -> Submission:
    def checkpoint(name: str) -> None:
        if name == crash_at:
            raise Crash(name)

    return Submission(conn, client, POLICY, sleep=lambda seconds: None, checkpoint=checkpoint)


def _report(tenant: str) -> ReportInput:
    return report_input(tenant=tenant)


def _leaves(conn: psycopg.Connection, tenant: str) -> list[dict[str, object]]:
    rows = conn.execute("SELECT leaf FROM audit_leaves WHERE tenant_id = %s ORDER BY seq",
                        (tenant,)).fetchall()
    return [json.loads(bytes(r[0])) for r in rows]


def test_a_full_submission_files_once_and_a_second_submit_reuses_the_row(
        conn: psycopg.Connection, tenant: str, standin: StandIn,
        client: CyberTiplineClient) -> None:
    report = _report(tenant)
    row = _submission(conn, client).run(report)
    assert row.state == "finished"
    assert row.ncmec_report_id is not None and row.finished_at is not None
    assert row.described == frozenset({0}) and row.attempts == 0
    state = standin.state()
    assert state["filings"] == 1
    filed = state["reports"][str(row.ncmec_report_id)]
    assert filed["status"] == "finished" and filed["described"] == filed["files"]

    again = _submission(conn, client).run(report)
    assert again.state == "finished" and again.ncmec_report_id == row.ncmec_report_id
    assert standin.filings == 1 and standin.calls["/submit"] == 1

    leaves = _leaves(conn, tenant)
    assert [leaf["details"]["step"] for leaf in leaves] == [  # type: ignore[index]
        "built", "submitting", "submitted", "file_uploaded", "file_described",
        "files_uploaded", "finished"]
    assert {leaf["kind"] for leaf in leaves} == {"report"}
    text = json.dumps(leaves)
    for secret in (*SECRETS_IN_REPORT, str(row.ncmec_report_id), REVIEWER):
        assert secret not in text


def test_submit_failing_twice_then_succeeding_files_once(
        conn: psycopg.Connection, tenant: str, standin: StandIn,
        client: CyberTiplineClient) -> None:
    standin.fail("/submit", "500", times=2)
    row = _submission(conn, client).run(_report(tenant))
    assert row.state == "finished"
    assert row.attempts == 2 and row.submit_rounds == 1
    assert standin.calls["/submit"] == 3 and standin.filings == 1


def test_submit_down_for_every_try_files_nothing_and_resumes_later(
        conn: psycopg.Connection, tenant: str, standin: StandIn,
        client: CyberTiplineClient) -> None:
    standin.fail("/submit", "500", times=POLICY.max_attempts)
    with pytest.raises(NcmecUnavailable):
        _submission(conn, client).run(_report(tenant))
    row = store.get(conn, tenant, _report(tenant).report_key)
    assert row is not None and row.state == "built" and standin.filings == 0
    assert _submission(conn, client).run(_report(tenant)).state == "finished"
    assert standin.filings == 1


def test_upload_failing_after_submit_retracts_the_report(
        conn: psycopg.Connection, tenant: str, standin: StandIn,
        client: CyberTiplineClient) -> None:
    standin.fail("/upload", "500", times=POLICY.max_attempts)
    row = _submission(conn, client).run(_report(tenant))
    assert row.state == "retracted"
    assert row.last_error is not None and "/upload" in row.last_error
    assert standin.filings == 1
    assert standin.state()["reports"][str(row.ncmec_report_id)]["status"] == "retracted"
    steps = [leaf["details"]["step"] for leaf in _leaves(conn, tenant)]  # type: ignore[index]
    assert steps[-2:] == ["retract_started", "retracted"]
    # Final: a later run sends nothing more.
    assert _submission(conn, client).run(_report(tenant)).state == "retracted"
    assert standin.calls["/retract"] == 1


def test_a_crash_after_ncmec_accepted_submit_never_files_twice(
        conn: psycopg.Connection, tenant: str, standin: StandIn,
        client: CyberTiplineClient) -> None:
    report = _report(tenant)
    with pytest.raises(Crash):
        _submission(conn, client, crash_at="submit_answered").run(report)
    row = store.get(conn, tenant, report.report_key)
    assert row is not None and row.state == "submitting" and standin.filings == 1

    with pytest.raises(NeedsReconciliation):
        _submission(conn, client).run(report)
    with pytest.raises(NeedsReconciliation):
        _submission(conn, client).run(report)
    row = store.get(conn, tenant, report.report_key)
    assert row is not None and row.state == "needs_reconciliation"
    assert standin.filings == 1 and standin.calls["/submit"] == 1

    # The operator finds the report at NCMEC (here: the stand-in's only one).
    (found,) = (int(k) for k in standin.state()["reports"])
    assert reconcile(conn, tenant, report.report_key, found, REVIEWER).state == "submitted"
    row = _submission(conn, client).run(report)
    assert row.state == "finished" and row.ncmec_report_id == found
    assert standin.filings == 1 and standin.calls["/submit"] == 1


def test_a_crash_after_storing_the_report_id_resumes_without_submitting(
        conn: psycopg.Connection, tenant: str, standin: StandIn,
        client: CyberTiplineClient) -> None:
    standin.fail("/fileinfo", "500", times=1)
    report = _report(tenant)

    class Dies(Submission):
        def _finish(self, report_id: int) -> None:
            raise Crash("before finish")

    with pytest.raises(Crash):
        Dies(conn, client, POLICY, sleep=lambda s: None).run(report)
    row = _submission(conn, client).run(report)
    assert row.state == "finished"
    assert standin.filings == 1 and standin.calls["/submit"] == 1
    assert standin.calls["/upload"] == 1


def test_an_unanswered_submit_needs_reconciliation_then_resubmits_if_not_filed(
        conn: psycopg.Connection, tenant: str, standin: StandIn,
        client: CyberTiplineClient) -> None:
    report = _report(tenant)
    standin.fail("/submit", "hang", times=1)  # the stand-in drops it; we cannot know that
    with pytest.raises(AmbiguousSubmit):
        _submission(conn, client).run(report)
    assert standin.calls["/submit"] == 1 and standin.filings == 0
    row = store.get(conn, tenant, report.report_key)
    assert row is not None and row.state == "needs_reconciliation"

    assert reconcile(conn, tenant, report.report_key, None, REVIEWER).state == "built"
    assert _submission(conn, client).run(report).state == "finished"
    assert standin.filings == 1


def test_accepted_but_unanswered_submit_is_not_retried(
        conn: psycopg.Connection, tenant: str, standin: StandIn,
        client: CyberTiplineClient) -> None:
    standin.fail("/submit", "accept_then_hang", times=1)
    with pytest.raises(AmbiguousSubmit):
        _submission(conn, client).run(_report(tenant))
    assert standin.calls["/submit"] == 1 and standin.filings == 1


def test_a_changed_input_is_refused_once_submitted(
        conn: psycopg.Connection, tenant: str, standin: StandIn,
        client: CyberTiplineClient) -> None:
    report = _report(tenant)
    _submission(conn, client).run(report)
    doc = document(tenant=tenant)
    doc["narrative"] = "Something else entirely."
    from pipeline.ncmec.inputs import parse_input

    with pytest.raises(InputChanged):
        _submission(conn, client).run(parse_input(doc, Path(".")))
    assert standin.filings == 1


def test_a_second_process_on_the_same_report_is_refused(
        conn: psycopg.Connection, tenant: str, client: CyberTiplineClient,
        migrated: str) -> None:
    report = _report(tenant)
    with psycopg.connect(migrated, autocommit=True) as other, \
            store.locked(other, tenant, report.report_key), pytest.raises(ReportBusy):
        _submission(conn, client).run(report)


def test_cli_submit_and_status_and_a_malformed_input(
        tenant: str, standin: StandIn, tmp_path: Path, migrated: str,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("WARDSTREAM_PG_DSN", migrated)
    monkeypatch.setenv("WARDSTREAM_NCMEC_URL", standin.url)
    monkeypatch.setenv("WARDSTREAM_NCMEC_USERNAME", standin.username)
    monkeypatch.setenv("WARDSTREAM_NCMEC_PASSWORD", standin.password)
    bad = document(tenant=tenant)
    del bad["recipients"][0]["screen_name"]
    (tmp_path / "bad.json").write_text(json.dumps(bad), encoding="utf-8")
    assert main(["ncmec", "submit", "--input", str(tmp_path / "bad.json")]) == 2
    assert "recipients[0].screen_name: is required" in capsys.readouterr().err
    assert standin.filings == 0

    (tmp_path / "good.json").write_text(json.dumps(document(tenant=tenant)), encoding="utf-8")
    assert main(["ncmec", "submit", "--input", str(tmp_path / "good.json")]) == 0
    assert "finished, NCMEC report id" in capsys.readouterr().out
    assert main(["ncmec", "status", "--tenant", tenant]) == 0
    assert "finished" in capsys.readouterr().out
    assert standin.filings == 1
