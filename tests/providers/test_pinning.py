"""A call to a key's own URL connects to the address the SSRF guard checked, not to what a
second name resolution would answer (DNS rebinding), and still verifies TLS for the name.

Safety of these tests: every address any code path could connect to is loopback. The
provider-level tests answer from a recording transport that opens no socket at all; the
real-server tests resolve made-up ``.test`` names to 127.0.0.1 (the checked answer, let
through by the guard's ``exempt`` parameter, which the server never uses) and 127.0.0.2 (the
"rebinding" answer, where nothing listens).
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import socket
import ssl
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from launchgate import providers
from launchgate.providers import (
    ChatRequest,
    Credential,
    ProviderBadRequest,
    ProviderSettings,
    ProviderUnreachable,
    create_client,
)
from launchgate.providers.http import send
from launchgate.providers.openai import read_error_for
from launchgate.providers.urls import checked_key_url

LOOPBACK = [ipaddress.ip_network("127.0.0.1/32")]
STRICT = ProviderSettings(timeout_s=5.0, allow_private_urls=False)
_real_getaddrinfo = socket.getaddrinfo


class Resolver:
    """``socket.getaddrinfo`` (the OS, not our code) for made-up names: each name answers
    its addresses in turn, one per lookup, the last one from then on. Other names (the IP
    literals the HTTP client looks up) go to the real function, which answers them without
    the network."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.lookups: list[str] = []

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in self.answers:
            return _real_getaddrinfo(host, port, *args, **kwargs)
        self.lookups.append(name)
        queue = self.answers[name]
        address = queue.pop(0) if len(queue) > 1 else queue[0]
        if ":" in address:
            return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, int(port), 0, 0))]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port)))]


@pytest.fixture
def resolve(monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, list[str]]], Resolver]:
    def install(answers: dict[str, list[str]]) -> Resolver:
        resolver = Resolver(answers)
        monkeypatch.setattr(socket, "getaddrinfo", resolver)
        return resolver

    return install


# --- Through the provider modules, with a transport that opens no socket -------------


