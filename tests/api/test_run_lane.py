"""``LeanRunLane`` serves ``POST /v1/run`` past the authentication, without the router: what
it leaves goes on down the app with its body replayed, and what goes wrong inside it is
answered by the app's handlers exactly as on the route."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from launchgate.runs import service
from tests.factories import Api


async def test_what_the_lane_leaves_reaches_the_endpoint_with_its_body(api: Api) -> None:
    org = await api.org()
    _, suite = await api.gated_suite(org, values=("hello",))
    plain = {"suite": suite["slug"], "output": "hello there"}
    estimate = await api.ok("POST", "/v1/run", org, json={**plain, "dry_run": True})
    assert estimate["dry_run"] is True and estimate["suite"]["slug"] == suite["slug"]
    accepted = await api.ok("POST", "/v1/run", org, 202, json={**plain, "async": True})
    assert accepted["status"] == "pending"
    # A body the lane reads and hands on (an integer past 64 bits) arrives whole.
    big = await api.run(org, suite["slug"], "hello", input={"n": 2**64 + 1})
    stored = await api.ok("GET", f"/v1/runs/{big['id']}", org)
    assert stored["data"]["input"] == {"n": 2**64 + 1}


async def test_a_crash_inside_the_lane_is_the_500_envelope(
    api: Api, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = await api.org()
    _, suite = await api.gated_suite(org, values=("hello",))

    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("lg_live_canary-text-that-must-not-be-shown")

    monkeypatch.setattr(service, "score_now", broken)
    # As a server does: the 500 answer is sent, the exception is not raised to the client.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        answer = await client.post(
            "/v1/run", headers=org.headers, json={"suite": suite["slug"], "output": "x"}
        )
    assert answer.status_code == 500
    error = answer.json()["error"]
    assert error["code"] == "INTERNAL_ERROR"
    assert error["details"]["request_id"] == answer.headers["X-Request-ID"]
    assert "canary" not in answer.text and "Traceback" not in answer.text
