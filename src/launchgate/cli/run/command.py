"""``launchgate run SUITE --output TEXT``: gate one output from a terminal or any CI; with
``--outputs-file FILE.jsonl``, a dataset of outputs as one batch (``batch.py``).

Exit codes (SPEC §11): 0 cleared, skipped (API unreachable) or queued with ``--async``;
1 aborted; 2 error or bad usage; 3 inconclusive (issue 13: the judge could not decide
enough cases to call the launch either way). Colour and the progress spinner only on a terminal.
Uses nothing of launchgate but the SDK, so it starts fast on the light install.

A skip is never silent: stderr names the URL tried and the cause (and, under GitHub
Actions, so does a ``::warning::`` annotation); ``--strict`` or ``LAUNCHGATE_FAIL_OPEN=false``
makes it exit 2. A host that does not resolve or an invalid URL is exit 2 in any case.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer
from rich.console import Console

from launchgate.cli.run import report
from launchgate.cli.run.inputs import UsageError, read_input, read_items, read_output

if TYPE_CHECKING:
    from launchgate.sdk import BatchResult, LaunchGate, RunResult

T = TypeVar("T")
SKIP_TITLE = "LaunchGate eval skipped"
PROGRESS_AFTER_S = 0.3
RUN_HELP = """Score an AI output against an eval suite: cleared for launch, or aborted.

With --outputs-file FILE.jsonl (one JSON object per line: output, optional input and key) the outputs are scored as one batch, optionally against a baseline batch (--baseline auto: the latest batch of the suite on its baseline branch), with a per-case table of pass rates, the baseline's, the difference and its p-value.

