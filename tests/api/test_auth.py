"""Login (email + password → our JWT) and external OIDC tokens verified against a JWKS."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import delete

from launchgate.app import create_app
from launchgate.auth.service import authenticate
from launchgate.auth.tokens import issue_token
from launchgate.db import unit_of_work
from launchgate.kit.time import utcnow
from launchgate.models import User
from launchgate.runtime import ApiRuntime
from launchgate.users import repository as users
from tests.conftest import make_settings, started
from tests.factories import Api, Org

PASSWORD = "correct horse battery"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_unauthorized(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "UNAUTHORIZED"


async def login(api: Api, email: str, password: str = PASSWORD) -> httpx.Response:
    return await api.client.post("/v1/auth/login", json={"email": email, "password": password})


async def token_for(api: Api, org: Org) -> str:
    response = await login(api, await api.user(org))
    assert response.status_code == 200, response.text
    token: str = response.json()["data"]["access_token"]
    return token


async def project_slugs(client: httpx.AsyncClient, token: str) -> list[str]:
    response = await client.get("/v1/projects", headers=bearer(token))
    assert response.status_code == 200, response.text
    return [p["slug"] for p in response.json()["data"]]


async def _user_id(runtime: ApiRuntime, email: str) -> uuid.UUID:
    async with unit_of_work(runtime.sessions) as session:
        user = await users.get_by_email(session, email)
    assert user is not None
    return user.id


# --- built-in login -----------------------------------------------------------------------


async def test_login_returns_a_token(api: Api) -> None:
    org = await api.org()
    response = await login(api, await api.user(org))
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert set(data) == {"access_token", "token_type", "expires_in"}
    assert data["token_type"] == "bearer"
    assert data["expires_in"] == api.runtime.settings.jwt_ttl_s
    assert data["access_token"].count(".") == 2


async def test_token_acts_for_the_users_organisation(api: Api) -> None:
    org, other = await api.org(), await api.org()
    mine = await api.project(org)
    await api.project(other)
    token = await token_for(api, org)
    assert await project_slugs(api.client, token) == [mine["slug"]]
    # Writes land in the user's organisation too: the org's API key sees them.
    created = await api.client.post("/v1/projects", headers=bearer(token), json={"name": "Via JWT"})
    assert created.status_code == 201, created.text
    listed = (await api.ok("GET", "/v1/projects", org))["data"]
    assert created.json()["data"]["slug"] in {p["slug"] for p in listed}


async def test_email_is_case_insensitive(api: Api) -> None:
    email = await api.user(await api.org())
    response = await login(api, f"  {email.upper()} ")
    assert response.status_code == 200, response.text


async def test_wrong_password_and_unknown_email_look_the_same(api: Api) -> None:
    email = await api.user(await api.org())
    wrong_password = await login(api, email, "not the password")
    unknown_email = await login(api, f"nobody-{uuid.uuid4().hex[:8]}@example.com")
    assert_unauthorized(wrong_password)
    assert_unauthorized(unknown_email)
    assert wrong_password.json() == unknown_email.json()
    assert "not the password" not in wrong_password.text


@pytest.mark.parametrize(
    "body",
    [
        {"email": "a@example.com"},
        {"password": PASSWORD},
        {"email": "a@example.com", "password": PASSWORD, "remember": True},
        {"email": "a@example.com", "password": ""},
        {"email": 5, "password": PASSWORD},
    ],
)
async def test_bad_login_bodies_are_400(api: Api, body: dict[str, Any]) -> None:
    response = await api.client.post("/v1/auth/login", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def test_tampered_token_is_401(api: Api) -> None:
    org, other = await api.org(), await api.org()
    token = await token_for(api, org)
    header, payload, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = ".".join([header, _b64({**claims, "org_id": str(other.id)}), signature])
    assert_unauthorized(await api.client.get("/v1/projects", headers=bearer(forged)))
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    assert_unauthorized(
        await api.client.get("/v1/projects", headers=bearer(f"{header}.{payload}.{flipped}"))
    )


async def test_token_signed_with_another_secret_is_401(api: Api) -> None:
    org = await api.org()
    email = await api.user(org)
    user_id = await _user_id(api.runtime, email)
    token = issue_token("another-secret-" + "y" * 40, user_id=user_id, org_id=org.id, ttl_s=600)
    assert_unauthorized(await api.client.get("/v1/projects", headers=bearer(token)))


async def test_unsigned_token_is_401(api: Api) -> None:
    org = await api.org()
    claims = jwt.decode(await token_for(api, org), options={"verify_signature": False})
    unsigned = _b64({"alg": "none", "typ": "JWT"}) + "." + _b64(claims) + "."
    assert_unauthorized(await api.client.get("/v1/projects", headers=bearer(unsigned)))


async def test_expired_token_is_401(api: Api) -> None:
    org = await api.org()
    user_id = await _user_id(api.runtime, await api.user(org))
    expired = issue_token(api.runtime.jwt_secret, user_id=user_id, org_id=org.id, ttl_s=-5)
    assert_unauthorized(await api.client.get("/v1/projects", headers=bearer(expired)))
    fresh = issue_token(api.runtime.jwt_secret, user_id=user_id, org_id=org.id, ttl_s=600)
    assert await project_slugs(api.client, fresh) == []


async def test_token_naming_another_organisation_is_401(api: Api) -> None:
    """Even correctly signed: the user must belong to the organisation the token names."""
    org, other = await api.org(), await api.org()
    user_id = await _user_id(api.runtime, await api.user(org))
    token = issue_token(api.runtime.jwt_secret, user_id=user_id, org_id=other.id, ttl_s=600)
    assert_unauthorized(await api.client.get("/v1/projects", headers=bearer(token)))


async def test_token_of_a_deleted_user_is_401(api: Api) -> None:
    org = await api.org()
    email = await api.user(org)
    token = (await login(api, email)).json()["data"]["access_token"]
    assert await project_slugs(api.client, token) == []
    async with unit_of_work(api.runtime.sessions) as session:
        await session.execute(delete(User).where(User.email == email))
    assert_unauthorized(await api.client.get("/v1/projects", headers=bearer(token)))
    assert_unauthorized(await login(api, email))


# --- external OIDC issuer -----------------------------------------------------------------

OIDC_ISSUER = "https://idp.example.com/"
OIDC_AUDIENCE = "https://api.launchgate.test"


class Jwks:
    """A real JWKS endpoint on 127.0.0.1, serving the public half of one RSA key."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "test-key-1"
        jwk = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        body = json.dumps({"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]})
        payload = body.encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def mint(self, key: Any = None, kid: str | None = None, **claims: Any) -> str:
        now = utcnow()
        values: dict[str, Any] = {
            "iss": OIDC_ISSUER,
            "aud": OIDC_AUDIENCE,
            "iat": now,
            "exp": now + timedelta(minutes=5),
            "sub": "external-user-42",
        }
        values.update(claims)
        values = {k: v for k, v in values.items() if v is not None}
        return jwt.encode(
            values, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid}
        )


@pytest.fixture(scope="module")
def jwks() -> Iterator[Jwks]:
    server = Jwks()
    server.thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()


@pytest.fixture(scope="module")
async def oidc_app(
    database_url: str, jwks: Jwks, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FastAPI]:
    settings = make_settings(
        database_url,
        tmp_path_factory.mktemp("oidc"),
        oidc_jwks_url=jwks.url,
        oidc_issuer=OIDC_ISSUER,
        oidc_audience=OIDC_AUDIENCE,
    )
    async for running in started(create_app(settings)):
        yield running


@pytest.fixture
async def oidc(oidc_app: FastAPI) -> AsyncIterator[Api]:
    transport = httpx.ASGITransport(app=oidc_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Api(client, oidc_app.state.runtime)


async def test_oidc_token_acts_for_its_org_id_claim(oidc: Api, jwks: Jwks) -> None:
    org, other = await oidc.org(), await oidc.org()
    mine = await oidc.project(org)
    await oidc.project(other)
    token = jwks.mint(org_id=str(org.id))
    assert await project_slugs(oidc.client, token) == [mine["slug"]]
    created = await oidc.client.post("/v1/projects", headers=bearer(token), json={"name": "Idp"})
    assert created.status_code == 201, created.text


async def test_oidc_token_with_one_of_our_user_ids(oidc: Api, jwks: Jwks) -> None:
    org = await oidc.org()
    user_id = await _user_id(oidc.runtime, await oidc.user(org))
    token = jwks.mint(org_id=str(org.id), sub=str(user_id))
    assert await project_slugs(oidc.client, token) == []


async def test_own_login_still_works_beside_oidc(oidc: Api) -> None:
    org = await oidc.org()
    mine = await oidc.project(org)
    assert await project_slugs(oidc.client, await token_for(oidc, org)) == [mine["slug"]]


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"aud": "https://someone-else.example.com"}, id="wrong-audience"),
        pytest.param({"aud": None}, id="no-audience"),
        pytest.param({"iss": "https://evil.example.com/"}, id="wrong-issuer"),
        pytest.param({"exp": utcnow() - timedelta(minutes=1)}, id="expired"),
        pytest.param({"exp": None}, id="no-expiry"),
        pytest.param({"org_id": None}, id="no-org"),
        pytest.param({"org_id": "not-a-uuid"}, id="bad-org"),
    ],
)
async def test_bad_oidc_claims_are_401(oidc: Api, jwks: Jwks, claims: dict[str, Any]) -> None:
    org = await oidc.org()
    await oidc.project(org)
    token = jwks.mint(**{"org_id": str(org.id), **claims})
    assert_unauthorized(await oidc.client.get("/v1/projects", headers=bearer(token)))


