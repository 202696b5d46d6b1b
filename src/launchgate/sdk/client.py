"""``LaunchGate`` and ``AsyncLaunchGate``: score an output against a suite from Python.

Each client owns one httpx connection pool for its lifetime (use it as a context manager,
or call ``close``), so a service that gates every answer pays for a TLS handshake once.
The two classes mirror each other; only sending and sleeping differ.
"""

from __future__ import annotations

import asyncio
import logging
import time
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from launchgate.sdk._http import (
    RetryPolicy,
    Transient,
    describe,
    gave_up,
    headers,
    log_retry,
    read_answer,
    sdk_version,
)
from launchgate.sdk.config import ClientConfig, resolve_config
from launchgate.sdk.errors import LaunchGateError, UnreachableError, WaitTimeout
from launchgate.sdk.models import RunResult

log = logging.getLogger("launchgate.sdk")


class _Base:
    """Configuration shared by both clients: resolution, retry policy, request bodies."""

    def __init__(
        self,
        api_key: str | None,
        base_url: str | None,
        timeout: float,
        max_retries: int,
        backoff: float,
        max_retry_after: float,
    ) -> None:
        self.config: ClientConfig = resolve_config(api_key, base_url)
        self.retry = RetryPolicy(max_retries, backoff, max_retry_after)
        self.timeout = timeout
        self._headers = headers(self.config.api_key, sdk_version())

    @property
    def base_url(self) -> str:
        return self.config.base_url

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    @staticmethod
    def _run_body(
        suite: str,
        output: str,
        input: dict[str, Any] | None,
        trigger: str,
        trigger_meta: dict[str, Any] | None,
        async_: bool,
        project: str | None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "suite": suite,
            "output": output,
            "input": input or {},
            "trigger": trigger,
            "trigger_meta": trigger_meta or {},
            "async": async_,
        }
        if project:
            body["project"] = project
        return body

    @staticmethod
    def _skipped(exc: UnreachableError, suite: str) -> RunResult:
        log.warning("%s; run of suite %r skipped (counts as passed)", exc.message, suite)
        return RunResult.skipped_because(exc.message)

    @staticmethod
    def _run_path(run: str | RunResult) -> str:
        run_id = run.id if isinstance(run, RunResult) else run
        if not run_id:
            raise LaunchGateError("A skipped run has no id to fetch", code="NO_RUN_ID")
        return f"/v1/runs/{quote(run_id, safe='')}"

    @staticmethod
    def _unwrap(answer: dict[str, Any]) -> RunResult:
        data = answer.get("data")
        if not isinstance(data, dict):
            raise LaunchGateError("The API answered without a run in 'data'", code="BAD_ANSWER")
        return RunResult.from_json(data)


