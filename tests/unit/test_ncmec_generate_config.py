"""The pure parts of pipeline/ncmec/generate.py: reporter settings and confirmation ids."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.errors import ConfigError
from pipeline.ncmec.generate import confirmation_id_of, reason_of, reporter_of
from pipeline.settings import Settings

REPORTER: dict[str, Any] = {"ncmec_reporter_esp_name": "Example Chat Inc.",
            "ncmec_reporter_first_name": "Dana", "ncmec_reporter_last_name": "Reviewer",
            "ncmec_reporter_email": "trust-safety@example.test",
            "ncmec_service": "Example Chat direct messages"}


def settings(**changes: Any) -> Settings:
    """Settings from values only (model_validate reads no environment)."""
    return Settings.model_validate({**REPORTER, **changes})


def test_the_reporter_comes_from_the_settings() -> None:
    reporter, service = reporter_of(settings(ncmec_reporter_phone="+1-555-0100"))
    assert (reporter.esp_name, reporter.first_name, reporter.last_name, reporter.email,
            reporter.phone, service) == ("Example Chat Inc.", "Dana", "Reviewer",
                                         "trust-safety@example.test", "+1-555-0100",
                                         "Example Chat direct messages")


def test_missing_or_bad_reporter_settings_are_named() -> None:
    with pytest.raises(ConfigError) as raised:
        reporter_of(settings(ncmec_reporter_email=None, ncmec_service=""))
    assert "WARDSTREAM_NCMEC_REPORTER_EMAIL, WARDSTREAM_NCMEC_SERVICE not set" in str(
        raised.value)
    with pytest.raises(ConfigError) as raised:
        reporter_of(settings(ncmec_reporter_email="nobody"))
    assert str(raised.value).startswith("WARDSTREAM_NCMEC_REPORTER_EMAIL: ")


def test_a_confirmation_id_is_the_same_for_the_same_tenant_conversation_and_reviewer() -> None:
    first = confirmation_id_of("t-1", "c_" + "a" * 26, "u_" + "b" * 26)
    assert first == confirmation_id_of("t-1", "c_" + "a" * 26, "u_" + "b" * 26)
    assert first.startswith("conf-") and len(first) == 37
    assert first != confirmation_id_of("t-2", "c_" + "a" * 26, "u_" + "b" * 26)
    assert first != confirmation_id_of("t-1", "c_" + "a" * 26, "u_" + "c" * 26)
    assert "u_" + "b" * 26 in reason_of("u_" + "b" * 26, "c_" + "a" * 26)
