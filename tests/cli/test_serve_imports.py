"""A freshly started embedded ``launchgate serve`` has not imported the libraries it does
not use yet, so the idle-memory savings of issue 17 (bench/RESULTS.md, "Resident memory")
cannot silently regress; and the ones a first page or a first run needs are imported then,
and work.

The server is the real console script. A ``sitecustomize`` module put on its
``PYTHONPATH`` lets the test read its ``sys.modules``: on SIGUSR1 it writes their names
to a file (in the server's own process only: the migration's forked child never gets it),
with the number of objects its garbage collector has frozen (kit/heap.py).
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cli.conftest import QUIET_LIMITS, Cli, Server, make_cli, start_server, stop_server

pytestmark = pytest.mark.slow

# What a server that has served nothing yet must not have imported, and why.
DEFERRED = {
    "taskiq": "the queue library: embedded jobs are tasks of the server's event loop",
    "taskiq_redis": "the scaled-out queue",
    "aiohttp": "the provider client's transport: built on the first judge call or key test",
    "httpx": "the provider client: likewise",
    "jinja2": "the dashboard's templates: loaded with its first page",
    "jsonschema": "loaded with the first json_schema scorer validated or compiled",
    "regex": "loaded with the first regex (or json_schema) scorer",
    "re2": "likewise",
    "limits": "every request limit is off in this test",
    "jwt": "PyJWT: the first sign-in or signed-in request (API keys never need it)",
    "stripe": "the Stripe library: the first Stripe call, on a server that sells plans",
    "pygments": "structlog's rich tracebacks: our logs print plain ones",
    "rich.traceback": "likewise",
}
# What a dashboard page and a run through regex and json_schema scorers load.
LOADED_BY_USE = ("jinja2", "jsonschema", "regex", "re2")

HOOK = """
import gc, json, os, signal, sys, threading

_PID = os.getpid()
_OUT = os.environ["LAUNCHGATE_TEST_MODULES_OUT"]


def _dump(signum, frame):
    if os.getpid() != _PID:
        return
    with open(_OUT + ".tmp", "w") as out:
        json.dump({"modules": sorted(sys.modules), "frozen": gc.get_freeze_count()}, out)
    os.replace(_OUT + ".tmp", _OUT)


signal.signal(signal.SIGUSR1, _dump)


# Notes the thread each watched library is first imported in (find_spec is asked only
# for a module not in sys.modules yet).
class _FirstImports:
    WATCHED = ("regex", "jsonschema", "re2", "jinja2", "jwt")

    def find_spec(self, name, path=None, target=None):
        if name in self.WATCHED and os.getpid() == _PID:
            with open(_OUT + ".imports", "a") as out:
                record = {"name": name, "thread": threading.current_thread().name}
                print(json.dumps(record), file=out)
        return None


sys.meta_path.insert(0, _FirstImports())
"""


def _dumped(server: Server, out: Path, timeout_s: float = 20) -> dict[str, Any]:
    """What the hook writes: the names in the server's ``sys.modules`` now, and the
    number of objects its garbage collector has frozen."""
    out.unlink(missing_ok=True)
    server.process.send_signal(signal.SIGUSR1)
    deadline = time.monotonic() + timeout_s
    while not out.exists():
        assert time.monotonic() < deadline, "the server did not write its modules"
        time.sleep(0.05)
    dumped: dict[str, Any] = json.loads(out.read_text())
    return dumped


def _imported(server: Server, out: Path) -> set[str]:
    return set(_dumped(server, out)["modules"])


def _present(modules: set[str], name: str) -> bool:
    return name in modules or any(m.startswith(name + ".") for m in modules)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Server, str, Path]]:
    cli, key, out = _hooked(tmp_path)
    server = start_server(cli)
    try:
        yield server, key, out
    finally:
        stop_server(server)


def _hooked(tmp_path: Path) -> tuple[Cli, str, Path]:
    """A ``Cli`` whose servers run the hook, an organisation's key, and the hook's file."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(HOOK)
    out = tmp_path / "modules.json"
    cli = make_cli(tmp_path)
    cli.settings.update(QUIET_LIMITS)
    _, key = cli.create_org("Acme")
    path = os.pathsep.join(p for p in (str(hook), os.environ.get("PYTHONPATH", "")) if p)
    cli.settings.update(PYTHONPATH=path, LAUNCHGATE_TEST_MODULES_OUT=str(out))
    return cli, key, out


