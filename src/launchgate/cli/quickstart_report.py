"""How the quickstart tells a new user what just happened and what to type next."""

from __future__ import annotations

import json

from rich.console import Console

from launchgate.cli.operations import QuickstartReport, demo_payload

_VERDICT = {
    "cleared": "✓ Cleared for launch",
    "aborted": "✗ Launch aborted",
    "error": "⚠ Run ended in error",
}


def print_report(
    out: Console, report: QuickstartReport, base_url: str, *, serving: bool = True
) -> None:
    if report.already_done:
        then = " Starting the server." if serving else ""
        out.print(
            f"This data dir was set up before (organisation {report.org_id}); "
            f"the API key was printed then.{then}"
        )
        out.print(
            "For launchgate run and the SDK, set LAUNCHGATE_API_KEY to that key and:",
            soft_wrap=True,
        )
        out.print(f"  export LAUNCHGATE_API_URL={base_url}", soft_wrap=True, markup=False)
        return
    out.print("[bold]LaunchGate quickstart[/]\n")
    out.print(f"Organisation:  {report.org_id}")
    out.print(f"API key:       [bold]{report.api_key}[/]  (shown once — store it now)")
    out.print(f"Owner login:   {report.email} / {report.password}  (shown once)")
    out.print(f"Demo suite:    project '{report.project}', suite '{report.suite}'\n")
    for label, run in report.runs:
        rate = round((run.pass_rate or 0) * 100)
        out.print(
            f"A {label} output → {_VERDICT.get(run.status, run.status)}  "
            f"(pass rate {rate}%, {run.passed_cases}/{run.total_cases}, run {run.id})"
        )
        for score in run.scores or []:
            if score["status"] != "passed":
                out.print(f"    ✗ {score['case']} — {score['reason']}")
    out.print(
        "\nFor launchgate run and the Python SDK, in the shell you run them from "
        "(they default to the hosted https://api.launchgate.ai, not this server):",
        soft_wrap=True,
    )
    _print_exports(out, base_url, report.api_key)
    out.print(
        f"  launchgate run {report.suite} --project {report.project} "
        "--output-file answer.json   # answer.json: your model's output",
        soft_wrap=True,
        markup=False,
    )
    payload = json.dumps(demo_payload(report))
    out.print("\nTry it yourself once the server is up:")
    out.print(
        f"  curl -s {base_url}/v1/run -H 'Authorization: Bearer {report.api_key}' "
        f"-H 'Content-Type: application/json' -d '{payload}'",
        soft_wrap=True,
    )
    out.print(
        "\nTo use llm_judge cases (and the templates that have them), add a provider key "
        "of your own, e.g.:"
    )
    out.print(
        f"  curl -s {base_url}/v1/byok-keys -H 'Authorization: Bearer {report.api_key}' "
        "-H 'Content-Type: application/json' "
        '-d \'{"provider": "openai", "name": "My OpenAI key", "key": "sk-..."}\'',
        soft_wrap=True,
    )
    out.print(
        "See docs/byok.md and docs/rubrics.md. The API is described in docs/api.md and, "
        "live, at /docs once the server runs."
    )
    out.print(
        f"\nThe dashboard: {base_url}/ — sign in with the owner login above "
        "(provider keys: Settings → BYOK Keys → Add Key)."
    )


def _print_exports(out: Console, base_url: str, api_key: str | None) -> None:
    """The two variables the CLI and the SDK read (docs/sdk.md), ready to paste."""
    out.print(f"  export LAUNCHGATE_API_URL={base_url}", soft_wrap=True, markup=False)
    out.print(f"  export LAUNCHGATE_API_KEY={api_key}", soft_wrap=True, markup=False)
