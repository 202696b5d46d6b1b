"""The SSRF guard of SPEC §6 for a key's own ``base_url`` and an Azure ``endpoint``.

A BYOK key lets a tenant choose where our server sends requests carrying secrets; without
this check it could point us at the cloud metadata service or at internal hosts. The check
runs when the key is stored and again before each call (DNS answers change), and the call
then connects to the very address that was checked (``CheckedUrl.address``): resolving the
name a second time at connect time would let a DNS answer with a short TTL swap a public
address for an internal one between the check and the connection (DNS rebinding).

Which addresses are public is written out below as data, from the IANA IPv4 and IPv6
Special-Purpose Address Registries (every block whose "Globally Reachable" is False or N/A)
and the IPv6 Address Space registry, not taken from ``ipaddress.is_global``: Python 3.11's
tables miss 6to4, site-local and the newer documentation and SRv6 blocks.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from launchgate.providers.errors import ProviderBadRequest


class UnsafeProviderUrl(ValueError):
    """A provider URL is not https, or resolves to a private/internal address."""


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class CheckedUrl:
    """A provider URL that passed the guard, and the address the call must connect to.

    ``url`` is rebuilt from its parsed parts (scheme, ASCII host, port, path, query), so the
    HTTP client cannot read a different host out of it than the guard did. ``address`` is
    the resolved address that was checked; ``None`` when nothing was resolved (the operator
    allowed private URLs), and then the client connects by name as usual.
    """

    url: str
    address: IPAddress | None = None

    def with_url(self, url: str) -> CheckedUrl:
        """The same pinned address for a URL on the same host (e.g. a path trimmed)."""
        return CheckedUrl(url, self.address)


@dataclass(frozen=True)
class _Block:
    network: IPNetwork
    name: str
    rfc: str


def _blocks(*rows: tuple[str, str, str]) -> tuple[_Block, ...]:
    return tuple(_Block(ipaddress.ip_network(net), name, rfc) for net, name, rfc in rows)


# Not globally reachable, or not a unicast destination at all. More specific rows come
# first so that the message names the narrowest block. IANA IPv4 Special-Purpose Address
# Registry, plus multicast (IANA IPv4 Multicast Address Space).
# 192.0.0.0/24 is refused whole, including 192.0.0.9 (PCP anycast, RFC 7723) and
# 192.0.0.10 (TURN anycast, RFC 8155), which the registry marks globally reachable: no
# LLM provider answers there. AS112 (192.31.196.0/24, 192.175.48.0/24) and AMT
# (192.52.193.0/24) are globally reachable and so not refused.
IPV4_BLOCKS = _blocks(
    ("0.0.0.0/8", "a 'this network'", "RFC 791 §3.2"),
    ("10.0.0.0/8", "a private-use", "RFC 1918"),
    ("100.64.0.0/10", "a shared (carrier-grade NAT)", "RFC 6598"),
    ("127.0.0.0/8", "a loopback", "RFC 1122 §3.2.1.3"),
    ("169.254.0.0/16", "a link-local", "RFC 3927"),
    ("172.16.0.0/12", "a private-use", "RFC 1918"),
    ("192.0.0.0/29", "an IPv4 service continuity", "RFC 7335"),
    ("192.0.0.8/32", "an IPv4 dummy", "RFC 7600"),
    ("192.0.0.170/31", "a NAT64/DNS64 discovery", "RFC 8880, RFC 7050"),
    ("192.0.0.0/24", "an IETF protocol assignment", "RFC 6890"),
    ("192.0.2.0/24", "a documentation (TEST-NET-1)", "RFC 5737"),
    ("192.88.99.0/24", "a deprecated 6to4 relay anycast / 6a44 relay", "RFC 7526, RFC 6751"),
    ("192.168.0.0/16", "a private-use", "RFC 1918"),
    ("198.18.0.0/15", "a benchmarking", "RFC 2544"),
    ("198.51.100.0/24", "a documentation (TEST-NET-2)", "RFC 5737"),
    ("203.0.113.0/24", "a documentation (TEST-NET-3)", "RFC 5737"),
    ("224.0.0.0/4", "a multicast", "RFC 5771"),
    ("255.255.255.255/32", "the limited broadcast", "RFC 8190, RFC 919 §7"),
    ("240.0.0.0/4", "a reserved", "RFC 1112 §4"),
)

# IANA IPv6 Special-Purpose Address Registry, plus the blocks of the IPv6 Address Space
# registry that are not global unicast (multicast, site-local). Anything outside
# 2000::/3 is refused anyway (see ``_forbidden``); the rows below that lie outside it are
# listed to name them in the message. 64:ff9b::/96 (RFC 6052) is not here: it is
# globally reachable, but the NAT64 gateway forwards to the IPv4 address embedded in its
# last 32 bits, so that address is checked instead. 2001::/23 is refused whole: it holds
# Teredo, benchmarking and ORCHID, and its few globally reachable anycast addresses
# (2001:1::1-3, 2001:3::/32 AMT, 2001:4:112::/48 AS112, 2001:20::/28 ORCHIDv2,
# 2001:30::/28 DETs) are no provider's address.
IPV6_BLOCKS = _blocks(
    ("::/128", "the unspecified", "RFC 4291 §2.5.2"),
    ("::1/128", "a loopback", "RFC 4291 §2.5.3"),
    ("::/96", "a deprecated IPv4-compatible", "RFC 4291 §2.5.5.1"),
    ("64:ff9b:1::/48", "a local-use NAT64", "RFC 8215"),
    ("100::/64", "a discard-only", "RFC 6666"),
    ("100:0:0:1::/64", "a dummy", "RFC 9780"),
    ("2001::/32", "a Teredo", "RFC 4380, RFC 8190"),
    ("2001:2::/48", "a benchmarking", "RFC 5180"),
    ("2001:10::/28", "a deprecated ORCHID", "RFC 4843"),
    ("2001::/23", "an IETF protocol assignment", "RFC 2928"),
    ("2001:db8::/32", "a documentation", "RFC 3849"),
    ("2002::/16", "a 6to4", "RFC 3056, RFC 7526"),
    ("3ffe::/16", "a returned 6bone", "RFC 3701"),
    ("3fff::/20", "a documentation", "RFC 9637"),
    ("5f00::/16", "an SRv6 segment identifier", "RFC 9602"),
    ("fc00::/7", "a unique-local", "RFC 4193, RFC 8190"),
    ("fe80::/10", "a link-local", "RFC 4291 §2.5.6"),
    ("fec0::/10", "a deprecated site-local", "RFC 3879"),
    ("ff00::/8", "a multicast", "RFC 4291 §2.7"),
)

_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")  # RFC 4291 §2.4; IANA IPv6 Address Space
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def check_public_https_url(
    url: str, *, allow_private: bool, exempt: Collection[IPNetwork] = ()
) -> CheckedUrl:
    """``url`` rebuilt without a trailing slash, and the address to connect to, when it is
    safe to call; else ``UnsafeProviderUrl``.

    Safe: ``https``, no user info, a host whose every resolved address is public; the first
    of them is the one to connect to. With ``allow_private`` (the operator's choice, for
    local model servers and tests) ``http`` and any address are accepted and nothing is
    resolved. ``exempt`` networks pass although not public: for tests that must connect to
    loopback with the guard on; the server never passes any.
    """
    if not isinstance(url, str):  # a JSON config can hold anything
        raise UnsafeProviderUrl("provider URL must be a string")
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # an unbalanced or invalid "[…]" host
        raise UnsafeProviderUrl("provider URL is not a valid URL") from None
    scheme = parts.scheme.lower()
    allowed = ("https", "http") if allow_private else ("https",)
    if scheme not in allowed:
        raise UnsafeProviderUrl(f"provider URL must use https, not {scheme or 'no scheme'!r}")
    host = _ascii_host(parts.hostname)
    if parts.username is not None or parts.password is not None:
        raise UnsafeProviderUrl("provider URL must not carry a user name or password")
    try:
        port = parts.port
    except ValueError:
        raise UnsafeProviderUrl("provider URL has an invalid port") from None
    netloc = f"[{host}]" if ":" in host else host
    netloc += f":{port}" if port is not None else ""
    canonical = urlunsplit((scheme, netloc, parts.path, parts.query, "")).rstrip("/")
    if allow_private:
        return CheckedUrl(canonical)
    default_port = 443 if scheme == "https" else 80
    addresses = _resolve(host, port or default_port)
    for address in addresses:
        reason = None if any(address in net for net in exempt) else forbidden(address)
        if reason:
            raise UnsafeProviderUrl(
                f"provider URL host {host!r} resolves to {address}, {reason} address; "
                "only public addresses are allowed (LAUNCHGATE_ALLOW_PRIVATE_PROVIDER_URLS)"
            )
    return CheckedUrl(canonical, addresses[0])


def _ascii_host(host: str | None) -> str:
    """The host as the resolver, the TLS server name and ``Host`` will all see it."""
    if not host:
        raise UnsafeProviderUrl("provider URL has no host")
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        raise UnsafeProviderUrl(f"provider URL host {host!r} is not a valid host name") from None


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeProviderUrl(f"provider URL host {host!r} does not resolve ({exc})") from None
    if not infos:
        raise UnsafeProviderUrl(f"provider URL host {host!r} does not resolve")
    # sockaddr[0] of an IPv6 link-local answer may carry a scope ("fe80::1%eth0").
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    # An IPv4-mapped answer (::ffff:a.b.c.d) is the IPv4 host: check and connect to that.
    return [_unmapped(address) for address in addresses]


def _unmapped(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def forbidden(address: IPAddress) -> str | None:
    """Why ``address`` may not be called ("a link-local (RFC 3927)"), or None when public."""
    address = _unmapped(address)
    if isinstance(address, ipaddress.IPv6Address):
        if address in _NAT64:  # RFC 6052 §2.2: the /96 form carries IPv4 in the last 32 bits
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
            reason = forbidden(embedded)
            return f"a NAT64 (RFC 6052) address of {embedded}, {reason}" if reason else None
        blocks = IPV6_BLOCKS
    else:
        blocks = IPV4_BLOCKS
    for block in blocks:
        if address in block.network:
            return f"{block.name} ({block.rfc})"
    if isinstance(address, ipaddress.IPv6Address) and address not in _GLOBAL_UNICAST:
        return "a reserved, not global unicast (RFC 4291 §2.4)"
    return None


async def checked_key_url(
    provider: str, url: str, *, allow_private: bool, exempt: Collection[IPNetwork] = ()
) -> CheckedUrl:
    """The guard before a call that uses a key's own URL; an unsafe one is a bad request.

    Resolution runs in a thread: ``getaddrinfo`` blocks.
    """
    try:
        if allow_private:
            return check_public_https_url(url, allow_private=True)
        return await asyncio.to_thread(
            check_public_https_url, url, allow_private=False, exempt=exempt
        )
    except UnsafeProviderUrl as exc:
        raise ProviderBadRequest(provider, str(exc)) from None
