"""POST /api/v1/reports/generate and ``wardstream ncmec build --package`` against real
PostgreSQL and a running API over HTTP: a confirmed conversation's preserved evidence
package becomes a built (not filed) CyberTipline report; the package read is logged with
its reason; the same confirmation gives the same report; refusals name the field.

Synthetic people, documentation IP ranges and benign grooming-stage texts only.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from lxml import etree

from pipeline.cli import main
from pipeline.demo.services import free_port
from pipeline.evidence.builder import build_pending
from pipeline.evidence.package import package_id_of
from pipeline.model import IdentityEntry, NormalizedEvent
from pipeline.ncmec.standin import StandIn
from pipeline.privacy.erasure import erase
from pipeline.privacy.requests import ErasureRequest
from pipeline.settings import Settings
from pipeline.storage.sink import SinkBatch, write_batch
from pipeline.storage.tenants import add_tenant, create_key
from pipeline.topology import load_topology
from tests.integration.conftest import (
    MASTER_KEY,
    REPO,
    Process,
    Tenant,
    _process_env,
    _reachable,
    wait_until,
)
from tests.integration.evidence_seed import INCIDENT, PSEUDONYMS, alert, event, us, user

pytestmark = pytest.mark.integration

BUILT_AT = datetime.now(UTC).replace(microsecond=0)
SESSION = "dm-suspect-minor"
REVIEWER = "rev-1"
IP_A, IP_B = "203.0.113.7", "198.51.100.23"
REPORTER_ENV = {
    "WARDSTREAM_NCMEC_REPORTER_ESP_NAME": "Example Chat Inc.",
    "WARDSTREAM_NCMEC_REPORTER_FIRST_NAME": "Dana",
    "WARDSTREAM_NCMEC_REPORTER_LAST_NAME": "Reviewer",
    "WARDSTREAM_NCMEC_REPORTER_EMAIL": "trust-safety@example.test",
    "WARDSTREAM_NCMEC_SERVICE": "Example Chat direct messages",
}
DAY = timedelta(days=1)


@pytest.fixture
def report_api(stack: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """The API with the reporter settings a report needs."""
    port = free_port()
    process = Process(["api", "--port", str(port)], _process_env(stack, **REPORTER_ENV),
                      tmp_path / "api.log").start()
    try:
        wait_until(lambda: _reachable(f"127.0.0.1:{port}"), 30, "the API to listen")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.stop()


def post(api: str, key: str, body: object) -> httpx.Response:
    return httpx.post(f"{api}/api/v1/reports/generate", content=json.dumps(body).encode(),
                      headers={"Authorization": f"Bearer {key}",
                               "Content-Type": "application/json"}, timeout=60)


def seed(db: psycopg.Connection, tenant_id: str) -> tuple[str, list[NormalizedEvent]]:
    """A subject writing to a 13-15 account in SESSION, an alert, and its package built.

    Returns the package id and the conversation's messages."""
    subject, minor = user(tenant_id, "suspect"), user(tenant_id, "minor")
    conversation = PSEUDONYMS.pseudonym(tenant_id, "conversation", SESSION)
    ip_a, ip_b = (PSEUDONYMS.pseudonym(tenant_id, "ip", ip) for ip in (IP_A, IP_B))

    def message(event_id: str, actor: str, to: str, at: datetime, text: str,
                **extra: Any) -> NormalizedEvent:
        return event(tenant_id, event_id, "message", actor, at, conversation=conversation,
                     recipients=(to,), channel="private", content=text, **extra)

    messages = [
        message("m-1", subject, minor, INCIDENT - 20 * DAY + timedelta(minutes=5),
                "how old are you?", ip=ip_a),
        message("m-2", minor, subject, INCIDENT - 19 * DAY, "14, why?"),
        message("m-3", subject, minor, INCIDENT - DAY, "don't tell your parents we talk",
                ip=ip_b, port=40001),
        message("m-4", minor, subject, INCIDENT - DAY + timedelta(hours=1), "ok\nbut why"),
    ]
    write_batch(db, SinkBatch(
        events=[
            event(tenant_id, "session-1", "session", subject, INCIDENT - 20 * DAY,
                  action="login", ip=ip_a, port=51234),
            *messages,
            event(tenant_id, "profile-s", "profile", subject, INCIDENT - 90 * DAY,
                  age_band="18_plus", age_source="declared"),
            event(tenant_id, "profile-m", "profile", minor, INCIDENT - 60 * DAY,
                  age_band="13_15", age_source="declared"),
        ],
        identities=[
            IdentityEntry(tenant_id, "user", subject, "suspect", subject,
                          us(INCIDENT - 90 * DAY)),
            IdentityEntry(tenant_id, "user", minor, "minor", minor, us(INCIDENT - 60 * DAY)),
            IdentityEntry(tenant_id, "ip", ip_a, IP_A, subject, us(INCIDENT - 20 * DAY)),
            IdentityEntry(tenant_id, "ip", ip_b, IP_B, subject, us(INCIDENT - DAY)),
            IdentityEntry(tenant_id, "display_name", "n_" + "q" * 26, "nightowl_77", subject,
                          us(INCIDENT - 90 * DAY)),
        ]))
    alert_id = alert(db, tenant_id, subject, INCIDENT)
    [built] = build_pending(db, clock=lambda: BUILT_AT, tenant_id=tenant_id)
    assert built.package_id == package_id_of(tenant_id, "alert", alert_id)
    return built.package_id, messages


