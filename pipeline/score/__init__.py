"""Risk scoring: a configurable, capped, decaying combination of detector signals.

``load_config`` reads the YAML configuration (``defaults.yaml`` ships the
defaults); ``risk_step`` folds signals into one user's :class:`RiskState`
and returns the alerts raised; every score comes with plain-language
drivers (``Driver``) naming the figures behind it.
"""

from pipeline.score.config import DEFAULTS_PATH, TIER_NAMES, ScoreConfig, load_config
from pipeline.score.errors import ConfigRuleError
from pipeline.score.risk import (
    Alert,
    Driver,
    RiskState,
    decode_risk,
    encode_risk,
    evaluate,
    explanation_text,
    risk_step,
)

__all__ = [
    "DEFAULTS_PATH",
    "TIER_NAMES",
    "Alert",
    "ConfigRuleError",
    "Driver",
    "RiskState",
    "ScoreConfig",
    "decode_risk",
    "encode_risk",
    "evaluate",
    "explanation_text",
    "load_config",
    "risk_step",
]
