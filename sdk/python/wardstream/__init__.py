"""wardstream client: send events and decisions, read scores, verify webhooks.

``from wardstream import Client`` (or ``wardstream.client``) for the API;
``wardstream.signing`` for webhook verification; ``wardstream.privacy`` for
computing ``content_signals`` locally. See docs/sdk.md.
"""

from wardstream.batching import AsyncBatcher, Batcher
from wardstream.client import AsyncClient, Client
from wardstream.errors import (
    ApiError,
    ModelError,
    NotFound,
    SignatureError,
    TransportError,
    WardstreamError,
)
from wardstream.privacy import StageExtractor, content_sha256, normalise, private_message
from wardstream.retry import RetryPolicy
from wardstream.signing import is_valid_signature, sign, verify_signature

__all__ = [
    "ApiError",
    "AsyncBatcher",
    "AsyncClient",
    "Batcher",
    "Client",
    "ModelError",
    "NotFound",
    "RetryPolicy",
    "SignatureError",
    "StageExtractor",
    "TransportError",
    "WardstreamError",
    "content_sha256",
    "is_valid_signature",
    "normalise",
    "private_message",
    "sign",
    "verify_signature",
]
