"""Which webhook targets may be called: the defence against server-side request forgery.

A URL must be ``https`` (plain ``http`` only to loopback, and only when private
targets are allowed), without credentials or fragment, and every address its
host resolves to must be public. Unspecified, multicast, link-local (cloud
metadata at 169.254.169.254 among them) and reserved addresses are always
refused; private, shared (100.64/10) and loopback ones unless ``allow_private``.
IPv6 forms that embed an IPv4 address (mapped, 6to4, Teredo, NAT64) are judged
by the embedded address. The dispatcher checks again before every attempt and
connects to the addresses it checked, so a name re-pointed after registration
(DNS rebinding) is caught.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from pipeline.webhooks.errors import RefusedTarget, UnresolvableTarget

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[IPAddress]]
MAX_URL_LENGTH = 2048
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SHARED = ipaddress.ip_network("100.64.0.0/10")


@dataclass(frozen=True, slots=True)
class Target:
    """A parsed endpoint URL; ``host`` is a name or an address without brackets."""

    url: str
    scheme: str
    host: str
    port: int
    path: str  # path and query, at least "/"


def system_resolver(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (``OSError`` when it does not resolve)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(ipaddress.ip_address(str(i[4][0]).split("%")[0]) for i in infos))


def parse_target(url: str) -> Target:
    """The URL's parts, or :class:`RefusedTarget` naming the rule it breaks."""
    if len(url) > MAX_URL_LENGTH:
        raise RefusedTarget("too_long", f"must be at most {MAX_URL_LENGTH} characters")
    if not url.isascii() or any(c.isspace() or ord(c) < 32 for c in url):
        raise RefusedTarget("invalid_url", "must be ASCII without spaces (use punycode)")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise RefusedTarget("invalid_url", "is not a valid URL") from None
    if parts.scheme not in ("https", "http"):
        raise RefusedTarget("scheme", "must be an https:// URL")
    if parts.username is not None or parts.password is not None:
        raise RefusedTarget("credentials", "must not carry a user name or password")
    if parts.fragment:
        raise RefusedTarget("invalid_url", "must not have a #fragment")
    host = parts.hostname
    if not host:
        raise RefusedTarget("invalid_url", "has no host")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    default = 443 if parts.scheme == "https" else 80
    return Target(url, parts.scheme, host, port or default, path)


def _judged(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 address embeds, if it embeds one."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if address.teredo is not None:
            return address.teredo[1]
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def address_problem(address: IPAddress, *, allow_private: bool) -> str | None:
    """Why ``address`` may not be called (a rule name), or None when it may."""
    judged = _judged(address)
    for rule, hit in (("unspecified", judged.is_unspecified),
                      ("multicast", judged.is_multicast),
                      ("link_local", judged.is_link_local)):
        if hit:
            return rule
    if judged.is_loopback:
        return None if allow_private else "loopback"
    if judged.is_reserved:
        return "reserved"
    if judged.is_private or judged in _SHARED:
        return None if allow_private else "private"
    if not judged.is_global:
        return "reserved"
    return None


def _words(rule: str) -> str:
    words = rule.replace("_", "-")
    return f"{'an' if words[0] in 'aeiou' else 'a'} {words}"


def check_target(url: str, *, allow_private: bool,
                 resolver: Resolver = system_resolver) -> tuple[Target, list[IPAddress]]:
    """The target and the addresses to connect to, all allowed; else :class:`RefusedTarget`
    (:class:`UnresolvableTarget` when the host name does not resolve)."""
    target = parse_target(url)
    if target.scheme == "http" and not allow_private:
        raise RefusedTarget("scheme", "must be an https:// URL")
    try:
        literal: IPAddress | None = ipaddress.ip_address(target.host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    else:
        try:
            addresses = list(resolver(target.host, target.port))
        except (OSError, UnicodeError):
            raise UnresolvableTarget() from None
        if not addresses:
            raise UnresolvableTarget()
    for address in addresses:
        problem = address_problem(address, allow_private=allow_private)
        if problem is not None:
            what = "is" if literal is not None else "resolves to"
            raise RefusedTarget(f"{problem}_address",
                                f"{what} {_words(problem)} address, which webhooks may not call")
    if target.scheme == "http" and not all(_judged(a).is_loopback for a in addresses):
        raise RefusedTarget("scheme", "must be an https:// URL (http only to loopback in "
                            "development, with WARDSTREAM_WEBHOOK_ALLOW_PRIVATE=true)")
    return target, addresses
