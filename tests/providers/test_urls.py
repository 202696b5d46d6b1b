"""The SSRF guard of SPEC §6. Only literals and "localhost" are resolved: no network."""

from __future__ import annotations

import pytest

from launchgate.providers import ProviderBadRequest, UnsafeProviderUrl, check_public_https_url
from launchgate.providers.urls import checked_key_url

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
]


@pytest.mark.parametrize("host", PRIVATE_HOSTS)
def test_private_addresses_are_refused(host: str) -> None:
    with pytest.raises(UnsafeProviderUrl, match="only public addresses"):
        check_public_https_url(f"https://{host}/v1", allow_private=False)


@pytest.mark.parametrize("host", PRIVATE_HOSTS)
def test_allow_private_lets_them_through(host: str) -> None:
    url = f"https://{host}:8443/v1/"
    assert check_public_https_url(url, allow_private=True) == url.rstrip("/")


def test_a_public_literal_passes_and_loses_its_trailing_slash() -> None:
    assert check_public_https_url("https://8.8.8.8/v1/", allow_private=False) == (
        "https://8.8.8.8/v1"
    )
    assert check_public_https_url("https://[2606:4700:4700::1111]/", allow_private=False) == (
        "https://[2606:4700:4700::1111]"
    )


@pytest.mark.parametrize("url", ["http://8.8.8.8/v1", "ftp://8.8.8.8/", "8.8.8.8/v1", "//8.8.8.8"])
def test_only_https_is_accepted(url: str) -> None:
    with pytest.raises(UnsafeProviderUrl, match="must use https"):
        check_public_https_url(url, allow_private=False)


def test_http_is_accepted_only_when_private_urls_are_allowed() -> None:
    assert check_public_https_url("http://127.0.0.1:9000/v1", allow_private=True) == (
        "http://127.0.0.1:9000/v1"
    )
    with pytest.raises(UnsafeProviderUrl):
        check_public_https_url("file:///etc/passwd", allow_private=True)


def test_credentials_in_the_url_and_bad_ports_are_refused() -> None:
    with pytest.raises(UnsafeProviderUrl, match="user name or password"):
        check_public_https_url("https://user:pw@8.8.8.8/v1", allow_private=False)
    with pytest.raises(UnsafeProviderUrl, match="invalid port"):
        check_public_https_url("https://8.8.8.8:99999/v1", allow_private=False)
    with pytest.raises(UnsafeProviderUrl, match="no host"):
        check_public_https_url("https:///v1", allow_private=False)


def test_unsafe_url_is_a_value_error_with_a_clear_message() -> None:
    with pytest.raises(ValueError) as caught:
        check_public_https_url("https://169.254.169.254/latest", allow_private=False)
    message = str(caught.value)
    assert "169.254.169.254" in message and "link-local" in message
    assert "LAUNCHGATE_ALLOW_PRIVATE_PROVIDER_URLS" in message


async def test_the_call_time_guard_turns_an_unsafe_url_into_a_bad_request() -> None:
    with pytest.raises(ProviderBadRequest) as caught:
        await checked_key_url("openai", "https://127.0.0.1/v1", allow_private=False)
    assert not caught.value.retryable
    assert await checked_key_url("openai", "https://8.8.8.8/v1/", allow_private=False) == (
        "https://8.8.8.8/v1"
    )
