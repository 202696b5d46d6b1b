"""``python -m launchgate.testing.fake_provider --port N [--host H] [--latency-ms X] [--seed S]``"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import uvicorn

from launchgate.testing.fake_provider.app import create_app
from launchgate.testing.fake_provider.state import DEFAULT_KEY_PREFIXES, State


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m launchgate.testing.fake_provider",
        description="A fake OpenAI / Anthropic / Gemini / Azure OpenAI server for offline use.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="delay before every provider answer"
    )
    parser.add_argument(
        "--config", type=Path, help="a JSON file in the shape POST /_admin/configure takes"
    )
    parser.add_argument(
        "--seed",
        type=int,
        help="seed the noisy judge (FAKE_SCORE_NORMAL=mean,sd) for reproducible scores",
    )
    parser.add_argument("--log-level", default="info")
    return parser.parse_args(argv)


def banner(host: str, port: int) -> str:
    base = f"http://{host}:{port}"
    lines = [
        f"Fake LLM provider on {base}",
        f"  openai        base URL {base}/v1",
        f"  anthropic     base URL {base}",
        f"  google        base URL {base}",
        f"  azure_openai  endpoint {base}",
        f"  admin         {base}/_admin/counters",
        "  valid keys start with: "
        + ", ".join(f"{p}={prefix}" for p, prefix in DEFAULT_KEY_PREFIXES.items()),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    state = State(seed=args.seed)
    state.configure({"latency_ms": args.latency_ms})
    if args.config:
        state.configure(json.loads(args.config.read_text()))
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(message)s")
    print(banner(args.host, args.port), flush=True)
    # No access log: uvicorn's would print query strings, and Gemini keys may ride in ?key=.
    uvicorn.run(
        create_app(state),
        host=args.host,
        port=args.port,
        access_log=False,
        log_level=args.log_level,
        lifespan="off",
    )


if __name__ == "__main__":
    main()