class LaunchGate(_Base):
    """Synchronous client.

    ``api_key`` and ``base_url`` default to the environment and ``.launchgaterc`` (see
    ``resolve_config``). Network errors, 5xx and 429 are retried ``max_retries`` times,
    ``backoff × 2ⁿ`` seconds apart (honouring ``Retry-After``); tests pass a tiny backoff.
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = 30.0,
        *,
        max_retries: int = 3,
        backoff: float = 1.0,
        max_retry_after: float = 60.0,
    ) -> None:
        super().__init__(api_key, base_url, timeout, max_retries, backoff, max_retry_after)
        self._http = httpx.Client(base_url=self.base_url, headers=self._headers, timeout=timeout)

    def run(
        self,
        suite: str,
        output: str,
        input: dict[str, Any] | None = None,
        trigger: str = "sdk",
        trigger_meta: dict[str, Any] | None = None,
        async_: bool = False,
        project: str | None = None,
    ) -> RunResult:
        """Score ``output`` against every active case of the suite with slug ``suite``.

        Returns the verdict (``pending`` with ``async_=True``; poll with ``wait``), or a
        ``skipped`` result that counts as passed when the API stays unreachable. Raises
        ``AuthError``, ``PaymentError``, ``ValidationError`` or ``NotFoundError``.
        """
        body = self._run_body(suite, output, input, trigger, trigger_meta, async_, project)
        try:
            return RunResult.from_json(self._request("POST", "/v1/run", body))
        except UnreachableError as exc:
            return self._skipped(exc, suite)

    def get_run(self, run_id: str | RunResult) -> RunResult:
        """The stored run with its scores, trigger and timestamps. Raises
        ``UnreachableError`` after the retries, ``NotFoundError`` for an unknown id."""
        return self._unwrap(self._request("GET", self._run_path(run_id)))

    def wait(
        self, run_id: str | RunResult, interval: float = 2.0, timeout: float = 60.0
    ) -> RunResult:
        """Poll an async run every ``interval`` seconds until it is final; ``WaitTimeout``
        (carrying the last run seen) after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.get_run(run_id)
            remaining = deadline - time.monotonic()
            if run.done:
                return run
            if remaining <= 0:
                raise WaitTimeout(f"Run {run.id} still {run.status} after {timeout:g} s", run)
            time.sleep(min(interval, remaining))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> LaunchGate:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _request(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        reason = ""
        for attempt in range(1, self.retry.attempts + 1):
            retry_after = None
            try:
                return read_answer(self._http.request(method, path, json=body))
            except httpx.TransportError as exc:
                reason = describe(exc)
            except Transient as exc:
                reason, retry_after = exc.reason, exc.retry_after
            if attempt < self.retry.attempts:
                delay = self.retry.delay(attempt - 1, retry_after)
                log_retry(method, path, attempt, reason, delay)
                time.sleep(delay)
        raise UnreachableError(
            gave_up(method, path, self.retry.attempts, reason), self.retry.attempts
        )


class AsyncLaunchGate(_Base):
    """The asyncio twin of ``LaunchGate``: same arguments, same results, awaitable methods,
    ``async with`` and ``aclose``."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = 30.0,
        *,
        max_retries: int = 3,
        backoff: float = 1.0,
        max_retry_after: float = 60.0,
    ) -> None:
        super().__init__(api_key, base_url, timeout, max_retries, backoff, max_retry_after)
        self._http = httpx.AsyncClient(
            base_url=self.base_url, headers=self._headers, timeout=timeout
        )

    async def run(
        self,
        suite: str,
        output: str,
        input: dict[str, Any] | None = None,
        trigger: str = "sdk",
        trigger_meta: dict[str, Any] | None = None,
        async_: bool = False,
        project: str | None = None,
    ) -> RunResult:
        """See ``LaunchGate.run``."""
        body = self._run_body(suite, output, input, trigger, trigger_meta, async_, project)
        try:
            return RunResult.from_json(await self._request("POST", "/v1/run", body))
        except UnreachableError as exc:
            return self._skipped(exc, suite)

    async def get_run(self, run_id: str | RunResult) -> RunResult:
        """See ``LaunchGate.get_run``."""
        return self._unwrap(await self._request("GET", self._run_path(run_id)))

    async def wait(
        self, run_id: str | RunResult, interval: float = 2.0, timeout: float = 60.0
    ) -> RunResult:
        """See ``LaunchGate.wait``."""
        deadline = time.monotonic() + timeout
        while True:
            run = await self.get_run(run_id)
            remaining = deadline - time.monotonic()
            if run.done:
                return run
            if remaining <= 0:
                raise WaitTimeout(f"Run {run.id} still {run.status} after {timeout:g} s", run)
            await asyncio.sleep(min(interval, remaining))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncLaunchGate:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def _request(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        reason = ""
        for attempt in range(1, self.retry.attempts + 1):
            retry_after = None
            try:
                return read_answer(await self._http.request(method, path, json=body))
            except httpx.TransportError as exc:
                reason = describe(exc)
            except Transient as exc:
                reason, retry_after = exc.reason, exc.retry_after
            if attempt < self.retry.attempts:
                delay = self.retry.delay(attempt - 1, retry_after)
                log_retry(method, path, attempt, reason, delay)
                await asyncio.sleep(delay)
        raise UnreachableError(
            gave_up(method, path, self.retry.attempts, reason), self.retry.attempts
        )
