"""Errors the client raises: one root, each carrying what the caller needs to act."""

from __future__ import annotations

from typing import Any


class WardstreamError(Exception):
    """Root of every error this package raises."""


class ApiError(WardstreamError):
    """The API answered with an error status (after any retries).

    ``code``, ``message``, ``field`` and ``errors`` are the API's error body
    (``{"error", "message", "field"?, "errors"?}``). A 4xx other than 429 is the
    caller's to fix (the field is named); a 5xx or 429 here means the retries ran
    out: try again later with the same events (their ids make it safe).
    """

    def __init__(self, status: int, code: str, message: str, *, field: str | None = None,
                 errors: list[dict[str, Any]] | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(f"HTTP {status} {code}: {message}"
                         + (f" (field {field})" if field else ""))
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.errors = errors or []
        self.retry_after = retry_after


class NotFound(ApiError):
    """404: no such user, pair or item among this tenant's (or another tenant's)."""


class TransportError(WardstreamError):
    """The API could not be reached (connection refused, timeout) after every retry.

    Sending the same events again is safe: their ``event_id`` makes a repeat a
    duplicate that the pipeline processes once.
    """


class SignatureError(WardstreamError, ValueError):
    """A webhook signature is missing, malformed, stale or does not match the body.

    Answer the request with 400 and do not act on it. If every delivery fails,
    check that the secret is the endpoint's current one and that the raw body is
    verified before any JSON parsing.
    """


class ModelError(WardstreamError):
    """The stage model file for privacy mode is missing or not a usable export."""
