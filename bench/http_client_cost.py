"""CPU per provider request of the judge's HTTP client: httpx's own transport (httpcore),
httpx over aiohttp (``HttpClient.request``), and what the server's judge uses:
``providers.http.send``, which puts the request on aiohttp's session itself.

    .venv/bin/python bench/http_client_cost.py                  # 20 in flight, 2,000 requests
    .venv/bin/python bench/http_client_cost.py --in-flight 1

A minimal HTTP/1.1 server on 127.0.0.1 (a thread of this process, answering a fixed
chat-completion body at once) takes the requests; each client sends the same JSON body,
``--in-flight`` at a time, after a warm-up, in alternating rounds. It prints each client's
process CPU time per request (the server's share is the same for both) and the ratio.
Why it exists: with 20 judge calls in flight httpcore's pool walks every connection and
queued request on each request, and that CPU kept a judged batch from its 20-slot ceiling
(bench/RESULTS.md, "Batch throughput").
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import threading
import time
from collections.abc import Awaitable, Callable

import httpx

from launchgate.providers.http import HttpClient, create_client, send
from launchgate.providers.openai import read_error_for

BODY = (
    b'{"id":"x","model":"gpt-4o","choices":[{"message":{"role":"assistant","content":'
    b'"{\\"score\\": 1, \\"reason\\": \\"ok\\"}"}}],"usage":{"prompt_tokens":10,'
    b'"completion_tokens":5}}'
)
ANSWER = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (
    len(BODY),
    BODY,
)
REQUEST = {"model": "gpt-4o", "messages": [{"role": "user", "content": "x" * 500}]}


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if length:
                await reader.readexactly(length)
            writer.write(ANSWER)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


def start_server() -> int:
    """The answering server on its own event loop in a daemon thread; its port."""
    ready: list[int] = []
    started = threading.Event()

    def run() -> None:
        async def main() -> None:
            server = await asyncio.start_server(_serve, "127.0.0.1", 0)
            ready.append(server.sockets[0].getsockname()[1])
            started.set()
            async with server:
                await server.serve_forever()

        asyncio.run(main())

    threading.Thread(target=run, daemon=True).start()
    started.wait(10)
    return ready[0]


class Sending:
    """``providers.http.send`` on a client: how the judge sends (its answer parsed too)."""

    def __init__(self) -> None:
        self.client = create_client()

    async def call(self, url: str) -> None:
        await send(
            self.client,
            "POST",
            url,
            provider="openai",
            secret="k",
            read_error=read_error_for("openai"),
            timeout_s=60.0,
            headers={"authorization": "Bearer k"},
            body=REQUEST,
        )

    async def aclose(self) -> None:
        await self.client.aclose()


async def round_cpu_ms(
    client: HttpClient | Sending, url: str, requests: int, in_flight: int
) -> float:
    """Thread CPU per request of this (the client's) thread, in ms."""
    slots = asyncio.Semaphore(in_flight)

    async def one() -> None:
        async with slots:
            if isinstance(client, Sending):
                await client.call(url)
                return
            answer = await client.request(
                "POST", url, json=REQUEST, headers={"authorization": "Bearer k"}
            )
            answer.json()

    started = time.thread_time()
    await asyncio.gather(*(one() for _ in range(requests)))
    return (time.thread_time() - started) / requests * 1000


async def measure(args: argparse.Namespace, url: str) -> dict[str, list[float]]:
    clients: dict[str, Callable[[], HttpClient | Sending]] = {
        "httpx's own transport (httpcore)": lambda: create_client(
            transport=httpx.AsyncHTTPTransport(
                limits=httpx.Limits(max_connections=200, max_keepalive_connections=50)
            )
        ),
        "httpx over aiohttp (HttpClient.request)": create_client,
        "the judge's send() on aiohttp's session": Sending,
    }
    opened = {name: make() for name, make in clients.items()}
    rounds: dict[str, list[float]] = {name: [] for name in clients}
    try:
        for client in opened.values():  # warm-up: connections, first imports
            await round_cpu_ms(client, url, 200, args.in_flight)
        for _ in range(args.rounds):
            for name, client in opened.items():
                rounds[name].append(await round_cpu_ms(client, url, args.requests, args.in_flight))
    finally:
        closing: list[Awaitable[None]] = [client.aclose() for client in opened.values()]
        await asyncio.gather(*closing)
    return rounds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per round")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per client")
    parser.add_argument("--in-flight", type=int, default=20, help="requests at once (20)")
    args = parser.parse_args(argv)
    if args.requests < 1 or args.rounds < 1 or args.in_flight < 1:
        parser.error("--requests, --rounds and --in-flight must be positive")
    url = f"http://127.0.0.1:{start_server()}/v1/chat/completions"
    rounds = asyncio.run(measure(args, url))
    medians = {name: statistics.median(values) for name, values in rounds.items()}
    print(f"Command: .venv/bin/python bench/http_client_cost.py {' '.join(sys.argv[1:])}".strip())
    print(f"{args.rounds} rounds of {args.requests} requests, {args.in_flight} in flight\n")
    print("| Client | CPU per request, ms (median; rounds) |")
    print("|---|---|")
    for name, values in rounds.items():
        listed = ", ".join(f"{value:.3f}" for value in values)
        print(f"| {name} | {medians[name]:.3f} ({listed}) |")
    own, over_aiohttp, judge = medians.values()
    print(f"\nhttpx over aiohttp / httpx's own transport: {over_aiohttp / own:.2f}×")
    print(f"the judge's send() / httpx over aiohttp: {judge / over_aiohttp:.2f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
