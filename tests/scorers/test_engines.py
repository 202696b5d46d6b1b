"""The regex and JSON-schema engines load once per process, wherever `load` is called
from (scorers/builtin/engines.py: the run engine calls it in a thread)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from launchgate.scorers.builtin import engines


def test_nothing_is_needed_once_loaded_and_other_types_never_are() -> None:
    engines.load(["regex", "json_schema"])
    assert engines.needed(["regex", "json_schema", "contains", "llm_judge"]) == frozenset()
    engines.load(["regex"])  # loaded: nothing to do
    assert engines.needed(["exact_match", "contains"]) == frozenset()


def test_a_fresh_process_loads_each_engine_once_under_concurrent_callers() -> None:
    # A fresh interpreter: this one has imported the engines already.
    script = textwrap.dedent(
        """
        import sys, threading
        from launchgate.scorers.builtin import engines

        assert "regex" not in sys.modules and "jsonschema" not in sys.modules
        assert engines.needed(["contains", "regex", "json_schema"]) == {"regex", "json_schema"}
        assert engines.needed(["contains", "exact_match", "llm_judge"]) == frozenset()
        calls = []
        real = dict(engines._WARM)
        for name, warm in real.items():
            engines._WARM[name] = lambda name=name, warm=warm: (calls.append(name), warm())
        threads = [
            threading.Thread(target=engines.load, args=(["json_schema", "regex"],))
            for _ in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(calls) == ["json_schema", "regex"], calls
        assert "regex" in sys.modules and "jsonschema" in sys.modules
        assert engines.needed(["regex", "json_schema"]) == frozenset()
        print("ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
