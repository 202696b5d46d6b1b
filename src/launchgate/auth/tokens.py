"""JWTs: our own (HS256, signed with the server secret) and, when configured, an external
OIDC issuer's (verified against its JWKS)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from types import ModuleType

from launchgate.kit.deferred import imported
from launchgate.kit.time import utcnow

ISSUER = "launchgate"
AUDIENCE = "launchgate-api"


class InvalidToken(Exception):
    """The token is malformed, expired, or signed by someone we do not trust."""


def _jwt() -> ModuleType:
    """PyJWT, imported with the first token issued or verified: a server used through API
    keys only never loads it (~2.5 MB resident at start, issue 17)."""
    import jwt

    return jwt


async def load() -> None:
    """PyJWT imported in a thread the first time (about 25 ms of CPU on a quiet machine,
    kit/deferred.py). The async callers of the functions below await it first."""
    await imported("jwt")


def issue_token(secret: str, *, user_id: uuid.UUID, org_id: uuid.UUID, ttl_s: int) -> str:
    now = utcnow()
    claims = {
        "sub": str(user_id),
        "org_id": str(org_id),
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + timedelta(seconds=ttl_s),
    }
    return str(_jwt().encode(claims, secret, algorithm="HS256"))


def verify_own_token(secret: str, token: str) -> tuple[uuid.UUID, uuid.UUID]:
    """Returns ``(org_id, user_id)``."""
    jwt = _jwt()
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "sub", "org_id"]},
        )
        # str(): a claim of another JSON type (a number) must fail as a bad token, not a 500.
        return uuid.UUID(str(claims["org_id"])), uuid.UUID(str(claims["sub"]))
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise InvalidToken(str(exc)) from None


class OidcVerifier:
    """Verifies tokens of an external issuer. The organisation comes from the ``org_id``
    claim; the user from ``sub`` when it is a UUID of ours."""

    def __init__(self, jwks_url: str, issuer: str | None, audience: str) -> None:
        self._jwks = _jwt().PyJWKClient(jwks_url, cache_keys=True, lifespan=300, timeout=5)
        self._issuer = issuer
        self._audience = audience

    async def verify(self, token: str) -> tuple[uuid.UUID, uuid.UUID | None]:
        return await asyncio.to_thread(self._verify, token)

    def _verify(self, token: str) -> tuple[uuid.UUID, uuid.UUID | None]:
        jwt = _jwt()
        try:
            key = self._jwks.get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=["RS256", "ES256", "PS256", "EdDSA"],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "org_id"], "verify_iss": self._issuer is not None},
            )
            org_id = uuid.UUID(str(claims["org_id"]))
        except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
            raise InvalidToken(str(exc)) from None
        try:
            user_id: uuid.UUID | None = uuid.UUID(str(claims.get("sub")))
        except ValueError:
            user_id = None
        return org_id, user_id
