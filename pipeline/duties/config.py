"""What ``wardstream duties`` runs and how often: the duty names and their intervals.

Intervals are ``WARDSTREAM_DUTIES_<DUTY>_SECONDS`` (read once at the process
edge, like every setting); a wrong value is a ConfigError naming the variable.
"""

from __future__ import annotations

from typing import Final

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from pipeline.errors import ConfigError

# In the order they run with --once and when several are due at the same moment.
DUTIES: Final[tuple[str, ...]] = ("evidence", "webhooks", "audit", "expire", "retention")
# Duties that can be limited to some tenants (--tenant); the others work on every tenant.
TENANT_SCOPED: Final[frozenset[str]] = frozenset({"evidence", "audit", "retention"})

_MIN: Final = 0.5            # seconds: tighter loops would only load the database
_MAX: Final = 7 * 86_400.0   # a week: a longer interval is a duty switched off by accident


class DutiesSettings(BaseSettings):
    """Seconds between two runs of each duty."""

    model_config = SettingsConfigDict(env_prefix="WARDSTREAM_DUTIES_", frozen=True,
                                      extra="ignore")

    evidence_seconds: float = Field(5.0, ge=_MIN, le=_MAX)      # packages for new alerts
    webhooks_seconds: float = Field(2.0, ge=_MIN, le=_MAX)      # due webhook deliveries
    audit_seconds: float = Field(600.0, ge=_MIN, le=_MAX)       # sign grown audit logs
    expire_seconds: float = Field(3600.0, ge=_MIN, le=_MAX)     # destroy expired evidence
    retention_seconds: float = Field(86_400.0, ge=_MIN, le=_MAX)  # retention enforcement

    def interval(self, duty: str) -> float:
        value: float = getattr(self, f"{duty}_seconds")
        return value


def load_duties_settings() -> DutiesSettings:
    """The intervals from the environment; pydantic's errors as one ConfigError."""
    try:
        return DutiesSettings()
    except ValidationError as exc:
        raise ConfigError("; ".join(
            f"WARDSTREAM_DUTIES_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors())) from None


def parse_only(text: str) -> tuple[str, ...]:
    """``evidence,webhooks`` -> the named duties in run order; ValueError naming the bad one."""
    names = [part.strip() for part in text.split(",")]
    if not any(names):
        raise ValueError(f"name at least one duty ({', '.join(DUTIES)})")
    for name in names:
        if name not in DUTIES:
            shown = repr(name) if name else "an empty name"
            raise ValueError(f"unknown duty {shown}: choose from {', '.join(DUTIES)}")
    return tuple(duty for duty in DUTIES if duty in names)
