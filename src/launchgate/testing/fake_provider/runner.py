"""Start the fake provider for a test or a benchmark, and drive its admin API.

`FakeProviderServer` runs uvicorn in a background thread of this process (fast, and the
server keeps its own event loop); `FakeProviderProcess` runs `python -m
launchgate.testing.fake_provider` as a child process, for benchmarks that must not share
the GIL. Both are context managers and expose the same URLs and admin helpers.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from types import TracebackType
from typing import Any, Self

import httpx
import uvicorn

from launchgate.testing.fake_provider.app import create_app
from launchgate.testing.fake_provider.state import State

STARTUP_TIMEOUT_S = 15.0


class _Handle:
    """Base URLs per provider, written as each official SDK takes them, and admin calls."""

    host = "127.0.0.1"
    port = 0

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return f"{self.base_url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.base_url

    @property
    def google_base_url(self) -> str:
        return self.base_url

    @property
    def azure_endpoint(self) -> str:
        return self.base_url

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        response = httpx.request(method, f"{self.base_url}/_admin/{path}", json=body, timeout=10)
        response.raise_for_status()
        return response.json()

    def configure(self, config: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
        """Merge settings (see the package docstring for the JSON shape)."""
        result: dict[str, Any] = self.admin("POST", "configure", {**(config or {}), **fields})
        return result

    def schedule(self, provider: str, *entries: dict[str, Any]) -> dict[str, Any]:
        """Replace one provider's error schedule."""
        return self.configure(schedule={provider: list(entries)})

    def counters(self) -> dict[str, Any]:
        result: dict[str, Any] = self.admin("GET", "counters")
        return result

    def recorded_requests(self, provider: str | None = None) -> list[dict[str, Any]]:
        suffix = f"?provider={provider}" if provider else ""
        result: list[dict[str, Any]] = self.admin("GET", "requests" + suffix)["requests"]
        return result

    def reset(self, *, counters: bool = True, config: bool = True) -> None:
        self.admin("POST", "reset", {"counters": counters, "config": config})

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError


class FakeProviderServer(_Handle):
    """The fake provider on a free port of 127.0.0.1, served from a background thread."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        config: dict[str, Any] | None = None,
        seed: int | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.state = State(seed=seed)
        if config:
            self.state.configure(config)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self._socket, self.port = sock, sock.getsockname()[1]
        config = uvicorn.Config(
            create_app(self.state),
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="fake-provider", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the fake provider server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None


class FakeProviderProcess(_Handle):
    """`python -m launchgate.testing.fake_provider` as a child process on a free port."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, extra_args: list[str] | None = None
    ) -> None:
        self.host, self.port = host, port or free_port(host)
        self.extra_args = extra_args or []
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "launchgate.testing.fake_provider",
            "--host",
            self.host,
            "--port",
            str(self.port),
            *self.extra_args,
        ]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                self.admin("GET", "health")
                return
            except httpx.HTTPError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("the fake provider process did not start")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port
