"""Errors of erasure and retention; each names the field or key at fault."""

from __future__ import annotations

from pipeline.errors import ConfigError, FieldRuleError, WardstreamError


class PrivacyError(WardstreamError):
    """Root of erasure and retention errors."""


class InvalidErasureRequest(PrivacyError, FieldRuleError):
    """An erasure request broke a rule; the caller fixes ``field`` and sends it again."""


class KafkaUnavailable(PrivacyError):
    """The broker did not answer while tombstones were written; nothing in PostgreSQL changed.

    Retry the request once Kafka is reachable: tombstones already written are
    harmless to write again.
    """


class EvidenceFunctionsMissing(PrivacyError):
    """Migration 0010 could not create ``evidence.packages_concerning``/``held_subjects``.

    A DBA creates them as the owner of schema ``evidence`` (docs/erasure.md);
    erasure and retention refuse to run until then, so evidence is never missed.
    """


class InvalidRetentionConfig(ConfigError):
    """The retention configuration is malformed; the message names the key."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"retention config {key}: {message}")
        self.key = key
