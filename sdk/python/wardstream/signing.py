"""Verifying webhook deliveries (``Wardstream-Signature``), standard library only.

A delivery carries ``Wardstream-Signature: t=<unix seconds>,v1=<hex>``: the hex is
HMAC-SHA256 keyed with the endpoint's secret (its UTF-8 bytes, ``whsec_``
included) over ``"<t>."`` followed by the raw body. Verify the raw bytes before
parsing JSON; signatures are compared in constant time and a timestamp more than
``tolerance`` seconds from the receiver's clock is refused (replay protection).
Several ``v1=`` entries may be present; one match is enough.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from wardstream.errors import SignatureError

SIGNATURE_HEADER = "Wardstream-Signature"
DELIVERY_HEADER = "Wardstream-Delivery"
EVENT_HEADER = "Wardstream-Event"
DEFAULT_TOLERANCE = 300.0
_MAX_TIMESTAMP_DIGITS = 12


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """A ``Wardstream-Signature`` value for ``body`` (for tests and local tools)."""
    mac = hmac.new(secret.encode("utf-8"), b"%d." % timestamp + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(secret: str, body: bytes, header: str | None, *,
                     tolerance: float = DEFAULT_TOLERANCE, now: float | None = None) -> int:
    """Check ``header`` against the raw ``body``; the signed timestamp, or
    :class:`SignatureError` saying what is wrong."""
    if not header:
        raise SignatureError(f"no {SIGNATURE_HEADER} header")
    timestamp: int | None = None
    presented: list[str] = []
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            raise SignatureError("malformed signature header: expected t=...,v1=...")
        if name == "t":
            if not (value.isascii() and value.isdigit()) or len(value) > _MAX_TIMESTAMP_DIGITS:
                raise SignatureError("the signature timestamp is not Unix seconds")
            timestamp = int(value)
        elif name == "v1":
            presented.append(value.strip().lower())
    if timestamp is None:
        raise SignatureError("the signature header has no timestamp (t=)")
    if not presented:
        raise SignatureError("the signature header has no v1= signature")
    clock = time.time() if now is None else now
    if abs(clock - timestamp) > tolerance:
        raise SignatureError(f"the signature timestamp is more than {tolerance:g}s from now")
    expected = hmac.new(secret.encode("utf-8"), b"%d." % timestamp + body,
                        hashlib.sha256).hexdigest().encode("ascii")
    matched = False
    for candidate in presented:  # compare every candidate: no early exit
        matched |= hmac.compare_digest(expected, candidate.encode("utf-8", "replace"))
    if not matched:
        raise SignatureError("the signature does not match the body")
    return timestamp


def is_valid_signature(secret: str, body: bytes, header: str | None, *,
                       tolerance: float = DEFAULT_TOLERANCE, now: float | None = None) -> bool:
    """True when :func:`verify_signature` accepts the delivery."""
    try:
        verify_signature(secret, body, header, tolerance=tolerance, now=now)
    except SignatureError:
        return False
    return True
