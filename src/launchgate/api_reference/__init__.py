"""The interactive API reference at ``/docs``: Swagger UI from the package, never a CDN.

FastAPI's default ``/docs`` page loads Swagger UI from a CDN, so on a machine without
internet access it was a blank page (issue 12). This is FastAPI's documented way to
self-host it (``docs_url=None``, then ``get_swagger_ui_html`` pointed at our own copy,
vendored beside this file with its licence; see README.md there), under the dashboard's
Content-Security-Policy: nothing runs but our own files, and the one inline script that
starts Swagger UI is allowed by its hash alone. ReDoc (``/redoc``) is not served: it
injects inline styles and starts workers from ``blob:`` URLs, which that policy forbids,
and Swagger UI already covers what it showed.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

SWAGGER_UI = "swagger-ui-5.35.0"
ASSETS = Path(__file__).resolve().parent / SWAGGER_UI
DOCS_PATH = "/docs"
ASSETS_PATH = "/docs/assets"
FAVICON = "/static/favicon.svg"  # the dashboard's: one LaunchGate icon everywhere
# An inline <script> without attributes: Swagger UI's start-up code in FastAPI's page.
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def install(app: FastAPI, security_headers: Mapping[str, str]) -> None:
    """Serve ``/docs`` and its assets on ``app`` (created with ``docs_url=None``)."""
    app.mount(ASSETS_PATH, StaticFiles(directory=ASSETS), name="api-reference-assets")
    page = reference_page(app.openapi_url or "/openapi.json", f"{app.title} API reference")
    headers = with_script_hashes(security_headers, page)

    @app.get(DOCS_PATH, include_in_schema=False)
    async def api_reference() -> HTMLResponse:
        return HTMLResponse(page, headers=headers)


def reference_page(openapi_url: str, title: str) -> str:
    """FastAPI's Swagger UI page, every asset from this server."""
    response = get_swagger_ui_html(
        openapi_url=openapi_url,
        title=title,
        swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=FAVICON,
        # Swagger UI would otherwise send the schema to validator.swagger.io for a badge.
        swagger_ui_parameters={"validatorUrl": None},
    )
    return bytes(response.body).decode()


def with_script_hashes(headers: Mapping[str, str], page: str) -> dict[str, str]:
    """``headers`` with the page's inline scripts allowed by their SHA-256 in the policy's
    ``script-src``. Hashed from the page as rendered, so a FastAPI upgrade that changes
    the start-up code is allowed as it is, and nothing else inline ever runs."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(code.encode()).digest()).decode() + "'"
        for code in _INLINE_SCRIPT.findall(page)
    )
    policy = headers["Content-Security-Policy"]
    allowed = re.sub(r"script-src ([^;]*)", lambda m: f"script-src {m[1]} {hashes}", policy)
    return {**headers, "Content-Security-Policy": allowed}
