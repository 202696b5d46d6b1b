"""The baseline for bench/run_latency.py: a bare FastAPI POST endpoint returning small JSON.

It is served exactly the way ``launchgate serve`` serves LaunchGate (see
``launchgate.cli.admin._serve``): one ``uvicorn.run`` in one process, default loop and HTTP
implementations (uvloop + httptools when installed), ``log_level="warning"``,
``proxy_headers=False``. It receives the same request (same path, headers and JSON body), so
the ratio LaunchGate/baseline isolates what LaunchGate does per run: auth, queries, scoring,
insert + commit, validation and serialisation.

    .venv/bin/python bench/baseline_app.py --port 4002
"""

from __future__ import annotations

import argparse
from typing import Any

from fastapi import Body, FastAPI

app = FastAPI(title="LaunchGate bench baseline")


@app.post("/v1/run")
async def run(payload: dict[str, Any] = Body(...)) -> dict[str, Any]:
    # Parse the JSON body (as LaunchGate must) and answer a small JSON object.
    return {"id": "run_baseline", "status": "cleared", "passed": True, "fields": len(payload)}


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


# Keep in step with launchgate.cli.admin._serve so both servers run with the same settings.
UVICORN_SETTINGS: dict[str, Any] = {"log_level": "warning", "proxy_headers": False}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4002)
    args = parser.parse_args()

    import uvicorn

    uvicorn.run(app, host=args.host, port=args.port, **UVICORN_SETTINGS)


if __name__ == "__main__":
    main()