def expected_file(messages: list[NormalizedEvent]) -> bytes:
    """The conversation file as docs/ncmec.md describes it, computed here."""
    tenant_id = messages[0].tenant_id
    names = {user(tenant_id, "suspect"): "suspect", user(tenant_id, "minor"): "minor"}
    lines = ["time\tsender\trecipient\ttext"]
    for m in sorted(messages, key=lambda m: m.occurred_at_us):
        at = (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=m.occurred_at_us)
              ).astimezone(timezone(timedelta(minutes=m.utc_offset_min)))
        text = (m.content or "").replace("\n", "\\n")
        lines.append(f"{at.isoformat()}\t{names[m.actor]}\t{names[m.recipients[0]]}\t{text}")
    return ("\n".join(lines) + "\n").encode()


def xml_tree(document: str) -> Any:
    schema = etree.XMLSchema(etree.parse(str(REPO / "schemas/ncmec/cybertip-report.xsd")))
    tree = etree.fromstring(document.encode())
    assert schema.validate(tree), schema.error_log
    return tree


def accesses(db: psycopg.Connection, package_id: str) -> list[tuple[Any, ...]]:
    return db.execute("SELECT access_id, reader, reason FROM evidence.access_log"
                      " WHERE package_id = %s ORDER BY access_id", (package_id,)).fetchall()


