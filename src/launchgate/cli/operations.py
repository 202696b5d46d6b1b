"""What the operator commands do, as plain async functions over a unit of work, so tests
call them directly and the Typer layer stays thin."""

from __future__ import annotations

import json
import os
import secrets
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from launchgate.byok import rotation
from launchgate.byok.vault import Vault
from launchgate.config import Settings
from launchgate.db import unit_of_work
from launchgate.kit.auth_context import AuthContext
from launchgate.models import Run
from launchgate.orgs import service as orgs
from launchgate.projects import service as projects
from launchgate.projects.schemas import ProjectCreate
from launchgate.runs import service as runs
from launchgate.runs.schemas import RunRequest
from launchgate.runtime import ApiRuntime
from launchgate.suites.from_template import instantiate
from launchgate.suites.templates import (
    STRUCTURED_OUTPUT_DEMO_FAIL,
    STRUCTURED_OUTPUT_DEMO_PASS,
    get_template,
)
from launchgate.users import service as users
from launchgate.wiring import api_runtime, core_runtime

QUICKSTART_MARKER = "quickstart.json"
DEMO_TEMPLATE = "structured-output"
OWNER_EMAIL = "owner@launchgate.local"


# Operator commands run on a ``Core`` (settings and the database): they sign no tokens and
# open no keys, so ``orgs create`` against an external database works before
# ``LAUNCHGATE_SECRET_KEY`` is set (``serve`` still insists on it).


@dataclass(frozen=True)
class DataDir:
    """Which data dir a server command uses, and whether it is new: ``serve`` run from
    another directory used to create a fresh, empty ``./.launchgate`` without a word, and
    the quickstart's key then answered "Invalid API key" (issue 12)."""

    path: Path  # absolute
    new: bool  # it holds no database yet: this start creates it
    nearby: Path | None  # an existing data dir above the working directory, when new


DEFAULT_DATA_DIR_NAME = ".launchgate"
DATABASE_FILE = "launchgate.db"


def inspect_data_dir(settings: Settings, cwd: Path | None = None) -> DataDir:
    """Look before the command creates anything. A data dir counts as new when it has no
    database file; ``nearby`` is the closest ``.launchgate`` holding one in a directory
    above ``cwd`` (where ``serve`` run from a subdirectory of a quickstart's finds it)."""
    path = settings.data_dir.expanduser().resolve()
    new = not (path / DATABASE_FILE).is_file()
    nearby = None
    if new:
        start = (cwd or Path.cwd()).resolve()
        for parent in (start, *start.parents):
            candidate = parent / DEFAULT_DATA_DIR_NAME
            if candidate != path and (candidate / DATABASE_FILE).is_file():
                nearby = candidate
                break
    return DataDir(path=path, new=new, nearby=nearby)


async def create_org(settings: Settings, name: str, plan: str) -> tuple[str, str]:
    async with core_runtime(settings) as core, unit_of_work(core.sessions) as session:
        created = await orgs.create_org(session, name, plan)
    return str(created.org.id), created.api_key


async def set_plan(settings: Settings, org: str, plan: str) -> str:
    """The organisation's plan before the change (``launchgate orgs set-plan``)."""
    org_id = uuid.UUID(org)
    async with core_runtime(settings) as core, unit_of_work(core.sessions) as session:
        return await orgs.set_plan(session, org_id, plan)


async def create_user(settings: Settings, org: str, email: str, password: str, role: str) -> str:
    org_id = uuid.UUID(org)
    async with core_runtime(settings) as core, unit_of_work(core.sessions) as session:
        user = await users.create_user(session, org_id, email, password, role)
    return str(user.id)


@dataclass
class QuickstartReport:
    already_done: bool
    org_id: str
    api_key: str | None = None
    email: str | None = None
    password: str | None = None
    project: str = "demo"
    suite: str = DEMO_TEMPLATE
    runs: list[tuple[str, Run]] = field(default_factory=list)


async def run_quickstart(settings: Settings) -> QuickstartReport:
    """Idempotent: a data dir that has been through the quickstart is left as it is."""
    marker = settings.data_dir / QUICKSTART_MARKER
    if marker.exists():
        return QuickstartReport(already_done=True, org_id=json.loads(marker.read_text())["org_id"])
    # The demo runs are made as the API makes them, so with the API's runtime, whole.
    async with api_runtime(settings) as runtime:
        report = await _set_up(runtime)
    # 0600 like every data file (kit/data_files.py): it names the organisation.
    fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(json.dumps({"org_id": report.org_id}))
    return report


async def _set_up(runtime: ApiRuntime) -> QuickstartReport:
    password = secrets.token_urlsafe(12)
    template = get_template(DEMO_TEMPLATE)
    assert template is not None and not template.uses_llm
    async with unit_of_work(runtime.sessions) as session:
        created = await orgs.create_org(session, "Quickstart", runtime.settings.default_plan)
        org_id = created.org.id
        await users.create_user(session, org_id, OWNER_EMAIL, password, "owner")
        auth = AuthContext(org_id=org_id, auth_mode="api_key", key_mode="live")
        project = await projects.create_project(
            session,
            auth,
            ProjectCreate(name="Demo", slug="demo", description="Created by launchgate quickstart"),
        )
        await instantiate(session, project, template)
    report = QuickstartReport(
        already_done=False,
        org_id=str(org_id),
        api_key=created.api_key,
        email=OWNER_EMAIL,
        password=password,
    )
    for label, output in (
        ("passing", STRUCTURED_OUTPUT_DEMO_PASS),
        ("failing", STRUCTURED_OUTPUT_DEMO_FAIL),
    ):
        body = RunRequest.model_validate(
            {"suite": DEMO_TEMPLATE, "output": output, "project": "demo", "trigger": "cli"}
        )
        async with unit_of_work(runtime.sessions) as session:
            values = await runs.accept_sync(session, runtime, auth, body)
        report.runs.append((label, await runs.finish_sync(runtime, values)))
    return report


def demo_payload(report: QuickstartReport) -> dict[str, Any]:
    return {"suite": report.suite, "project": report.project, "output": STRUCTURED_OUTPUT_DEMO_PASS}


async def rotate_byok_keys(
    settings: Settings, vault: Vault, batch_size: int = rotation.BATCH_SIZE
) -> rotation.RotationReport:
    """Reseal every stored BYOK key under the vault's current master key, batch by batch."""
    async with core_runtime(settings) as core:
        return await rotation.rotate_all(core.sessions, vault, batch_size)
