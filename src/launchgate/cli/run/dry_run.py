"""``launchgate run SUITE --dry-run``: what the run (or, with ``--outputs-file``, the batch)
would cost, asked of the server without scoring anything (docs/cost.md).

Prints the judge calls (min–max: adaptive sampling stops in between), the estimated input
tokens, the cost range or "unknown price for provider/model", and one line per judge case;
``--json`` prints the server's answer. Exit 0 with an estimate. There is no fail-open: an
estimate needs the server, so an unreachable API is exit 2 like any other error. Uses
nothing of launchgate but the SDK.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from rich.console import Console

from launchgate.sdk.money import usd

if TYPE_CHECKING:
    from launchgate.sdk import CaseEstimate, Estimate, LaunchGate


def estimate(
    gate: LaunchGate,
    suite: str,
    *,
    output: str | None = None,
    run_input: dict[str, Any] | None = None,
    items: list[dict[str, Any]] | None = None,
    baseline: str | None = None,
    project: str | None = None,
    allow_empty_output: bool = False,
) -> Estimate:
    """The server's estimate of one output, or of ``items`` as a batch."""
    return gate.estimate(
        suite,
        output,
        run_input if items is None else None,
        items=items,
        baseline=baseline,
        project=project,
        allow_empty_output=allow_empty_output,
    )


def print_estimate(result: Estimate, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
        return
    out = Console(highlight=False, soft_wrap=True, emoji=False, markup=False)
    for line in lines(result):
        out.print(line)


def lines(result: Estimate) -> Iterator[str]:
    """The estimate for a terminal, in the words of docs/cost.md."""
    what = f"{result.items} outputs" if result.items != 1 else "1 output"
    yield f"Dry run of '{result.suite}' for {what}: nothing scored, nothing stored"
    yield f"Judge calls: {_range(result.calls_min, result.calls_max)}"
    yield f"Estimated input tokens: {result.input_tokens:,}"
    yield f"Output tokens: at most {result.output_tokens_max:,}"
    yield f"Cost: {_cost(result.cost_usd_min, result.cost_usd_max, result.unpriced_models)}"
    for case in result.cases:
        yield _case_line(case)


def _case_line(case: CaseEstimate) -> str:
    model = f"{case.provider}/{case.model}" if case.model else f"{case.provider} (no model)"
    unpriced = (f"{case.provider}/{case.model}",) if case.model else ()
    cost = _cost(case.cost_usd_min, case.cost_usd_max, unpriced)
    return (
        f"  {case.name}: {model}, {_range(case.calls_min, case.calls_max)} "
        f"call{'' if case.calls_max == 1 else 's'}, "
        f"{case.input_tokens:,} input tokens, {cost}"
    )


def _range(low: int, high: int) -> str:
    return str(low) if low == high else f"{low}–{high}"


def _cost(low: float | None, high: float | None, unpriced: tuple[str, ...]) -> str:
    if low is None or high is None:
        names = ", ".join(unpriced) or "a judged model"
        return f"unknown price for {names}"
    return usd(low) if low == high else f"{usd(low)}–{usd(high)}"
