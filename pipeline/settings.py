"""Typed, frozen configuration, read from the environment at the process edge only.

Every variable is ``WARDSTREAM_<NAME>``; ``Settings()`` reads them once in the
CLI and passes the object inward. Secrets are ``SecretStr`` so they never
print in a traceback or a log line.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pipeline.errors import ConfigError
from pipeline.pseudonym import MIN_MASTER_KEY_BYTES

REPO_ROOT = Path(__file__).resolve().parent.parent
AUDIT_SEED_BYTES = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WARDSTREAM_", frozen=True, extra="ignore")

    kafka_bootstrap: str = "127.0.0.1:19092"
    pg_dsn: SecretStr = SecretStr(
        "postgresql://wardstream:wardstream@127.0.0.1:54329/wardstream"
    )
    pseudonym_master_key: SecretStr | None = None
    # Base64 of the 32-byte Ed25519 seed that signs audit tree heads (docs/audit.md).
    audit_signing_key: SecretStr | None = None
    app_id: str = Field("wardstream", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    worker_data_dir: Path = REPO_ROOT / ".local" / "worker"
    worker_web_port: int = Field(6066, ge=1, le=65535)
    worker_session_timeout_seconds: float = Field(10.0, ge=6.0, le=300.0)
    worker_producer_linger_ms: int = Field(10, ge=0, le=1000)
    topology_file: Path = REPO_ROOT / "topologies" / "topics.yaml"
    topic_replication: int | None = Field(None, ge=1, le=32)
    api_host: str = "127.0.0.1"
    api_port: int = Field(8080, ge=1, le=65535)
    api_max_body_bytes: int = Field(8 * 1024 * 1024, ge=1024, le=256 * 1024 * 1024)
    api_max_batch: int = Field(1000, ge=1, le=1000)
    api_max_future_skew_seconds: int = Field(86_400, ge=0)
    api_produce_timeout_seconds: float = Field(10.0, gt=0, le=120)
    dedupe_horizon_days: int = Field(30, ge=1, le=400)
    # Detection: the scoring configuration (YAML; the packaged defaults when unset) and
    # whether this worker's trainer learns from moderation decisions on `labels`.
    score_config_file: Path | None = None
    trainer_enabled: bool = True
    # The trainer's fairness gate (pipeline/detect/text/fairness.py): the largest gap
    # allowed between writing styles in the share of benign messages marked with a stage.
    fairness_max_gap: float = Field(0.02, ge=0, le=1)
    # Webhooks (pipeline/webhooks, docs/integration.md). Private and loopback targets, and
    # plain http to loopback, are refused unless webhook_allow_private (tests, local dev).
    webhook_allow_private: bool = False
    webhook_max_attempts: int = Field(12, ge=1, le=50)
    webhook_backoff_base_seconds: float = Field(5.0, ge=0, le=3600)
    webhook_backoff_max_seconds: float = Field(3600.0, ge=0, le=86_400)
    webhook_retry_after_max_seconds: float = Field(3600.0, ge=0, le=86_400)
    webhook_timeout_seconds: float = Field(10.0, gt=0, le=60)
    webhook_poll_seconds: float = Field(1.0, gt=0, le=60)
    webhook_batch: int = Field(20, ge=1, le=500)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # NCMEC CyberTipline Reporting API (docs/ncmec.md): the base URI (NCMEC's
    # .../ispws, its test environment, or `wardstream ncmec-standin`) and the
    # credentials NCMEC issued.
    ncmec_url: str | None = None
    ncmec_username: SecretStr | None = None
    ncmec_password: SecretStr | None = None
    ncmec_timeout_seconds: float = Field(30.0, gt=0, le=600)
    ncmec_max_attempts: int = Field(5, ge=1, le=20)
    # Who reports (docs/ncmec.md): the ESP's name, the person NCMEC and police contact, the
    # terms of service, and the service the reports are about (espService, chatClient).
    # Needed to build a report from an evidence package (API and `ncmec build --package`).
    ncmec_reporter_esp_name: str | None = None
    ncmec_reporter_first_name: str | None = None
    ncmec_reporter_last_name: str | None = None
    ncmec_reporter_email: str | None = None
    ncmec_reporter_phone: str | None = None
    ncmec_reporter_terms_url: str | None = None
    ncmec_service: str | None = None
    # Evidence packages (docs/evidence.md): the window of events around an incident,
    # retention days per jurisdiction (JSON object), each tenant's jurisdiction (JSON
    # object; the default otherwise) and how often `wardstream evidence run` polls.
    evidence_before_days: int = Field(30, ge=0, le=366)
    evidence_after_days: int = Field(1, ge=0, le=31)
    evidence_max_events: int = Field(5000, ge=1, le=100_000)
    evidence_retention_days: dict[str, int] = Field(default_factory=lambda: {"US": 365})
    evidence_default_jurisdiction: str = "US"
    evidence_tenant_jurisdictions: dict[str, str] = Field(default_factory=dict)
    evidence_poll_seconds: float = Field(2.0, gt=0, le=300)
    # Erasure and retention (docs/erasure.md): days per data class and jurisdiction
    # (YAML; pipeline/privacy/retention.yaml when unset); tenants' jurisdictions are
    # the evidence ones above. Kafka reads during an erasure give up after this long.
    retention_config_file: Path | None = None
    erasure_kafka_timeout_seconds: float = Field(10.0, gt=0, le=300)
    # How often each worker looks for new erasures to apply to its local tables.
    erasure_poll_seconds: float = Field(5.0, gt=0, le=3600)

    @field_validator("pseudonym_master_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < MIN_MASTER_KEY_BYTES:
            raise ValueError(f"must be at least {MIN_MASTER_KEY_BYTES} bytes")
        return value

    @field_validator("audit_signing_key")
    @classmethod
    def _ed25519_seed(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            _decode_seed(value.get_secret_value())
        return value

    def master_key(self) -> bytes:
        """The pseudonym master key; a clear error when it is not configured."""
        if self.pseudonym_master_key is None:
            raise ConfigError(
                "WARDSTREAM_PSEUDONYM_MASTER_KEY is not set: give every worker and the API "
                f"the same secret of at least {MIN_MASTER_KEY_BYTES} bytes"
            )
        return self.pseudonym_master_key.get_secret_value().encode()

    def audit_seed(self) -> bytes:
        """The audit signing key's Ed25519 seed; a clear error when it is not configured."""
        if self.audit_signing_key is None:
            raise ConfigError(
                "WARDSTREAM_AUDIT_SIGNING_KEY is not set: give the base64 of a random "
                f"{AUDIT_SEED_BYTES}-byte Ed25519 seed (python -c \"import base64, os; "
                "print(base64.b64encode(os.urandom(32)).decode())\")"
            )
        return _decode_seed(self.audit_signing_key.get_secret_value())

    def ncmec_credentials(self) -> tuple[str, str, str]:
        """(base URL, username, password) of the Reporting API; names what is missing."""
        url, username, password = self.ncmec_url, self.ncmec_username, self.ncmec_password
        if not url or username is None or password is None:
            missing = [name for name, value in (
                ("WARDSTREAM_NCMEC_URL", url), ("WARDSTREAM_NCMEC_USERNAME", username),
                ("WARDSTREAM_NCMEC_PASSWORD", password)) if not value]
            raise ConfigError(
                f"{', '.join(missing)} not set: NCMEC reporting needs the API base URI "
                "(https://report.cybertip.org/ispws, or a stand-in) and the credentials NCMEC "
                "issued")
        return url, username.get_secret_value(), password.get_secret_value()

    def ncmec_reporter_missing(self) -> list[str]:
        """The reporter settings a report needs and that are not set (empty when all are)."""
        return [f"WARDSTREAM_{name.upper()}" for name in (
            "ncmec_reporter_esp_name", "ncmec_reporter_first_name", "ncmec_reporter_last_name",
            "ncmec_reporter_email", "ncmec_service") if not getattr(self, name)]


def _decode_seed(text: str) -> bytes:
    try:
        seed = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(
            f"must be the base64 of a {AUDIT_SEED_BYTES}-byte Ed25519 seed; it is not base64"
        ) from None
    if len(seed) != AUDIT_SEED_BYTES:
        raise ValueError(
            f"must be the base64 of a {AUDIT_SEED_BYTES}-byte Ed25519 seed; "
            f"it decodes to {len(seed)} bytes"
        )
    return seed


def load_settings() -> Settings:
    """Settings from the environment, with pydantic's errors turned into one ConfigError."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"WARDSTREAM_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(problems) from None
