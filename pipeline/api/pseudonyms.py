"""The API's pseudonymizer: platform ids in requests matched to stored pseudonyms."""

from __future__ import annotations

from pipeline.api.errors import ApiError
from pipeline.pseudonym import Pseudonymizer
from pipeline.settings import Settings


def pseudonymizer_of(settings: Settings) -> Pseudonymizer | None:
    """The deployment's pseudonymizer (None when no master key is configured)."""
    configured = settings.pseudonym_master_key is not None
    return Pseudonymizer(settings.master_key()) if configured else None


def not_configured() -> ApiError:
    """503 for endpoints that must match platform ids and cannot."""
    return ApiError(503, "not_configured", "WARDSTREAM_PSEUDONYM_MASTER_KEY is not set for the "
                    "API, so platform user ids cannot be matched to stored users")
