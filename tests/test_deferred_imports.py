"""Libraries the server imports only when first needed (issue 17, idle resident memory):
each one absent after the code that defers it is loaded and set up, then imported, and
working, on its first use. Each check runs in a fresh interpreter, where nothing else
has imported the library yet. (A whole started server: tests/cli/test_serve_imports.py.)
"""

from __future__ import annotations

import os
import subprocess
import sys

PROXIES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


def _run(script: str) -> list[str]:
    """The script's last line of output, split: its checks print their answers there."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in PROXIES}
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1].split()


def test_logging_keeps_rich_tracebacks_out_and_still_prints_plain_ones() -> None:
    """structlog is imported without rich's tracebacks (and pygments); a logged exception
    still carries its plain traceback, and rich's tracebacks stay importable for others."""
    script = """
import io, logging, sys
import launchgate.logging as lg
lg.configure("INFO")
import structlog
out = io.StringIO()
structlog.configure(logger_factory=structlog.PrintLoggerFactory(out))
lg.configure("INFO")
structlog.configure(logger_factory=structlog.PrintLoggerFactory(out))
try:
    1 / 0
except ZeroDivisionError:
    structlog.get_logger("probe").exception("boom")
text = out.getvalue()
absent = "rich.traceback" not in sys.modules and "pygments" not in sys.modules
import rich.traceback
print(absent, "Traceback (most recent call last)" in text, "ZeroDivisionError" in text,
      "rich.traceback" in sys.modules)
"""
    assert _run(script) == ["True", "True", "True", "True"]


def test_request_limits_import_limits_only_when_one_is_on() -> None:
    script = """
import asyncio, sys
from launchgate.auth.limits import RequestLimits
from launchgate.config import Settings

def settings(rate):
    return Settings(env="test", rate_limit=rate, auth_rate_limit="off", lockout_limit="off")

off = RequestLimits(settings("off"))
before = "limits" in sys.modules

async def hits(limits):
    return [await limits.hit(limits.api, "api:ip") for _ in range(3)]

off_hits = asyncio.run(hits(off))
on = RequestLimits(settings("2/minute"))
on_hits = asyncio.run(hits(on))
print(before, off_hits == [None] * 3, "limits" in sys.modules, on_hits[:2] == [None, None],
      isinstance(on_hits[2], int) and on_hits[2] > 0)
"""
    assert _run(script) == ["False", "True", "True", "True", "True"]


def test_the_provider_client_imports_httpx_and_aiohttp_on_its_first_request() -> None:
    """On its first request, and in a thread: on the event loop, which runs in the main
    thread here, the imports and the certificates held every other request for 0.1 s or
    more (providers/http.py)."""
    script = """
import asyncio, json, sys, threading

first_imports = {}

class FirstImports:  # find_spec is asked only for a module not in sys.modules yet
    def find_spec(self, name, path=None, target=None):
        if name in ("httpx", "aiohttp", "certifi"):
            first_imports.setdefault(name, threading.current_thread().name)
        return None

sys.meta_path.insert(0, FirstImports())
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from launchgate.providers import create_client
from launchgate.providers.errors import ProviderServerError
from launchgate.providers.http import send

class Answer(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"ok": True}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
threading.Thread(target=server.serve_forever, daemon=True).start()
url = f"http://127.0.0.1:{server.server_address[1]}/v1/models"

def refuse(status, headers, body):
    return ProviderServerError("openai", f"unexpected {status}", status)

async def main():
    client = create_client(timeout_s=5.0)
    before = [name in sys.modules for name in ("httpx", "aiohttp")]
    async with client:
        answer = await send(client, "GET", url, provider="openai", secret="sk-unused",
                            read_error=refuse, timeout_s=5.0)
    after = [name in sys.modules for name in ("httpx", "aiohttp")]
    return before, answer, after

before, answer, after = asyncio.run(main())
server.shutdown()
off_loop = sorted(first_imports) == ["aiohttp", "certifi", "httpx"] and (
    "MainThread" not in first_imports.values())
print(before == [False, False], answer == {"ok": True}, after == [True, True], off_loop)
"""
    assert _run(script) == ["True", "True", "True", "True"]


def test_the_stripe_library_is_imported_off_the_event_loop() -> None:
    """Every async Stripe path loads the library through ``library()``: in a thread, the
    first time (about 50 ms of CPU on a quiet machine, far more on a loaded one)."""
    script = """
import asyncio, sys, threading

first_imports = {}

class FirstImports:  # find_spec is asked only for a module not in sys.modules yet
    def find_spec(self, name, path=None, target=None):
        if name == "stripe":
            first_imports.setdefault(name, threading.current_thread().name)
        return None

sys.meta_path.insert(0, FirstImports())
from launchgate.billing import stripe_client

before = "stripe" in sys.modules
lib = asyncio.run(stripe_client.library())
again = asyncio.run(stripe_client.library())
print(before, lib is sys.modules["stripe"], again is lib,
      first_imports.get("stripe") not in (None, "MainThread"))
"""
    assert _run(script) == ["False", "True", "True", "True"]
