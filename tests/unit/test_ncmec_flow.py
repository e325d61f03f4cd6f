"""NCMEC submission pieces without PostgreSQL: states, audit leaves, the client, the stand-in."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from pipeline.audit.records import seal
from pipeline.cli import main
from pipeline.errors import ConfigError
from pipeline.ncmec.audit_records import ncmec_record
from pipeline.ncmec.client import CyberTiplineClient, TransportFailure, parse_answer
from pipeline.ncmec.errors import NcmecRejected
from pipeline.ncmec.report_xml import file_details_document, report_document
from pipeline.ncmec.standin import StandIn
from pipeline.ncmec.states import (
    STATES,
    TRANSITIONS,
    IllegalTransition,
    check_transition,
    next_step,
)
from pipeline.ncmec.store import ReportRow
from pipeline.settings import Settings
from tests.unit.ncmec_samples import SECRETS_IN_REPORT, document, fixed_clock, report_input


def test_the_happy_path_is_a_chain_of_legal_transitions() -> None:
    path = ["built", "submitting", "submitted", "files_uploaded", "finished"]
    for current, new in itertools.pairwise(path):
        check_transition(current, new)
    assert [next_step(s) for s in path] == ["submit", "reconcile", "upload_files", "finish",
                                            "done"]


@pytest.mark.parametrize(("current", "new"), [
    ("built", "submitted"),          # no submit without storing submitting first
    ("needs_reconciliation", "submitting"),  # never re-submit blindly
    ("finished", "retracting"),
    ("retracted", "built"),
    ("submitted", "built"),
])
def test_illegal_transitions_are_refused(current: str, new: str) -> None:
    with pytest.raises(IllegalTransition):
        check_transition(current, new)


def test_every_state_has_a_next_step_and_final_states_have_no_exit() -> None:
    assert set(TRANSITIONS) == set(STATES)
    for state in STATES:
        next_step(state)
    for final in ("finished", "retracted", "failed"):
        assert TRANSITIONS[final] == frozenset()
        assert next_step(final) == "done"


def _row(state: str, ncmec_report_id: int | None) -> ReportRow:
    now = datetime(2026, 3, 4, tzinfo=UTC)
    return ReportRow("t-sample", report_input().report_key, "pkg-0001", "dec-0001", state,
                     b"\x00" * 32, 1, ncmec_report_id, {0: "f" * 32}, frozenset({0}), 2, 1,
                     None, now, now, now, None)


@pytest.mark.parametrize("step", ["built", "submitted", "file_uploaded", "finished",
                                  "retracted", "needs_reconciliation"])
def test_audit_leaves_hold_no_personal_data(step: str) -> None:
    report = report_input()
    record = ncmec_record(_row("submitted", 987654321), step, fixed_clock(), report,
                          extra={"file_index": 0} if step == "file_uploaded" else None)
    sealed = seal("t-sample", 0, record, salt_source=lambda n: b"\x01" * n)
    leaf = sealed.leaf.decode("ascii")
    for secret in (*SECRETS_IN_REPORT, "987654321", report.reported.subject,
                   report.confirmed_by, "Example Chat", "secret"):
        assert secret not in leaf, secret
    assert record.kind == "report"
    assert {c.name for c in sealed.commitments} == {"confirmed_by", "subject",
                                                    "ncmec_report_id"}
    assert json.loads(leaf)["details"]["incident"] == "online_enticement"


def test_audit_record_ids_are_stable_per_round_and_step() -> None:
    report = report_input()
    first = ncmec_record(_row("submitted", 1), "submitted", fixed_clock(), report)
    again = ncmec_record(_row("submitted", 1), "submitted", fixed_clock(), report)
    assert first.record_id == again.record_id == f"ncmec:{report.report_key}:1:submitted"


def _client(handler: httpx.MockTransport) -> CyberTiplineClient:
    return CyberTiplineClient("https://ncmec.invalid/ispws", "u", "p", transport=handler)


def test_a_5xx_answer_means_not_processed_and_a_read_timeout_may_have_been() -> None:
    def five_hundred(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, text="busy")

    def read_timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    xml = report_document(report_input())
    for handler, processed in ((five_hundred, False), (read_timeout, True), (refused, False)):
        with pytest.raises(TransportFailure) as caught:
            _client(httpx.MockTransport(handler)).submit(xml)
        assert caught.value.maybe_processed is processed


def test_a_nonzero_response_code_is_a_rejection_with_the_code() -> None:
    def reject(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, content=b"<reportResponse><responseCode>4100</responseCode>"
                              b"<responseDescription>Validation failed</responseDescription>"
                              b"</reportResponse>")

    with pytest.raises(NcmecRejected) as caught:
        _client(httpx.MockTransport(reject)).submit(report_document(report_input()))
    assert caught.value.code == 4100


def test_answers_are_read_by_element_name_whatever_the_root() -> None:
    answer = parse_answer("/finish", b"<reportDoneResponse><responseCode>0</responseCode>"
                                     b"<reportId>42</reportId></reportDoneResponse>")
    assert (answer.code, answer.report_id) == (0, 42)
    with pytest.raises(TransportFailure):
        parse_answer("/submit", b"<html>gateway</html>")


def test_the_documented_sequence_against_the_stand_in_over_http() -> None:
    standin = StandIn().start()
    try:
        report = report_input()
        with CyberTiplineClient(standin.url, standin.username, standin.password,
                                timeout=5) as client:
            assert client.status().code == 0
            report_id = client.submit(report_document(report)).report_id
            assert report_id is not None
            uploaded = client.upload(report_id, report.conversation.filename,
                                     report.conversation.content)
            assert uploaded.hash == report.conversation.md5
            client.fileinfo(file_details_document(report.conversation, report_id,
                                                  str(uploaded.file_id)))
            assert client.finish(report_id).report_id == report_id
            with pytest.raises(NcmecRejected) as caught:
                client.retract(report_id)
            assert caught.value.code == 5102
        state = standin.state()
        assert state["filings"] == 1
        assert state["reports"][str(report_id)]["status"] == "finished"
        assert state["reports"][str(report_id)]["described"] == [uploaded.file_id]
    finally:
        standin.stop()


def test_the_stand_in_refuses_invalid_xml_and_wrong_credentials() -> None:
    standin = StandIn().start()
    try:
        with CyberTiplineClient(standin.url, standin.username, standin.password) as client:
            with pytest.raises(NcmecRejected) as caught:
                client.submit(b"<report><incidentSummary/></report>")
            assert caught.value.code == 4100
        with CyberTiplineClient(standin.url, standin.username, "wrong") as client, \
                pytest.raises(NcmecRejected, match="WARDSTREAM_NCMEC_PASSWORD"):
            client.status()
        assert standin.filings == 0
    finally:
        standin.stop()


def test_missing_ncmec_settings_are_named() -> None:
    with pytest.raises(ConfigError, match="WARDSTREAM_NCMEC_URL, WARDSTREAM_NCMEC_PASSWORD"):
        Settings(ncmec_username="esp").ncmec_credentials()
    url, user, password = Settings(ncmec_url="http://x", ncmec_username="a",
                                   ncmec_password="b").ncmec_credentials()
    assert (url, user, password) == ("http://x", "a", "b")


def test_cli_build_writes_report_and_summary(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "input.json").write_text(json.dumps(document()), encoding="utf-8")
    code = main(["ncmec", "build", "--input", str(tmp_path / "input.json"),
                 "--out", str(tmp_path / "out")])
    assert code == 0
    assert (tmp_path / "out" / "report.xml").read_bytes() == report_document(report_input())
    assert "nightowl_77" in (tmp_path / "out" / "summary.md").read_text(encoding="utf-8")
    assert (tmp_path / "out" / "report.xml").stat().st_mode & 0o077 == 0
    assert report_input().report_key in capsys.readouterr().out


def test_cli_build_names_the_bad_field(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    doc = document()
    doc["reported"]["ip_events"][0]["port"] = "443"
    (tmp_path / "input.json").write_text(json.dumps(doc), encoding="utf-8")
    code = main(["ncmec", "build", "--input", str(tmp_path / "input.json"),
                 "--out", str(tmp_path / "out")])
    assert code == 2
    assert "reported.ip_events[0].port: must be an integer" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
