"""``LaunchGate`` and ``AsyncLaunchGate``: score an output against a suite from Python.

Each client owns one httpx connection pool for its lifetime (use it as a context manager,
or call ``close``), so a service that gates every answer pays for a TLS handshake once.
The two classes mirror each other; only sending and sleeping differ. ``batch`` gates a
dataset of outputs as one batch (issue 14; its types are in ``batches.py``): sent
asynchronously, then polled, and fail-open like ``run``.

Fail-open is never silent: a skipped run logs one warning (stderr, unless logging is set
up otherwise) and carries a ``message`` naming the URL tried and the cause; a host that does
not resolve is a ``ConfigError``, never a skip; ``fail_open=False`` (or
``LAUNCHGATE_FAIL_OPEN=false``) makes ``run`` raise ``UnreachableError`` instead.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from launchgate.sdk._attempts import FAILURES, Attempts
from launchgate.sdk._http import RetryPolicy, headers, read_answer, sdk_version
from launchgate.sdk.batches import BatchItem, BatchResult
from launchgate.sdk.config import FAIL_OPEN_ENV, ClientConfig, resolve_config
from launchgate.sdk.errors import (
    ConfigError,
    LaunchGateError,
    UnreachableError,
    ValidationError,
    WaitTimeout,
)
from launchgate.sdk.estimates import Estimate
from launchgate.sdk.models import RunResult

log = logging.getLogger("launchgate.sdk")
# Polling starts quickly (a small deterministic batch is done in a fraction of a second)
# and slows down to the caller's interval.
FIRST_POLL_S = 0.1
BatchItems = Iterable[BatchItem | Mapping[str, Any]]
Progress = Callable[[BatchResult], None]


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

    def _batch_body(
        self,
        suite: str,
        items: BatchItems,
        baseline: str | None,
        trigger: str,
        trigger_meta: dict[str, Any] | None,
        project: str | None,
        min_cleared: float | None,
        fail_on_regression: bool | None,
        allow_empty_output: bool,
    ) -> dict[str, Any]:
        """The request; always ``async``: the client polls, so a long batch never holds an
        HTTP request open, and a retried POST never scores the whole dataset twice."""
        sent = [BatchItem.of(item) for item in items]
        for number, item in enumerate(sent, 1):
            if not item.output.strip() and not allow_empty_output:
                what = "empty" if not item.output else "only whitespace"
                raise ValidationError(
                    f"item {number} (key {item.key!r}): output is {what}: an empty output "
                    "almost always means the pipeline that produced it broke; "
                    f"{self.config.names.allow_empty_output} to score it anyway",
                    code="VALIDATION_ERROR",
                )
        body: dict[str, Any] = {
            "suite": suite,
            "items": [item.to_json() for item in sent],
            "trigger": trigger,
            "trigger_meta": trigger_meta or {},
            "async": True,
        }
        for name, value in (
            ("project", project),
            ("baseline", baseline),
            ("min_cleared", min_cleared),
            ("fail_on_regression", fail_on_regression),
        ):
            if value is not None:
                body[name] = value
        if allow_empty_output:
            body["allow_empty_output"] = True
        return body

    def _skipped_batch(
        self, exc: UnreachableError, suite: str, batch_id: str | None = None
    ) -> BatchResult:
        """Fail-open for a batch, as loud as for a run; a batch accepted before the outage
        keeps its id, so it can be looked up later."""
        if not self.fail_open:
            raise exc
        which = f"batch {batch_id}" if batch_id else "batch"
        message = (
            f"{exc.message}. The {which} of suite {suite!r} was skipped and counts as passed "
            f"(fail-open; {self.config.names.strict} or {FAIL_OPEN_ENV}=false makes it a "
            "failure)"
        )
        log.warning("%s", message)
        return BatchResult.skipped_because(message, batch_id)

    @staticmethod
    def _batch_path(batch: str | BatchResult) -> str:
        batch_id = batch.id if isinstance(batch, BatchResult) else batch
        if not batch_id:
            raise LaunchGateError("A skipped batch has no id to fetch", code="NO_BATCH_ID")
        return f"/v1/batches/{quote(batch_id, safe='')}"

    def _estimate_request(
        self,
        suite: str,
        output: str | None,
        input: dict[str, Any] | None,
        items: BatchItems | None,
        baseline: str | None,
        project: str | None,
        allow_empty_output: bool,
    ) -> tuple[str, dict[str, Any]]:
        """The dry run's path and body: a run's for one ``output``, a batch's for ``items``,
        validated as the real request would be, with ``dry_run`` set."""
        if (output is None) == (items is None):
            raise TypeError("estimate takes output= (one run) or items= (a batch), not both")
        if items is not None:
            if input is not None:
                raise TypeError("with items=, each item carries its own input")
            body = self._batch_body(
                suite, items, baseline, "sdk", None, project, None, None, allow_empty_output
            )
            return "/v1/batches", {**body, "dry_run": True}
        if baseline is not None:
            raise TypeError("baseline= applies to a batch: pass items=")
        assert output is not None
        body = self._run_body(suite, output, input, "sdk", None, False, project, allow_empty_output)
        return "/v1/run", {**body, "dry_run": True}

    @staticmethod
    def _unwrap_batch(answer: dict[str, Any]) -> BatchResult:
        data = answer.get("data")
        if not isinstance(data, dict):
            raise LaunchGateError("The API answered without a batch in 'data'", code="BAD_ANSWER")
        return BatchResult.from_json(data)


def _poll_delays(interval: float) -> Iterator[float]:
    """0.1 s, 0.2 s, 0.4 s … up to ``interval``, then ``interval`` for ever."""
    delay = min(FIRST_POLL_S, interval)
    while True:
        yield delay
        delay = min(delay * 2, interval)


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

    def batch(
        self,
        suite: str,
        items: BatchItems,
        *,
        baseline: str | None = None,
        trigger: str = "sdk",
        trigger_meta: dict[str, Any] | None = None,
        project: str | None = None,
        min_cleared: float | None = None,
        fail_on_regression: bool | None = None,
        async_: bool = False,
        allow_empty_output: bool = False,
        interval: float = 2.0,
        timeout: float = 600.0,
        on_progress: Progress | None = None,
    ) -> BatchResult:
        """Score every item (a ``BatchItem`` or a dict with ``output``, optional ``input``
        and ``key``) against the suite with slug ``suite``, as one batch.

        ``baseline`` is ``"auto"`` (the latest completed batch of the suite on its baseline
        branch, ``trigger_meta["branch"]``), a batch id, or None. Waits for the verdict
        (polling up to ``timeout`` seconds, then ``WaitTimeout``) unless ``async_=True``,
        which returns the ``running`` batch at once (``batch.wait()`` later). An outage —
        before or after the batch was accepted — is a ``skipped`` result that counts as
        passed and logs a warning, unless fail-open is off (``UnreachableError``). Raises
        ``ValidationError`` for bad items (an empty output unless ``allow_empty_output``),
        ``NotFoundError`` for an unknown suite or baseline, as ``run`` does otherwise.
        """
        body = self._batch_body(
            suite,
            items,
            baseline,
            trigger,
            trigger_meta,
            project,
            min_cleared,
            fail_on_regression,
            allow_empty_output,
        )
        try:
            accepted = self._unwrap_batch(self._request("POST", "/v1/batches", body))
        except UnreachableError as exc:
            return self._skipped_batch(exc, suite)
        accepted = accepted.with_waiter(self.wait_for_batch)
        if async_ or accepted.done:
            return accepted
        try:
            return self.wait_for_batch(accepted, interval, timeout, on_progress)
        except UnreachableError as exc:
            return self._skipped_batch(exc, suite, accepted.id)

    def estimate(
        self,
        suite: str,
        output: str | None = None,
        input: dict[str, Any] | None = None,
        *,
        items: BatchItems | None = None,
        baseline: str | None = None,
        project: str | None = None,
        allow_empty_output: bool = False,
    ) -> Estimate:
        """What scoring ``output`` (or every one of ``items``, as a batch) would cost: judge
        calls min..max, estimated input tokens and the cost range (docs/cost.md). The
        server calls no provider, stores nothing and counts no usage.

        Validated like ``run`` or ``batch`` (``ValidationError``, ``NotFoundError``,
        ``AuthError``), but never fail-open: with no server there is no estimate, so an
        outage raises ``UnreachableError``.
        """
        path, body = self._estimate_request(
            suite, output, input, items, baseline, project, allow_empty_output
        )
        return Estimate.from_json(self._request("POST", path, body))

    def get_batch(self, batch_id: str | BatchResult) -> BatchResult:
        """The batch as it stands: progress (``items.done`` of ``items.total``) while
        running, the verdict, per-case figures and comparison once complete. Raises
        ``UnreachableError`` after the retries, ``NotFoundError`` for an unknown id."""
        found = self._unwrap_batch(self._request("GET", self._batch_path(batch_id)))
        return found.with_waiter(self.wait_for_batch)

    def wait_for_batch(
        self,
        batch_id: str | BatchResult,
        interval: float = 2.0,
        timeout: float = 600.0,
        on_progress: Progress | None = None,
    ) -> BatchResult:
        """Poll until the batch is final — soon at first, then every ``interval`` seconds;
        ``WaitTimeout`` (carrying the last batch seen as ``.run``) after ``timeout``.
        ``on_progress`` is called with every batch seen (``items.done`` of
        ``items.total``), e.g. to move a progress bar."""
        deadline = time.monotonic() + timeout
        for delay in _poll_delays(interval):
            batch = self.get_batch(batch_id)
            if on_progress is not None:
                on_progress(batch)
            remaining = deadline - time.monotonic()
            if batch.done:
                return batch
            if remaining <= 0:
                raise WaitTimeout(
                    f"Batch {batch.id} still {batch.status} after {timeout:g} s "
                    f"({batch.items.done}/{batch.items.total} items done)",
                    batch,
                )
            time.sleep(min(delay, remaining))
        raise AssertionError("unreachable")  # _poll_delays never ends

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

    async def batch(
        self,
        suite: str,
        items: BatchItems,
        *,
        baseline: str | None = None,
        trigger: str = "sdk",
        trigger_meta: dict[str, Any] | None = None,
        project: str | None = None,
        min_cleared: float | None = None,
        fail_on_regression: bool | None = None,
        async_: bool = False,
        allow_empty_output: bool = False,
        interval: float = 2.0,
        timeout: float = 600.0,
        on_progress: Progress | None = None,
    ) -> BatchResult:
        """See ``LaunchGate.batch``."""
        body = self._batch_body(
            suite,
            items,
            baseline,
            trigger,
            trigger_meta,
            project,
            min_cleared,
            fail_on_regression,
            allow_empty_output,
        )
        try:
            accepted = self._unwrap_batch(await self._request("POST", "/v1/batches", body))
        except UnreachableError as exc:
            return self._skipped_batch(exc, suite)
        accepted = accepted.with_waiter(self.wait_for_batch)
        if async_ or accepted.done:
            return accepted
        try:
            return await self.wait_for_batch(accepted, interval, timeout, on_progress)
        except UnreachableError as exc:
            return self._skipped_batch(exc, suite, accepted.id)

    async def estimate(
        self,
        suite: str,
        output: str | None = None,
        input: dict[str, Any] | None = None,
        *,
        items: BatchItems | None = None,
        baseline: str | None = None,
        project: str | None = None,
        allow_empty_output: bool = False,
    ) -> Estimate:
        """See ``LaunchGate.estimate``."""
        path, body = self._estimate_request(
            suite, output, input, items, baseline, project, allow_empty_output
        )
        return Estimate.from_json(await self._request("POST", path, body))

    async def get_batch(self, batch_id: str | BatchResult) -> BatchResult:
        """See ``LaunchGate.get_batch``."""
        answer = await self._request("GET", self._batch_path(batch_id))
        return self._unwrap_batch(answer).with_waiter(self.wait_for_batch)

    async def wait_for_batch(
        self,
        batch_id: str | BatchResult,
        interval: float = 2.0,
        timeout: float = 600.0,
        on_progress: Progress | None = None,
    ) -> BatchResult:
        """See ``LaunchGate.wait_for_batch``."""
        deadline = time.monotonic() + timeout
        for delay in _poll_delays(interval):
            batch = await self.get_batch(batch_id)
            if on_progress is not None:
                on_progress(batch)
            remaining = deadline - time.monotonic()
            if batch.done:
                return batch
            if remaining <= 0:
                raise WaitTimeout(
                    f"Batch {batch.id} still {batch.status} after {timeout:g} s "
                    f"({batch.items.done}/{batch.items.total} items done)",
                    batch,
                )
            await asyncio.sleep(min(delay, remaining))
        raise AssertionError("unreachable")  # _poll_delays never ends

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
