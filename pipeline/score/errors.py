"""Errors of the scoring package."""

from __future__ import annotations

from pipeline.errors import ConfigError


class ConfigRuleError(ConfigError):
    """A detection configuration value breaks a rule.

    ``key`` is the dotted path of the value (``signals.stages.cap``), ``rule``
    a short stable code (``range``, ``type``, ``unknown_key``,
    ``cap_below_alert``...). Fix the value in the file named by ``source``.
    """

    def __init__(self, source: str, key: str, rule: str, message: str) -> None:
        self.source = source
        self.key = key
        self.rule = rule
        super().__init__(f"{source}: {key}: {message} (rule: {rule})")