def test_a_confirmed_session_becomes_a_built_report(
        report_api: str, db: psycopg.Connection, tenant: Tenant) -> None:
    t = tenant.tenant_id
    package_id, messages = seed(db, t)
    key = create_key(db, t, ["read", "moderate"])
    answer = post(report_api, key, {"session_id": SESSION, "confirmed_by": REVIEWER})
    assert answer.status_code == 201, answer.text
    report = answer.json()
    assert (report["state"], report["subject"], report["session_id"], report["package_id"]) == (
        "built", user(t, "suspect"), SESSION, package_id)

    conversation = expected_file(messages)
    digest = hashlib.sha256(conversation).hexdigest()
    assert report["files"] == [{"name": "conversation.txt", "sha256": digest,
                                "bytes": len(conversation)}]
    tree = xml_tree(report["xml"])
    assert tree.findtext("incidentSummary/incidentType") == (
        "Online Enticement of Children for Sexual Acts")
    assert tree.findtext("incidentSummary/incidentDateTime") == "2026-02-25T20:00:00+00:00"
    suspect = tree.find("personOrUserReported")
    assert (suspect.findtext("espIdentifier"), suspect.findtext("screenName")) == (
        "suspect", "nightowl_77")
    captures = [(e.findtext("ipAddress"), e.findtext("eventName"), e.findtext("port"))
                for e in suspect.findall("ipCaptureEvent")]
    assert captures == [(IP_A, "Login", "51234"), (IP_A, "Other", None),
                        (IP_B, "Other", "40001")]
    [recipient] = tree.findall("intendedRecipient")
    assert recipient.findtext("espIdentifier") == "minor"
    assert "Estimated age 13-15" in recipient.findtext("additionalInfo")
    assert digest in tree.findtext("additionalInfo")
    assert "how old are you" not in report["xml"]  # the text travels as the file only
    assert digest in report["summary"] and "minor" in report["summary"]

    # The row: built, the XML's hash, nothing filed.
    row = db.execute("SELECT state, xml_sha256, package_id, ncmec_report_id FROM ncmec_reports"
                     " WHERE tenant_id = %s AND report_key = %s",
                     (t, report["report_key"])).fetchone()
    assert row is not None
    assert (row[0], bytes(row[1]).hex(), row[2], row[3]) == (
        "built", hashlib.sha256(report["xml"].encode()).hexdigest(), package_id, None)

    # The package read was logged with its reason, and audited.
    reviewer = user(t, REVIEWER)
    conv = PSEUDONYMS.pseudonym(t, "conversation", SESSION)
    [(access_id, reader, reason)] = accesses(db, package_id)
    assert reader == key.split("_")[1]
    assert reason == f"NCMEC report generation confirmed by {reviewer} (conversation {conv})"
    assert db.execute("SELECT 1 FROM audit_leaves WHERE tenant_id = %s AND record_id = %s",
                      (t, f"evidence:access:{access_id}")).fetchone() is not None

    # The same confirmation: the same report (and one more logged read); another reviewer's
    # confirmation is another report of the same package.
    again = post(report_api, key, {"session_id": SESSION, "confirmed_by": REVIEWER})
    assert again.status_code == 201, again.text
    assert {k: again.json()[k] for k in ("report_key", "xml", "files")} == {
        k: report[k] for k in ("report_key", "xml", "files")}
    assert len(accesses(db, package_id)) == 2
    other = post(report_api, key, {"session_id": SESSION, "confirmed_by": "rev-2"}).json()
    assert other["report_key"] != report["report_key"]
    assert other["package_id"] == package_id
    count = db.execute("SELECT count(*) FROM ncmec_reports WHERE tenant_id = %s",
                       (t,)).fetchone()
    assert count == (2,)


def test_the_package_keeps_the_recipient_a_report_names_after_their_erasure(
        report_api: str, db: psycopg.Connection, tenant: Tenant, settings: Settings) -> None:
    """A parent's deletion request for the child must not stop the report about the adult."""
    t = tenant.tenant_id
    package_id, _ = seed(db, t)
    minor = user(t, "minor")
    receipt = erase(db, t, ErasureRequest("minor", "COPPA deletion at a parent's request",
                                          "parent-desk"),
                    master_key=MASTER_KEY.encode(), topology=load_topology(
                        settings.topology_file),
                    bootstrap=settings.kafka_bootstrap, now=datetime.now(UTC))
    assert receipt["removed"]["postgres"]["identity_map"] >= 1
    assert [k["id"] for k in receipt["kept"] if k["place"] == "evidence package"] == [
        package_id]
    gone = db.execute("SELECT count(*) FROM identity_map WHERE tenant_id = %s"
                      " AND pseudonym = %s", (t, minor)).fetchone()
    assert gone == (0,)

    key = create_key(db, t, ["read", "moderate"])
    answer = post(report_api, key, {"session_id": SESSION, "confirmed_by": REVIEWER})
    assert answer.status_code == 201, answer.text
    [recipient] = xml_tree(answer.json()["xml"]).findall("intendedRecipient")
    assert recipient.findtext("espIdentifier") == "minor"
    assert "Estimated age 13-15" in recipient.findtext("additionalInfo")


def test_unknown_sessions_other_tenants_and_bad_bodies_are_refused(
        report_api: str, db: psycopg.Connection, tenant: Tenant) -> None:
    t = tenant.tenant_id
    package_id, _ = seed(db, t)
    key = create_key(db, t, ["read", "moderate"])
    unknown = post(report_api, key, {"session_id": "nobody-talked-here",
                                     "confirmed_by": REVIEWER})
    assert (unknown.status_code, unknown.json()["field"]) == (404, "session_id"), unknown.text

    other = f"t-{secrets.token_hex(4)}"
    add_tenant(db, other, "integration test, other")
    outsider = post(report_api, create_key(db, other, ["read", "moderate"]),
                    {"session_id": SESSION, "confirmed_by": REVIEWER})
    assert (outsider.status_code, outsider.json()["field"]) == (404, "session_id")
    assert accesses(db, package_id) == []  # nothing was read for either

    bad = post(report_api, key, {"session_id": 9, "extra": True})
    assert bad.status_code == 422, bad.text
    assert {(e["field"], e["rule"]) for e in bad.json()["errors"]} >= {
        ("session_id", "type"), ("confirmed_by", "required")}
    assert post(report_api, create_key(db, t, ["moderate"]),
                {"session_id": SESSION, "confirmed_by": REVIEWER}).status_code == 403
    assert post(report_api, create_key(db, t, ["read"]),
                {"session_id": SESSION, "confirmed_by": REVIEWER}).status_code == 403
    assert db.execute("SELECT count(*) FROM ncmec_reports WHERE tenant_id = %s",
                      (t,)).fetchone() == (0,)


