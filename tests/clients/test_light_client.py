"""The client side works on the light install (httpx, typer, rich only): the SDK and
``launchgate run`` load no server library and no launchgate module but the SDK, and
``import launchgate`` stays cheap until the SDK is asked for."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.cli.test_light_install import SERVER_ONLY
from tests.clients.live import CLEARED_OUTPUT, Gate


def _python(code: str, *hidden: str) -> subprocess.CompletedProcess[str]:
    hide = "; ".join(f"sys.modules[{name!r}] = None" for name in (*SERVER_ONLY, *hidden))
    return subprocess.run(
        [sys.executable, "-c", f"import sys; {hide}; {code}"],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_launchgate_run_works_without_the_server_stack(gate: Gate) -> None:
    argv = [
        "launchgate",
        "run",
        "refund-replies",
        "--output",
        CLEARED_OUTPUT,
        "--api-key",
        gate.key,
        "--api-url",
        gate.url,
        "--json",
    ]
    done = _python(f"sys.argv = {argv!r}; from launchgate.cli.main import main; main()")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "cleared"


def test_the_sdk_works_without_the_server_stack(gate: Gate) -> None:
    done = _python(
        "from launchgate import LaunchGate, AsyncLaunchGate; "
        f"g = LaunchGate({gate.key!r}, {gate.url!r}); "
        f"print(g.run('refund-replies', {CLEARED_OUTPUT!r}).status); g.close()",
        "pydantic",
        "typer",
        "rich",
    )  # the SDK needs httpx alone
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "cleared"


def test_the_client_modules_load_nothing_else_of_launchgate() -> None:
    done = _python(
        "import launchgate.cli.run, launchgate.cli.run.github, launchgate.cli.run.junit; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'launchgate'))"
    )
    assert done.returncode == 0, done.stderr
    loaded = set(eval(done.stdout))
    allowed = {"launchgate", "launchgate.cli"}
    assert {
        m
        for m in loaded
        if m not in allowed and not m.startswith(("launchgate.sdk", "launchgate.cli.run"))
    } == set()
    assert "launchgate.sdk.client" in loaded


def test_import_launchgate_does_not_load_the_sdk_until_asked() -> None:
    done = _python(
        "import launchgate; before = 'httpx' in sys.modules; "
        "launchgate.LaunchGate; print(before, 'httpx' in sys.modules)"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True"]


def test_the_cli_starts_without_loading_the_http_client() -> None:
    """``launchgate --help`` and the server commands do not pay for httpx; ``run`` loads it
    when it runs."""
    done = _python("import launchgate.cli.main; print('httpx' in sys.modules)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
