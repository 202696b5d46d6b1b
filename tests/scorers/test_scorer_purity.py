"""scorers.builtin is the functional core: importing it must not drag in the shell."""

import json
import os
import subprocess
import sys

FORBIDDEN = ("fastapi", "starlette", "sqlalchemy", "pydantic", "httpx", "anyio", "taskiq")
PROBE = """
import json, sys
import launchgate.scorers.builtin
print(json.dumps(sorted(sys.modules)))
"""


def test_builtin_scorers_import_nothing_impure() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    probe = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, env=env
    )
    modules = json.loads(probe.stdout)
    roots = {name.split(".")[0] for name in modules}
    assert not roots & set(FORBIDDEN)
    ours = [name for name in modules if name.split(".")[0] == "launchgate"]
    assert all(
        name in ("launchgate", "launchgate.scorers")
        or name.startswith("launchgate.scorers.builtin")
        for name in ours
    ), ours
