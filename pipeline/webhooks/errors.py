"""Errors of the webhooks package (signature errors live in ``signing``, which SDKs copy)."""

from __future__ import annotations

from pipeline.errors import FieldError, WardstreamError


class WebhookError(WardstreamError):
    """Root of the webhooks package's deliberate errors."""


class RefusedTarget(WebhookError):
    """An endpoint URL may not be called: wrong scheme, or it resolves to an address
    that is private, loopback, link-local, multicast, unspecified or reserved.

    Register a public HTTPS URL. For local development and tests only, set
    WARDSTREAM_WEBHOOK_ALLOW_PRIVATE=true to allow private and loopback targets.
    """

    def __init__(self, rule: str, message: str, field: str = "url") -> None:
        super().__init__(f"{field}: {message}")
        self.error = FieldError(field, rule, message)


class UnresolvableTarget(RefusedTarget):
    """An endpoint's host name did not resolve. Refused at registration; at delivery
    time it is retried like a connection error (DNS may be down for a moment)."""

    def __init__(self) -> None:
        super().__init__("unresolvable", "the host name does not resolve")


class SealedSecretError(WebhookError):
    """A stored signing secret cannot be unsealed: the pseudonym master key is not the
    one it was sealed under, or the row was altered. Restore the deployment's
    WARDSTREAM_PSEUDONYM_MASTER_KEY, or delete and re-register the endpoint."""
