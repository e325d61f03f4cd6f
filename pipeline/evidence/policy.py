"""What a package covers and how long it is kept (pure).

- :func:`window_around`: the span of events around an incident (default 30
  days before, 1 day after, both ends included).
- :class:`RetentionPolicy`: days kept per jurisdiction (default US: 365, the
  preservation period of 18 U.S.C. 2258A(h) for reported material), which
  jurisdiction each tenant is under, and the clock that follows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from pipeline.errors import ConfigError
from pipeline.settings import Settings

DEFAULT_RETENTION_DAYS: Final = 365
DEFAULT_JURISDICTION: Final = "US"
MAX_RETENTION_DAYS: Final = 3650
_JURISDICTION_RE: Final = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")


@dataclass(frozen=True, slots=True)
class Window:
    """The event times a package holds: ``start <= t <= end``."""

    start: datetime
    end: datetime

    def __contains__(self, moment: object) -> bool:
        return isinstance(moment, datetime) and self.start <= moment <= self.end


def window_around(incident_at: datetime, before: timedelta, after: timedelta) -> Window:
    """The window from ``before`` ahead of the incident to ``after`` past it."""
    if incident_at.utcoffset() is None:
        raise ValueError("incident_at must carry a time zone")
    if before < timedelta(0) or after < timedelta(0):
        raise ValueError("before and after must not be negative")
    return Window(incident_at - before, incident_at + after)


def _check_jurisdiction(name: str, where: str) -> None:
    if not _JURISDICTION_RE.match(name):
        raise ConfigError(f"{where}: {name!r} is not a jurisdiction code (ISO 3166: US, GB, "
                          "DE, or a subdivision such as US-CA)")


@dataclass(frozen=True)
class RetentionPolicy:
    """Days kept per jurisdiction and the jurisdiction of each tenant.

    Every tenant not listed is under ``default_jurisdiction``; every
    jurisdiction named anywhere must have its days. Checked on construction,
    so a bad setting stops the process at start, not at the first package.
    """

    days_by_jurisdiction: Mapping[str, int] = field(
        default_factory=lambda: {DEFAULT_JURISDICTION: DEFAULT_RETENTION_DAYS})
    default_jurisdiction: str = DEFAULT_JURISDICTION
    tenant_jurisdictions: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, days in self.days_by_jurisdiction.items():
            _check_jurisdiction(name, "WARDSTREAM_EVIDENCE_RETENTION_DAYS")
            if isinstance(days, bool) or not isinstance(days, int) or not (
                    1 <= days <= MAX_RETENTION_DAYS):
                raise ConfigError(f"WARDSTREAM_EVIDENCE_RETENTION_DAYS: {name}: {days!r} is not "
                                  f"a whole number of days from 1 to {MAX_RETENTION_DAYS}")
        named = [("WARDSTREAM_EVIDENCE_DEFAULT_JURISDICTION", self.default_jurisdiction)]
        named += [(f"WARDSTREAM_EVIDENCE_TENANT_JURISDICTIONS: {tenant}", jurisdiction)
                  for tenant, jurisdiction in self.tenant_jurisdictions.items()]
        for where, jurisdiction in named:
            _check_jurisdiction(jurisdiction, where)
            if jurisdiction not in self.days_by_jurisdiction:
                raise ConfigError(f"{where}: {jurisdiction} has no entry in "
                                  "WARDSTREAM_EVIDENCE_RETENTION_DAYS")

    def jurisdiction_of(self, tenant_id: str) -> str:
        return self.tenant_jurisdictions.get(tenant_id, self.default_jurisdiction)

    def days_for(self, jurisdiction: str) -> int:
        try:
            return self.days_by_jurisdiction[jurisdiction]
        except KeyError:
            raise ConfigError(f"no retention period configured for {jurisdiction}") from None

    def retain_until(self, tenant_id: str, built_at: datetime) -> tuple[str, datetime]:
        """The tenant's jurisdiction and the end of the clock that starts at ``built_at``."""
        if built_at.utcoffset() is None:
            raise ValueError("built_at must carry a time zone")
        jurisdiction = self.jurisdiction_of(tenant_id)
        return jurisdiction, built_at + timedelta(days=self.days_for(jurisdiction))


@dataclass(frozen=True)
class EvidenceConfig:
    """Everything a builder needs; made once from settings at the process edge."""

    before: timedelta = timedelta(days=30)
    after: timedelta = timedelta(days=1)
    max_events: int = 5000
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)

    def window(self, incident_at: datetime) -> Window:
        return window_around(incident_at, self.before, self.after)


def config_from_settings(settings: Settings) -> EvidenceConfig:
    """The evidence configuration of ``settings`` (ConfigError naming the variable)."""
    return EvidenceConfig(
        before=timedelta(days=settings.evidence_before_days),
        after=timedelta(days=settings.evidence_after_days),
        max_events=settings.evidence_max_events,
        retention=RetentionPolicy(
            days_by_jurisdiction=dict(settings.evidence_retention_days),
            default_jurisdiction=settings.evidence_default_jurisdiction,
            tenant_jurisdictions=dict(settings.evidence_tenant_jurisdictions),
        ),
    )
