"""A fake GitHub REST API on 127.0.0.1: just the issue-comment endpoints the Action uses
(list with pagination, create, edit), a token check, and a log of every request — so the
comment logic is tested over real HTTP without GitHub."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from launchgate.testing.fake_provider import free_port

LIST_OR_CREATE = re.compile(r"^/repos/([^/]+/[^/]+)/issues/(\d+)/comments$")
EDIT = re.compile(r"^/repos/([^/]+/[^/]+)/issues/comments/(\d+)$")


@dataclass
class GitHubState:
    token: str
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    next_id: int = 1000
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, repo: str, issue: int, body: str, user: str = "someone") -> dict[str, Any]:
        with self.lock:
            self.next_id += 1
            comment = {
                "id": self.next_id,
                "repo": repo,
                "issue": issue,
                "body": body,
                "user": {"login": user},
                "edits": 0,
            }
            self.comments[self.next_id] = comment
            return comment

    def on(self, repo: str, issue: int) -> list[dict[str, Any]]:
        return [c for c in self.comments.values() if c["repo"] == repo and c["issue"] == issue]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: GitHubState


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        data: dict[str, Any] = json.loads(self.rfile.read(length) or b"{}")
        return data

    def _authorised(self) -> bool:
        state = self.server.state
        with state.lock:
            state.requests.append((self.command, self.path))
        if self.headers.get("Authorization") != f"Bearer {state.token}":
            self._send(401, {"message": "Bad credentials"})
            return False
        return True

    def do_GET(self) -> None:
        if not self._authorised():
            return
        url = urlsplit(self.path)
        match = LIST_OR_CREATE.match(url.path)
        if not match:
            self._send(404, {"message": "Not Found"})
            return
        query = parse_qs(url.query)
        per_page = min(int(query.get("per_page", ["30"])[0]), 100)
        page = int(query.get("page", ["1"])[0])
        comments = self.server.state.on(match[1], int(match[2]))
        self._send(200, comments[(page - 1) * per_page : page * per_page])

    def do_POST(self) -> None:
        if not self._authorised():
            return
        match = LIST_OR_CREATE.match(self.path)
        if not match:
            self._send(404, {"message": "Not Found"})
            return
        self._send(
            201,
            self.server.state.add(
                match[1], int(match[2]), self._body()["body"], user="github-actions[bot]"
            ),
        )

    def do_PATCH(self) -> None:
        if not self._authorised():
            return
        match = EDIT.match(self.path)
        state = self.server.state
        comment = state.comments.get(int(match[2])) if match else None
        if comment is None or comment["repo"] != match[1]:  # type: ignore[index]
            self._send(404, {"message": "Not Found"})
            return
        with state.lock:
            comment["body"] = self._body()["body"]
            comment["edits"] += 1
        self._send(200, comment)


@contextmanager
def fake_github(token: str = "ghs_test_token") -> Iterator[tuple[str, GitHubState]]:
    """Serve on a free port; yields the API URL (for ``GITHUB_API_URL``) and the state."""
    state = GitHubState(token)
    server = _Server(("127.0.0.1", free_port()), _Handler)
    server.state = state
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
