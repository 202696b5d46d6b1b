"""A local stand-in for the Stripe API endpoints LaunchGate calls, answering in Stripe's
wire format, for tests and for trying billing without a Stripe account.

``POST /v1/customers``, ``POST /v1/checkout/sessions`` (and ``GET …/{id}``,
``POST …/{id}/expire``) and ``POST /v1/billing_portal/sessions`` take Stripe's
form-encoded bodies (``line_items[0][price]``, ``metadata[key]``) with
``Authorization: Bearer <the secret key>`` and answer JSON shaped like Stripe's objects
(``id``, ``object``, ``url``, …); a repeated ``Idempotency-Key`` gets the first answer
again, as from Stripe. Errors use Stripe's envelope (``{"error": {"type", "code",
"param", "message"}}``): 401 for another key, 400 for a missing parameter, an unknown
price or customer, or expiring a session that is not open; 404 for an unknown session.
``GET /_stand_in/requests`` lists what was received (never the ``Authorization``
header), so a test can check what was sent; ``StandIn.complete`` plays a buyer paying.

It does not sign or send webhooks: a test signs an event itself (docs/billing.md).
``python -m launchgate.testing.stripe_stand_in --port 12111 --price price_pro --price
price_scale`` serves it; the key is read from ``STRIPE_STAND_IN_KEY``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

_KEY = re.compile(r"^(\w+)((?:\[[^\]]*\])*)$")


def parse_form(body: str) -> dict[str, Any]:
    """Stripe's nested form encoding → a dict: ``a[b][0][c]=x`` → ``{"a": {"b": [{"c": "x"}]}}``."""
    result: dict[str, Any] = {}
    for raw_key, value in parse_qsl(body, keep_blank_values=True):
        match = _KEY.match(raw_key)
        if not match:
            continue
        path = [match.group(1), *re.findall(r"\[([^\]]*)\]", match.group(2))]
        node: Any = result
        for part, following in zip(path, [*path[1:], None], strict=True):
            index: Any = int(part) if part.isdigit() and isinstance(node, list) else part
            if following is None:
                _put(node, index, value)
            else:
                child = _get(node, index)
                if child is None:
                    child = [] if following.isdigit() else {}
                    _put(node, index, child)
                node = child
    return result


def _get(node: Any, key: Any) -> Any:
    if isinstance(node, list):
        return node[key] if isinstance(key, int) and key < len(node) else None
    return node.get(key)


def _put(node: Any, key: Any, value: Any) -> None:
    if isinstance(node, list):
        while len(node) <= key:
            node.append(None)
        node[key] = value
    else:
        node[key] = value


def _error(status: int, message: str, param: str | None = None, code: str | None = None) -> Any:
    kind = "invalid_request_error"
    body = {"error": {"type": kind, "message": message, "param": param, "code": code}}
    return JSONResponse(body, status_code=status)


