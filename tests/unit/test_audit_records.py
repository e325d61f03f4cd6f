"""Audit leaves and tree heads: pinned shapes, commitments, and what may never enter a leaf."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from pipeline.audit import merkle
from pipeline.audit.errors import InvalidAuditRecord
from pipeline.audit.records import SALT_BYTES, AuditRecord, commit, seal
from pipeline.audit.signing import (
    head_message,
    public_key_bytes,
    sign_tree_head,
    signing_key,
    verify_tree_head,
)
from tests.unit.audit_log import (
    PUBLIC_KEY,
    PUBLIC_KEY_B64,
    TENANT,
    fixed_salts,
    head,
    leaves,
    record,
)

# Persisted shapes (STYLE.md 8): changing any of these breaks every stored log.
PINNED_LEAF = (
    '{"actor":"system:risk","commitments":{"subject":"e1b97536743a1c1f3217a928777b1c286da1bd1'
    'dcab731f203d676a600e6664b"},"details":{"reviewed":false,"score_x100":7126,"tier":"high"},'
    '"kind":"tier_change","occurred_at":"2025-03-01T12:01:00.000000Z","record_id":"rec-1",'
    '"seq":0,"tenant":"acme","v":1}'
)
PINNED_LEAF_HASH = "d00b5a4a55dd86bcc01e9a013d93c3cc3a673826de0cea35e52facc8ae54e198"
PINNED_HEAD_MESSAGE = (
    '{"context":"wardstream/audit-tree-head/v1","root_hash":"' + "0" * 64 + '",'
    '"tenant":"acme","timestamp_ms":1740830400000,"tree_size":3}'
)
PINNED_ROOT_3 = "868a67f324dacbfdb5d2f2813bfe31529effdf4e7a1aab8c19f1b05f43691fac"
PINNED_SIGNATURE_3 = (
    "845170ad559a930af1f5840835855f14cd5cfad642e97d58f338ed4a2d6a1ae6"
    "4cb5daadaa5e26e27561af30eae7828c2ba69ffe5b4b4c00c470473bfa0a850b"
)


def test_leaf_shape_is_pinned() -> None:
    sealed = seal(TENANT, 0, record(1), fixed_salts())
    assert sealed.leaf.decode() == PINNED_LEAF
    assert sealed.leaf_hash.hex() == PINNED_LEAF_HASH
    assert hashlib.sha256(b"\x00" + PINNED_LEAF.encode()).hexdigest() == PINNED_LEAF_HASH


def test_head_shape_and_signature_are_pinned() -> None:
    assert head_message(TENANT, 3, bytes(32), 1_740_830_400_000).decode() == PINNED_HEAD_MESSAGE
    signed = head(leaves(3), 3, 1_740_830_400_000)
    assert signed.root_hash.hex() == PINNED_ROOT_3
    assert signed.signature.hex() == PINNED_SIGNATURE_3  # Ed25519 is deterministic
    assert PUBLIC_KEY_B64 == "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="


def test_head_signature_binds_every_field() -> None:
    signed = head(leaves(3), 3, 1000)
    assert verify_tree_head(PUBLIC_KEY, signed)
    for changed in (
        signed.__class__("other", 3, signed.root_hash, 1000, signed.signature),
        signed.__class__(TENANT, 2, signed.root_hash, 1000, signed.signature),
        signed.__class__(TENANT, 3, bytes(32), 1000, signed.signature),
        signed.__class__(TENANT, 3, signed.root_hash, 1001, signed.signature),
    ):
        assert not verify_tree_head(PUBLIC_KEY, changed)
    stranger = public_key_bytes(signing_key(b"\x01" * 32))
    assert not verify_tree_head(stranger, signed)
    assert not verify_tree_head(b"short", signed)


def test_personal_values_are_committed_not_written() -> None:
    rec = AuditRecord("decision-9", "decision", datetime(2025, 1, 1, tzinfo=UTC),
                      "system:review", {"outcome": "escalated"},
                      {"subject": "u_" + "c" * 26, "note": "Spoke to alice@example.org"})
    sealed = seal(TENANT, 4, rec)
    text = sealed.leaf.decode()
    assert "alice" not in text and "c" * 26 not in text
    leaf = json.loads(text)
    assert set(leaf["commitments"]) == {"note", "subject"}
    for c in sealed.commitments:
        assert len(c.salt) == SALT_BYTES
        assert leaf["commitments"][c.name] == commit(c.salt, c.value).hex()
        assert commit(c.salt, c.value) == hashlib.sha256(c.salt + c.value.encode()).digest()
    # Fresh salts: the same value twice gives unrelated commitments (no dictionary attack).
    again = seal(TENANT, 4, rec)
    assert again.leaf != sealed.leaf
    assert merkle.leaf_hash(sealed.leaf) == sealed.leaf_hash


def test_time_has_one_spelling() -> None:
    here = timezone(timedelta(hours=2))
    a = seal(TENANT, 0, AuditRecord("r", "alert", datetime(2025, 1, 1, 14, tzinfo=here),
                                    "system:risk"), fixed_salts())
    b = seal(TENANT, 0, AuditRecord("r", "alert", datetime(2025, 1, 1, 12, tzinfo=UTC),
                                    "system:risk"), fixed_salts())
    assert a.leaf == b.leaf
    assert b'"occurred_at":"2025-01-01T12:00:00.000000Z"' in a.leaf


def _record(**changes: Any) -> AuditRecord:
    fields: dict[str, Any] = {"record_id": "r-1", "kind": "alert",
                              "occurred_at": datetime(2025, 1, 1, tzinfo=UTC),
                              "actor": "system:risk"}
    fields.update(changes)
    return AuditRecord(**fields)


@pytest.mark.parametrize(("changes", "field"), [
    ({"actor": "alice"}, "actor"),
    ({"actor": "12345"}, "actor"),
    ({"actor": "alice@example.org"}, "actor"),
    ({"kind": "ban"}, "kind"),
    ({"record_id": ""}, "record_id"),
    ({"record_id": "has space"}, "record_id"),
    ({"occurred_at": datetime(2025, 1, 1)}, "occurred_at"),  # naive: no zone
    ({"details": {"score": 71.5}}, "details.score"),
    ({"details": {"text": "hello, how are you"}}, "details.text"),
    ({"details": {"contact": "alice@example.org"}}, "details.contact"),
    ({"details": {"ip": "203.0.113.7"}}, "details.ip"),
    ({"details": {"ip": "2001:db8::1"}}, "details.ip"),
    ({"details": {"Bad-Name": 1}}, "details.Bad-Name"),
    ({"details": {"n": 2**63}}, "details.n"),
    ({"details": {"n": [1]}}, "details.n"),
    ({"details": {"a": 1}, "personal": {"a": "x"}}, "personal.a"),
    ({"personal": {"a": 5}}, "personal.a"),
    ({"personal": {"a": "\ud800"}}, "personal.a"),
])
def test_what_may_not_enter_a_leaf(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidAuditRecord) as caught:
        _record(**changes)
    assert caught.value.field == field


def test_seal_checks_tenant_and_seq() -> None:
    with pytest.raises(InvalidAuditRecord, match="tenant"):
        seal("bad tenant", 0, _record())
    with pytest.raises(InvalidAuditRecord, match="seq"):
        seal(TENANT, -1, _record())


def test_sign_tree_head_round_trip() -> None:
    key = signing_key(b"\x02" * 32)
    signed = sign_tree_head(key, TENANT, 0, merkle.EMPTY_ROOT, 0)
    assert verify_tree_head(public_key_bytes(key), signed)
    with pytest.raises(ValueError, match="32 bytes"):
        signing_key(b"\x02" * 31)


def test_audit_core_imports_no_io_framework() -> None:
    pure = ["pipeline.audit.merkle", "pipeline.audit.records", "pipeline.audit.signing",
            "pipeline.audit.export", "pipeline.audit.verify", "pipeline.audit.command"]
    code = (
        "import importlib, sys\n"
        f"for m in {pure!r}: importlib.import_module(m)\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('psycopg', 'faust', 'aiokafka', 'fastapi'))))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == ""
