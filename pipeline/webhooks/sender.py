"""One HTTP attempt of one delivery, to an address checked just before.

The target is checked again here (addresses.check_target) and the request goes
to the checked address itself, with the endpoint's host name in ``Host`` and,
for HTTPS, as the TLS server name (so the certificate is verified against the
name). A name re-pointed at a private address after registration is therefore
refused, not called. Connections are not kept alive (a pooled connection to an
address must never carry another host's request), proxies from the environment
are ignored, redirects are not followed, and response bodies are not read.
"""

from __future__ import annotations

import ipaddress

import httpx

from pipeline.webhooks.addresses import (
    IPAddress,
    Resolver,
    Target,
    check_target,
    system_resolver,
)
from pipeline.webhooks.errors import RefusedTarget, UnresolvableTarget
from pipeline.webhooks.retry import AttemptResult

USER_AGENT = "wardstream-webhooks/1"


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def pinned_request_parts(target: Target, address: IPAddress) -> tuple[str, str, dict[str, str]]:
    """(URL naming ``address``, Host header value, request extensions)."""
    netloc = f"[{address}]" if address.version == 6 else str(address)
    default_port = 443 if target.scheme == "https" else 80
    port = "" if target.port == default_port else f":{target.port}"
    host = f"[{target.host}]" if ":" in target.host else target.host
    extensions: dict[str, str] = {}
    if target.scheme == "https" and not _is_literal(target.host):
        extensions["sni_hostname"] = target.host
    return f"{target.scheme}://{netloc}{port}{target.path}", f"{host}{port}", extensions


class Sender:
    """Posts bodies; one instance per dispatcher (its HTTP client is thread-safe)."""

    def __init__(self, *, timeout_seconds: float, allow_private: bool,
                 resolver: Resolver = system_resolver,
                 transport: httpx.BaseTransport | None = None) -> None:
        self._allow_private = allow_private
        self._resolver = resolver
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_seconds), follow_redirects=False, trust_env=False,
            limits=httpx.Limits(max_keepalive_connections=0), transport=transport)

    def post(self, url: str, headers: dict[str, str], body: bytes) -> AttemptResult:
        try:
            target, addresses = check_target(url, allow_private=self._allow_private,
                                             resolver=self._resolver)
        except UnresolvableTarget:
            return AttemptResult(None, error="the host name does not resolve", retryable=True)
        except RefusedTarget as exc:
            return AttemptResult(None, error=f"refused at delivery: url {exc.error.message}")
        pinned, host, extensions = pinned_request_parts(target, addresses[0])
        sent = {**headers, "Host": host, "User-Agent": USER_AGENT,
                "Content-Type": "application/json"}
        try:
            request = self._client.build_request("POST", pinned, content=body, headers=sent,
                                                 extensions=extensions)
            response = self._client.send(request, stream=True)
            response.close()
        except httpx.TimeoutException:
            return AttemptResult(None, error="timed out", retryable=True)
        except httpx.TransportError as exc:
            return AttemptResult(None, error=f"connection failed ({type(exc).__name__})",
                                 retryable=True)
        return AttemptResult(response.status_code, retry_after=response.headers.get("retry-after"))

    def close(self) -> None:
        self._client.close()
