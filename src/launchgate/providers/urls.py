"""The SSRF guard of SPEC §6 for a key's own ``base_url`` and an Azure ``endpoint``.

A BYOK key lets a tenant choose where our server sends requests carrying secrets; without
this check it could point us at the cloud metadata service or at internal hosts. The check
runs when the key is stored and again before each call (DNS answers change).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from launchgate.providers.errors import ProviderBadRequest


class UnsafeProviderUrl(ValueError):
    """A provider URL is not https, or resolves to a private/internal address."""


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def check_public_https_url(url: str, *, allow_private: bool) -> str:
    """``url`` without a trailing slash when it is safe to call; else ``UnsafeProviderUrl``.

    Safe: ``https``, no user info, a host whose every resolved address is public. With
    ``allow_private`` (the operator's choice, for local model servers and tests) ``http`` and
    any address are accepted and nothing is resolved.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    allowed = ("https", "http") if allow_private else ("https",)
    if scheme not in allowed:
        raise UnsafeProviderUrl(f"provider URL must use https, not {scheme or 'no scheme'!r}")
    host = parts.hostname
    if not host:
        raise UnsafeProviderUrl("provider URL has no host")
    if parts.username is not None or parts.password is not None:
        raise UnsafeProviderUrl("provider URL must not carry a user name or password")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise UnsafeProviderUrl("provider URL has an invalid port") from None
    if not allow_private:
        for address in _resolve(host, port):
            reason = _forbidden(address)
            if reason:
                raise UnsafeProviderUrl(
                    f"provider URL host {host!r} resolves to {reason} address {address}; "
                    "only public addresses are allowed (LAUNCHGATE_ALLOW_PRIVATE_PROVIDER_URLS)"
                )
    return url.strip().rstrip("/")


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeProviderUrl(f"provider URL host {host!r} does not resolve ({exc})") from None
    if not infos:
        raise UnsafeProviderUrl(f"provider URL host {host!r} does not resolve")
    # sockaddr[0] of an IPv6 link-local answer may carry a scope ("fe80::1%eth0").
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def _forbidden(address: IPAddress) -> str | None:
    """Why ``address`` may not be called, or None when it is public."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _forbidden(address.ipv4_mapped)
    checks = (
        ("an unspecified", address.is_unspecified),
        ("a loopback", address.is_loopback),
        ("a link-local", address.is_link_local),
        ("a multicast", address.is_multicast),
        ("a private", address.is_private),
        ("a reserved", address.is_reserved),
        # Shared (100.64/10), documentation, 6to4 relays… anything not globally routable.
        ("a non-public", not address.is_global),
    )
    return next((label for label, hit in checks if hit), None)


async def checked_key_url(provider: str, url: str, *, allow_private: bool) -> str:
    """The guard before a call that uses a key's own URL; an unsafe one is a bad request.

    Resolution runs in a thread: ``getaddrinfo`` blocks.
    """
    try:
        if allow_private:
            return check_public_https_url(url, allow_private=True)
        return await asyncio.to_thread(check_public_https_url, url, allow_private=False)
    except UnsafeProviderUrl as exc:
        raise ProviderBadRequest(provider, str(exc)) from None