class Recorder(httpx.AsyncBaseTransport):
    """Answers like OpenAI and keeps every request it was handed; never connects."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        await request.aread()
        if request.url.path.endswith("/models"):
            return httpx.Response(200, json={"data": [{"id": "gpt-4o"}]})
        reply = {"message": {"content": '{"reasoning": "ok", "score": 1}'}}
        return httpx.Response(200, json={"choices": [reply], "model": "gpt-4o", "usage": {}})


@pytest.fixture
async def recorded() -> AsyncIterator[tuple[providers.HttpClient, Recorder]]:
    recorder = Recorder()
    client = create_client(timeout_s=5.0, transport=recorder)
    try:
        yield client, recorder
    finally:
        await client.aclose()


def assert_pinned(request: httpx.Request, address: str, host_header: str, name: str) -> None:
    assert request.url.host == address
    assert request.headers["host"] == host_header
    assert request.extensions["sni_hostname"] == name
    assert request.headers["connection"] == "close"


CHAT = ChatRequest(model="gpt-4o", system="Judge.", user="Is this fine?")


async def test_the_key_test_and_chat_go_to_the_checked_address_with_the_names_kept(
    recorded: tuple[providers.HttpClient, Recorder], resolve: Callable[..., Resolver]
) -> None:
    http, recorder = recorded
    resolver = resolve({"llm.example": ["93.184.216.34"], "azure.example": ["2606:4700::6810"]})
    openai = Credential("openai", "sk-" + "a" * 40, {"base_url": "https://LLM.example:8443/v1/"})
    azure = Credential("azure_openai", "b" * 32, {"endpoint": "https://azure.example/openai"})

    assert await providers.check_key(http, openai, STRICT) >= 0
    await providers.chat(http, openai, STRICT, CHAT)
    await providers.chat(http, azure, STRICT, replace(CHAT, model="prod"))

    models, chat, azure_chat = recorder.requests
    assert_pinned(models, "93.184.216.34", "llm.example:8443", "llm.example")
    assert str(models.url) == "https://93.184.216.34:8443/v1/models"
    assert_pinned(chat, "93.184.216.34", "llm.example:8443", "llm.example")
    assert chat.url.path == "/v1/chat/completions"
    assert_pinned(azure_chat, "2606:4700::6810", "azure.example", "azure.example")
    assert azure_chat.url.path == "/openai/deployments/prod/chat/completions"
    assert azure_chat.url.params["api-version"] == "2024-10-21"
    assert resolver.lookups == ["llm.example", "llm.example", "azure.example"]


async def test_each_call_checks_again_and_a_rebound_name_is_refused_before_any_request(
    recorded: tuple[providers.HttpClient, Recorder], resolve: Callable[..., Resolver]
) -> None:
    http, recorder = recorded
    resolve({"rebind.example": ["93.184.216.34", "169.254.169.254"]})
    credential = Credential("openai", "sk-" + "a" * 40, {"base_url": "https://rebind.example/v1"})
    await providers.list_models(http, credential, STRICT)
    with pytest.raises(ProviderBadRequest, match=r"169\.254\.169\.254, a link-local"):
        await providers.list_models(http, credential, STRICT)
    assert len(recorder.requests) == 1


async def test_no_cookie_set_for_one_call_rides_along_on_another(
    resolve: Callable[..., Resolver],
) -> None:
    """The client is shared by every organisation; a pinned request is addressed to an IP."""
    resolve({"a.example": ["93.184.216.34"], "b.example": ["93.184.216.34"]})
    cookies: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        cookies.append(request.headers.get("cookie"))
        models = {"data": [{"id": "gpt-4o"}]}
        return httpx.Response(200, headers={"set-cookie": "__cf_bm=tenant-a; Path=/"}, json=models)

    http = create_client(timeout_s=5.0, transport=httpx.MockTransport(answer))
    try:
        for host in ("a.example", "b.example", "a.example"):
            credential = Credential("openai", "sk-" + "a" * 40, {"base_url": f"https://{host}/v1"})
            await providers.list_models(http, credential, STRICT)
        await providers.list_models(http, Credential("openai", "sk-" + "a" * 40), STRICT)
    finally:
        await http.aclose()
    assert cookies == [None, None, None, None]


async def test_operator_urls_and_the_operators_allowance_connect_by_name(
    recorded: tuple[providers.HttpClient, Recorder], resolve: Callable[..., Resolver]
) -> None:
    http, recorder = recorded
    resolver = resolve({"local.example": ["10.0.0.5"]})
    settings = ProviderSettings(openai_base_url="https://operator.example/v1", timeout_s=5.0)
    await providers.list_models(http, Credential("openai", "sk-" + "a" * 40), settings)
    allowed = ProviderSettings(timeout_s=5.0, allow_private_urls=True)
    own = Credential("openai", "sk-" + "a" * 40, {"base_url": "http://local.example:8000/v1"})
    await providers.list_models(http, own, allowed)
    operator, local = recorder.requests
    assert str(operator.url) == "https://operator.example/v1/models"
    assert str(local.url) == "http://local.example:8000/v1/models"
    assert "sni_hostname" not in operator.extensions and "sni_hostname" not in local.extensions
    assert resolver.lookups == []


# --- A real TLS server on 127.0.0.1 ---------------------------------------------------


@dataclass
class Seen:
    """One TLS connection the server accepted: the name the client sent, its requests."""

    sni: str | None
    hosts: list[str] = field(default_factory=list)


@dataclass
class TlsServer:
    port: int
    ca_file: Path
    connections: list[Seen]


def self_signed(names: list[str], directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "launchgate pinning test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@pytest.fixture
async def tls_server(tmp_path: Path) -> AsyncIterator[TlsServer]:
    """HTTPS on 127.0.0.1 for pinned.test and other.test; keeps connections alive."""
    cert_file, key_file = self_signed(["pinned.test", "other.test"], tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    names: dict[int, str | None] = {}
    context.sni_callback = lambda ssl_object, name, _: names.__setitem__(id(ssl_object), name)
    connections: list[Seen] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen = Seen(names.get(id(writer.get_extra_info("ssl_object"))))
        connections.append(seen)
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                lines = head.decode("latin-1").split("\r\n")
                headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
                seen.hosts.append({k.lower(): v for k, v in headers.items()}["host"])
                body = json.dumps({"data": [{"id": "gpt-4o"}]}).encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    + f"content-length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    try:
        yield TlsServer(port, cert_file, connections)
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture(params=["aiohttp", "httpcore"])
async def tls_client(
    tls_server: TlsServer, request: pytest.FixtureRequest
) -> AsyncIterator[providers.HttpClient]:
    """Our client trusting the test certificate, with each transport the server uses:
    aiohttp's (the default) and httpx's own (when a proxy is configured; explicit here,
    so no proxy from the environment)."""
    verify = ssl.create_default_context(cafile=str(tls_server.ca_file))
    own = httpx.AsyncHTTPTransport(verify=verify) if request.param == "httpcore" else None
    client = create_client(timeout_s=5.0, verify=verify, transport=own)
    try:
        yield client
    finally:
        await client.aclose()


async def get_models(http: providers.HttpClient, url: str, *, pinned: bool = True) -> None:
    checked = await checked_key_url("openai", url, allow_private=False, exempt=LOOPBACK)
    await send(
        http,
        "GET",
        f"{checked.url}/models",
        provider="openai",
        secret="sk-" + "a" * 40,
        read_error=read_error_for("openai"),
        timeout_s=5.0,
        connect_to=checked.address if pinned else None,
    )


async def test_the_connection_goes_to_the_checked_address_not_a_second_answer(
    tls_server: TlsServer, tls_client: providers.HttpClient, resolve: Callable[..., Resolver]
) -> None:
    resolver = resolve({"pinned.test": ["127.0.0.1", "127.0.0.2"]})
    await get_models(tls_client, f"https://pinned.test:{tls_server.port}/v1")
    assert resolver.lookups == ["pinned.test"]  # the guard's, and no other
    [seen] = tls_server.connections
    assert seen == Seen("pinned.test", [f"pinned.test:{tls_server.port}"])
    # The control: the same answers, unpinned: the client resolves again, gets 127.0.0.2
    # and misses the server. This is what the call above did before the fix.
    resolver.answers["pinned.test"] = ["127.0.0.1", "127.0.0.2"]
    with pytest.raises(ProviderUnreachable):
        await get_models(tls_client, f"https://pinned.test:{tls_server.port}/v1", pinned=False)
    assert resolver.lookups == ["pinned.test"] * 3
    assert len(tls_server.connections) == 1


async def test_the_certificate_is_still_verified_against_the_name(
    tls_server: TlsServer, tls_client: providers.HttpClient, resolve: Callable[..., Resolver]
) -> None:
    resolve({"impostor.test": ["127.0.0.1"]})
    with pytest.raises(ProviderUnreachable):
        await get_models(tls_client, f"https://impostor.test:{tls_server.port}/v1")
    assert all(not seen.hosts for seen in tls_server.connections)


async def test_a_connection_verified_for_one_name_never_carries_another(
    tls_server: TlsServer, tls_client: providers.HttpClient, resolve: Callable[..., Resolver]
) -> None:
    resolve({"pinned.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})
    for name in ("pinned.test", "other.test", "pinned.test"):
        await get_models(tls_client, f"https://{name}:{tls_server.port}/v1")
    port = tls_server.port
    # Each connection was verified for one name (its SNI) and carried only that name's
    # requests; the server here ignores ``Connection: close``, so a connection may be kept
    # for the same name (aiohttp's pool keys pinned connections by server name).
    seen = tls_server.connections
    assert {connection.sni for connection in seen} == {"pinned.test", "other.test"}
    for connection in seen:
        assert connection.hosts
        assert set(connection.hosts) == {f"{connection.sni}:{port}"}
    assert sum(len(connection.hosts) for connection in seen) == 3


def test_the_resolver_stub_hands_out_answers_in_turn() -> None:
    resolver = Resolver({"x.test": ["127.0.0.1", "127.0.0.2"]})
    answers: Iterator[str] = (resolver("x.test", 443)[0][4][0] for _ in range(3))
    assert list(answers) == ["127.0.0.1", "127.0.0.2", "127.0.0.2"]