async def test_oidc_token_of_an_unknown_key_is_401(oidc: Api, jwks: Jwks) -> None:
    org = await oidc.org()
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    unknown_kid = jwks.mint(key=stranger, kid="someone-elses-key", org_id=str(org.id))
    assert_unauthorized(await oidc.client.get("/v1/projects", headers=bearer(unknown_kid)))
    # The published kid, but signed by another key: the signature does not verify.
    wrong_key = jwks.mint(key=stranger, org_id=str(org.id))
    assert_unauthorized(await oidc.client.get("/v1/projects", headers=bearer(wrong_key)))


async def test_oidc_token_of_an_unknown_organisation_is_401(oidc: Api, jwks: Jwks) -> None:
    token = jwks.mint(org_id=str(uuid.uuid4()))
    assert_unauthorized(await oidc.client.get("/v1/projects", headers=bearer(token)))
    response = await oidc.client.post("/v1/projects", headers=bearer(token), json={"name": "X"})
    assert_unauthorized(response)


async def test_oidc_sub_names_a_user_only_when_it_is_one_of_the_orgs(oidc: Api, jwks: Jwks) -> None:
    org, other = await oidc.org(), await oidc.org()
    ours = await _user_id(oidc.runtime, await oidc.user(org))
    theirs = await _user_id(oidc.runtime, await oidc.user(other))
    expected = {
        str(ours): ours,
        str(theirs): None,
        "external-user-42": None,
        str(uuid.uuid4()): None,
    }
    for sub, user_id in expected.items():
        header = "Bearer " + jwks.mint(org_id=str(org.id), sub=sub)
        async with unit_of_work(oidc.runtime.sessions) as session:
            context = await authenticate(session, oidc.runtime, header, "10.0.0.1")
        assert (context.org_id, context.user_id, context.auth_mode) == (org.id, user_id, "jwt")
        assert context.api_key_id is None
