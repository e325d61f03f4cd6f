"""The detection configuration: weights, caps, tiers, decay; loaded from YAML and checked.

``load_config(path)`` lays the file over the shipped ``defaults.yaml`` (so a
file names only what it changes), checks every value and returns a frozen
:class:`ScoreConfig`. Every problem raises :class:`ConfigRuleError` naming
the file, the dotted key and the rule broken.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

from pipeline.detect.stages import STAGES, quantise
from pipeline.score.errors import ConfigRuleError

DEFAULTS_PATH: Final = Path(__file__).with_name("defaults.yaml")
TIER_NAMES: Final = ("trusted", "watch", "restrict", "critical")
SIGNAL_NAMES: Final = (
    "stages", "escalation", "night", "initiation", "migration", "register_shift",
    "media_after_request", "attention", "minor_fanout", "declined_requests", "reports",
    "coordinated", "new_account", "asymmetry",
)
_TOP_KEYS: Final = frozenset({
    "version", "tiers", "alert_tier", "hysteresis_margin", "half_life_days", "repeat_factor",
    "unknown_age_factor", "claimed_minor_factor", "cleared_factor", "max_pair_sources",
    "stage_threshold", "peer_factor",
    "stage_severity", "signals",
})


@dataclass(frozen=True, slots=True)
class SignalWeight:
    weight: float
    cap: float


@dataclass(frozen=True, slots=True)
class ScoreConfig:
    """Checked detection configuration (see ``defaults.yaml`` for each meaning)."""

    tier_bounds: tuple[float, ...]  # lower bound of trusted, watch, restrict, critical
    alert_tier: int
    hysteresis_margin: float
    half_life_days: float
    repeat_factor: float
    unknown_age_factor: float
    claimed_minor_factor: float
    cleared_factor: float
    max_pair_sources: int
    stage_threshold: float
    peer_factor: float
    stage_severity: tuple[float, ...]
    signals: Mapping[str, SignalWeight]

    @property
    def stage_threshold_byte(self) -> int:
        """The stage threshold on the 0..255 scale detectors use."""
        return max(1, quantise(self.stage_threshold))


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class _Checker:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, rule: str, message: str) -> ConfigRuleError:
        return ConfigRuleError(self.source, key, rule, message)

    def mapping(self, value: Any, key: str, allowed: frozenset[str]) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(key, "type", "must be a mapping")
        for name in value:
            if name not in allowed:
                raise self.fail(f"{key}.{name}" if key else str(name), "unknown_key",
                                f"is not a setting; expected one of {', '.join(sorted(allowed))}")
        missing = sorted(allowed - set(value))
        if missing:
            raise self.fail(f"{key}.{missing[0]}" if key else missing[0], "required",
                            "is required")
        return value

    def number(self, value: Any, key: str, low: float, high: float,
               low_open: bool = False) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, "type", "must be a number")
        number = float(value)
        if number < low or number > high or (low_open and number == low):
            bound = f"({low}" if low_open else f"[{low}"
            raise self.fail(key, "range", f"must be in {bound}, {high}], got {value}")
        return number


def config_from_mapping(raw: Mapping[str, Any], source: str = "config") -> ScoreConfig:
    """Check a configuration mapping (already merged over the defaults)."""
    check = _Checker(source)
    top = check.mapping(raw, "", _TOP_KEYS)
    if top["version"] != 1:
        raise check.fail("version", "version", "must be 1")
    tiers = check.mapping(top["tiers"], "tiers", frozenset(TIER_NAMES[1:]))
    bounds = [0.0]
    for name in TIER_NAMES[1:]:
        bound = check.number(tiers[name], f"tiers.{name}", 0, 100, low_open=True)
        if bound <= bounds[-1]:
            raise check.fail(f"tiers.{name}", "increasing",
                             "tier lower bounds must increase: watch < restrict < critical")
        bounds.append(bound)
    if top["alert_tier"] not in TIER_NAMES[1:]:
        raise check.fail("alert_tier", "choice", "must be one of watch, restrict, critical")
    alert_tier = TIER_NAMES.index(top["alert_tier"])
    severity = check.mapping(top["stage_severity"], "stage_severity", frozenset(STAGES))
    signals = check.mapping(top["signals"], "signals", frozenset(SIGNAL_NAMES))
    weights: dict[str, SignalWeight] = {}
    for name in SIGNAL_NAMES:
        entry = check.mapping(signals[name], f"signals.{name}", frozenset({"weight", "cap"}))
        weight = check.number(entry["weight"], f"signals.{name}.weight", 0, 100)
        cap = check.number(entry["cap"], f"signals.{name}.cap", 0, 100)
        if cap >= bounds[alert_tier]:
            raise check.fail(
                f"signals.{name}.cap", "cap_below_alert",
                f"must be below the alert tier's lower bound ({bounds[alert_tier]:g}) so that "
                "no single signal can raise an alert alone",
            )
        weights[name] = SignalWeight(weight, cap)
    max_sources = top["max_pair_sources"]
    if isinstance(max_sources, bool) or not isinstance(max_sources, int) or not (
        1 <= max_sources <= 64
    ):
        raise check.fail("max_pair_sources", "range", "must be a whole number in [1, 64]")
    return ScoreConfig(
        tier_bounds=tuple(bounds),
        alert_tier=alert_tier,
        hysteresis_margin=check.number(top["hysteresis_margin"], "hysteresis_margin", 0, 25),
        half_life_days=check.number(top["half_life_days"], "half_life_days", 0, 3650,
                                    low_open=True),
        repeat_factor=check.number(top["repeat_factor"], "repeat_factor", 0, 1),
        unknown_age_factor=check.number(top["unknown_age_factor"], "unknown_age_factor", 0, 1),
        claimed_minor_factor=check.number(top["claimed_minor_factor"], "claimed_minor_factor",
                                          0, 1),
        cleared_factor=check.number(top["cleared_factor"], "cleared_factor", 0, 1),
        max_pair_sources=max_sources,
        stage_threshold=check.number(top["stage_threshold"], "stage_threshold", 0, 1,
                                     low_open=True),
        peer_factor=check.number(top["peer_factor"], "peer_factor", 0, 1),
        stage_severity=tuple(
            check.number(severity[s], f"stage_severity.{s}", 0, 1) for s in STAGES
        ),
        signals=weights,
    )


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigRuleError(str(path), "(file)", "readable",
                              f"cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigRuleError(str(path), "(file)", "utf8", "is not UTF-8 text") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(file)"
        raise ConfigRuleError(str(path), where, "yaml", "is not valid YAML") from None


def load_config(path: Path | None = None) -> ScoreConfig:
    """The shipped defaults, with ``path`` (if given) laid over them, checked."""
    defaults = _read_yaml(DEFAULTS_PATH)
    if path is None:
        return config_from_mapping(defaults, str(DEFAULTS_PATH))
    override = _read_yaml(path)
    if override is None:
        override = {}
    if not isinstance(override, Mapping):
        raise ConfigRuleError(str(path), "(file)", "type", "must hold a mapping of settings")
    return config_from_mapping(_merge(defaults, override), str(path))
