from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from launchgate.errors import Conflict, NotFound, ValidationFailed
from launchgate.kit.auth_context import AuthContext
from launchgate.kit.passwords import hash_password
from launchgate.kit.schema import single_line_problem
from launchgate.models import User
from launchgate.orgs import repository as orgs
from launchgate.users import repository

ROLES = ("owner", "member")
MIN_PASSWORD = 8


async def create_user(
    session: AsyncSession, org_id: uuid.UUID, email: str, password: str, role: str = "member"
) -> User:
    email = email.strip().lower()
    if single_line_problem(email):
        raise ValidationFailed(f"the email address {single_line_problem(email)}")
    if "@" not in email or len(email) > 320:
        raise ValidationFailed(f"'{email}' is not an email address")
    if role not in ROLES:
        raise ValidationFailed(f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed(f"password must be at least {MIN_PASSWORD} characters")
    if await orgs.get(session, org_id) is None:
        raise NotFound.of("Organisation", org_id)
    if await repository.get_by_email(session, email) is not None:
        raise Conflict(f"A user with email '{email}' already exists")
    user = repository.add(
        session, User(org_id=org_id, email=email, password_hash=hash_password(password), role=role)
    )
    await session.flush()
    return user


async def get_user(session: AsyncSession, auth: AuthContext) -> User:
    """The signed-in user of a JWT caller (the dashboard shows who is signed in)."""
    user = await repository.get(session, auth.user_id) if auth.user_id else None
    if user is None or user.org_id != auth.org_id:
        raise NotFound.of("User", auth.user_id)
    return user


async def emails_by_id(
    session: AsyncSession, auth: AuthContext, user_ids: set[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """Email of each of the caller's organisation's users among ``user_ids`` (the audit
    log names its actors); ids of other organisations are left out."""
    if not user_ids:
        return {}
    return await repository.emails_by_id(session, auth.org_id, user_ids)
