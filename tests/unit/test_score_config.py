"""Loading and checking the detection configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from pipeline.score import ConfigRuleError, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_load() -> None:
    config = load_config()
    assert config.tier_bounds == (0.0, 30.0, 60.0, 85.0)
    assert config.alert_tier == 2
    assert all(w.cap < 60 for w in config.signals.values())


def test_partial_file_is_laid_over_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "tiers: {critical: 90}\nhalf_life_days: 7\n"))
    assert config.tier_bounds == (0.0, 30.0, 60.0, 90.0)
    assert config.half_life_days == 7.0
    assert config.signals["stages"].cap == 40.0


@pytest.mark.parametrize(
    ("text", "key", "rule"),
    [
        ("signals: {stages: {weight: 45, cap: 70}}", "signals.stages.cap", "cap_below_alert"),
        ("signals: {stages: {weight: -1, cap: 10}}", "signals.stages.weight", "range"),
        ("signals: {stagez: {weight: 1, cap: 1}}", "signals.stagez", "unknown_key"),
        ("tiers: {watch: 70}", "tiers.restrict", "increasing"),
        ("half_life_days: 0", "half_life_days", "range"),
        ("half_life_days: soon", "half_life_days", "type"),
        ("alert_tier: trusted", "alert_tier", "choice"),
        ("stage_severity: {secrecy: 2}", "stage_severity.secrecy", "range"),
        ("colour: blue", "colour", "unknown_key"),
        ("max_pair_sources: 0", "max_pair_sources", "range"),
    ],
)
def test_errors_name_the_key_and_the_rule(tmp_path: Path, text: str, key: str,
                                           rule: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigRuleError) as caught:
        load_config(path)
    assert caught.value.key == key
    assert caught.value.rule == rule
    assert str(path) in str(caught.value) and key in str(caught.value)
    assert isinstance(caught.value, ConfigError)


def test_unreadable_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigRuleError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")
    with pytest.raises(ConfigRuleError, match="yaml"):
        load_config(write(tmp_path, "tiers: [unclosed"))
    with pytest.raises(ConfigRuleError, match="mapping"):
        load_config(write(tmp_path, "- a list"))
