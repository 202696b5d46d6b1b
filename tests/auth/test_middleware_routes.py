"""The authentication middleware recognises documented operations on paths without
parameters by a set lookup (``static_operations``) instead of matching every route: that
shortcut must never call routed what the router would not serve, nor miss a private one."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from launchgate.api import PUBLIC_PATHS
from launchgate.auth.middleware import needs_credential, routed, static_operations
from tests.factories import Api


def _scope(method: str, path: str) -> dict[str, object]:
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}


def test_every_static_operation_is_one_the_router_serves(app: FastAPI) -> None:
    static = static_operations(app.openapi())
    assert ("POST", "/v1/run") in static  # the hot path takes the shortcut
    assert all("{" not in path for _, path in static)
    for method, path in static:
        assert routed(app.router, _scope(method, path)), (method, path)


def test_the_router_serves_no_static_private_operation_the_shortcut_misses(app: FastAPI) -> None:
    """Every documented method on every parameter-free path: where the router says yes,
    the set says yes too, and where the router says no (a wrong method), so does the set."""
    static = static_operations(app.openapi())
    paths = {path for _, path in static}
    for path in paths:
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            assert ((method, path) in static) == routed(app.router, _scope(method, path)), (
                method,
                path,
            )


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/v1/run", 405),  # a wrong method keeps its 405, unauthenticated
        ("POST", "/v1/nowhere", 404),
        ("POST", "/v1/run", 401),
    ],
)
async def test_unauthenticated_answers_are_unchanged(
    api: Api, method: str, path: str, status: int
) -> None:
    assert needs_credential(path, PUBLIC_PATHS)
    response = await api.client.request(method, path, json={})
    assert response.status_code == status, response.text


@pytest.mark.parametrize(
    ("path", "public"),
    [
        ("/v1/billing/webhook", True),
        ("/v1/billing/webhooks", False),  # a prefix, not the path: a credential is needed
        ("/v1/billing/webhook-test", False),
        ("/v1/templates", True),
        ("/v1/templates/chatbot-safety", True),  # below a public path, at a segment
        ("/v1/templatesx", False),
        ("/v1/auth/login", True),
        ("/v1/auth/loginx", False),
    ],
)
def test_public_paths_match_whole_segments(path: str, public: bool) -> None:
    assert needs_credential(path, PUBLIC_PATHS) is not public


def test_the_schema_marks_exactly_the_credentialed_operations(app: FastAPI) -> None:
    schema = app.openapi()
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            secured = operation.get("security") == [{"bearer": []}]
            assert secured is needs_credential(path, PUBLIC_PATHS) or not path.startswith("/v1/")
