"""Small ``create_*`` helpers over the real API (and the real services where the API has
no endpoint, as for organisations)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from launchgate.api_keys import service as api_keys
from launchgate.db import unit_of_work
from launchgate.orgs import service as orgs
from launchgate.runtime import ApiRuntime, WorkerRuntime
from launchgate.users import service as users


@dataclass
class Org:
    id: uuid.UUID
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is the spec's error envelope with this status and code."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code, body
    error: dict[str, Any] = body["error"]
    return error


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class Api:
    """The app through HTTP, with one-liners for the objects most tests need."""

    def __init__(self, client: httpx.AsyncClient, runtime: ApiRuntime) -> None:
        self.client = client
        self.runtime = runtime

    @property
    def jobs(self) -> WorkerRuntime:
        """What jobs run with: the embedded app's in-process worker."""
        assert self.runtime.worker is not None, "a scaled-out API process runs no jobs"
        return self.runtime.worker

    async def org(self, plan: str = "enterprise") -> Org:
        async with unit_of_work(self.runtime.sessions) as session:
            created = await orgs.create_org(session, unique("org"), plan)
        return Org(created.org.id, created.api_key)

    async def test_key(self, org: Org) -> str:
        async with unit_of_work(self.runtime.sessions) as session:
            created = await api_keys.create_key(session, org.id, name="test", mode="test")
        return created.secret

    async def user(self, org: Org, password: str = "correct horse battery") -> str:
        email = f"{unique('user')}@example.com"
        async with unit_of_work(self.runtime.sessions) as session:
            await users.create_user(session, org.id, email, password, "owner")
        return email

    async def call(self, method: str, path: str, org: Org | None, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if org is not None:
            headers.update(org.headers)
        return await self.client.request(method, path, headers=headers, **kwargs)

    async def ok(self, method: str, path: str, org: Org, status: int = 200, **kw: Any) -> Any:
        response = await self.call(method, path, org, **kw)
        assert response.status_code == status, response.text
        return response.json() if response.content else None

    async def project(self, org: Org, **body: Any) -> dict[str, Any]:
        body.setdefault("name", unique("Project"))
        return (await self.ok("POST", "/v1/projects", org, 201, json=body))["data"]

    async def scorer(
        self,
        org: Org,
        project: str,
        type: str = "contains",
        config: dict[str, Any] | None = None,
        **body: Any,
    ) -> dict[str, Any]:
        body.update(type=type, config=config if config is not None else {"values": ["hello"]})
        body.setdefault("name", unique("scorer"))
        return (await self.ok("POST", f"/v1/projects/{project}/scorers", org, 201, json=body))[
            "data"
        ]

    async def suite(self, org: Org, project: str, **body: Any) -> dict[str, Any]:
        body.setdefault("name", unique("Suite"))
        return (await self.ok("POST", f"/v1/projects/{project}/suites", org, 201, json=body))[
            "data"
        ]

    async def case(self, org: Org, suite_id: str, scorer_id: str, **body: Any) -> dict[str, Any]:
        body.update(scorer_id=scorer_id)
        body.setdefault("name", unique("case"))
        return (await self.ok("POST", f"/v1/suites/{suite_id}/cases", org, 201, json=body))["data"]

    async def run(self, org: Org, suite: str, output: str, status: int = 200, **body: Any) -> Any:
        body.update(suite=suite, output=output)
        return await self.ok("POST", "/v1/run", org, status, json=body)

    async def gated_suite(
        self, org: Org, values: tuple[str, ...] = ("hello", "world"), **suite_body: Any
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """A project with one suite of ``contains`` cases, one per value: returns
        ``(project, suite)``."""
        project = await self.project(org)
        suite = await self.suite(org, project["slug"], **suite_body)
        for value in values:
            scorer = await self.scorer(org, project["slug"], config={"values": [value]})
            await self.case(org, suite["id"], scorer["id"], name=f"has {value}")
        return project, suite
