"""Retention policy: days per data class and jurisdiction, loaded and checked.

The configuration is YAML (``pipeline/privacy/retention.yaml`` unless
``WARDSTREAM_RETENTION_CONFIG_FILE`` names another)::

    version: 1
    defaults: {raw_content: 90, events: 365, ...}      # every class, required
    jurisdictions: {EU: {raw_content: 30}, US: {}}     # overrides per jurisdiction

A malformed file raises :class:`InvalidRetentionConfig` naming the key
(``defaults.raw_content``, ``jurisdictions.EU.scores``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import yaml

from pipeline.privacy.errors import InvalidRetentionConfig

if TYPE_CHECKING:
    from pipeline.settings import Settings

DEFAULT_FILE: Final = Path(__file__).resolve().parent / "retention.yaml"
CLASSES: Final[tuple[str, ...]] = (
    "raw_content", "events", "scores", "alerts", "dead_letters", "webhook_deliveries",
)
MAX_DAYS: Final = 3650


@dataclass(frozen=True)
class RetentionPolicy:
    """Days per class for each jurisdiction; tenants map onto jurisdictions."""

    defaults: Mapping[str, int]
    jurisdictions: Mapping[str, Mapping[str, int]]
    tenant_jurisdictions: Mapping[str, str] = field(default_factory=dict)
    default_jurisdiction: str = "US"
    sha256: str = "0" * 64

    def jurisdiction_of(self, tenant_id: str | None) -> str:
        if tenant_id is None:
            return self.default_jurisdiction
        return self.tenant_jurisdictions.get(tenant_id, self.default_jurisdiction)

    def days(self, tenant_id: str | None, data_class: str) -> int:
        """How many days ``data_class`` of ``tenant_id`` is kept."""
        overrides = self.jurisdictions.get(self.jurisdiction_of(tenant_id), {})
        return overrides.get(data_class, self.defaults[data_class])


def _days(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRetentionConfig(key, f"must be a whole number of days, not {value!r}")
    if not 1 <= value <= MAX_DAYS:
        raise InvalidRetentionConfig(key, f"must be from 1 to {MAX_DAYS} days, not {value}")
    return value


def _classes(key: str, value: Any, *, complete: bool) -> dict[str, int]:
    if not isinstance(value, Mapping):
        raise InvalidRetentionConfig(key, "must be a mapping of data class to days")
    unknown = sorted(str(name) for name in value if name not in CLASSES)
    if unknown:
        raise InvalidRetentionConfig(f"{key}.{unknown[0]}",
                                     f"unknown data class; known: {', '.join(CLASSES)}")
    if complete:
        missing = [name for name in CLASSES if name not in value]
        if missing:
            raise InvalidRetentionConfig(f"{key}.{missing[0]}", "missing; every class needs "
                                         "a default")
    return {name: _days(f"{key}.{name}", days) for name, days in value.items()}


def parse_policy(document: Any, *, tenant_jurisdictions: Mapping[str, str] | None = None,
                 default_jurisdiction: str = "US", sha256: str = "0" * 64) -> RetentionPolicy:
    """The policy in ``document`` (parsed YAML); raises naming the first bad key."""
    if not isinstance(document, Mapping):
        raise InvalidRetentionConfig("(document)", "must be a mapping with version, defaults "
                                     "and jurisdictions")
    unknown = sorted(str(k) for k in document if k not in ("version", "defaults",
                                                            "jurisdictions"))
    if unknown:
        raise InvalidRetentionConfig(unknown[0], "unknown key")
    if document.get("version") != 1:
        raise InvalidRetentionConfig("version", f"must be 1, not {document.get('version')!r}")
    if "defaults" not in document:
        raise InvalidRetentionConfig("defaults", "missing")
    defaults = _classes("defaults", document["defaults"], complete=True)
    raw_jurisdictions = document.get("jurisdictions") or {}
    if not isinstance(raw_jurisdictions, Mapping):
        raise InvalidRetentionConfig("jurisdictions", "must be a mapping of jurisdiction to "
                                     "data classes")
    jurisdictions: dict[str, dict[str, int]] = {}
    for name, classes in raw_jurisdictions.items():
        if not isinstance(name, str) or not name:
            raise InvalidRetentionConfig(f"jurisdictions.{name}", "names are non-empty text")
        jurisdictions[name] = _classes(f"jurisdictions.{name}", classes or {}, complete=False)
    return RetentionPolicy(defaults, jurisdictions, dict(tenant_jurisdictions or {}),
                           default_jurisdiction, sha256)


def load_policy(path: Path | None = None, *,
                tenant_jurisdictions: Mapping[str, str] | None = None,
                default_jurisdiction: str = "US") -> RetentionPolicy:
    """Read and check the policy file (the packaged defaults when ``path`` is None)."""
    source = path or DEFAULT_FILE
    try:
        raw = source.read_bytes()
    except OSError as exc:
        raise InvalidRetentionConfig(str(source), f"cannot be read ({exc.strerror})") from None
    try:
        document = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise InvalidRetentionConfig(str(source), f"is not valid YAML ({exc})") from None
    return parse_policy(document, tenant_jurisdictions=tenant_jurisdictions,
                        default_jurisdiction=default_jurisdiction,
                        sha256=hashlib.sha256(raw).hexdigest())


def policy_from_settings(settings: Settings) -> RetentionPolicy:
    """The policy the settings name (``retention_config_file``, evidence jurisdictions)."""
    return load_policy(settings.retention_config_file,
                       tenant_jurisdictions=settings.evidence_tenant_jurisdictions,
                       default_jurisdiction=settings.evidence_default_jurisdiction)
