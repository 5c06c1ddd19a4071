"""Real servers for end-to-end tests: SMTP, and a receiver for webhooks."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from tests.support.smtp import HOST, SmtpTestServer, running_smtp_server


@pytest.fixture
def smtp_server() -> Iterator[SmtpTestServer]:
    with running_smtp_server() as server:
        yield server


@dataclass(frozen=True)
class Hook:
    """One webhook call as it arrived: its headers and raw body."""

    headers: dict[str, str]
    body: bytes


class HookServer(HTTPServer):
    """Answers every POST with 204 and keeps it."""

    def __init__(self) -> None:
        super().__init__((HOST, 0), HookHandler)
        self.lock = threading.Lock()
        self.hooks: list[Hook] = []

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server_port}/hooks"

    def received(self) -> list[Hook]:
        with self.lock:
            return list(self.hooks)


class HookHandler(BaseHTTPRequestHandler):
    server: HookServer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with self.server.lock:
            self.server.hooks.append(Hook(dict(self.headers.items()), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads what arrived, not the access log."""


@pytest.fixture
def webhook_receiver() -> Iterator[HookServer]:
    server = HookServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