def test_an_api_built_report_is_filed_by_submit_with_the_package(
        report_api: str, stack: dict[str, str], db: psycopg.Connection, tenant: Tenant,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    t = tenant.tenant_id
    package_id, _ = seed(db, t)
    built = post(report_api, create_key(db, t, ["read", "moderate"]),
                 {"session_id": SESSION, "confirmed_by": REVIEWER})
    assert built.status_code == 201, built.text
    standin = StandIn(hang_seconds=1.0).start()
    try:
        for name, value in _process_env(stack, **REPORTER_ENV).items():
            if name.startswith("WARDSTREAM_"):
                monkeypatch.setenv(name, value)
        monkeypatch.setenv("WARDSTREAM_NCMEC_URL", standin.url)
        monkeypatch.setenv("WARDSTREAM_NCMEC_USERNAME", standin.username)
        monkeypatch.setenv("WARDSTREAM_NCMEC_PASSWORD", standin.password)
        code = main(["ncmec", "submit", "--package", package_id, "--tenant", t,
                     "--confirmed-by", user(t, REVIEWER), "--reason", "filing case 17",
                     "--session", SESSION])
        assert code == 0, capsys.readouterr().err
        assert standin.filings == 1
    finally:
        standin.stop()
    # The rebuilt report matched the stored XML hash, so the same row was filed.
    row = db.execute("SELECT state, ncmec_report_id FROM ncmec_reports WHERE tenant_id = %s",
                     (t,)).fetchall()
    assert len(row) == 1 and row[0][0] == "finished" and row[0][1] is not None
    assert db.execute("SELECT report_key FROM ncmec_reports WHERE tenant_id = %s",
                      (t,)).fetchone() == (built.json()["report_key"],)


def test_the_cli_builds_the_same_report_from_the_package(
        report_api: str, stack: dict[str, str], db: psycopg.Connection, tenant: Tenant,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    t = tenant.tenant_id
    package_id, _ = seed(db, t)
    for name, value in _process_env(stack, **REPORTER_ENV).items():
        if name.startswith("WARDSTREAM_"):
            monkeypatch.setenv(name, value)
    reviewer = user(t, REVIEWER)
    reason = "case 17: report confirmed by the on-call reviewer"
    code = main(["ncmec", "build", "--package", package_id, "--tenant", t, "--confirmed-by",
                 reviewer, "--reason", reason, "--session", SESSION, "--out",
                 str(tmp_path / "out")])
    assert code == 0, capsys.readouterr().err
    written = (tmp_path / "out" / "report.xml").read_bytes()
    xml_tree(written.decode())
    [(_, reader, logged)] = accesses(db, package_id)
    assert (reader, logged) == ("cli:wardstream-ncmec", reason)

    # The API's generation of the same confirmation finds the CLI's report.
    answer = post(report_api, create_key(db, t, ["read", "moderate"]),
                  {"session_id": SESSION, "confirmed_by": REVIEWER})
    assert answer.status_code == 201, answer.text
    assert answer.json()["xml"].encode() == written

    # A package of another tenant is not found; a missing flag is named.
    refused = main(["ncmec", "build", "--package", package_id, "--tenant", "t-nobody",
                    "--confirmed-by", reviewer, "--reason", reason, "--out",
                    str(tmp_path / "no")])
    assert refused == 2
    assert main(["ncmec", "build", "--package", package_id, "--tenant", t, "--reason", reason,
                 "--out", str(tmp_path / "no")]) == 2
    assert "--confirmed-by" in capsys.readouterr().err
