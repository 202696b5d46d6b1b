"""What the dashboard added to the services, on both backends: the session's caller from
its cookie's JWT, the signed-in user, the audit log's actor names, a project by id. Each
is scoped to the caller's organisation like everything else."""

from __future__ import annotations

import uuid

import pytest

from launchgate.auth import service as auth_service
from launchgate.auth.tokens import issue_token
from launchgate.db import unit_of_work
from launchgate.errors import NotFound, Unauthorized
from launchgate.kit.auth_context import AuthContext
from launchgate.projects import service as projects
from launchgate.runtime import ApiRuntime
from launchgate.users import service as users
from tests.factories import Api, Org, unique


async def make_user(runtime: ApiRuntime, org: Org) -> tuple[uuid.UUID, str]:
    email = f"{unique('user')}@example.com"
    async with unit_of_work(runtime.sessions) as session:
        user = await users.create_user(session, org.id, email, "correct horse battery")
    return user.id, email


def jwt_of(org: Org) -> AuthContext:
    return AuthContext(org_id=org.id, auth_mode="jwt")


async def test_a_session_token_names_its_user(api: Api, runtime: ApiRuntime) -> None:
    org = await api.org()
    _, email = await make_user(runtime, org)
    login = await api.client.post(
        "/v1/auth/login", json={"email": email, "password": "correct horse battery"}
    )
    token = login.json()["data"]["access_token"]
    async with unit_of_work(runtime.sessions) as session:
        auth = await auth_service.session_context(session, runtime, token)
        user = await users.get_user(session, auth)
    assert auth.org_id == org.id and auth.auth_mode == "jwt" and auth.api_key_id is None
    assert user.email == email and auth.user_id == user.id


async def test_a_session_takes_only_our_own_tokens_of_real_users(
    api: Api, runtime: ApiRuntime
) -> None:
    org, other = await api.org(), await api.org()
    user_id, _ = await make_user(runtime, org)
    refused = [
        org.key,  # an API key is for the Authorization header, not a cookie
        "not-a-token",
        issue_token("another-secret-" + "x" * 40, user_id=user_id, org_id=org.id, ttl_s=60),
        issue_token(runtime.jwt_secret, user_id=user_id, org_id=other.id, ttl_s=60),
        issue_token(runtime.jwt_secret, user_id=uuid.uuid4(), org_id=org.id, ttl_s=60),
    ]
    async with unit_of_work(runtime.sessions) as session:
        for token in refused:
            with pytest.raises(Unauthorized):
                await auth_service.session_context(session, runtime, token)


async def test_the_signed_in_user_is_of_the_callers_organisation(
    api: Api, runtime: ApiRuntime
) -> None:
    org, other = await api.org(), await api.org()
    user_id, _ = await make_user(runtime, org)
    async with unit_of_work(runtime.sessions) as session:
        with pytest.raises(NotFound):
            await users.get_user(session, AuthContext(other.id, "jwt", user_id=user_id))
        with pytest.raises(NotFound):
            await users.get_user(session, AuthContext(org.id, "api_key"))


async def test_actor_emails_only_of_the_callers_users(api: Api, runtime: ApiRuntime) -> None:
    org, other = await api.org(), await api.org()
    mine, email = await make_user(runtime, org)
    theirs, _ = await make_user(runtime, other)
    async with unit_of_work(runtime.sessions) as session:
        found = await users.emails_by_id(session, jwt_of(org), {mine, theirs, uuid.uuid4()})
        assert found == {mine: email}
        assert await users.emails_by_id(session, jwt_of(org), set()) == {}


async def test_a_project_by_id_is_scoped(api: Api, runtime: ApiRuntime) -> None:
    org, other = await api.org(), await api.org()
    project = await api.project(org)
    project_id = uuid.UUID(project["id"])
    async with unit_of_work(runtime.sessions) as session:
        assert (await projects.get_project_by_id(session, jwt_of(org), project_id)).slug == project[
            "slug"
        ]
        with pytest.raises(NotFound):
            await projects.get_project_by_id(session, jwt_of(other), project_id)
