"""NCMEC reports without services: the input, the XML and its XSD, the reviewer's summary.

The summary is a snapshot (tests/unit/snapshots/ncmec_summary.md); refresh it
with ``WARDSTREAM_UPDATE_SNAPSHOTS=1`` after a deliberate change and read the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from lxml import etree

from pipeline.ncmec import schema
from pipeline.ncmec.errors import InvalidReportInput, ReportXmlInvalid
from pipeline.ncmec.inputs import load_input, parse_input
from pipeline.ncmec.model import report_key
from pipeline.ncmec.report_xml import document_sha256, file_details_document, report_document
from pipeline.ncmec.summary import render
from tests.unit.ncmec_samples import CONVERSATION, document, report_input

SNAPSHOT = Path(__file__).with_name("snapshots") / "ncmec_summary.md"


def _children(xml: bytes, path: str) -> list[str]:
    node = etree.fromstring(xml).find(path)
    assert node is not None, path
    return [child.tag for child in node]


def test_report_document_validates_and_follows_the_documented_order() -> None:
    xml = report_document(report_input())
    assert schema.problems(xml, "report") == []
    assert etree.fromstring(xml).tag == "report"
    assert [t for t in _children(xml, ".")] == [
        "incidentSummary", "internetDetails", "reporter", "personOrUserReported",
        "intendedRecipient", "additionalInfo"]
    assert _children(xml, "incidentSummary") == [
        "incidentType", "incidentDateTime", "incidentDateTimeDescription"]
    root = etree.fromstring(xml)
    assert root.findtext("incidentSummary/incidentType") == (
        "Online Enticement of Children for Sexual Acts")
    assert root.findtext("incidentSummary/incidentDateTime") == "2026-03-02T21:17:00-05:00"
    reported = root.find("personOrUserReported")
    assert reported is not None
    assert reported.findtext("screenName") == "nightowl_77"
    assert reported.findtext("espIdentifier") == "esp-user-4411"
    assert reported.findtext("personOrUserReportedPerson/email") == "owl77@example.test"
    events = reported.findall("ipCaptureEvent")
    assert [(e.findtext("ipAddress"), e.findtext("eventName"), e.findtext("port"))
            for e in events] == [("203.0.113.24", "Login", "51234"),
                                 ("198.51.100.7", "Upload", "443")]
    assert root.findtext("intendedRecipient/screenName") == "sky.bird.13"
    assert "13-15" in (root.findtext("intendedRecipient/additionalInfo") or "")


def test_same_input_gives_the_same_bytes() -> None:
    assert report_document(report_input()) == report_document(report_input())


def test_victims_follow_intended_recipients_and_carry_an_age() -> None:
    doc = document()
    doc["recipients"] = [{"screen_name": "kid.a", "age": 12, "role": "victim"},
                         {"screen_name": "kid.b", "estimated_age": "13-15"}]
    xml = report_document(parse_input(doc, Path(".")))
    tags = _children(xml, ".")
    assert tags.index("intendedRecipient") < tags.index("victim")
    assert etree.fromstring(xml).findtext("victim/victimPerson/age") == "12"


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda r: r.insert(0, r[2]), "incidentSummary"),  # reporter moved first
    (lambda r: setattr(r[0][0], "text", "Something Else"), "incidentType"),
    (lambda r: r[0].remove(r[0][1]), "incidentDateTime"),
    (lambda r: etree.SubElement(r, "surprise"), "surprise"),
])
def test_the_xsd_refuses_bad_reports(mutate, expected: str) -> None:  # type: ignore[no-untyped-def]
    root = etree.fromstring(report_document(report_input()))
    mutate(root)
    found = schema.problems(etree.tostring(root), "report")
    assert found and expected in " ".join(found)


def test_the_xsd_refuses_malformed_xml_and_the_wrong_root() -> None:
    assert "malformed" in schema.problems(b"<report>", "report")[0]
    assert "expected <report>" in schema.problems(b"<fileDetails/>", "report")[0]
    with pytest.raises(ReportXmlInvalid, match="<report> does not validate"):
        schema.validate(b"<report/>", "report")


def test_file_details_name_the_file_and_its_sha256() -> None:
    report = report_input()
    xml = file_details_document(report.conversation, 12345678, "f" * 32)
    root = etree.fromstring(xml)
    assert root.findtext("reportId") == "12345678"
    assert root.findtext("originalFileName") == "conversation-pkg-0001.txt"
    hashed = root.find("originalFileHash")
    assert hashed is not None and hashed.get("hashType") == "SHA256"
    assert hashed.text == report.conversation.sha256


def test_report_key_is_deterministic_and_depends_on_the_confirmation() -> None:
    assert report_input().report_key == report_key("t-sample", "pkg-0001", "dec-0001")
    assert report_input(confirmation_id="dec-0002").report_key != report_input().report_key
    assert len(report_input().report_key) == 32


def test_summary_snapshot() -> None:
    report = report_input()
    text = render(report, document_sha256(report_document(report)).hex())
    if os.environ.get("WARDSTREAM_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(text, encoding="utf-8")
    assert text == SNAPSHOT.read_text(encoding="utf-8")


def test_summary_shows_who_what_when_and_the_hashes() -> None:
    report = report_input()
    text = render(report, "ab" * 32)
    for needed in ("nightowl_77", "esp-user-4411", "203.0.113.24", "sky.bird.13",
                   "Online Enticement of Children for Sexual Acts", "2026-03-02T21:17:00-05:00",
                   report.conversation.sha256, report.conversation.md5, "ab" * 32,
                   "POST /submit", "POST /retract", report.report_key):
        assert needed in text, needed


@pytest.mark.parametrize(("change", "field"), [
    (lambda d: d.pop("incident_time"), "incident_time"),
    (lambda d: d["reported"]["ip_events"][1].update(port=70000), "reported.ip_events[1].port"),
    (lambda d: d["reported"]["ip_events"][0].update(ip_address="not-an-ip"),
     "reported.ip_events[0].ip_address"),
    (lambda d: d["reported"]["ip_events"][0].update(at="2026-03-02T21:05:00"),
     "reported.ip_events[0].at"),
    (lambda d: d["conversation"].update(sha256="0" * 64), "conversation.sha256"),
    (lambda d: d.update(incident_type="Bad Vibes"), "incident_type"),
    (lambda d: d["recipients"][0].update(age=30), "recipients[0].age"),
    (lambda d: d.update(recipients=[]), "recipients"),
    (lambda d: d.update(confirmed_by="dana@example.test"), "confirmed_by"),
    (lambda d: d["reporter"].update(nickname="x"), "reporter.nickname"),
    (lambda d: d["reported"].pop("screen_name"), "reported.screen_name"),
])
def test_bad_input_names_the_field(change, field: str) -> None:  # type: ignore[no-untyped-def]
    doc = document()
    change(doc)
    with pytest.raises(InvalidReportInput) as caught:
        parse_input(doc, Path("."))
    assert caught.value.field == field


def test_input_file_with_a_conversation_path(tmp_path: Path) -> None:
    doc = document()
    (tmp_path / "conversation.txt").write_bytes(CONVERSATION)
    doc["conversation"] = {"filename": "conversation.txt", "path": "conversation.txt",
                           "sha256": doc["conversation"]["sha256"]}
    (tmp_path / "input.json").write_text(json.dumps(doc), encoding="utf-8")
    assert load_input(tmp_path / "input.json").conversation.content == CONVERSATION


def test_input_file_that_is_not_json(tmp_path: Path) -> None:
    (tmp_path / "input.json").write_text("{nope", encoding="utf-8")
    with pytest.raises(InvalidReportInput, match=r"\(document\): not valid JSON"):
        load_input(tmp_path / "input.json")


def test_building_a_report_needs_no_database_or_network_library() -> None:
    import subprocess
    import sys

    code = ("import sys\n"
            "import pipeline.ncmec.inputs, pipeline.ncmec.report_xml, pipeline.ncmec.summary\n"
            "print(','.join(sorted(m for m in sys.modules\n"
            "    if m.split('.')[0] in ('psycopg', 'httpx', 'fastapi', 'faust'))))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == ""
