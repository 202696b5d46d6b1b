"""Whatever an Authorization header holds, authenticating it ends in a caller or in
``Unauthorized``: never a database error (the key's query binds only its hash, the org's
facts come with it) and never a write."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from launchgate.auth.service import authenticate
from launchgate.db import unit_of_work
from launchgate.errors import Unauthorized
from launchgate.models import ApiKey
from tests.factories import Api

# What Starlette hands over: a header's bytes decoded as latin-1, so any of those 256
# characters, NUL and the controls included.
HEADER_TEXT = st.text(alphabet=st.characters(max_codepoint=255), max_size=200)
PREFIXES = st.sampled_from(["lg_live_", "lg_test_", "lg_live_lg_live_", "", "x.y."])


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(scheme=st.sampled_from(["Bearer ", "bearer  ", "Basic "]), prefix=PREFIXES, rest=HEADER_TEXT)
async def test_any_header_is_refused_cleanly(api: Api, scheme: str, prefix: str, rest: str) -> None:
    async with unit_of_work(api.runtime.sessions) as session:
        try:
            await authenticate(session, api.runtime, scheme + prefix + rest, "10.0.0.9")
        except Unauthorized:
            pass
        else:
            raise AssertionError("a made-up credential was accepted")


async def test_a_real_key_with_extra_text_is_refused_and_nothing_is_touched(api: Api) -> None:
    org = await api.org()
    for header in (f"Bearer {org.key}x", f"Bearer {org.key[:-1]}", f"Bearer {org.key}\x00"):
        async with unit_of_work(api.runtime.sessions) as session:
            try:
                await authenticate(session, api.runtime, header, "10.0.0.9")
            except Unauthorized as refused:
                assert refused.message == "Invalid API key"
            else:
                raise AssertionError(header)
    async with unit_of_work(api.runtime.sessions) as session:
        used = await session.scalar(
            select(func.count()).where(ApiKey.org_id == org.id, ApiKey.last_used_at.is_not(None))
        )
    assert used == 0
