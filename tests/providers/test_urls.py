"""The SSRF guard of SPEC §6. Only literals and "localhost" are resolved: no network.

Every refused block of the guard's table is refused at validation, before any
connection, for any address drawn from it — the IPv4 forms embedded in IPv6 (6to4,
NAT64, IPv4-mapped) included.
"""

from __future__ import annotations

import ipaddress
import socket

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from launchgate.providers import (
    CheckedUrl,
    ProviderBadRequest,
    UnsafeProviderUrl,
    check_public_https_url,
)
from launchgate.providers.urls import (
    IPV4_BLOCKS,
    IPV6_BLOCKS,
    IPAddress,
    checked_key_url,
    forbidden,
)

PRIVATE_HOSTS = [
    "localhost",
    "127.0.0.1",
    "[::1]",
    "169.254.169.254",  # the cloud metadata service
    "10.0.0.1",
    "192.168.1.1",
    "172.16.0.1",
    "100.64.0.1",  # carrier-grade NAT: not private, not public either
    "[::ffff:127.0.0.1]",  # IPv4-mapped loopback
    "[::ffff:169.254.169.254]",
    "[fe80::1]",
    "[fc00::1]",
    "0.0.0.0",
    "[::]",
    "224.0.0.1",
    "2130706433",  # 127.0.0.1 written as one integer
    # Issue 11: what Python 3.11's ipaddress let through.
    "[2002:a9fe:a9fe::1]",  # 6to4 of 169.254.169.254
    "[fec0::1]",  # deprecated site-local
    "[64:ff9b::a9fe:a9fe]",  # NAT64 of 169.254.169.254
    "[3fff::1]",  # documentation (RFC 9637)
    "192.0.0.9",  # inside the IETF protocol assignments block
    "192.88.99.1",  # deprecated 6to4 relay anycast
]

# The blocks issue 11 names, whatever the table says: a row deleted from it must fail here.
NAMED_IN_THE_ISSUE = [
    "2002::/16",
    "fec0::/10",
    "2001::/32",
    "64:ff9b:1::/48",
    "169.254.0.0/16",
    "127.0.0.0/8",
    "10.0.0.0/8",
    "fc00::/7",
    "fe80::/10",
    "::1/128",
]
REFUSED = [block.network for block in (*IPV4_BLOCKS, *IPV6_BLOCKS)] + [
    ipaddress.ip_network(net) for net in NAMED_IN_THE_ISSUE
]
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# Each example resolves a literal (no network); a slow machine must not fail on time.
UNTIMED = settings(deadline=None)
MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


def literal(address: IPAddress) -> str:
    return f"[{address}]" if address.version == 6 else str(address)


def refused_url(address: IPAddress) -> str:
    with pytest.raises(UnsafeProviderUrl, match="only public addresses") as caught:
        check_public_https_url(f"https://{literal(address)}/v1", allow_private=False)
    return str(caught.value)


@st.composite
def refused_addresses(draw: st.DrawFn) -> IPAddress:
    network = draw(st.sampled_from(REFUSED))
    return draw(st.ip_addresses(network=str(network)))


public_ipv4 = st.ip_addresses(v=4).filter(lambda address: forbidden(address) is None)


@UNTIMED
@given(refused_addresses())
def test_every_address_of_every_refused_block_is_refused(address: IPAddress) -> None:
    assert forbidden(address) is not None
    refused_url(address)


@UNTIMED
@given(st.ip_addresses(v=4))
def test_6to4_is_refused_whatever_ipv4_it_embeds(embedded: ipaddress.IPv4Address) -> None:
    six_to_four = ipaddress.IPv6Address((0x2002 << 112) | (int(embedded) << 80) | 1)
    assert "6to4" in refused_url(six_to_four)


@UNTIMED
@given(refused_addresses().filter(lambda address: address.version == 4))
def test_ipv4_embedded_in_nat64_or_mapped_form_is_checked(
    embedded: ipaddress.IPv4Address,
) -> None:
    nat64 = ipaddress.IPv6Address(int(NAT64.network_address) | int(embedded))
    assert f"NAT64 (RFC 6052) address of {embedded}" in refused_url(nat64)
    refused_url(ipaddress.IPv6Address(int(MAPPED.network_address) | int(embedded)))


@UNTIMED
@given(public_ipv4)
def test_nat64_of_a_public_ipv4_is_public(embedded: ipaddress.IPv4Address) -> None:
    """An IPv6-only host with DNS64 reaches IPv4-only providers through 64:ff9b::/96."""
    assert forbidden(ipaddress.IPv6Address(int(NAT64.network_address) | int(embedded))) is None


@UNTIMED
@given(st.ip_addresses())
def test_whatever_python_calls_non_global_is_refused_too(address: IPAddress) -> None:
    """Our table is a superset of ipaddress's, except two deliberate readings: an
    IPv4-mapped address is the IPv4 host, and NAT64 is judged by the address it embeds."""
    if address.is_global:
        return
    if address in MAPPED or address in NAT64:
        embedded = ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
        assert (forbidden(address) is None) == (forbidden(embedded) is None)
        return
    assert forbidden(address) is not None


