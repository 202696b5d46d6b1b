"""HEAD is answered wherever GET is (RFC 9110 §9.3.2): every GET operation of the OpenAPI
schema, every dashboard page, the API reference and the static files answer HEAD with the
status and headers GET gets, and no body. Health probes and uptime checkers send HEAD; it
used to be 405 with an empty ``Allow`` header.

The routes are read from the app, not listed here, so a page or an endpoint added later is
covered without touching this file.
"""

from __future__ import annotations

import pkgutil
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from importlib import import_module

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from launchgate.dashboard import pages
from launchgate.suites.templates import STRUCTURED_OUTPUT_DEMO_PASS
from tests.factories import Api, Org, unique

PASSWORD = "correct horse battery"
# Headers that differ between any two answers, GET or not: a fresh CSRF token and the clock.
VOLATILE = {"date", "set-cookie", "x-request-id"}  # a new id for each request


@dataclass
class World:
    """One organisation with one of everything, so that each GET route finds its object."""

    org: Org
    email: str
    values: dict[str, str]

    def fill(self, path: str) -> str:
        if path.startswith("/v1/templates/"):
            return path.replace("{slug}", "structured-output")
        return re.sub(r"\{(\w+)\}", lambda m: self.values[m[1]], path)


@pytest.fixture
async def world(api: Api) -> World:
    org = await api.org()
    email = await api.user(org, PASSWORD)
    slug = unique("p")
    await api.ok("POST", "/v1/projects", org, 201, json={"name": slug, "slug": slug})
    await api.ok(
        "POST",
        f"/v1/projects/{slug}/suites/from-template",
        org,
        201,
        json={"template_slug": "structured-output", "slug": "s"},
    )
    suite = (await api.ok("GET", f"/v1/projects/{slug}/suites/s", org))["data"]
    case = (await api.ok("GET", f"/v1/suites/{suite['id']}/cases", org))["data"][0]
    # Each twice, the first on the main branch: the second's `compare` (baseline "auto"
    # by default) finds it.
    for meta in ({"branch": "main"}, {}):
        run = await api.ok(
            "POST",
            "/v1/run",
            org,
            json={
                "suite": "s",
                "project": slug,
                "output": STRUCTURED_OUTPUT_DEMO_PASS,
                "trigger_meta": meta,
            },
        )
        batch = await api.ok(
            "POST",
            "/v1/batches",
            org,
            json={
                "suite": "s",
                "project": slug,
                "items": [{"output": STRUCTURED_OUTPUT_DEMO_PASS, "key": "row-1"}],
                "trigger_meta": meta,
            },
        )
    key = await api.ok(
        "POST",
        "/v1/byok-keys",
        org,
        201,
        json={"provider": "openai", "name": "k", "key": "sk-" + "a" * 40},
    )
    values = {
        "slug": slug,
        "suite_slug": "s",
        "suite_id": suite["id"],
        "case_id": case["id"],
        "scorer_id": case["scorer_id"],
        "run_id": run["id"],
        "batch_id": batch["data"]["id"],
        "key_id": key["data"]["id"],
    }
    return World(org, email, values)


def browser(app: FastAPI) -> httpx.AsyncClient:
    """A client with cookies of its own (the shared one must not collect the dashboard's)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def assert_head_like_get(
    client: httpx.AsyncClient,
    path: str,
    headers: dict[str, str] | None = None,
    head_client: httpx.AsyncClient | None = None,
) -> int:
    """GET then HEAD (from ``head_client`` when the GET may set a cookie that would change
    the second answer); returns the status both got."""
    get = await client.get(path, headers=headers)
    head = await (head_client or client).head(path, headers=headers)
    assert head.status_code == get.status_code, (path, head.status_code, get.status_code)
    assert head.content == b"", path
    assert set(head.headers) == set(get.headers), path
    for name, value in get.headers.items():
        if name not in VOLATILE:
            assert head.headers[name] == value, (path, name)
    return get.status_code


def get_paths(app: FastAPI) -> list[str]:
    return [path for path, ops in app.openapi()["paths"].items() if "get" in ops]


def dashboard_pages() -> list[str]:
    """Every GET route of every module of ``launchgate.dashboard.pages``."""
    found = []
    for module in pkgutil.iter_modules(pages.__path__):
        router = import_module(f"{pages.__name__}.{module.name}").router
        for route in router.routes:
            if isinstance(route, APIRoute):
                assert route.methods is not None  # a route FastAPI declared has its methods
                if "GET" in route.methods:
                    found.append(route.path)
    return found


async def test_head_answers_like_get_on_every_get_operation_of_the_api(
    api: Api, app: FastAPI, world: World
) -> None:
    paths = get_paths(app)
    assert "/health" in paths and "/v1/runs/{run_id}" in paths  # the schema was read
    statuses = {}
    for path in paths:
        statuses[path] = await assert_head_like_get(
            api.client, world.fill(path), headers=world.org.headers
        )
    # Each found its object: the answers compared are the real ones, not 404s.
    assert set(statuses.values()) == {200}, statuses


async def test_head_answers_like_get_without_credentials_too(app: FastAPI) -> None:
    for path in get_paths(app):
        filled = re.sub(r"\{\w+\}", "00000000-0000-0000-0000-000000000000", path)
        async with browser(app) as one, browser(app) as other:
            await assert_head_like_get(one, filled, head_client=other)


@pytest.fixture
async def signed_in(app: FastAPI, world: World) -> AsyncIterator[httpx.AsyncClient]:
    """A browser of its own (its own cookies), signed in to the dashboard."""
    async with browser(app) as client:
        form = await client.get("/sign-in")
        token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', form.text)
        assert token, form.text
        signed = await client.post(
            "/sign-in",
            data={"email": world.email, "password": PASSWORD, "csrf_token": token[1]},
        )
        assert signed.status_code == 303, signed.text
        yield client


async def test_head_answers_like_get_on_every_dashboard_page(
    signed_in: httpx.AsyncClient, world: World
) -> None:
    paths = dashboard_pages()
    assert "/" in paths and "/settings/usage" in paths  # the pages were found
    statuses = {path: await assert_head_like_get(signed_in, world.fill(path)) for path in paths}
    # Each found its object (a page or, for / and /settings, a redirect to one), so the
    # answers compared are the real pages.
    assert {p: s for p, s in statuses.items() if s not in (200, 303)} == {}
    assert statuses["/projects/{slug}/suites/{suite_slug}"] == 200


async def test_head_answers_like_get_on_the_api_reference_and_static_files(app: FastAPI) -> None:
    paths = ("/docs", "/docs/assets/swagger-ui.css", "/openapi.json", "/static/dashboard.css")
    for path in (*paths, "/sign-in", "/"):
        async with browser(app) as one, browser(app) as other:
            assert await assert_head_like_get(one, path, head_client=other) in (200, 303), path


async def test_head_where_get_is_not_answered_is_what_get_gets(api: Api) -> None:
    assert await assert_head_like_get(api.client, "/no/such/page") == 404
    # A POST-only path: 405, and Allow names the method (it was empty for dashboard forms).
    for path in ("/v1/run", "/sign-out"):
        assert await assert_head_like_get(api.client, path) == 405, path
        assert (await api.client.head(path)).headers["allow"] == "POST", path
