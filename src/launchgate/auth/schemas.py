from __future__ import annotations

from typing import Annotated

from pydantic import Field

from launchgate.kit.schema import StrictModel, WireModel


class LoginRequest(StrictModel):
    email: Annotated[str, Field(min_length=3, max_length=320)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class TokenOut(WireModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
