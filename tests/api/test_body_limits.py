"""Request size and order (issue 11, item 3): a body is never read before the caller is
authenticated, and never past ``LAUNCHGATE_MAX_BODY_BYTES`` — a declared ``Content-Length``
above it is refused unread, a chunked body as soon as its count passes it.

Bodies are async generators that count what the app pulled: httpx's ASGITransport takes a
chunk from the generator each time the app calls ``receive``, so "pulled nothing" means
the app read nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from launchgate.app import create_app
from tests.conftest import make_settings
from tests.contract.server import LiveServer, start, stop
from tests.factories import Api, assert_error

MiB = 1024 * 1024
CHUNK = 64 * 1024
DEFAULT_LIMIT = 8 * MiB
SMALL_LIMIT = 64 * 1024  # the smallest the setting allows
BAD_KEY = "lg_live_" + "0" * 32
JSON = {"Content-Type": "application/json"}


class Body:
    """``total`` bytes in ``CHUNK``-sized pieces, counting how many the app pulled. When
    ``pause`` is given, the body stops after its first chunk until the event is set. The
    default piece is JSON whitespace: only the size can refuse it."""

    def __init__(
        self, total: int = 64 * MiB, pause: asyncio.Event | None = None, piece: bytes = b" "
    ) -> None:
        self.total = total
        self.pulled = 0
        self.pause = pause
        self.piece = (piece * CHUNK)[:CHUNK]

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.pulled < self.total:
            size = min(CHUNK, self.total - self.pulled)
            self.pulled += size
            yield self.piece[:size]
            if self.pause is not None:
                await self.pause.wait()


def assert_too_large(response: httpx.Response, limit: int) -> None:
    error = assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert error["details"] == {"max_bytes": limit}
    assert str(limit) in error["message"]


def declared(size: int, **headers: str) -> dict[str, str]:
    return {**JSON, "Content-Length": str(size), **headers}


@contextlib.asynccontextmanager
async def app_with(database_url: str, tmp_path: Path, **overrides: Any) -> AsyncIterator[FastAPI]:
    app = create_app(make_settings(database_url, tmp_path, **overrides))
    async with app.router.lifespan_context(app):
        yield app


def client_of(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


# --- authentication before the body ---------------------------------------------------------

PRIVATE_POSTS = ["/v1/run", "/v1/projects", "/v1/projects/p/scorers", "/v1/api-keys"]


@pytest.mark.parametrize("path", PRIVATE_POSTS)
async def test_no_credential_is_401_before_a_byte_is_read(api: Api, path: str) -> None:
    body = Body()
    response = await api.client.post(path, content=body, headers=JSON)
    error = assert_error(response, 401, "UNAUTHORIZED")
    assert error["message"] == (
        "Missing Authorization header; send 'Authorization: Bearer <api key>'"
    )
    assert body.pulled == 0


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        ("Bearer " + BAD_KEY, "Invalid API key"),
        ("Bearer not-a-token", "Invalid API key"),  # no JWT's three parts: a mistyped key
        ("Bearer sk-" + "x" * 40, "Invalid API key"),  # another product's key
        ("Bearer not.a.token", "Invalid or expired token"),
        ("Basic dXNlcjpwYXNz", "Authorization header must be 'Bearer <api key or token>'"),
    ],
)
async def test_bad_credential_is_401_before_a_byte_is_read(
    api: Api, authorization: str, message: str
) -> None:
    body = Body()
    response = await api.client.post(
        "/v1/run", content=body, headers={**JSON, "Authorization": authorization}
    )
    assert assert_error(response, 401, "UNAUTHORIZED")["message"] == message
    assert body.pulled == 0


async def test_revoked_key_is_401_before_a_byte_is_read(api: Api) -> None:
    org = await api.org()
    created = await api.ok("POST", "/v1/api-keys", org, 201, json={"name": "t", "mode": "live"})
    key = created["data"]
    await api.ok("DELETE", f"/v1/api-keys/{key['id']}", org, 204)
    body = Body()
    response = await api.client.post(
        "/v1/projects", content=body, headers={**JSON, "Authorization": f"Bearer {key['key']}"}
    )
    assert assert_error(response, 401, "UNAUTHORIZED")["message"] == "Invalid API key"
    assert body.pulled == 0


async def test_unknown_paths_and_methods_keep_their_answers(api: Api) -> None:
    """Only a request a private route serves needs a credential first: an unknown path is
    404 and a wrong method 405 to anyone, and neither reads the body."""
    for method, path, status, code in [
        ("POST", "/v1/nope", 404, "NOT_FOUND"),
        ("GET", "/v1/run", 405, "METHOD_NOT_ALLOWED"),
        ("PUT", "/v1/projects", 405, "METHOD_NOT_ALLOWED"),
    ]:
        body = Body()
        response = await api.client.request(method, path, content=body, headers=JSON)
        assert_error(response, status, code)
        assert body.pulled == 0


async def test_a_valid_credential_still_reaches_the_endpoint(api: Api) -> None:
    org = await api.org()
    project = await api.project(org)
    assert project["slug"]
    listed = await api.ok("GET", "/v1/projects", org)
    assert project["slug"] in [p["slug"] for p in listed["data"]]


async def test_using_a_key_still_records_its_last_use(api: Api) -> None:
    """The middleware's own session commits the key's ``last_used_at`` touch."""
    org = await api.org()
    keys = (await api.ok("GET", "/v1/api-keys", org))["data"]
    assert [k["last_used_at"] is not None for k in keys] == [True]


async def test_public_routes_need_no_credential(api: Api) -> None:
    assert (await api.client.get("/v1/templates")).status_code == 200
    assert (await api.client.get("/v1/templates/classification")).status_code == 200
    assert (await api.client.get("/health")).status_code == 200
    login = await api.client.post("/v1/auth/login", json={"email": "a@b.co", "password": "x"})
    assert assert_error(login, 401, "UNAUTHORIZED")["message"] == "Email or password is incorrect"


async def test_a_failure_counts_once_towards_the_lockout(database_url: str, tmp_path: Path) -> None:
    """Three failures lock the address out; two must not (a double count would)."""
    async with (
        app_with(database_url, tmp_path, lockout_limit="3/15 minutes") as app,
        client_of(app) as client,
    ):
        api = Api(client, app.state.runtime)
        org = await api.org()
        bad = {**JSON, "Authorization": "Bearer " + BAD_KEY}
        for _ in range(2):
            response = await client.post("/v1/projects", json={"name": "x"}, headers=bad)
            assert assert_error(response, 401, "UNAUTHORIZED")["message"] == "Invalid API key"
        assert (await client.get("/v1/projects", headers=org.headers)).status_code == 200
        await client.post("/v1/projects", json={"name": "x"}, headers=bad)
        locked = await client.get("/v1/projects", headers=org.headers)
        assert "Too many failed" in assert_error(locked, 401, "UNAUTHORIZED")["message"]


# --- the size limit ---------------------------------------------------------------------------


async def test_declared_oversize_body_is_413_unread(api: Api) -> None:
    org = await api.org()
    body = Body()
    response = await api.client.post(
        "/v1/run", content=body, headers=declared(body.total, **org.headers)
    )
    assert_too_large(response, DEFAULT_LIMIT)
    assert body.pulled == 0


async def test_chunked_oversize_body_stops_being_read_past_the_limit(api: Api) -> None:
    org = await api.org()
    body = Body()
    response = await api.client.post("/v1/run", content=body, headers={**JSON, **org.headers})
    assert_too_large(response, DEFAULT_LIMIT)
    assert DEFAULT_LIMIT < body.pulled <= DEFAULT_LIMIT + CHUNK


async def test_largest_valid_run_fits_the_default_limit(api: Api) -> None:
    """A 1 MiB output of control characters is 6 MiB of JSON (``\\u0001`` per byte), the
    worst escaping a valid output can have; with input and trigger_meta it must pass."""
    org = await api.org()
    _, suite = await api.gated_suite(org, values=("hello",))
    payload = {
        "suite": suite["slug"],
        "output": "hello" + "\x01" * (MiB - 5),
        "input": {"q": "\x02" * 2000},
        "trigger_meta": {"m": "\x03" * 2000},
    }
    content = json.dumps(payload).encode()
    assert 6 * MiB < len(content) < DEFAULT_LIMIT
    response = await api.client.post("/v1/run", content=content, headers={**JSON, **org.headers})
    assert response.status_code == 200, response.text[:500]
    assert response.json()["status"] == "cleared"


def run_of_size(suite: str, size: int) -> bytes:
    """A valid run request of exactly ``size`` bytes."""
    empty = json.dumps({"suite": suite, "output": ""}).encode()
    return json.dumps({"suite": suite, "output": "x" * (size - len(empty))}).encode()


async def test_a_body_of_exactly_the_limit_is_read(database_url: str, tmp_path: Path) -> None:
    async with (
        app_with(database_url, tmp_path, max_body_bytes=SMALL_LIMIT) as app,
        client_of(app) as client,
    ):
        api = Api(client, app.state.runtime)
        org = await api.org()
        _, suite = await api.gated_suite(org, values=("x",))
        content = run_of_size(suite["slug"], SMALL_LIMIT)
        assert len(content) == SMALL_LIMIT
        headers = {**JSON, **org.headers}

        async def chunked(data: bytes) -> AsyncIterator[bytes]:
            for start in range(0, len(data), 1000):
                yield data[start : start + 1000]

        for sent in (content, chunked(content)):
            response = await client.post("/v1/run", content=sent, headers=headers)
            assert response.status_code == 200, response.text[:300]
        over = content[:-1] + b" }"
        for sent in (over, chunked(over)):
            response = await client.post("/v1/run", content=sent, headers=headers)
            assert_too_large(response, SMALL_LIMIT)


async def test_login_is_limited_too(api: Api) -> None:
    body = Body()
    response = await api.client.post("/v1/auth/login", content=body, headers=JSON)
    assert_too_large(response, DEFAULT_LIMIT)
    assert DEFAULT_LIMIT < body.pulled <= DEFAULT_LIMIT + CHUNK
    body = Body()
    response = await api.client.post("/v1/auth/login", content=body, headers=declared(body.total))
    assert_too_large(response, DEFAULT_LIMIT)
    assert body.pulled == 0


async def test_dashboard_form_posts_are_limited_too(api: Api) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    # One 64 KiB field per chunk: within the form parser's own limits (1 MiB a field,
    # 1000 fields) until the body limit, so only the body limit can refuse it.
    field = b"f=" + b"x" * (CHUNK - 3) + b"&"
    body = Body(piece=field)
    response = await api.client.post("/sign-in", content=body, headers=form)
    assert_too_large(response, DEFAULT_LIMIT)
    assert DEFAULT_LIMIT < body.pulled <= DEFAULT_LIMIT + CHUNK
    body = Body()
    response = await api.client.post(
        "/sign-in", content=body, headers={**form, "Content-Length": str(body.total)}
    )
    assert_too_large(response, DEFAULT_LIMIT)
    assert body.pulled == 0


async def test_a_form_field_the_parser_refuses_is_a_400_page_not_a_500(api: Api) -> None:
    """Starlette refuses a multipart part over 1 MiB while the form is read; that is the
    sender's fault, answered as such by the dashboard's error page."""
    boundary = "lgboundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="email"\r\n\r\n'
        + "x" * (1024 * 1024 + 1)
        + f"\r\n--{boundary}--\r\n"
    ).encode()
    response = await api.client.post(
        "/sign-in",
        content=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 400
    assert "Cannot read that form" in response.text


async def test_health_answers_while_a_huge_body_streams_in(api: Api) -> None:
    """The oversize request is held after its first chunk until /health has answered:
    a server that /health had to wait behind would never finish (the wait_for guard)."""
    org = await api.org()
    answered = asyncio.Event()
    body = Body(pause=answered)
    upload = asyncio.create_task(
        api.client.post("/v1/run", content=body, headers={**JSON, **org.headers})
    )
    while body.pulled == 0:
        await asyncio.sleep(0)
    health = await api.client.get("/health")
    assert health.status_code == 200
    answered.set()
    assert_too_large(await asyncio.wait_for(upload, 120), DEFAULT_LIMIT)
    assert body.pulled <= DEFAULT_LIMIT + CHUNK


# --- a real server ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start(tmp_path_factory.mktemp("body-limits"))
    try:
        yield server
    finally:
        stop(server)


def _raw_request(server: LiveServer, head: str, first_bytes: bytes = b"") -> bytes:
    """Send a request head (and maybe the start of a body), never the rest; return the
    server's answer. The socket timeout only guards against a hang."""
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        sock.sendall(head.encode() + b"\r\n" + first_bytes)
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += _recv(sock)
        start, _, body = answer.partition(b"\r\n\r\n")
        length = int(httpx.Headers(_header_lines(start)).get("content-length", "0"))
        while len(body) < length:
            body += _recv(sock)
        return start + b"\r\n\r\n" + body


