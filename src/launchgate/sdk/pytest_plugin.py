"""The LaunchGate pytest plugin: a ``launchgate`` fixture and ``--launchgate-strict``.

Registered as the ``pytest11`` entry point ``launchgate``, so pytest loads it in every run
of every environment where launchgate-eval is installed, whether the project uses it or
not. Loading must therefore cost nothing beyond pytest itself: this module imports only
pytest, declares one option, one ini setting and one fixture, and makes the client (with
httpx, and the reading of ``.launchgaterc``) only when a test first asks for the fixture.
``-p no:launchgate`` turns it off.

Strictness is a property of where the suite runs (CI, where an unchecked release must not
pass; a laptop, where an outage should not block work), not of one test, so it is set for
the whole session: ``--launchgate-strict``, ``launchgate_strict = true`` in the ini file,
or ``LAUNCHGATE_FAIL_OPEN=false`` (the SDK's own switch) — see docs/pytest.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from launchgate.sdk.pytest_gate import PytestLaunchGate

STRICT_OPTION = "--launchgate-strict"
STRICT_INI = "launchgate_strict"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("launchgate", "LaunchGate release gate (the launchgate fixture)")
    group.addoption(
        STRICT_OPTION,
        action="store_true",
        default=False,
        dest="launchgate_strict",
        help="fail a gate the API could not run (skipped, fail-open) instead of passing it "
        "with a warning; for CI. Also: launchgate_strict = true (ini), LAUNCHGATE_FAIL_OPEN=false",
    )
    parser.addini(
        STRICT_INI,
        type="bool",
        default=False,
        help="like --launchgate-strict: a gate the API could not run fails the test",
    )


def strict_by(config: pytest.Config) -> str | None:
    """The setting that makes this session strict, in the words a message should quote, or
    None (then ``LAUNCHGATE_FAIL_OPEN`` still decides, as it does for the SDK)."""
    if config.getoption("launchgate_strict"):
        return STRICT_OPTION
    if config.getini(STRICT_INI):
        return f"{STRICT_INI} = true"
    return None


@pytest.fixture(scope="session")
def launchgate(pytestconfig: pytest.Config) -> Iterator[PytestLaunchGate]:
    """A LaunchGate client configured as the SDK configures one (``LAUNCHGATE_API_KEY`` /
    ``LAUNCHGATE_API_URL``, then ``./.launchgaterc``, then ``~/.launchgaterc``), with
    ``assert_cleared``. One per session (per xdist worker), so its connection pool is
    shared; a configuration error fails each test that asks for it, with the SDK's
    message."""
    from launchgate.sdk.pytest_gate import open_gate

    gate = open_gate(strict_by(pytestconfig))
    try:
        yield gate
    finally:
        gate.close()
