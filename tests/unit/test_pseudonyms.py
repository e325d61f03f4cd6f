"""Pseudonymisation: stable per tenant, unlinkable across tenants, raw ids only in the map."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from pipeline.contract import validate_event
from pipeline.normalize import normalize
from pipeline.pseudonym import Pseudonymizer
from tests.unit.events import message, profile

KEY = b"k" * 32


def test_same_tenant_same_id_gives_the_same_pseudonym() -> None:
    a, b = Pseudonymizer(KEY), Pseudonymizer(KEY)
    assert a.pseudonym("acme", "user", "u-1") == b.pseudonym("acme", "user", "u-1")


def test_pseudonyms_differ_across_tenants_kinds_and_keys() -> None:
    p = Pseudonymizer(KEY)
    names = {
        p.pseudonym("acme", "user", "u-1"),
        p.pseudonym("other", "user", "u-1"),
        p.pseudonym("acme", "conversation", "u-1"),
        Pseudonymizer(b"j" * 32).pseudonym("acme", "user", "u-1"),
    }
    assert len(names) == 4


def test_pseudonym_is_the_documented_hmac_construction() -> None:
    tenant_key = hmac.new(KEY, b"wardstream/tenant-key/v1\x00acme", "sha256").digest()
    mac = hmac.new(tenant_key, b"user\x00u-1", hashlib.sha256).digest()
    import base64

    expected = "u_" + base64.b32encode(mac[:16]).decode().rstrip("=").lower()
    assert Pseudonymizer(KEY).pseudonym("acme", "user", "u-1") == expected


def test_short_master_key_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        Pseudonymizer(b"short")


def test_normalized_event_carries_no_raw_identifier() -> None:
    raw = message(ip="203.0.113.9", device_id="dev-1", actor_id="alice-raw",
                  recipient_ids=["bob-raw"], conversation_id="conv-raw")
    event, identities = normalize(validate_event(raw), Pseudonymizer(KEY), "t/0/0")
    serialized = json.dumps(event.to_record())
    for secret in ("alice-raw", "bob-raw", "conv-raw", "203.0.113.9", "dev-1"):
        assert secret not in serialized
    by_value = {i.value: i for i in identities}
    assert by_value["alice-raw"].pseudonym == event.actor
    assert by_value["bob-raw"].pseudonym == event.recipients[0]
    assert by_value["203.0.113.9"].owner == event.actor
    assert by_value["conv-raw"].kind == "conversation"


def test_profile_personal_data_goes_only_to_the_identity_map() -> None:
    event, identities = normalize(validate_event(profile()), Pseudonymizer(KEY), "t/0/1")
    assert "kid@example.org" not in json.dumps(event.to_record())
    email = next(i for i in identities if i.kind == "email")
    assert email.value == "kid@example.org"
    assert email.owner == event.actor
    assert event.timezone == "America/New_York"
    assert event.cohort == {"region": "north"}


def test_times_become_utc_micros_with_the_offset_kept() -> None:
    raw = message(occurred_at="2026-03-01T21:14:05.5-05:00")
    event, _ = normalize(validate_event(raw), Pseudonymizer(KEY), "t/0/0")
    # 2026-03-02T02:14:05.5Z
    assert event.occurred_at_us == 1_772_417_645_500_000
    assert event.utc_offset_min == -300