class StandIn:
    """The stand-in's state: its customers, sessions and every request received."""

    def __init__(self, api_key: str, prices: list[str]) -> None:
        self.api_key = api_key
        self.prices = set(prices)
        self.customers: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.requests: list[dict[str, Any]] = []
        self.replies: dict[tuple[str, str], tuple[int, Any]] = {}
        # Seconds to wait before answering a path: a slow Stripe, for the tests of what
        # LaunchGate holds (a database lock, a connection) while it waits on Stripe.
        self.delays: dict[str, float] = {}
        self.lock = threading.Lock()

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/customers", self.customers_create, methods=["POST"]),
                Route("/v1/checkout/sessions", self.checkout_create, methods=["POST"]),
                Route("/v1/checkout/sessions/{ident}", self.checkout_read, methods=["GET"]),
                Route(
                    "/v1/checkout/sessions/{ident}/expire",
                    self.checkout_expire,
                    methods=["POST"],
                ),
                Route("/v1/billing_portal/sessions", self.portal_create, methods=["POST"]),
                Route("/_stand_in/requests", self.list_requests, methods=["GET"]),
            ]
        )

    async def _receive(self, request: Request) -> tuple[dict[str, Any], JSONResponse | None]:
        params = parse_form((await request.body()).decode())
        with self.lock:
            self.requests.append(
                {
                    "method": request.method,
                    "path": request.url.path,
                    "params": params,
                    "idempotency_key": request.headers.get("idempotency-key"),
                    "stripe_version": request.headers.get("stripe-version"),
                }
            )
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            key = request.headers.get("authorization", "")[-4:]
            refusal = _error(401, f"Invalid API Key provided: sk_****{key}")
            return params, refusal
        delay = self.delays.get(request.url.path, 0.0)
        if delay > 0:
            await asyncio.sleep(delay)
        return params, None

    def _once(self, request: Request, make: Any) -> JSONResponse:
        """Stripe's idempotency: the same key gets the first answer again."""
        key = request.headers.get("idempotency-key")
        with self.lock:
            if key and (request.url.path, key) in self.replies:
                status, body = self.replies[(request.url.path, key)]
                return JSONResponse(body, status_code=status)
        response: JSONResponse = make()
        if key and response.status_code < 500:
            with self.lock:
                self.replies[(request.url.path, key)] = (
                    response.status_code,
                    json.loads(bytes(response.body)),
                )
        return response

    async def customers_create(self, request: Request) -> JSONResponse:
        params, refusal = await self._receive(request)
        if refusal:
            return refusal

        def make() -> JSONResponse:
            customer = {
                "id": "cus_" + secrets.token_hex(7),
                "object": "customer",
                "created": int(time.time()),
                "livemode": False,
                "name": params.get("name"),
                "email": params.get("email"),
                "metadata": params.get("metadata", {}),
            }
            with self.lock:
                self.customers[customer["id"]] = customer
            return JSONResponse(customer)

        return self._once(request, make)

    async def checkout_create(self, request: Request) -> JSONResponse:
        params, refusal = await self._receive(request)
        if refusal:
            return refusal
        mode = params.get("mode")
        if mode not in ("payment", "setup", "subscription"):
            return _error(400, "Missing required param: mode.", "mode", "parameter_missing")
        customer = params.get("customer")
        if customer is not None and customer not in self.customers:
            return _error(400, f"No such customer: '{customer}'", "customer", "resource_missing")
        for index, item in enumerate(params.get("line_items") or []):
            price = (item or {}).get("price")
            if price not in self.prices:
                param = f"line_items[{index}][price]"
                return _error(400, f"No such price: '{price}'", param, "resource_missing")
        if mode == "subscription" and not params.get("line_items"):
            return _error(400, "Missing required param: line_items.", "line_items")
        if not params.get("success_url") and params.get("ui_mode", "hosted") == "hosted":
            return _error(400, "Missing required param: success_url.", "success_url")

        def make() -> JSONResponse:
            ident = "cs_test_" + secrets.token_hex(16)
            now = int(time.time())
            found = {
                "id": ident,
                "object": "checkout.session",
                "created": now,
                "expires_at": now + 24 * 3600,
                "livemode": False,
                "mode": mode,
                "status": "open",
                "payment_status": "unpaid",
                "customer": customer,
                "client_reference_id": params.get("client_reference_id"),
                "success_url": params.get("success_url"),
                "cancel_url": params.get("cancel_url"),
                "metadata": params.get("metadata", {}),
                "subscription": None,
                "url": f"https://checkout.stripe.com/c/pay/{ident}",
            }
            with self.lock:
                self.sessions[ident] = found
            return JSONResponse(found)

        return self._once(request, make)

    def complete(self, ident: str, subscription: str | None = None) -> dict[str, Any]:
        """The buyer pays session ``ident``: it is ``complete`` (Stripe's webhook is the
        test's to send); returns the session as a ``checkout.session.completed`` holds it."""
        with self.lock:
            found = self.sessions[ident]
            found.update(
                status="complete",
                payment_status="paid",
                url=None,
                subscription=subscription or "sub_" + secrets.token_hex(7),
            )
            return dict(found)

    async def checkout_read(self, request: Request) -> JSONResponse:
        return await self._on_session(request, lambda found: JSONResponse(found))

    async def checkout_expire(self, request: Request) -> JSONResponse:
        def expire(found: dict[str, Any]) -> JSONResponse:
            if found["status"] != "open":
                status = found["status"]
                return _error(400, f"This Checkout Session is {status}: it cannot be expired.")
            found.update(status="expired", url=None)
            return JSONResponse(found)

        return await self._on_session(request, expire)

    async def _on_session(
        self, request: Request, answer: Callable[[dict[str, Any]], JSONResponse]
    ) -> JSONResponse:
        """``answer`` of the checkout session the path names (under the lock), or Stripe's
        404 for one it does not know."""
        _, refusal = await self._receive(request)
        if refusal:
            return refusal
        with self.lock:
            found = self.sessions.get(request.path_params["ident"])
            if found is None:
                return _error(404, "No such checkout.session", "session", "resource_missing")
            return answer(found)

    async def portal_create(self, request: Request) -> JSONResponse:
        params, refusal = await self._receive(request)
        if refusal:
            return refusal
        customer = params.get("customer")
        if not customer:
            return _error(400, "Missing required param: customer.", "customer")
        if customer not in self.customers:
            return _error(400, f"No such customer: '{customer}'", "customer", "resource_missing")

        def make() -> JSONResponse:
            ident = "bps_" + secrets.token_hex(12)
            return JSONResponse(
                {
                    "id": ident,
                    "object": "billing_portal.session",
                    "created": int(time.time()),
                    "livemode": False,
                    "customer": customer,
                    "return_url": params.get("return_url"),
                    "url": f"https://billing.stripe.com/p/session/test_{ident}",
                }
            )

        return self._once(request, make)

    async def list_requests(self, request: Request) -> JSONResponse:
        with self.lock:
            return JSONResponse({"requests": list(self.requests)})


class StripeStandInServer:
    """The stand-in on a free port of 127.0.0.1, served by uvicorn from a background thread
    (as the fake provider is)."""

    def __init__(self, api_key: str, prices: list[str], host: str = "127.0.0.1") -> None:
        self.state = StandIn(api_key, prices)
        self.host, self.port = host, 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def requests(self, path: str | None = None) -> list[dict[str, Any]]:
        """What the stand-in received, over HTTP like everything else."""
        found = httpx.get(f"{self.base_url}/_stand_in/requests", timeout=10).json()["requests"]
        return [r for r in found if path is None or r["path"] == path]

    def __enter__(self) -> Self:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((self.host, 0))
        self._socket, self.port = sock, sock.getsockname()[1]
        config = uvicorn.Config(
            self.state.app(), log_level="warning", access_log=False, lifespan="off"
        )
        self._server = server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="stripe-stand-in", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 15
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the Stripe stand-in did not start")
            time.sleep(0.01)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m launchgate.testing.stripe_stand_in")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--price", action="append", default=[], help="a price id it knows")
    args = parser.parse_args(argv)
    key = os.environ.get("STRIPE_STAND_IN_KEY", "")
    if not key:
        parser.error("set STRIPE_STAND_IN_KEY to the secret key LaunchGate will send")
    uvicorn.run(StandIn(key, args.price).app(), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
