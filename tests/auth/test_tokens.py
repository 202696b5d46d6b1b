"""Our own JWTs (HS256 with the server secret) and the OIDC verifier's failure modes, as
plain functions. The OIDC happy path against a real JWKS server is in tests/api/test_auth.py."""

from __future__ import annotations

import socket
import uuid
from datetime import timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from launchgate.auth.tokens import (
    AUDIENCE,
    ISSUER,
    InvalidToken,
    OidcVerifier,
    issue_token,
    verify_own_token,
)
from launchgate.kit.passwords import hash_password, verify_password
from launchgate.kit.time import utcnow

SECRET = "unit-test-secret-" + "s" * 50  # long enough for HS512 too
USER, ORG = uuid.uuid4(), uuid.uuid4()


def claims(**overrides: Any) -> dict[str, Any]:
    now = utcnow()
    values: dict[str, Any] = {
        "sub": str(USER),
        "org_id": str(ORG),
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def test_round_trip() -> None:
    token = issue_token(SECRET, user_id=USER, org_id=ORG, ttl_s=600)
    assert verify_own_token(SECRET, token) == (ORG, USER)


def test_token_lifetime_follows_ttl() -> None:
    token = issue_token(SECRET, user_id=USER, org_id=ORG, ttl_s=600)
    decoded = jwt.decode(token, options={"verify_signature": False})
    assert decoded["exp"] - decoded["iat"] == 600
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_wrong_secret() -> None:
    token = issue_token(SECRET, user_id=USER, org_id=ORG, ttl_s=600)
    with pytest.raises(InvalidToken):
        verify_own_token("another-secret-" + "t" * 40, token)


def test_expired() -> None:
    token = issue_token(SECRET, user_id=USER, org_id=ORG, ttl_s=-1)
    with pytest.raises(InvalidToken):
        verify_own_token(SECRET, token)


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"aud": "someone-else"}, id="audience"),
        pytest.param({"aud": None}, id="no-audience"),
        pytest.param({"iss": "someone-else"}, id="issuer"),
        pytest.param({"iss": None}, id="no-issuer"),
        pytest.param({"exp": None}, id="no-expiry"),
        pytest.param({"sub": None}, id="no-subject"),
        pytest.param({"org_id": None}, id="no-org"),
        pytest.param({"org_id": "acme"}, id="org-not-uuid"),
        pytest.param({"sub": "alice"}, id="sub-not-uuid"),
        pytest.param({"org_id": 42}, id="org-a-number"),
    ],
)
def test_bad_claims(overrides: dict[str, Any]) -> None:
    token = jwt.encode(claims(**overrides), SECRET, algorithm="HS256")
    with pytest.raises(InvalidToken):
        verify_own_token(SECRET, token)


def test_only_hs256_is_accepted() -> None:
    unsigned = jwt.encode(claims(), "", algorithm="none")
    with pytest.raises(InvalidToken):
        verify_own_token(SECRET, unsigned)
    hs512 = jwt.encode(claims(), SECRET, algorithm="HS512")
    with pytest.raises(InvalidToken):
        verify_own_token(SECRET, hs512)


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "lg_live_" + "A" * 32])
def test_garbage(token: str) -> None:
    with pytest.raises(InvalidToken):
        verify_own_token(SECRET, token)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_oidc_with_its_jwks_unreachable_is_an_invalid_token() -> None:
    """A down identity provider makes tokens fail as 401, never a 500."""
    verifier = OidcVerifier(f"http://127.0.0.1:{_closed_port()}/jwks", "https://idp", "aud")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(
        claims(iss="https://idp", aud="aud"), key, algorithm="RS256", headers={"kid": "k1"}
    )
    with pytest.raises(InvalidToken):
        await verifier.verify(token)


async def test_oidc_refuses_a_token_without_a_kid_or_garbage() -> None:
    verifier = OidcVerifier(f"http://127.0.0.1:{_closed_port()}/jwks", None, "aud")
    for token in ("garbage", issue_token(SECRET, user_id=USER, org_id=ORG, ttl_s=60)):
        with pytest.raises(InvalidToken):
            await verifier.verify(token)


def test_passwords_hash_and_verify() -> None:
    hashed = hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$") and "correct horse" not in hashed
    assert verify_password(hashed, "correct horse battery")
    assert not verify_password(hashed, "Correct horse battery")
    assert not verify_password(None, "correct horse battery")
    assert not verify_password("not-a-hash", "x")
