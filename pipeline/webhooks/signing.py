"""Signing and verifying webhook bodies: the scheme every receiver checks.

A delivery carries ``Wardstream-Signature: t=<unix seconds>,v1=<hex>`` where the hex
is HMAC-SHA256 keyed with the endpoint's secret (its UTF-8 bytes, ``whsec_`` prefix
included) over ``f"{t}."`` followed by the raw body bytes. Receivers check the MAC
in constant time and refuse timestamps further than a tolerance from their clock,
so a captured request cannot be replayed later. Several ``v1=`` entries may appear
(any one matching is enough), which leaves room for secret rotation.

For clients built on the original integration guide the delivery also carries
``X-Sentinel-Signature: <hex HMAC-SHA256(secret, raw body)>``: no timestamp, so
no replay protection; new receivers should check ``Wardstream-Signature``.

This module imports only the standard library so SDKs can copy it as it is.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "Wardstream-Signature"
LEGACY_SIGNATURE_HEADER = "X-Sentinel-Signature"
DELIVERY_HEADER = "Wardstream-Delivery"
EVENT_HEADER = "Wardstream-Event"
DEFAULT_TOLERANCE_SECONDS = 300
_SCHEME = "v1"


class SignatureError(ValueError):
    """A signature header is missing, malformed, stale or does not match the body.

    The receiver answers 400 (or 401) and does not act on the body; if every
    delivery fails this way, check that the secret is the endpoint's current one
    and that the body is verified as received, before any JSON parsing.
    """


def _mac(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``f"{timestamp}."`` + ``body``."""
    return _mac(secret, f"{timestamp}.".encode("ascii") + body)


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Wardstream-Signature`` value for ``body`` signed at ``timestamp``."""
    return f"t={timestamp},{_SCHEME}={signature(secret, timestamp, body)}"


def legacy_signature(secret: str, body: bytes) -> str:
    """The ``X-Sentinel-Signature`` value: hex HMAC-SHA256 of the raw body."""
    return _mac(secret, body)


def _bytes(presented: str) -> bytes:
    return presented.strip().lower().encode("utf-8", "replace")


def _parse(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            raise SignatureError("the signature header is malformed: expected t=...,v1=...")
        if name == "t":
            if not value.isdigit() or len(value) > 12:
                raise SignatureError("the signature timestamp is not Unix seconds")
            timestamp = int(value)
        elif name == _SCHEME:
            candidates.append(value)
    if timestamp is None:
        raise SignatureError("the signature header has no timestamp (t=)")
    if not candidates:
        raise SignatureError(f"the signature header has no {_SCHEME}= signature")
    return timestamp, candidates


def verify(secret: str, body: bytes, header: str | None, *, now: float,
           tolerance: float = DEFAULT_TOLERANCE_SECONDS) -> int:
    """Check a ``Wardstream-Signature`` header against the raw ``body``.

    ``now`` is the receiver's clock (Unix seconds). Returns the signed timestamp;
    raises :class:`SignatureError` when the header is missing or malformed, the
    timestamp is more than ``tolerance`` seconds from ``now`` (either way), or no
    ``v1`` signature matches.
    """
    if not header:
        raise SignatureError(f"no {SIGNATURE_HEADER} header")
    timestamp, candidates = _parse(header)
    if abs(now - timestamp) > tolerance:
        raise SignatureError(f"the signature timestamp is more than {tolerance:g}s from now")
    expected = signature(secret, timestamp, body).encode("ascii")
    matched = False
    for candidate in candidates:  # every candidate compared: no early exit
        matched |= hmac.compare_digest(expected, _bytes(candidate))
    if not matched:
        raise SignatureError("the signature does not match the body")
    return timestamp


def verify_legacy(secret: str, body: bytes, header: str | None) -> None:
    """Check an ``X-Sentinel-Signature`` header (no timestamp, so no replay window)."""
    if not header:
        raise SignatureError(f"no {LEGACY_SIGNATURE_HEADER} header")
    if not hmac.compare_digest(legacy_signature(secret, body).encode("ascii"), _bytes(header)):
        raise SignatureError("the signature does not match the body")
