"""Exceptions raised by the synthetic platform generator.

`SimulationError` is the root here (itself a `WardstreamError`); catch it to
handle anything this package raises on purpose. Each exception carries the data
an operator needs to fix the input.
"""

from __future__ import annotations

from pipeline.errors import WardstreamError


class SimulationError(WardstreamError):
    """Root of every error the simulator raises deliberately."""


class SimulationConfigError(SimulationError, ValueError):
    """A `SimulationConfig` field breaks a rule.

    `field` names the configuration field and `rule` says what it must be;
    fix the value (or the matching `wardstream simulate` option) and run again.
    """

    def __init__(self, field: str, rule: str) -> None:
        self.field = field
        self.rule = rule
        super().__init__(f"{field}: {rule}")
