"""Which webhook targets may be called (server-side request forgery defence)."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

import pytest

from pipeline.webhooks.addresses import IPAddress, Resolver, address_problem, check_target
from pipeline.webhooks.errors import RefusedTarget, UnresolvableTarget


def resolver_of(*addresses: str) -> Resolver:
    def resolve(host: str, port: int) -> Sequence[IPAddress]:
        return [ipaddress.ip_address(a) for a in addresses]
    return resolve


def refused(url: str, *, allow_private: bool = False, resolves: tuple[str, ...] = ()) -> str:
    with pytest.raises(RefusedTarget) as caught:
        check_target(url, allow_private=allow_private,
                     resolver=resolver_of(*resolves))
    assert caught.value.error.field == "url"
    return caught.value.error.rule


@pytest.mark.parametrize(("url", "rule"), [
    ("https://10.1.2.3/hook", "private_address"),
    ("https://192.168.0.10/hook", "private_address"),
    ("https://172.16.5.4/", "private_address"),
    ("https://100.64.0.1/", "private_address"),
    ("https://169.254.169.254/latest/meta-data", "link_local_address"),
    ("https://[fe80::1]/", "link_local_address"),
    ("https://127.0.0.1/", "loopback_address"),
    ("https://[::1]/", "loopback_address"),
    ("https://[fc00::1]/", "private_address"),
    ("https://[fd12:3456::1]/", "private_address"),
    ("https://0.0.0.0/", "unspecified_address"),
    ("https://[::]/", "unspecified_address"),
    ("https://224.0.0.251/", "multicast_address"),
    ("https://[ff02::1]/", "multicast_address"),
    ("https://240.0.0.1/", "reserved_address"),
    ("https://[::ffff:10.0.0.1]/", "private_address"),
    ("https://[2002:a9fe:a9fe::]/", "link_local_address"),
    ("https://[64:ff9b::a00:1]/", "private_address"),
])
def test_literal_addresses_outside_the_public_internet_are_refused(url: str, rule: str) -> None:
    assert refused(url) == rule


def test_a_name_is_refused_when_any_address_it_resolves_to_is_not_public() -> None:
    assert refused("https://hooks.example.com/x", resolves=("93.184.216.34", "10.0.0.7")) == (
        "private_address")
    assert refused("https://localhost/x", resolves=("127.0.0.1", "::1")) == "loopback_address"


def test_localhost_is_refused_with_the_system_resolver() -> None:
    with pytest.raises(RefusedTarget) as caught:
        check_target("https://localhost:8443/hook", allow_private=False)
    assert caught.value.error.rule == "loopback_address"


def test_a_public_https_target_is_allowed_with_its_addresses() -> None:
    target, addresses = check_target(
        "https://hooks.example.com:8443/in?x=1", allow_private=False,
        resolver=resolver_of("93.184.216.34", "2606:2800:220:1::1"))
    assert (target.scheme, target.host, target.port, target.path) == (
        "https", "hooks.example.com", 8443, "/in?x=1")
    assert [str(a) for a in addresses] == ["93.184.216.34", "2606:2800:220:1::1"]


@pytest.mark.parametrize(("url", "rule"), [
    ("http://93.184.216.34/hook", "scheme"),
    ("ftp://93.184.216.34/hook", "scheme"),
    ("https://user:pw@93.184.216.34/", "credentials"),
    ("https://93.184.216.34/#frag", "invalid_url"),
    ("https:///nohost", "invalid_url"),
    ("https://93.184.216.34:99999/", "invalid_url"),
    ("https://exämple.com/", "invalid_url"),
    ("https://a.example/" + "x" * 2048, "too_long"),
])
def test_malformed_or_plain_http_urls_are_refused(url: str, rule: str) -> None:
    assert refused(url, resolves=("93.184.216.34",)) == rule


def test_allow_private_admits_private_and_loopback_and_http_only_to_loopback() -> None:
    assert check_target("http://127.0.0.1:8080/h", allow_private=True)[0].port == 8080
    assert check_target("https://10.1.2.3/", allow_private=True)[1] == [
        ipaddress.ip_address("10.1.2.3")]
    assert refused("http://10.1.2.3/", allow_private=True) == "scheme"
    assert refused("http://127.0.0.1/", allow_private=False) == "scheme"
    assert refused("https://169.254.169.254/", allow_private=True) == "link_local_address"
    assert refused("https://0.0.0.0/", allow_private=True) == "unspecified_address"


def test_a_name_that_does_not_resolve_is_its_own_refusal() -> None:
    def fails(host: str, port: int) -> Sequence[IPAddress]:
        raise OSError("NXDOMAIN")

    with pytest.raises(UnresolvableTarget):
        check_target("https://nowhere.invalid/", allow_private=False, resolver=fails)
    with pytest.raises(UnresolvableTarget):
        check_target("https://nowhere.invalid/", allow_private=False,
                     resolver=resolver_of())


def test_public_addresses_have_no_problem() -> None:
    for text in ("8.8.8.8", "1.1.1.1", "2001:4860:4860::8888"):
        assert address_problem(ipaddress.ip_address(text), allow_private=False) is None
