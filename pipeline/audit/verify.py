"""Offline verification of an export (and optionally a proof) with nothing but a public key.

Checks, in this order, stopping at the first failure with a message naming
the record (by sequence number) or the tree head (by position and size):

1. each record sits at its own sequence number, names the export's tenant and
   that number, is canonical, and hashes to its recorded leaf hash;
2. each head is signed by the key, no larger than the records present, not
   smaller or older than the head before it, not a second root for a size
   already signed (a fork), provably consistent with the head before it
   (RFC 9162 2.1.4.2), and its root is the Merkle root of the records it covers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pipeline.audit import merkle
from pipeline.audit.errors import VerificationFailed
from pipeline.audit.export import ConsistencyProof, Export, ExportedHead, InclusionProof
from pipeline.audit.records import canonical_json
from pipeline.audit.signing import verify_tree_head


@dataclass(frozen=True)
class Report:
    records: int
    heads: int
    latest_size: int
    latest_root: bytes
    unsigned: int  # records after the latest head, which no signature covers yet

    def line(self) -> str:
        text = f"ok: {self.records} records, {self.heads} tree heads"
        if self.heads:
            text += f"; latest head size {self.latest_size}, root {self.latest_root.hex()}"
        if self.unsigned:
            text += f"; {self.unsigned} records after it are not signed yet"
        return text


def _head_name(index: int, exported: ExportedHead) -> str:
    return f"tree head {index} (size {exported.head.tree_size})"


def check_leaf(tenant: str, seq: int, leaf: bytes) -> None:
    """A leaf names its tenant and sequence number and is in canonical form."""
    where = f"record seq {seq}"
    try:
        document = json.loads(leaf)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise VerificationFailed(f"{where}: the leaf is not JSON") from None
    if not isinstance(document, dict):
        raise VerificationFailed(f"{where}: the leaf is not a JSON object")
    if document.get("tenant") != tenant:
        raise VerificationFailed(f"{where}: the leaf belongs to another tenant's log")
    if document.get("seq") != seq or isinstance(document.get("seq"), bool):
        raise VerificationFailed(
            f"{where}: the leaf says seq {document.get('seq')!r}; records were reordered")
    try:
        canonical = canonical_json(document)
    except ValueError:
        canonical = b""
    if canonical != leaf:
        raise VerificationFailed(f"{where}: the leaf is not in canonical form")


def _check_leaves(export: Export) -> list[bytes]:
    hashes = []
    for position, item in enumerate(export.leaves):
        if item.seq != position:
            raise VerificationFailed(
                f"record seq {position}: position {position} holds seq {item.seq}; "
                "a record is missing, repeated or out of order")
        check_leaf(export.tenant, position, item.leaf)
        computed = merkle.leaf_hash(item.leaf)
        if computed != item.leaf_hash:
            raise VerificationFailed(
                f"record seq {position}: its content does not match its leaf hash (changed)")
        hashes.append(computed)
    return hashes


def verify_export(export: Export, public_key: bytes) -> Report:
    """Everything in the module docstring; raises VerificationFailed naming what failed."""
    hashes = _check_leaves(export)
    roots = merkle.roots_at(hashes, {h.head.tree_size for h in export.heads
                                     if h.head.tree_size <= len(hashes)})
    previous: ExportedHead | None = None
    sizes: dict[int, int] = {}  # tree size -> index of the first head with it
    for index, exported in enumerate(export.heads):
        head, name = exported.head, _head_name(index, exported)
        if not verify_tree_head(public_key, head):
            hint = "" if public_key == export.public_key else " (not the export's own key)"
            raise VerificationFailed(f"{name}: the signature does not verify with the key{hint}")
        earlier = sizes.setdefault(head.tree_size, index)
        if earlier != index and export.heads[earlier].head.root_hash != head.root_hash:
            raise VerificationFailed(
                f"{name}: fork: tree head {earlier} has the same size and another root")
        if previous is not None:
            before = previous.head
            if head.tree_size < before.tree_size or head.timestamp_ms < before.timestamp_ms:
                raise VerificationFailed(
                    f"{name}: smaller or older than {_head_name(index - 1, previous)}; "
                    "heads are out of order or the log shrank")
        old_size = previous.head.tree_size if previous else 0
        old_root = previous.head.root_hash if previous else merkle.EMPTY_ROOT
        if not merkle.verify_consistency(old_size, head.tree_size, old_root, head.root_hash,
                                         exported.consistency):
            raise VerificationFailed(
                f"{name}: not consistent with the head before it (size {old_size}); "
                "the log was rewritten (fork)")
        if head.tree_size > len(hashes):
            raise VerificationFailed(
                f"{name}: covers {head.tree_size} records but the export holds "
                f"{len(hashes)}; records were removed or the export is truncated")
        if roots[head.tree_size] != head.root_hash:
            raise VerificationFailed(
                f"{name}: the root does not match the records; a record in seq "
                f"{old_size}..{head.tree_size - 1} was changed")
        previous = exported
    latest = previous.head if previous else None
    return Report(
        records=len(hashes),
        heads=len(export.heads),
        latest_size=latest.tree_size if latest else 0,
        latest_root=latest.root_hash if latest else merkle.EMPTY_ROOT,
        unsigned=len(hashes) - (latest.tree_size if latest else 0),
    )


def _signed_root(export: Export, size: int, what: str) -> bytes:
    for exported in export.heads:
        if exported.head.tree_size == size:
            return exported.head.root_hash
    raise VerificationFailed(f"proof: no signed tree head of size {size} in the export ({what})")


def verify_proof(export: Export, proof: InclusionProof | ConsistencyProof) -> str:
    """Check a proof file against the export's (already verified) signed heads."""
    if proof.tenant != export.tenant:
        raise VerificationFailed("proof: it is for another tenant than the export")
    if isinstance(proof, InclusionProof):
        root = _signed_root(export, proof.tree_size, "inclusion")
        check_leaf(proof.tenant, proof.seq, proof.leaf)
        if not merkle.verify_inclusion(proof.seq, proof.tree_size, merkle.leaf_hash(proof.leaf),
                                       proof.path, root):
            raise VerificationFailed(
                f"proof: record seq {proof.seq} is not included in the signed tree of size "
                f"{proof.tree_size}")
        return f"record seq {proof.seq} is included in the signed tree of size {proof.tree_size}"
    old_root = _signed_root(export, proof.old_size, "consistency, old size")
    new_root = _signed_root(export, proof.new_size, "consistency, new size")
    if not merkle.verify_consistency(proof.old_size, proof.new_size, old_root, new_root,
                                     proof.path):
        raise VerificationFailed(
            f"proof: the signed trees of sizes {proof.old_size} and {proof.new_size} are not "
            "consistent")
    return f"the signed trees of sizes {proof.old_size} and {proof.new_size} are consistent"
