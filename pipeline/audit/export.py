"""The export and proof documents: built from leaves and heads, parsed with field-named errors.

An export is everything needed to check a tenant's log offline: every leaf
(its canonical JSON text and leaf hash), every signed tree head with a
consistency proof from the head before it, and the public key. Parsing never
trusts the file: each problem is a :class:`MalformedExport` naming the field.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from pipeline.audit import merkle
from pipeline.audit.errors import MalformedExport
from pipeline.audit.records import TENANT_RE
from pipeline.audit.signing import PUBLIC_KEY_BYTES, SIGNATURE_BYTES, TreeHead

EXPORT_FORMAT: Final = "wardstream-audit-export/v1"
PROOF_FORMAT: Final = "wardstream-audit-proof/v1"
MAX_EXPORT_BYTES: Final = 256 * 1024 * 1024
MAX_PROOF_BYTES: Final = 1024 * 1024
MAX_LEAF_CHARS: Final = 256 * 1024
_MAX_INT: Final = 2**63 - 1


@dataclass(frozen=True)
class ExportedLeaf:
    seq: int
    leaf: bytes
    leaf_hash: bytes


@dataclass(frozen=True)
class ExportedHead:
    head: TreeHead
    consistency: tuple[bytes, ...]  # from the previous head (from size 0 for the first)


@dataclass(frozen=True)
class Export:
    tenant: str
    public_key: bytes
    leaves: tuple[ExportedLeaf, ...]
    heads: tuple[ExportedHead, ...]


@dataclass(frozen=True)
class InclusionProof:
    tenant: str
    seq: int
    leaf: bytes
    tree_size: int
    path: tuple[bytes, ...]


@dataclass(frozen=True)
class ConsistencyProof:
    tenant: str
    old_size: int
    new_size: int
    path: tuple[bytes, ...]


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def export_document(
    tenant: str, public_key: bytes, leaves: Sequence[bytes], heads: Sequence[TreeHead]
) -> dict[str, Any]:
    """The export of ``leaves`` (in sequence order from 0) and ``heads`` (oldest first)."""
    hashes = [merkle.leaf_hash(leaf) for leaf in leaves]
    rendered = []
    previous = 0
    for head in heads:
        proof = merkle.consistency_proof(min(previous, head.tree_size), hashes[:head.tree_size])
        rendered.append({
            "tree_size": head.tree_size,
            "root_hash": head.root_hash.hex(),
            "timestamp_ms": head.timestamp_ms,
            "signature": _b64(head.signature),
            "consistency_from_previous": [p.hex() for p in proof],
        })
        previous = head.tree_size
    return {
        "format": EXPORT_FORMAT,
        "tenant": tenant,
        "public_key": _b64(public_key),
        "leaves": [
            {"seq": seq, "leaf": leaf.decode("ascii"), "leaf_hash": h.hex()}
            for seq, (leaf, h) in enumerate(zip(leaves, hashes, strict=True))
        ],
        "tree_heads": rendered,
    }


def inclusion_document(
    tenant: str, seq: int, leaf: bytes, tree_size: int, path: Sequence[bytes]
) -> dict[str, Any]:
    return {"format": PROOF_FORMAT, "type": "inclusion", "tenant": tenant, "seq": seq,
            "leaf": leaf.decode("ascii"), "tree_size": tree_size,
            "path": [p.hex() for p in path]}


def consistency_document(
    tenant: str, old_size: int, new_size: int, path: Sequence[bytes]
) -> dict[str, Any]:
    return {"format": PROOF_FORMAT, "type": "consistency", "tenant": tenant,
            "old_size": old_size, "new_size": new_size, "path": [p.hex() for p in path]}


class _Reader:
    """Typed access to a parsed JSON object, raising MalformedExport with the field's path."""

    def __init__(self, value: Any, where: str) -> None:
        if not isinstance(value, dict):
            raise MalformedExport(where or "(document)", "must be a JSON object")
        self.value: dict[str, Any] = value
        self.where = where

    def _path(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name

    def get(self, name: str) -> Any:
        if name not in self.value:
            raise MalformedExport(self._path(name), "is missing")
        return self.value[name]

    def text(self, name: str, max_chars: int = 1024) -> str:
        value = self.get(name)
        if not isinstance(value, str):
            raise MalformedExport(self._path(name), "must be a string")
        if len(value) > max_chars:
            raise MalformedExport(self._path(name), f"is longer than {max_chars} characters")
        return value

    def integer(self, name: str) -> int:
        value = self.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_INT:
            raise MalformedExport(self._path(name), "must be a non-negative integer")
        return value

    def hex_hash(self, name: str) -> bytes:
        return _hex_hash(self.get(name), self._path(name))

    def b64(self, name: str, size: int) -> bytes:
        value = self.text(name)
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise MalformedExport(self._path(name), "must be base64") from None
        if len(raw) != size:
            raise MalformedExport(self._path(name), f"must decode to {size} bytes")
        return raw

    def items(self, name: str) -> list[Any]:
        value = self.get(name)
        if not isinstance(value, list):
            raise MalformedExport(self._path(name), "must be a JSON array")
        return value

    def hash_list(self, name: str) -> tuple[bytes, ...]:
        values = self.items(name)
        if len(values) > merkle.MAX_PROOF_LENGTH:
            raise MalformedExport(self._path(name),
                                  f"has more than {merkle.MAX_PROOF_LENGTH} entries")
        return tuple(_hex_hash(v, f"{self._path(name)}[{i}]") for i, v in enumerate(values))

    def leaf_text(self, name: str) -> bytes:
        value = self.text(name, MAX_LEAF_CHARS)
        if not value.isascii():
            raise MalformedExport(self._path(name), "must be ASCII (canonical leaf JSON)")
        return value.encode("ascii")

    def tenant(self) -> str:
        value = self.text("tenant")
        if not TENANT_RE.match(value):
            raise MalformedExport(self._path("tenant"), "is not a valid tenant id")
        return value


def _hex_hash(value: Any, where: str) -> bytes:
    if not isinstance(value, str) or len(value) != 2 * merkle.HASH_SIZE:
        raise MalformedExport(where, f"must be {2 * merkle.HASH_SIZE} hex characters")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise MalformedExport(where, f"must be {2 * merkle.HASH_SIZE} hex characters") from None


def _load(raw: bytes, limit: int, expected_format: str) -> _Reader:
    if len(raw) > limit:
        raise MalformedExport("(document)", f"is {len(raw)} bytes; the limit is {limit}")
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedExport("(document)", f"is not JSON ({exc})") from None
    except RecursionError:
        raise MalformedExport("(document)", "nests too deeply") from None
    reader = _Reader(document, "")
    if reader.text("format") != expected_format:
        raise MalformedExport("format", f"must be {expected_format!r}")
    return reader


def parse_export(raw: bytes, limit: int = MAX_EXPORT_BYTES) -> Export:
    reader = _load(raw, limit, EXPORT_FORMAT)
    tenant = reader.tenant()
    public_key = reader.b64("public_key", PUBLIC_KEY_BYTES)
    leaves = []
    for i, item in enumerate(reader.items("leaves")):
        leaf = _Reader(item, f"leaves[{i}]")
        leaves.append(ExportedLeaf(leaf.integer("seq"), leaf.leaf_text("leaf"),
                                   leaf.hex_hash("leaf_hash")))
    heads = []
    for i, item in enumerate(reader.items("tree_heads")):
        head = _Reader(item, f"tree_heads[{i}]")
        heads.append(ExportedHead(
            TreeHead(tenant, head.integer("tree_size"), head.hex_hash("root_hash"),
                     head.integer("timestamp_ms"), head.b64("signature", SIGNATURE_BYTES)),
            head.hash_list("consistency_from_previous"),
        ))
    return Export(tenant, public_key, tuple(leaves), tuple(heads))


def parse_proof(raw: bytes, limit: int = MAX_PROOF_BYTES) -> InclusionProof | ConsistencyProof:
    reader = _load(raw, limit, PROOF_FORMAT)
    kind = reader.text("type")
    if kind == "inclusion":
        return InclusionProof(reader.tenant(), reader.integer("seq"), reader.leaf_text("leaf"),
                              reader.integer("tree_size"), reader.hash_list("path"))
    if kind == "consistency":
        return ConsistencyProof(reader.tenant(), reader.integer("old_size"),
                                reader.integer("new_size"), reader.hash_list("path"))
    raise MalformedExport("type", "must be 'inclusion' or 'consistency'")
