"""``LaunchGate`` and ``AsyncLaunchGate``: score an output against a suite from Python.

Each client owns one httpx connection pool for its lifetime (use it as a context manager,
or call ``close``), so a service that gates every answer pays for a TLS handshake once.
The two classes mirror each other; only sending and sleeping differ.

Fail-open is never silent: a skipped run logs one warning (stderr, unless logging is set
up otherwise) and carries a ``message`` naming the URL tried and the cause; a host that does
not resolve is a ``ConfigError``, never a skip; ``fail_open=False`` (or
``LAUNCHGATE_FAIL_OPEN=false``) makes ``run`` raise ``UnreachableError`` instead.
"""

from __future__ import annotations

import asyncio
import logging
import time
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from launchgate.sdk._attempts import FAILURES, Attempts
from launchgate.sdk._http import RetryPolicy, headers, read_answer, sdk_version
from launchgate.sdk.config import FAIL_OPEN_ENV, ClientConfig, resolve_config
from launchgate.sdk.errors import (
    ConfigError,
    LaunchGateError,
    UnreachableError,
    ValidationError,
    WaitTimeout,
)
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
        fail_open: bool | None,
        config: ClientConfig | None,
    ) -> None:
        if config is not None and (api_key or base_url or fail_open is not None):
            raise TypeError("pass config= alone, or api_key=, base_url= and fail_open=")
        self.config: ClientConfig = config or resolve_config(api_key, base_url, fail_open=fail_open)
        self.retry = RetryPolicy(max_retries, backoff, max_retry_after)
        self.timeout = timeout
        self._headers = headers(self.config.api_key, sdk_version())

    @property
    def base_url(self) -> str:
        return self.config.base_url

    @property
    def fail_open(self) -> bool:
        return self.config.fail_open

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, fail_open={self.fail_open})"

    def _pool_options(self, timeout: float) -> dict[str, Any]:
        """The connection pool's settings; a base URL httpx refuses is a ``ConfigError``."""
        try:
            httpx.URL(self.base_url)
        except httpx.InvalidURL as exc:
            raise ConfigError(
                f"Invalid LaunchGate base URL {self.base_url!r}: {exc}", code="BAD_BASE_URL"
            ) from None
        return {"base_url": self.base_url, "headers": self._headers, "timeout": timeout}

    def _run_body(
        self,
        suite: str,
        output: str,
        input: dict[str, Any] | None,
        trigger: str,
        trigger_meta: dict[str, Any] | None,
        async_: bool,
        project: str | None,
        allow_empty_output: bool,
    ) -> dict[str, Any]:
        if not output.strip() and not allow_empty_output:
            what = "empty" if not output else "only whitespace"
            raise ValidationError(
                f"output is {what}: an empty output almost always means the pipeline that "
                f"produced it broke; {self.config.names.allow_empty_output} to score it anyway",
                code="VALIDATION_ERROR",
            )
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
        if allow_empty_output:  # only then: a server without the field refuses unknown ones
            body["allow_empty_output"] = True
        return body

    def _skipped(self, exc: UnreachableError, suite: str) -> RunResult:
        """Fail-open: the skipped verdict, said loudly; or the error, when fail-open is off."""
        if not self.fail_open:
            raise exc
        message = (
            f"{exc.message}. The run of suite {suite!r} was skipped and counts as passed "
            f"(fail-open; {self.config.names.strict} or {FAIL_OPEN_ENV}=false makes it a "
            "failure)"
        )
        log.warning("%s", message)
        return RunResult.skipped_because(message)

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
    ``resolve_config``); ``fail_open`` to ``LAUNCHGATE_FAIL_OPEN``, else on. ``config``
    replaces the three with a ``ClientConfig`` already resolved (``launchgate run`` resolves
    with its own flag names, for its messages). Network errors, 5xx and 429 are retried
    ``max_retries`` times, ``backoff × 2ⁿ`` seconds apart (honouring ``Retry-After``); tests
    pass a tiny backoff. Raises ``ConfigError`` for a missing key or an invalid base URL.
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
        fail_open: bool | None = None,
        config: ClientConfig | None = None,
    ) -> None:
        super().__init__(
            api_key, base_url, timeout, max_retries, backoff, max_retry_after, fail_open, config
        )
        self._http = httpx.Client(**self._pool_options(timeout))

    def run(
        self,
        suite: str,
        output: str,
        input: dict[str, Any] | None = None,
        trigger: str = "sdk",
        trigger_meta: dict[str, Any] | None = None,
        async_: bool = False,
        project: str | None = None,
        allow_empty_output: bool = False,
    ) -> RunResult:
        """Score ``output`` against every active case of the suite with slug ``suite``.

        Returns the verdict (``pending`` with ``async_=True``; poll with ``wait``), or a
        ``skipped`` result that counts as passed when the API stays unreachable (its
        ``message``, also logged as a warning, names the URL and the cause). Raises
        ``AuthError``, ``PaymentError``, ``ValidationError`` (also for an empty ``output``
        unless ``allow_empty_output=True``: an empty output usually means the pipeline
        broke) or ``NotFoundError``; ``ConfigError`` when the base URL's host does not
        resolve; ``UnreachableError`` instead of a skip when fail-open is off.
        """
        body = self._run_body(
            suite, output, input, trigger, trigger_meta, async_, project, allow_empty_output
        )
        try:
            return RunResult.from_json(self._request("POST", "/v1/run", body))
        except UnreachableError as exc:
            return self._skipped(exc, suite)

    def get_run(self, run_id: str | RunResult) -> RunResult:
        """The stored run with its scores, trigger and timestamps. Raises
        ``UnreachableError`` after the retries (fail-open or not: there is no run to
        invent), ``NotFoundError`` for an unknown id, ``ConfigError`` as ``run`` does."""
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
        attempts = Attempts(self.config, self.retry, method, path)
        while True:
            try:
                return read_answer(self._http.request(method, path, json=body))
            except FAILURES as exc:
                delay = attempts.failed(exc)  # raises when there is no point in waiting
            time.sleep(delay)


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
        fail_open: bool | None = None,
        config: ClientConfig | None = None,
    ) -> None:
        super().__init__(
            api_key, base_url, timeout, max_retries, backoff, max_retry_after, fail_open, config
        )
        self._http = httpx.AsyncClient(**self._pool_options(timeout))

    async def run(
        self,
        suite: str,
        output: str,
        input: dict[str, Any] | None = None,
        trigger: str = "sdk",
        trigger_meta: dict[str, Any] | None = None,
        async_: bool = False,
        project: str | None = None,
        allow_empty_output: bool = False,
    ) -> RunResult:
        """See ``LaunchGate.run``."""
        body = self._run_body(
            suite, output, input, trigger, trigger_meta, async_, project, allow_empty_output
        )
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
        attempts = Attempts(self.config, self.retry, method, path)
        while True:
            try:
                return read_answer(await self._http.request(method, path, json=body))
            except FAILURES as exc:
                delay = attempts.failed(exc)  # raises when there is no point in waiting
            await asyncio.sleep(delay)