def _recv(sock: socket.socket) -> bytes:
    chunk = sock.recv(65536)
    assert chunk, "the server closed the connection without an answer"
    return chunk


def _header_lines(start: bytes) -> list[tuple[str, str]]:
    lines = start.decode("latin-1").split("\r\n")[1:]
    return [(name.strip(), value.strip()) for name, _, value in (x.partition(":") for x in lines)]


@pytest.mark.slow
def test_real_server_refuses_a_declared_300_mb_body_without_waiting_for_it(
    live_server: LiveServer,
) -> None:
    head = (
        "POST /v1/run HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {live_server.api_key}\r\nContent-Length: {300 * MiB}\r\n"
    )
    answer = _raw_request(live_server, head)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b'"PAYLOAD_TOO_LARGE"' in answer


@pytest.mark.slow
def test_real_server_answers_401_to_an_anonymous_chunked_body_it_never_read(
    live_server: LiveServer,
) -> None:
    head = (
        "POST /v1/run HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n"
    )
    answer = _raw_request(live_server, head, b"10000\r\n" + b" " * 0x10000 + b"\r\n")
    assert answer.startswith(b"HTTP/1.1 401"), answer[:300]
    assert b'"UNAUTHORIZED"' in answer
    health = httpx.get(f"{live_server.url}/health", timeout=60)
    assert health.status_code == 200
