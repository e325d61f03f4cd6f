"""Signing secrets: made once, shown once, kept sealed so they can still sign.

A secret must stay usable for HMAC, so a hash (as for API keys) will not do. It
is sealed with AES-256-GCM under a key derived (HKDF-SHA256) from the pseudonym
master key, which every API and dispatcher process holds already; the tenant and
endpoint ids are the associated data, so a sealed secret copied onto another
row does not open. A database dump alone therefore reveals no secret. Sealed
form: version byte 1, 12-byte nonce, ciphertext and tag.
"""

from __future__ import annotations

import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from pipeline.webhooks.errors import SealedSecretError

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
_VERSION = b"\x01"
_NONCE_BYTES = 12
_INFO = b"wardstream webhook signing secrets v1"


def new_secret() -> str:
    """A fresh signing secret: 256 random bits, URL-safe base64, ``whsec_`` prefix."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


class SecretBox:
    """Seals and opens signing secrets bound to (tenant, endpoint)."""

    def __init__(self, master_key: bytes) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(master_key)
        self._aead = AESGCM(key)

    @staticmethod
    def _bound_to(tenant_id: str, endpoint_id: str) -> bytes:
        return f"{tenant_id}\x00{endpoint_id}".encode()

    def seal(self, secret: str, *, tenant_id: str, endpoint_id: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, secret.encode(), self._bound_to(tenant_id, endpoint_id))
        return _VERSION + nonce + sealed

    def open(self, sealed: bytes, *, tenant_id: str, endpoint_id: str) -> str:
        """The secret; :class:`SealedSecretError` when the key or the row is not the right one."""
        if sealed[:1] != _VERSION or len(sealed) <= 1 + _NONCE_BYTES:
            raise SealedSecretError("a sealed webhook secret has an unknown format")
        nonce, body = sealed[1:1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES:]
        try:
            plain = self._aead.decrypt(nonce, body, self._bound_to(tenant_id, endpoint_id))
        except InvalidTag:
            raise SealedSecretError(
                "a webhook secret does not open with this master key (or its row was altered)"
            ) from None
        return plain.decode()
