"""``launchgate run SUITE --outputs-file FILE.jsonl``: gate a dataset of outputs as one batch
(issue 14), optionally against a baseline batch.

The file is read whole before anything is sent (a bad line is exit 2 naming its number).
The batch is sent asynchronously and polled, with a progress bar of items done on stderr
when that is a terminal; then the verdict and the per-case table (``batch_report``), or
the batch as JSON, and the exit code of a run: 0 cleared (or skipped, or queued with
``--async``), 1 aborted, 2 error, 3 inconclusive. Uses only the SDK.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from launchgate.cli.run import batch_report

if TYPE_CHECKING:
    from launchgate.sdk import BatchResult, LaunchGate

# Poll every second at most once the first fast polls are over: a bar that moves.
POLL_S = 1.0
WAIT_S = 3600.0


@contextlib.contextmanager
def progress_bar(err: Console, suite: str, enabled: bool) -> Iterator[Callable[[Any], None]]:
    """A Rich bar of items done / total on stderr, on a terminal only; yields the callback
    the SDK calls with every batch it polls."""
    if not (enabled and err.is_terminal):
        yield lambda batch: None
        return
    bar = Progress(
        TextColumn(f"Scoring the outputs against '{suite}'"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("items"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    task = bar.add_task("batch", total=None)

    def update(batch: BatchResult) -> None:
        bar.update(task, total=batch.items.total or None, completed=batch.items.done)

    with bar:
        yield update


def send(
    gate: LaunchGate,
    suite: str,
    items: list[dict[str, Any]],
    *,
    err: Console,
    baseline: str | None,
    branch: str | None,
    project: str | None,
    async_: bool,
    allow_empty_output: bool,
) -> BatchResult:
    """The batch, waited for (unless ``async_``) with the bar moving."""
    meta = {"branch": branch} if branch else {}
    with progress_bar(err, suite, enabled=not async_) as on_progress:
        return gate.batch(
            suite,
            items,
            baseline=baseline,
            trigger="cli",
            trigger_meta=meta,
            project=project,
            async_=async_,
            allow_empty_output=allow_empty_output,
            interval=POLL_S,
            timeout=WAIT_S,
            on_progress=on_progress,
        )


def print_batch(batch: BatchResult, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(batch.to_dict(), ensure_ascii=False) + "\n")
        return
    out = Console(highlight=False, soft_wrap=True, emoji=False, markup=False)
    for line in batch_report.lines(batch):
        out.print(line)


def write_junit(path: Path, batch: BatchResult, suite: str) -> str | None:
    """Write the report; the reason it could not be written, or None."""
    from launchgate.cli.run.junit import batch_junit_xml

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(batch_junit_xml(batch, suite))
    except OSError as exc:
        return f"Cannot write the JUnit report to {path}: {exc.strerror}"
    return None
