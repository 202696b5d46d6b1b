"""Puts the dashboard on an app: its pages at ``/`` and its static files at ``/static``.

The pages are plain routes added after the API's (never a mount at ``/``, which would
swallow the API's 404 and 405 answers), and hidden from the OpenAPI schema.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from launchgate.dashboard.pages import auth, batches, projects, runs, settings, suites
from launchgate.dashboard.web import HERE

router = APIRouter(include_in_schema=False)
for pages in (auth, projects, suites, runs, batches, settings):
    router.include_router(pages.router)


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
