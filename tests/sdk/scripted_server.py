"""A real HTTP server on 127.0.0.1 that answers from a script, counting every connection
and request: what the SDK's retries are tested against, since the real API cannot be
told to fail on cue.

A script entry is ``(status, headers, body)``, ``CLOSE`` (drop the connection without
answering: a network error for the client) or ``Slow(seconds, entry)``. The last entry
repeats once the script runs out.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from launchgate.testing.fake_provider import free_port

CLOSE = "close"


@dataclass(frozen=True)
class Slow:
    """Answer ``entry`` after ``seconds``: a long synchronous run."""

    seconds: float
    entry: tuple[int, dict[str, str], Any] | str


Entry = tuple[int, dict[str, str], Any] | str | Slow


@dataclass
class Script:
    entries: list[Entry]
    connections: int = 0
    requests: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next(self) -> Entry:
        with self.lock:
            index = min(len(self.requests) - 1, len(self.entries) - 1)
            return self.entries[index]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    script: Script

    def get_request(self) -> tuple[socket.socket, Any]:
        connection = super().get_request()
        with self.script.lock:
            self.script.connections += 1
        return connection


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so connection reuse is observable
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        script = self.server.script
        with script.lock:
            script.requests.append((self.command, self.path, dict(self.headers), body))
        entry = script.next()
        if isinstance(entry, Slow):
            time.sleep(entry.seconds)
            entry = entry.entry
        if entry == CLOSE:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        assert not isinstance(entry, str)
        status, headers, payload = entry
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer


@contextmanager
def scripted_server(*entries: Entry) -> Iterator[tuple[str, Script]]:
    """Serve ``entries`` on a free port; yields the base URL and the script (its counters)."""
    script = Script(list(entries))
    server = _Server(("127.0.0.1", free_port()), _Handler)
    server.script = script
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", script
    finally:
        server.shutdown()
        server.server_close()


def closed_port() -> str:
    """A base URL on which nothing listens: connecting is refused at once."""
    return f"http://127.0.0.1:{free_port()}"


def run_answer(status: str = "cleared", run_id: str = "run_0000000000000000000000aa") -> Any:
    """A synchronous ``POST /v1/run`` answer of one passing case."""
    case = {
        "case": "Offers a refund",
        "case_id": "c1",
        "passed": status == "cleared",
        "score": 1.0 if status == "cleared" else 0.0,
        "threshold": 1.0,
        "weight": 1.0,
        "reason": "Value found",
        "status": "passed" if status == "cleared" else "failed",
        "duration_ms": 0.02,
        "scorer_type": "contains",
    }
    return {
        "id": run_id,
        "status": status,
        "passed": status == "cleared",
        "total_cases": 1,
        "passed_cases": int(status == "cleared"),
        "failed_cases": int(status != "cleared"),
        "error_cases": 0,
        "pass_rate": 1.0 if status == "cleared" else 0.0,
        "duration_ms": 0.4,
        "scores": [case],
        "failures": [] if status == "cleared" else [case],
    }


def error_answer(status: int, code: str, message: str) -> Entry:
    return (status, {}, {"error": {"code": code, "message": message, "details": None}})