@UNTIMED
@given(st.ip_addresses(v=6).filter(lambda a: a not in ipaddress.IPv6Network("2000::/3")))
def test_ipv6_outside_global_unicast_is_refused_unless_nat64_or_mapped(
    address: ipaddress.IPv6Address,
) -> None:
    if address in NAT64 or address in MAPPED:
        return
    assert forbidden(address) is not None


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4001:82a::200e", "192.31.196.1"],
)
def test_public_addresses_pass(address: str) -> None:
    assert forbidden(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize("host", PRIVATE_HOSTS)
def test_private_addresses_are_refused(host: str) -> None:
    with pytest.raises(UnsafeProviderUrl, match="only public addresses"):
        check_public_https_url(f"https://{host}/v1", allow_private=False)


@pytest.mark.parametrize("host", PRIVATE_HOSTS)
def test_allow_private_lets_them_through_without_resolving(
    host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_resolution(*args: object, **kwargs: object) -> list[object]:
        raise AssertionError("the operator's allowance resolves nothing")

    monkeypatch.setattr(socket, "getaddrinfo", no_resolution)
    url = f"https://{host}:8443/v1/"
    assert check_public_https_url(url, allow_private=True) == CheckedUrl(url.rstrip("/"))


def test_a_public_literal_passes_loses_its_trailing_slash_and_is_pinned() -> None:
    assert check_public_https_url("https://8.8.8.8/v1/", allow_private=False) == CheckedUrl(
        "https://8.8.8.8/v1", ipaddress.ip_address("8.8.8.8")
    )
    assert check_public_https_url(
        "https://[2606:4700:4700::1111]/", allow_private=False
    ) == CheckedUrl("https://[2606:4700:4700::1111]", ipaddress.ip_address("2606:4700:4700::1111"))


def test_a_name_is_pinned_to_its_first_checked_address(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = [("8.8.4.4", 443), ("2606:4700:4700::1111", 443, 0, 0)]

    def resolve(host: str, port: int, *args: object, **kwargs: object) -> list[object]:
        assert (host, port) == ("api.example.com", 8443)
        family = (socket.AF_INET, socket.AF_INET6)
        return [(family[len(a) > 2], socket.SOCK_STREAM, 6, "", a) for a in answers]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    checked = check_public_https_url("https://API.Example.com:8443/v1/#x", allow_private=False)
    assert checked == CheckedUrl("https://api.example.com:8443/v1", ipaddress.ip_address("8.8.4.4"))


def test_one_refused_answer_refuses_the_name(monkeypatch: pytest.MonkeyPatch) -> None:
    def resolve(*args: object, **kwargs: object) -> list[object]:
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("8.8.8.8", 443)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", 443)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with pytest.raises(UnsafeProviderUrl, match=r"169\.254\.169\.254, a link-local"):
        check_public_https_url("https://two.example.com/v1", allow_private=False)


def test_an_exempt_network_is_the_tests_own_allowance() -> None:
    loopback = [ipaddress.ip_network("127.0.0.1/32")]
    checked = check_public_https_url("https://127.0.0.1:9/v1", allow_private=False, exempt=loopback)
    assert checked.address == ipaddress.ip_address("127.0.0.1")
    with pytest.raises(UnsafeProviderUrl):
        check_public_https_url("https://127.0.0.2:9/v1", allow_private=False, exempt=loopback)


@pytest.mark.parametrize("url", ["http://8.8.8.8/v1", "ftp://8.8.8.8/", "8.8.8.8/v1", "//8.8.8.8"])
def test_only_https_is_accepted(url: str) -> None:
    with pytest.raises(UnsafeProviderUrl, match="must use https"):
        check_public_https_url(url, allow_private=False)


def test_http_is_accepted_only_when_private_urls_are_allowed() -> None:
    assert check_public_https_url("http://127.0.0.1:9000/v1", allow_private=True) == (
        CheckedUrl("http://127.0.0.1:9000/v1")
    )
    with pytest.raises(UnsafeProviderUrl):
        check_public_https_url("file:///etc/passwd", allow_private=True)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://user:pw@8.8.8.8/v1", "user name or password"),
        ("https://8.8.8.8:99999/v1", "invalid port"),
        ("https:///v1", "no host"),
        ("https://[::1/v1", "not a valid URL"),
        ("https://a..b.example/v1", "not a valid host name"),
    ],
)
def test_malformed_urls_are_refused_with_a_reason(url: str, message: str) -> None:
    for allow_private in (False, True):
        with pytest.raises(UnsafeProviderUrl, match=message):
            check_public_https_url(url, allow_private=allow_private)


def test_the_url_is_rebuilt_from_what_the_guard_parsed() -> None:
    """The client must not read another host out of the string than the guard did."""
    checked = check_public_https_url("https://Bücher.example:8443/v1/?a=1#frag", allow_private=True)
    assert checked.url == "https://xn--bcher-kva.example:8443/v1/?a=1"


def test_unsafe_url_is_a_value_error_with_a_clear_message() -> None:
    with pytest.raises(ValueError) as caught:
        check_public_https_url("https://169.254.169.254/latest", allow_private=False)
    message = str(caught.value)
    assert "169.254.169.254" in message and "link-local" in message and "RFC 3927" in message
    assert "LAUNCHGATE_ALLOW_PRIVATE_PROVIDER_URLS" in message


async def test_the_call_time_guard_turns_an_unsafe_url_into_a_bad_request() -> None:
    with pytest.raises(ProviderBadRequest) as caught:
        await checked_key_url("openai", "https://127.0.0.1/v1", allow_private=False)
    assert not caught.value.retryable
    assert await checked_key_url("openai", "https://8.8.8.8/v1/", allow_private=False) == (
        CheckedUrl("https://8.8.8.8/v1", ipaddress.ip_address("8.8.8.8"))
    )


@pytest.mark.parametrize("value", [123, None, ["https://8.8.8.8"], {"url": "x"}])
def test_a_url_that_is_not_a_string_is_refused(value: object) -> None:
    """A key's ``config`` is JSON: a number there must be a 400, not an AttributeError."""
    with pytest.raises(UnsafeProviderUrl, match="must be a string"):
        check_public_https_url(value, allow_private=False)  # type: ignore[arg-type]
