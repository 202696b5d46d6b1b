"""A row changed by one transaction and deleted by another meanwhile is a 404, not a 500."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import delete

from launchgate.db import commit, unit_of_work
from launchgate.errors import NotFound
from launchgate.kit.auth_context import AuthContext
from launchgate.models import Suite
from launchgate.suites.cases import service as cases
from tests.factories import Api


async def test_a_case_whose_suite_vanished_mid_request_is_not_found(api: Api) -> None:
    org = await api.org()
    _, suite = await api.gated_suite(org, values=("a",))
    case_id = (await api.ok("GET", f"/v1/suites/{suite['id']}/cases", org))["data"][0]["id"]
    auth = AuthContext(org_id=org.id, auth_mode="api_key")
    async with api.runtime.sessions() as session:
        await cases.delete_case(session, auth, uuid.UUID(case_id))  # loaded, soft-deleted
        async with unit_of_work(api.runtime.sessions) as other:  # meanwhile: suite gone
            await other.execute(delete(Suite).where(Suite.id == uuid.UUID(suite["id"])))
        with pytest.raises(NotFound):
            await commit(session)
