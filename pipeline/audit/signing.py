"""Signed tree heads: Ed25519 over a canonical statement of (tenant, size, root, time).

The signed bytes start with a context string, so a head signature can never be
replayed as a signature over anything else this key might sign later.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from pipeline.audit.records import canonical_json

HEAD_CONTEXT: Final = "wardstream/audit-tree-head/v1"
SEED_BYTES: Final = 32
PUBLIC_KEY_BYTES: Final = 32
SIGNATURE_BYTES: Final = 64


@dataclass(frozen=True)
class TreeHead:
    tenant: str
    tree_size: int
    root_hash: bytes
    timestamp_ms: int
    signature: bytes

    def message(self) -> bytes:
        return head_message(self.tenant, self.tree_size, self.root_hash, self.timestamp_ms)


def head_message(tenant: str, tree_size: int, root_hash: bytes, timestamp_ms: int) -> bytes:
    """The exact bytes a tree head signature covers."""
    return canonical_json({
        "context": HEAD_CONTEXT,
        "tenant": tenant,
        "tree_size": tree_size,
        "root_hash": root_hash.hex(),
        "timestamp_ms": timestamp_ms,
    })


def signing_key(seed: bytes) -> Ed25519PrivateKey:
    if len(seed) != SEED_BYTES:
        raise ValueError(f"an Ed25519 seed is {SEED_BYTES} bytes, not {len(seed)}")
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def decode_b64_key(text: str, expected: int = PUBLIC_KEY_BYTES) -> bytes:
    """Strict base64 of exactly ``expected`` bytes; ValueError saying what is wrong."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("is not valid base64") from None
    if len(raw) != expected:
        raise ValueError(f"decodes to {len(raw)} bytes, not {expected}")
    return raw


def sign_tree_head(
    key: Ed25519PrivateKey, tenant: str, tree_size: int, root_hash: bytes, timestamp_ms: int
) -> TreeHead:
    signature = key.sign(head_message(tenant, tree_size, root_hash, timestamp_ms))
    return TreeHead(tenant, tree_size, root_hash, timestamp_ms, signature)


def verify_tree_head(public_key: bytes, head: TreeHead) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(head.signature, head.message())
    except (InvalidSignature, ValueError):
        return False
    return True