Exit code 0 when cleared (or skipped because the API is unreachable, or queued with --async), 1 when aborted, 2 on an error run or bad usage (and on a skip with --strict or LAUNCHGATE_FAIL_OPEN=false), 3 when inconclusive (the judge could not decide enough cases)."""  # noqa: E501


def run(
    suite: Annotated[str, typer.Argument(help="The suite's slug", show_default=False)],
    output: Annotated[
        str | None, typer.Option("--output", help="The AI output to score", show_default=False)
    ] = None,
    output_file: Annotated[
        str | None,
        typer.Option(
            "--output-file",
            metavar="PATH",
            help="Read the output from a file ('-': stdin)",
            show_default=False,
        ),
    ] = None,
    outputs_file: Annotated[
        str | None,
        typer.Option(
            "--outputs-file",
            metavar="PATH",
            help="Score a dataset as one batch: a JSON Lines file, one object per line "
            "with output, optional input and key",
            show_default=False,
        ),
    ] = None,
    baseline: Annotated[
        str | None,
        typer.Option(
            "--baseline",
            metavar="BASELINE",
            help="With --outputs-file: compare with this batch, or 'auto' (the latest batch "
            "of the suite on its baseline branch)",
            show_default=False,
        ),
    ] = None,
    branch: Annotated[
        str | None,
        typer.Option(
            "--branch",
            metavar="NAME",
            help="With --outputs-file: store the batch as made on this branch "
            "(trigger_meta.branch), so that 'auto' finds the base branch's batches",
            show_default=False,
        ),
    ] = None,
    input: Annotated[
        str | None,
        typer.Option(
            "--input",
            metavar="JSON",
            help="The run's input, a JSON object",
            show_default=False,
        ),
    ] = None,
    input_file: Annotated[
        str | None,
        typer.Option(
            "--input-file",
            metavar="PATH",
            help="Read the input JSON from a file",
            show_default=False,
        ),
    ] = None,
    project: Annotated[
        str | None,
        typer.Option(
            "--project",
            help="Project slug, when the suite slug exists in several",
            show_default=False,
        ),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key", help="Default: LAUNCHGATE_API_KEY, then .launchgaterc", show_default=False
        ),
    ] = None,
    api_url: Annotated[
        str | None,
        typer.Option(
            "--api-url",
            help="Default: LAUNCHGATE_API_URL, then .launchgaterc, then https://api.launchgate.ai",
            show_default=False,
        ),
    ] = None,
    async_: Annotated[
        bool,
        typer.Option("--async", help="Queue the run and exit 0 without waiting for the verdict"),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run as JSON")] = False,
    junit: Annotated[
        Path | None,
        typer.Option(
            "--junit",
            metavar="PATH",
            help="Also write a JUnit XML report to PATH",
            show_default=False,
        ),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1, help="Seconds to wait for each answer of the API")
    ] = 120.0,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Exit 2 instead of skipping when the API is unreachable "
            "(also: LAUNCHGATE_FAIL_OPEN=false)",
        ),
    ] = False,
    allow_empty_output: Annotated[
        bool,
        typer.Option(
            "--allow-empty-output",
            help="Score an empty output instead of refusing it (exit 2) as a broken pipeline",
        ),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Score nothing: print the judge calls, estimated input tokens and cost "
            "range the run (or batch) would take; nothing is stored or counted",
        ),
    ] = False,
) -> None:
    if dry_run:
        _dry_run(
            suite,
            (output, output_file, outputs_file, input, input_file),
            baseline=baseline,
            project=project,
            client=(api_key, api_url, timeout, strict),
            refused=async_ or junit is not None,
            as_json=as_json,
            allow_empty_output=allow_empty_output,
        )
    if outputs_file is not None:
        _run_batch(
            suite,
            outputs_file,
            baseline=baseline,
            branch=branch,
            flags_for_one_output=(output, output_file, input, input_file),
            project=project,
            client=(api_key, api_url, timeout, strict),
            async_=async_,
            as_json=as_json,
            junit=junit,
            allow_empty_output=allow_empty_output,
        )
    try:
        if baseline is not None or branch is not None:
            raise UsageError("--baseline and --branch apply to a batch: give --outputs-file")
        if async_ and junit:
            raise UsageError("--junit needs a finished run; it cannot be combined with --async")
        text = read_output(output, output_file, allow_empty=allow_empty_output)
        run_input = read_input(input, input_file)
        backoff = _backoff()
    except UsageError as exc:
        _fail(str(exc))
    gate = _client(api_key, api_url, timeout, backoff, strict)
    with gate, _progress(suite, enabled=not async_):
        result = _call(
            suite,
            lambda: gate.run(
                suite,
                text,
                input=run_input,
                trigger="cli",
                async_=async_,
                project=project,
                allow_empty_output=allow_empty_output,
            ),
        )
    if junit:
        _write_junit(junit, result, suite)
    _print(result, as_json)
    raise typer.Exit(report.exit_code(result))


def _run_batch(
    suite: str,
    outputs_file: str,
    *,
    baseline: str | None,
    branch: str | None,
    flags_for_one_output: tuple[str | None, ...],
    project: str | None,
    client: tuple[str | None, str | None, float, bool],
    async_: bool,
    as_json: bool,
    junit: Path | None,
    allow_empty_output: bool,
) -> NoReturn:
    """``--outputs-file``: read every line, send the batch, report, exit."""
    from launchgate.cli.run import batch, batch_report

    try:
        if any(flag is not None for flag in flags_for_one_output):
            raise UsageError(
                "--outputs-file scores a dataset: its lines carry the outputs and inputs, so "
                "--output, --output-file, --input and --input-file do not apply"
            )
        if async_ and junit:
            raise UsageError("--junit needs a finished batch; it cannot be combined with --async")
        if baseline is not None and baseline != "auto" and not baseline.startswith("bat_"):
            raise UsageError(f"--baseline is 'auto' or a batch id (bat_…), not {baseline!r}")
        items = read_items(outputs_file, allow_empty=allow_empty_output)
        backoff = _backoff()
    except UsageError as exc:
        _fail(str(exc))
    api_key, api_url, timeout, strict = client
    gate = _client(api_key, api_url, timeout, backoff, strict)
    with gate:
        result: BatchResult = _call(
            suite,
            lambda: batch.send(
                gate,
                suite,
                items,
                err=_err(),
                baseline=baseline,
                branch=branch,
                project=project,
                async_=async_,
                allow_empty_output=allow_empty_output,
            ),
        )
    if junit:
        problem = batch.write_junit(junit, result, suite)
        if problem:
            _fail(problem)
    batch.print_batch(result, as_json)
    if result.skipped:
        _say_skipped(result.message or "the API was unreachable")
    raise typer.Exit(batch_report.exit_code(result))


def _dry_run(
    suite: str,
    sources: tuple[str | None, ...],
    *,
    baseline: str | None,
    project: str | None,
    client: tuple[str | None, str | None, float, bool],
    refused: bool,
    as_json: bool,
    allow_empty_output: bool,
) -> NoReturn:
    """``--dry-run``: the estimate of one output or of ``--outputs-file``'s batch, exit 0."""
    from launchgate.cli.run import dry_run

    output, output_file, outputs_file, input, input_file = sources
    items: list[dict[str, object]] | None = None
    text: str | None = None
    run_input = None
    try:
        if refused:
            raise UsageError("--dry-run scores nothing: --async and --junit do not apply")
        if outputs_file is not None:
            if any(flag is not None for flag in (output, output_file, input, input_file)):
                raise UsageError("--outputs-file carries the outputs and inputs of a batch")
            items = read_items(outputs_file, allow_empty=allow_empty_output)
        else:
            if baseline is not None:
                raise UsageError("--baseline applies to a batch: give --outputs-file")
            text = read_output(output, output_file, allow_empty=allow_empty_output)
            run_input = read_input(input, input_file)
        backoff = _backoff()
    except UsageError as exc:
        _fail(str(exc))
    from launchgate.sdk import LaunchGateError, UnreachableError

    api_key, api_url, timeout, strict = client
    with _client(api_key, api_url, timeout, backoff, strict) as gate:
        try:
            result = dry_run.estimate(
                gate,
                suite,
                output=text,
                run_input=run_input,
                items=items,
                baseline=baseline,
                project=project,
                allow_empty_output=allow_empty_output,
            )
        except UnreachableError as exc:  # no fail-open: without a server there is no estimate
            _fail(f"{exc.message} ({exc.code}); a dry run needs the server")
        except LaunchGateError as exc:
            _fail(report.refusal(exc.code, exc.message, exc.details, suite, "--project SLUG"))
    dry_run.print_estimate(result, as_json)
    raise typer.Exit(0)