def test_a_fresh_server_has_not_imported_what_it_does_not_use(
    served: tuple[Server, str, Path],
) -> None:
    server, key, out = served
    modules = _imported(server, out)
    assert "launchgate.app" in modules  # the hook reads the server itself
    loaded = {name: why for name, why in DEFERRED.items() if _present(modules, name)}
    assert not loaded, f"imported at start, though deferred: {loaded}"
    # Start-up's objects are out of the collector's way (kit/heap.py): frozen once the app
    # started. A process that never called gc.freeze has none.
    assert _dumped(server, out)["frozen"] > 0

    # The first dashboard page loads jinja2 and renders; jinja2 and the templates are
    # loaded in a thread (dashboard/web.py), not on the event loop's main thread.
    page = httpx.get(f"{server.url}/sign-in", timeout=10)
    assert page.status_code == 200 and "<form" in page.text
    assert _first_imports(out)["jinja2"] != "MainThread"
    # The first token (here a bad one) loads PyJWT, in a thread too (auth/tokens.py).
    headers = {"Authorization": "Bearer not.a.token"}
    refused = httpx.get(f"{server.url}/v1/projects", headers=headers, timeout=10)
    assert refused.status_code == 401, refused.text
    assert _first_imports(out)["jwt"] != "MainThread"
    # The first run through regex and json_schema scorers loads their engines and scores.
    run = _run_with_regex_and_schema(server.url, key)
    assert run["status"] == "cleared", run
    assert [s["passed"] for s in run["scores"]] == [True, True], run
    modules = _imported(server, out)
    missing = [name for name in LOADED_BY_USE if not _present(modules, name)]
    assert not missing, f"not imported by their first use: {missing}"


def test_a_restarted_server_imports_the_engines_off_the_event_loop(tmp_path: Path) -> None:
    """The first run after a restart, of a suite with regex and json_schema cases, loads
    their engines in a thread (scorers/builtin/engines.py): on the event loop, which
    uvicorn runs in the main thread, the import held every other request for 70 ms to 1 s.
    (Creating the scorers validates them in a thread too, hence the restart between.)"""
    cli, key, out = _hooked(tmp_path)
    imports = Path(str(out) + ".imports")
    server = start_server(cli)
    try:
        assert _run_with_regex_and_schema(server.url, key)["status"] == "cleared"
    finally:
        stop_server(server)
    imports.unlink()
    server = start_server(cli)
    try:
        assert not _present(_imported(server, out), "regex")
        run = _post_run(server.url, key)
        assert run["status"] == "cleared", run
        assert [s["passed"] for s in run["scores"]] == [True, True], run
    finally:
        stop_server(server)
    first = _first_imports(out)
    assert set(first) == {"regex", "jsonschema", "re2"}, first
    assert "MainThread" not in first.values(), f"imported on the event loop's thread: {first}"


def _first_imports(out: Path) -> dict[str, str]:
    """The thread each watched library was first imported in, as the hook noted it."""
    first: dict[str, str] = {}
    for line in Path(str(out) + ".imports").read_text().splitlines():
        record = json.loads(line)
        first.setdefault(record["name"], record["thread"])
    return first


def _post_run(url: str, key: str) -> dict[str, Any]:
    answer = httpx.post(
        f"{url}/v1/run",
        json={"suite": "lazy-suite", "output": '{"n": 42}'},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()
    return data


def _run_with_regex_and_schema(url: str, key: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=url + "/v1", headers=headers, timeout=30) as client:

        def post(path: str, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
            answer = client.post(path, json=body)
            assert answer.status_code == status, answer.text
            data: dict[str, Any] = answer.json()
            return data

        post("/projects", {"name": "Lazy", "slug": "lazy"})
        regex_scorer = post(
            "/projects/lazy/scorers",
            {"name": "digits", "type": "regex", "config": {"pattern": r"\d+"}},
        )["data"]
        schema_scorer = post(
            "/projects/lazy/scorers",
            {
                "name": "object",
                "type": "json_schema",
                "config": {"schema": {"type": "object", "required": ["n"]}},
            },
        )["data"]
        suite = post("/projects/lazy/suites", {"name": "Lazy", "slug": "lazy-suite"})["data"]
        for name, scorer in (("digits", regex_scorer), ("object", schema_scorer)):
            post(f"/suites/{suite['id']}/cases", {"name": name, "scorer_id": scorer["id"]})
    return _post_run(url, key)
