"""Tenant-keyed pseudonyms for platform identifiers (DESIGN.md principle 4).

A pseudonym is ``<kind letter>_<26 base32 chars>``: the first 128 bits of
HMAC-SHA256 over the kind and the raw value, keyed by a per-tenant key. The
tenant key is itself an HMAC of the tenant id under the deployment's master
key, so every worker derives the same pseudonyms without sharing a key table,
and the same raw id gets unrelated pseudonyms at two tenants.

Only the identity map (``identity.map`` topic, ``identity_map`` table) turns a
pseudonym back into a raw value; erasing its entries is what erasure means.
See docs/pseudonyms.md for why derivation beats stored random keys here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Final, Literal

IdKind = Literal["user", "conversation", "ip", "device", "email", "phone", "display_name"]

KIND_PREFIX: Final[dict[str, str]] = {
    "user": "u",
    "conversation": "c",
    "ip": "i",
    "device": "d",
    "email": "e",
    "phone": "p",
    "display_name": "n",
}

MIN_MASTER_KEY_BYTES = 32


class Pseudonymizer:
    """Derives pseudonyms; holds the master key and a cache of tenant keys."""

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) < MIN_MASTER_KEY_BYTES:
            raise ValueError(
                f"pseudonym master key must be at least {MIN_MASTER_KEY_BYTES} bytes"
            )
        self._master_key = master_key
        self._tenant_keys: dict[str, bytes] = {}

    def _tenant_key(self, tenant_id: str) -> bytes:
        key = self._tenant_keys.get(tenant_id)
        if key is None:
            key = hmac.new(
                self._master_key, b"wardstream/tenant-key/v1\x00" + tenant_id.encode(), "sha256"
            ).digest()
            self._tenant_keys[tenant_id] = key
        return key

    def pseudonym(self, tenant_id: str, kind: IdKind, value: str) -> str:
        mac = hmac.new(
            self._tenant_key(tenant_id),
            kind.encode() + b"\x00" + value.encode("utf-8"),
            hashlib.sha256,
        ).digest()
        return KIND_PREFIX[kind] + "_" + base64.b32encode(mac[:16]).decode().rstrip("=").lower()
