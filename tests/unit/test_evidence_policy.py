"""Evidence windows and retention clocks per jurisdiction (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.errors import ConfigError
from pipeline.evidence.policy import (
    EvidenceConfig,
    RetentionPolicy,
    Window,
    config_from_settings,
    window_around,
)
from pipeline.settings import Settings

INCIDENT = datetime(2026, 3, 10, 21, 30, tzinfo=UTC)


def test_default_window_is_thirty_days_before_and_one_after_both_ends_included() -> None:
    window = EvidenceConfig().window(INCIDENT)
    assert window == Window(datetime(2026, 2, 8, 21, 30, tzinfo=UTC),
                            datetime(2026, 3, 11, 21, 30, tzinfo=UTC))
    assert window.start in window
    assert window.end in window
    assert window.start - timedelta(microseconds=1) not in window
    assert window.end + timedelta(microseconds=1) not in window
    assert "2026-03-01" not in window


def test_window_is_configurable_and_refuses_naive_times_and_negative_spans() -> None:
    window = window_around(INCIDENT, timedelta(days=7), timedelta(0))
    assert (window.start, window.end) == (INCIDENT - timedelta(days=7), INCIDENT)
    with pytest.raises(ValueError, match="time zone"):
        window_around(INCIDENT.replace(tzinfo=None), timedelta(days=1), timedelta(days=1))
    with pytest.raises(ValueError, match="negative"):
        window_around(INCIDENT, timedelta(days=-1), timedelta(0))


def test_retention_defaults_to_365_days_under_us_law() -> None:
    policy = RetentionPolicy()
    assert policy.retain_until("any-tenant", INCIDENT) == ("US", INCIDENT + timedelta(days=365))


def test_retention_follows_the_tenants_jurisdiction() -> None:
    policy = RetentionPolicy(days_by_jurisdiction={"US": 365, "GB": 180, "US-CA": 400},
                             default_jurisdiction="US",
                             tenant_jurisdictions={"uk-platform": "GB", "ca": "US-CA"})
    assert policy.retain_until("uk-platform", INCIDENT) == ("GB", INCIDENT + timedelta(days=180))
    assert policy.retain_until("ca", INCIDENT)[1] == INCIDENT + timedelta(days=400)
    assert policy.retain_until("other", INCIDENT)[0] == "US"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"days_by_jurisdiction": {"US": 0}}, "from 1 to 3650"),
    ({"days_by_jurisdiction": {"US": 365.5}}, "whole number"),
    ({"days_by_jurisdiction": {"usa": 365}}, "not a jurisdiction code"),
    ({"days_by_jurisdiction": {"GB": 180}}, "DEFAULT_JURISDICTION: US has no entry"),
    ({"tenant_jurisdictions": {"t1": "DE"}}, "TENANT_JURISDICTIONS: t1: DE has no entry"),
])
def test_a_bad_retention_setting_is_refused_naming_the_variable(
        kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        RetentionPolicy(**kwargs)  # type: ignore[arg-type]


def test_retention_refuses_a_naive_clock() -> None:
    with pytest.raises(ValueError, match="time zone"):
        RetentionPolicy().retain_until("t", INCIDENT.replace(tzinfo=None))


def test_config_from_settings() -> None:
    settings = Settings.model_construct(
        evidence_before_days=14, evidence_after_days=2, evidence_max_events=10,
        evidence_retention_days={"US": 365, "AU": 730}, evidence_default_jurisdiction="AU",
        evidence_tenant_jurisdictions={"t-us": "US"}, evidence_poll_seconds=1.0)
    config = config_from_settings(settings)
    assert (config.before, config.after, config.max_events) == (
        timedelta(days=14), timedelta(days=2), 10)
    assert config.retention.jurisdiction_of("t-us") == "US"
    assert config.retention.retain_until("t-au", INCIDENT)[1] == INCIDENT + timedelta(days=730)


def test_settings_read_the_jurisdiction_map_from_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WARDSTREAM_EVIDENCE_RETENTION_DAYS", '{"US": 365, "GB": 90}')
    monkeypatch.setenv("WARDSTREAM_EVIDENCE_TENANT_JURISDICTIONS", '{"t1": "GB"}')
    config = config_from_settings(Settings())
    assert config.retention.retain_until("t1", INCIDENT) == ("GB", INCIDENT + timedelta(days=90))