def _client(
    api_key: str | None, api_url: str | None, timeout: float, backoff: float, strict: bool
) -> LaunchGate:
    from launchgate.sdk import ConfigError, LaunchGate
    from launchgate.sdk.config import ArgumentNames, resolve_config

    # The SDK's warning goes nowhere: the skipped verdict below says it, on stdout and stderr.
    logging.getLogger("launchgate.sdk").addHandler(logging.NullHandler())
    names = ArgumentNames("--api-key", "--api-url", "--strict", "pass --allow-empty-output")
    try:
        config = resolve_config(api_key, api_url, fail_open=False if strict else None, names=names)
        return LaunchGate(config=config, timeout=timeout, backoff=backoff)
    except ConfigError as exc:
        _fail(exc.message)


def _call(suite: str, request: Callable[[], T]) -> T:
    from launchgate.sdk import LaunchGateError, UnreachableError

    try:
        return request()
    except UnreachableError as exc:  # fail-open is off: no verdict is a failure
        _fail(f"{exc.message} ({exc.code}); no verdict, and fail-open is off (--strict)")
    except LaunchGateError as exc:
        _fail(report.refusal(exc.code, exc.message, exc.details, suite, "--project SLUG"))


def _print(result: RunResult, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
    else:
        out = Console(highlight=False, soft_wrap=True, emoji=False, markup=False)
        for line in report.lines(result):
            out.print(line)
    if result.skipped:
        _say_skipped(result.message or "the API was unreachable")


def _say_skipped(message: str) -> None:
    """A skip passes the gate without checking anything, so it is said where people look:
    stderr, and under GitHub Actions an annotation on the run's summary (commands on
    stderr are read by the runner too, and stdout may be ``--json``)."""
    err = _err()
    err.print(f"⚠ Eval skipped: {message}")
    if os.environ.get("GITHUB_ACTIONS") == "true":
        err.print(report.workflow_command("warning", message, title=SKIP_TITLE))


def _write_junit(path: Path, result: RunResult, suite: str) -> None:
    from launchgate.cli.run.junit import junit_xml

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(junit_xml(result, suite))
    except OSError as exc:
        _fail(f"Cannot write the JUnit report to {path}: {exc.strerror}")


@contextlib.contextmanager
def _progress(suite: str, enabled: bool, after: float = PROGRESS_AFTER_S) -> Iterator[None]:
    """A spinner on stderr while a synchronous run is scored — only on a terminal, and
    only once the run has taken ``after`` seconds, so a quick verdict does not flicker."""
    err = _err()
    if not (enabled and err.is_terminal):
        yield
        return
    status = err.status(f"Scoring the output against '{suite}'…", spinner="dots")
    lock, finished = threading.Lock(), False

    def show() -> None:
        with lock:
            if not finished:
                status.start()

    timer = threading.Timer(after, show)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        with lock:
            finished = True
            status.stop()


def _backoff() -> float:
    """The retries' pace from LAUNCHGATE_RETRY_BACKOFF, read as the SDK's pytest plugin reads
    it; a bad value is a usage error (exit 2)."""
    from launchgate.sdk.config import BACKOFF_ENV, retry_backoff
    from launchgate.sdk.errors import ConfigError

    try:
        return retry_backoff(os.environ.get(BACKOFF_ENV))
    except ConfigError as exc:
        raise UsageError(exc.message) from None


def _err() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True, emoji=False, markup=False)


def _fail(message: str) -> NoReturn:
    """Bad usage, a refused request or a broken config: one line on stderr, exit 2."""
    _err().print(f"Error: {message}")
    raise typer.Exit(2)
