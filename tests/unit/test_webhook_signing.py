"""The webhook signature scheme: round trip, tampering, the tolerance window, the legacy header."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from pipeline.webhooks.signing import (
    SignatureError,
    legacy_signature,
    signature_header,
    verify,
    verify_legacy,
)

SECRET = "whsec_test-secret"
BODY = b'{"alert_id":"a1","score":72.0}'
T = 1_772_000_000


def test_round_trip_returns_the_signed_timestamp() -> None:
    header = signature_header(SECRET, T, BODY)
    assert verify(SECRET, BODY, header, now=T + 10) == T


def test_the_scheme_is_hmac_sha256_over_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert signature_header(SECRET, T, BODY) == f"t={T},v1={expected}"
    assert legacy_signature(SECRET, BODY) == hmac.new(SECRET.encode(), BODY,
                                                       hashlib.sha256).hexdigest()


@pytest.mark.parametrize("body", [BODY + b" ", BODY.replace(b"72", b"12"), b""])
def test_a_tampered_body_is_refused(body: bytes) -> None:
    header = signature_header(SECRET, T, BODY)
    with pytest.raises(SignatureError, match="does not match"):
        verify(SECRET, body, header, now=T)
    with pytest.raises(SignatureError, match="does not match"):
        verify_legacy(SECRET, body, legacy_signature(SECRET, BODY))


def test_another_secret_or_a_shifted_timestamp_is_refused() -> None:
    with pytest.raises(SignatureError, match="does not match"):
        verify("whsec_other", BODY, signature_header(SECRET, T, BODY), now=T)
    forged = signature_header(SECRET, T, BODY).replace(f"t={T}", f"t={T + 1}")
    with pytest.raises(SignatureError, match="does not match"):
        verify(SECRET, BODY, forged, now=T)


@pytest.mark.parametrize("now", [T + 301, T - 301])
def test_a_timestamp_outside_the_tolerance_is_refused(now: int) -> None:
    with pytest.raises(SignatureError, match="from now"):
        verify(SECRET, BODY, signature_header(SECRET, T, BODY), now=now)
    assert verify(SECRET, BODY, signature_header(SECRET, T, BODY), now=now,
                  tolerance=400) == T


def test_any_matching_v1_entry_is_enough() -> None:
    good = signature_header(SECRET, T, BODY).split(",")[1]
    assert verify(SECRET, BODY, f"t={T},v1={'0' * 64},{good}", now=T) == T


@pytest.mark.parametrize("header", [None, "", "v1=abc", f"t={T}", "t=soon,v1=ab", "garbage",
                                    f"t={T},v1=é"])
def test_malformed_headers_are_refused(header: str | None) -> None:
    with pytest.raises(SignatureError):
        verify(SECRET, BODY, header, now=T)


def test_legacy_header_round_trip_and_missing() -> None:
    verify_legacy(SECRET, BODY, legacy_signature(SECRET, BODY).upper())
    with pytest.raises(SignatureError, match="no X-Sentinel-Signature"):
        verify_legacy(SECRET, BODY, None)


def test_signing_needs_only_the_standard_library() -> None:
    import ast
    from pathlib import Path

    import pipeline.webhooks.signing as module

    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {str(node.module).split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom)}
    assert imported <= {"__future__", "hashlib", "hmac"}
