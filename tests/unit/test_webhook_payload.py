"""The alert.raised body, sealed secrets, and the pinned request a sender makes."""

from __future__ import annotations

import ipaddress
import json
from datetime import UTC, datetime

import pytest

from pipeline.webhooks.addresses import parse_target
from pipeline.webhooks.errors import SealedSecretError
from pipeline.webhooks.payload import AlertFacts, alert_payload, body_bytes
from pipeline.webhooks.sealing import SECRET_PREFIX, SecretBox, new_secret
from pipeline.webhooks.sender import pinned_request_parts

FACTS = AlertFacts(
    alert_id="a-1", tenant_id="t-1", actor="u_pseudo", tier="restrict", score=72.5,
    raised_at=datetime(2026, 3, 1, 22, 15, tzinfo=UTC), explanation="stages seen",
    drivers=[{"signal": "stages", "contribution": 40.0, "explanation": "stages seen"}],
    platform_user_id="user-17", session_id="conv-9")


def test_payload_fields() -> None:
    payload = alert_payload(FACTS, evidence_package_id=None)
    assert payload == {
        "event": "alert.raised", "alert_id": "a-1", "tenant_id": "t-1",
        "session_id": "conv-9", "platform_user_id": "user-17", "risk_score": 0.725,
        "score": 72.5, "risk_level": "restrict", "explanation": "stages seen",
        "behavioral_signals": [{"signal": "stages", "contribution": 40.0,
                                "explanation": "stages seen"}],
        "recommended_action": "REVIEW", "evidence_package_id": None,
        "created_at": "2026-03-01T22:15:00Z"}


def test_body_bytes_are_canonical_and_survive_a_json_round_trip() -> None:
    payload = alert_payload(FACTS, evidence_package_id="ep-1")
    body = body_bytes(payload)
    assert body == body_bytes(json.loads(body))
    assert b" " not in body.replace(b"stages seen", b"")


def test_sealed_secrets_open_only_for_their_row_and_key() -> None:
    box = SecretBox(b"k" * 32)
    secret = new_secret()
    assert secret.startswith(SECRET_PREFIX) and len(secret) > 40
    sealed = box.seal(secret, tenant_id="t-1", endpoint_id="whe_1")
    assert secret.encode() not in sealed
    assert box.open(sealed, tenant_id="t-1", endpoint_id="whe_1") == secret
    with pytest.raises(SealedSecretError):
        box.open(sealed, tenant_id="t-2", endpoint_id="whe_1")
    with pytest.raises(SealedSecretError):
        SecretBox(b"x" * 32).open(sealed, tenant_id="t-1", endpoint_id="whe_1")
    with pytest.raises(SealedSecretError):
        box.open(b"\x02" + sealed[1:], tenant_id="t-1", endpoint_id="whe_1")


def test_requests_go_to_the_checked_address_with_the_name_for_host_and_tls() -> None:
    target = parse_target("https://hooks.example.com/in?x=1")
    assert pinned_request_parts(target, ipaddress.ip_address("93.184.216.34")) == (
        "https://93.184.216.34/in?x=1", "hooks.example.com",
        {"sni_hostname": "hooks.example.com"})
    target = parse_target("https://hooks.example.com:8443/")
    assert pinned_request_parts(target, ipaddress.ip_address("2606:2800:220:1::1")) == (
        "https://[2606:2800:220:1::1]:8443/", "hooks.example.com:8443",
        {"sni_hostname": "hooks.example.com"})
    target = parse_target("http://127.0.0.1:9000/h")
    assert pinned_request_parts(target, ipaddress.ip_address("127.0.0.1")) == (
        "http://127.0.0.1:9000/h", "127.0.0.1:9000", {})
