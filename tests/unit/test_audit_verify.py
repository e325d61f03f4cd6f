"""``wardstream audit verify`` on exports built in memory: honest logs pass, every
kind of tampering fails naming the record or head, malformed files name the field."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from pipeline import cli
from pipeline.audit import command, merkle
from pipeline.audit.export import consistency_document, inclusion_document
from pipeline.audit.records import canonical_json
from pipeline.audit.signing import public_key_bytes, signing_key
from tests.unit.audit_log import PUBLIC_KEY_B64, TENANT, build, head, leaves

Doc = dict[str, Any]


def run_verify(tmp_path: Path, doc: Doc | bytes, capsys: pytest.CaptureFixture[str],
               *extra: str) -> tuple[int, str, str]:
    path = tmp_path / "export.json"
    path.write_bytes(doc if isinstance(doc, bytes) else json.dumps(doc).encode())
    code = command.main(["verify", str(path), "--public-key", PUBLIC_KEY_B64, *extra])
    out, err = capsys.readouterr()
    return code, out, err


def failure(tmp_path: Path, doc: Doc, capsys: pytest.CaptureFixture[str]) -> str:
    code, out, err = run_verify(tmp_path, doc, capsys)
    assert code == command.EXIT_FAILED, (out, err)
    assert out == ""
    assert err.startswith("wardstream audit verify: FAILED: ")
    return err


def malformed(tmp_path: Path, doc: Doc | bytes, capsys: pytest.CaptureFixture[str],
              *extra: str) -> str:
    code, out, err = run_verify(tmp_path, doc, capsys, *extra)
    assert code == command.EXIT_CANNOT_RUN, (out, err)
    assert "Traceback" not in err
    return err


def reseal(leaf_text: str, **changes: Any) -> tuple[str, str]:
    """A leaf edited and re-encoded canonically, with its new leaf hash (a careful forger)."""
    document = json.loads(leaf_text)
    document.update(changes)
    new = canonical_json(document)
    return new.decode(), merkle.leaf_hash(new).hex()


def test_honest_export_verifies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_verify(tmp_path, build(), capsys)
    assert code == 0, err
    assert out.startswith("ok: 8 records, 3 tree heads; latest head size 8, root ")
    assert err == ""


def test_registered_in_the_wardstream_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "export.json"
    path.write_text(json.dumps(build()))
    assert cli.main(["audit", "verify", str(path), "--public-key", PUBLIC_KEY_B64]) == 0
    assert capsys.readouterr().out.startswith("ok: 8 records, 3 tree heads")


def test_records_after_the_latest_head_are_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_verify(tmp_path, build(10, (4, 8)), capsys)
    assert code == 0
    assert out.strip().endswith("; 2 records after it are not signed yet")


def test_without_a_key_it_warns_that_it_trusts_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "export.json"
    path.write_text(json.dumps(build()))
    assert command.main(["verify", str(path)]) == 0
    assert "trusting the key inside the export" in capsys.readouterr().err


@pytest.mark.parametrize("seq", range(8))
def test_changed_record_is_named(
    seq: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = build()
    doc["leaves"][seq]["leaf"] = doc["leaves"][seq]["leaf"].replace("rec-", "REC-")
    assert f"record seq {seq}: its content does not match its leaf hash" in failure(
        tmp_path, doc, capsys)


@pytest.mark.parametrize(("seq", "head_index", "first"), [
    (0, 0, 0), (2, 0, 0), (3, 1, 3), (4, 1, 3), (5, 2, 5), (7, 2, 5)])
def test_changed_record_with_a_matching_leaf_hash_breaks_its_head(
    seq: int, head_index: int, first: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = build()
    item = doc["leaves"][seq]
    item["leaf"], item["leaf_hash"] = reseal(item["leaf"], kind="export")
    size = doc["tree_heads"][head_index]["tree_size"]
    assert (f"tree head {head_index} (size {size}): the root does not match the records; "
            f"a record in seq {first}..{size - 1} was changed") in failure(tmp_path, doc, capsys)


@pytest.mark.parametrize("seq", range(7))
def test_removed_record_is_named(
    seq: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = build()
    del doc["leaves"][seq]
    assert (f"record seq {seq}: position {seq} holds seq {seq + 1}; a record is missing"
            in failure(tmp_path, doc, capsys))


def test_removed_record_with_renumbering_breaks_the_heads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = build()
    del doc["leaves"][4]
    for position, item in enumerate(doc["leaves"][4:], start=4):
        item["seq"] = position
        item["leaf"], item["leaf_hash"] = reseal(item["leaf"], seq=position)
    assert "tree head 1 (size 5): the root does not match" in failure(tmp_path, doc, capsys)


def test_reordered_records_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = build()
    doc["leaves"][2], doc["leaves"][5] = doc["leaves"][5], doc["leaves"][2]
    assert "record seq 2: position 2 holds seq 5" in failure(tmp_path, doc, capsys)
    doc = build()
    a, b = doc["leaves"][2], doc["leaves"][5]
    (a["leaf"], a["leaf_hash"]), (b["leaf"], b["leaf_hash"]) = (
        (b["leaf"], b["leaf_hash"]), (a["leaf"], a["leaf_hash"]))
    assert "record seq 2: the leaf says seq 5; records were reordered" in failure(
        tmp_path, doc, capsys)


@pytest.mark.parametrize("keep", [0, 4, 5, 7])
def test_truncated_records_are_detected(
    keep: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = build()
    doc["leaves"] = doc["leaves"][:keep]
    first_short = next(i for i, h in enumerate(doc["tree_heads"]) if h["tree_size"] > keep)
    size = doc["tree_heads"][first_short]["tree_size"]
    assert (f"tree head {first_short} (size {size}): covers {size} records but the export "
            f"holds {keep}; records were removed or the export is truncated") in failure(
                tmp_path, doc, capsys)


def test_truncated_file_is_malformed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw = json.dumps(build()).encode()
    assert "malformed export: (document): is not JSON" in malformed(
        tmp_path, raw[: len(raw) // 2], capsys)


def test_record_of_another_tenant_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = build()
    doc["leaves"][1]["leaf"] = leaves(3, tenant="other")[1].decode()
    doc["leaves"][1]["leaf_hash"] = merkle.leaf_hash(doc["leaves"][1]["leaf"].encode()).hex()
    assert "record seq 1: the leaf belongs to another tenant's log" in failure(
        tmp_path, doc, capsys)


def test_non_canonical_leaf_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = build()
    spaced = json.dumps(json.loads(doc["leaves"][6]["leaf"]), sort_keys=True)
    doc["leaves"][6]["leaf"] = spaced
    doc["leaves"][6]["leaf_hash"] = merkle.leaf_hash(spaced.encode()).hex()
    assert "record seq 6: the leaf is not in canonical form" in failure(tmp_path, doc, capsys)


def _forked_leaves() -> list[bytes]:
    forked = leaves(8)
    forked[2], _ = (x.encode() for x in reseal(forked[2].decode(), kind="export"))
    return forked


def test_two_heads_of_one_size_with_different_roots_are_a_fork(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = build()
    other = head(_forked_leaves(), 5, doc["tree_heads"][1]["timestamp_ms"] + 1)
    doc["tree_heads"].insert(2, {
        "tree_size": 5, "root_hash": other.root_hash.hex(), "timestamp_ms": other.timestamp_ms,
        "signature": base64.b64encode(other.signature).decode(),
        "consistency_from_previous": [],
    })
    assert "tree head 2 (size 5): fork: tree head 1 has the same size and another root" in (
        failure(tmp_path, doc, capsys))


def test_later_head_not_consistent_with_an_earlier_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = build()
    forked = _forked_leaves()
    hashes = [merkle.leaf_hash(x) for x in forked]
    later = head(forked, 8, doc["tree_heads"][2]["timestamp_ms"])
    doc["tree_heads"][2] = {
        "tree_size": 8, "root_hash": later.root_hash.hex(), "timestamp_ms": later.timestamp_ms,
        "signature": base64.b64encode(later.signature).decode(),
        "consistency_from_previous": [p.hex() for p in merkle.consistency_proof(5, hashes)],
    }
    assert ("tree head 2 (size 8): not consistent with the head before it (size 5); "
            "the log was rewritten (fork)") in failure(tmp_path, doc, capsys)


def test_forged_or_foreign_signature_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = build()
    signature = bytearray(base64.b64decode(doc["tree_heads"][1]["signature"]))
    signature[0] ^= 1
    doc["tree_heads"][1]["signature"] = base64.b64encode(bytes(signature)).decode()
    assert "tree head 1 (size 5): the signature does not verify with the key" in failure(
        tmp_path, doc, capsys)
    stranger = base64.b64encode(public_key_bytes(signing_key(b"\x07" * 32))).decode()
    code, _, err = run_verify(tmp_path, build(), capsys, "--public-key", stranger)
    assert code == command.EXIT_FAILED
    assert ("FAILED: tree head 0 (size 3): the signature does not verify with the key "
            "(not the export's own key)") in err


def test_signed_head_with_a_changed_root_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = build()
    doc["tree_heads"][0]["root_hash"] = "00" * 32
    assert "tree head 0 (size 3): the signature does not verify" in failure(tmp_path, doc, capsys)


def test_heads_out_of_order_fail(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = build()
    doc["tree_heads"][0], doc["tree_heads"][1] = doc["tree_heads"][1], doc["tree_heads"][0]
    for item in doc["tree_heads"][:2]:
        item["consistency_from_previous"] = []  # so only the order is wrong
    assert "tree head 1 (size 3): smaller or older than tree head 0 (size 5)" in failure(
        tmp_path, doc, capsys)


def test_removed_head_breaks_the_consistency_chain(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = build()
    del doc["tree_heads"][1]
    assert "tree head 1 (size 8): not consistent with the head before it (size 3)" in failure(
        tmp_path, doc, capsys)


def _write(tmp_path: Path, name: str, document: Doc) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return str(path)


def test_inclusion_and_consistency_proof_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    leaf_list = leaves(8)
    hashes = [merkle.leaf_hash(x) for x in leaf_list]
    inclusion = inclusion_document(TENANT, 4, leaf_list[4], 5,
                                   merkle.inclusion_proof(4, hashes[:5]))
    code, out, _ = run_verify(tmp_path, build(), capsys,
                              "--proof", _write(tmp_path, "p.json", inclusion))
    assert code == 0
    assert "ok: record seq 4 is included in the signed tree of size 5" in out
    consistency = consistency_document(TENANT, 3, 8, merkle.consistency_proof(3, hashes))
    code, out, _ = run_verify(tmp_path, build(), capsys,
                              "--proof", _write(tmp_path, "c.json", consistency))
    assert code == 0
    assert "ok: the signed trees of sizes 3 and 8 are consistent" in out
    inclusion["path"][0] = "11" * 32
    code, _, err = run_verify(tmp_path, build(), capsys,
                              "--proof", _write(tmp_path, "bad.json", inclusion))
    assert code == command.EXIT_FAILED
    assert "proof: record seq 4 is not included in the signed tree of size 5" in err
    inclusion["tree_size"] = 6
    code, _, err = run_verify(tmp_path, build(), capsys,
                              "--proof", _write(tmp_path, "none.json", inclusion))
    assert "no signed tree head of size 6" in err


def _drop(doc: Doc, path: tuple[str | int, ...]) -> Doc:
    target: Any = doc
    for step in path[:-1]:
        target = target[step]
    del target[path[-1]]
    return doc


@pytest.mark.parametrize("path", [
    ("format",), ("tenant",), ("public_key",), ("leaves",), ("tree_heads",),
    ("leaves", 2, "seq"), ("leaves", 2, "leaf"), ("leaves", 2, "leaf_hash"),
    ("tree_heads", 1, "tree_size"), ("tree_heads", 1, "root_hash"),
    ("tree_heads", 1, "timestamp_ms"), ("tree_heads", 1, "signature"),
    ("tree_heads", 1, "consistency_from_previous"),
])
def test_missing_field_is_named(
    path: tuple[str | int, ...], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = path[0] if len(path) == 1 else f"{path[0]}[{path[1]}].{path[2]}"
    err = malformed(tmp_path, _drop(build(), path), capsys)
    assert f"malformed export: {name}: is missing" in err


@pytest.mark.parametrize(("path", "value", "expected"), [
    (("format",), "something-else", "format: must be 'wardstream-audit-export/v1'"),
    (("tenant",), "no spaces allowed", "tenant: is not a valid tenant id"),
    (("tenant",), 7, "tenant: must be a string"),
    (("public_key",), "***", "public_key: must be base64"),
    (("public_key",), "AAAA", "public_key: must decode to 32 bytes"),
    (("leaves",), {}, "leaves: must be a JSON array"),
    (("leaves", 0), "x", "leaves[0]: must be a JSON object"),
    (("leaves", 1, "seq"), "1", "leaves[1].seq: must be a non-negative integer"),
    (("leaves", 1, "seq"), -1, "leaves[1].seq: must be a non-negative integer"),
    (("leaves", 1, "seq"), True, "leaves[1].seq: must be a non-negative integer"),
    (("leaves", 1, "seq"), 1.5, "leaves[1].seq: must be a non-negative integer"),
    (("leaves", 1, "leaf"), ["a"], "leaves[1].leaf: must be a string"),
    (("leaves", 1, "leaf"), "é", "leaves[1].leaf: must be ASCII"),
    (("leaves", 1, "leaf_hash"), "zz" * 32, "leaves[1].leaf_hash: must be 64 hex characters"),
    (("leaves", 1, "leaf_hash"), "ab", "leaves[1].leaf_hash: must be 64 hex characters"),
    (("tree_heads", 0, "signature"), "AAAA", "tree_heads[0].signature: must decode to 64"),
    (("tree_heads", 0, "timestamp_ms"), None, "tree_heads[0].timestamp_ms: must be a non-neg"),
    (("tree_heads", 2, "tree_size"), 2**70, "tree_heads[2].tree_size: must be a non-negative"),
    (("tree_heads", 1, "consistency_from_previous"), ["00" * 32] * 65,
     "tree_heads[1].consistency_from_previous: has more than 64 entries"),
    (("tree_heads", 1, "consistency_from_previous"), [1],
     "tree_heads[1].consistency_from_previous[0]: must be 64 hex characters"),
])
def test_wrong_type_is_named(
    path: tuple[str | int, ...], value: Any, expected: str, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    doc = build()
    target: Any = doc
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    assert f"malformed export: {expected}" in malformed(tmp_path, doc, capsys)


@pytest.mark.parametrize(("raw", "expected"), [
    (b"", "(document): is not JSON"),
    (b"\xff\xfe", "(document): is not JSON"),
    (b"[1, 2]", "(document): must be a JSON object"),
    (b"[" * 100_000, "(document): "),
    (b"{}", "format: is missing"),
])
def test_not_an_export(
    raw: bytes, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert f"malformed export: {expected}" in malformed(tmp_path, raw, capsys)


def test_oversized_export_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = malformed(tmp_path, build(), capsys, "--max-bytes", "1000")
    assert "malformed export: (document): the export is larger than 1000 bytes" in err


def test_missing_file_and_bad_key_are_clear(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert command.main(["verify", str(tmp_path / "absent.json")]) == command.EXIT_CANNOT_RUN
    assert "cannot read the export" in capsys.readouterr().err
    err = malformed(tmp_path, build(), capsys, "--public-key", "not base64!")
    assert "--public-key: is not valid base64" in err


def test_malformed_proof_file_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    proof = {"format": "wardstream-audit-proof/v1", "type": "inclusion", "tenant": TENANT,
             "seq": 1, "leaf": "{}", "tree_size": "5", "path": []}
    err = malformed(tmp_path, build(), capsys, "--proof", _write(tmp_path, "p.json", proof))
    assert "malformed proof: tree_size: must be a non-negative integer" in err


def test_signing_key_setting_errors_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("WARDSTREAM_AUDIT_SIGNING_KEY", raising=False)
    assert command.main(["public-key"]) == command.EXIT_CANNOT_RUN
    assert "WARDSTREAM_AUDIT_SIGNING_KEY is not set" in capsys.readouterr().err
    for bad, why in [("not base64!", "it is not base64"), ("AAAA", "it decodes to 3 bytes")]:
        monkeypatch.setenv("WARDSTREAM_AUDIT_SIGNING_KEY", bad)
        assert command.main(["public-key"]) == command.EXIT_CANNOT_RUN
        err = capsys.readouterr().err
        assert "WARDSTREAM_AUDIT_SIGNING_KEY" in err and why in err
        assert bad not in err.replace("WARDSTREAM_AUDIT_SIGNING_KEY", "")
    monkeypatch.setenv("WARDSTREAM_AUDIT_SIGNING_KEY", base64.b64encode(bytes(range(32))).decode())
    assert command.main(["public-key"]) == 0
    assert capsys.readouterr().out.strip() == PUBLIC_KEY_B64
