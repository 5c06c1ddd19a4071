"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, keeping what arrives.

The server runs in its own thread (aiosmtpd's `Controller`), so the code under
test talks to it over a real socket, and a subprocess can talk to it too. Each
message is kept parsed, with the envelope it came in and the order it arrived
in; the handler is called from the server's thread, so its list is guarded.
"""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

from aiosmtpd.controller import Controller

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Received:
    """One message as the server took it: envelope and parsed content."""

    sequence: int
    mail_from: str
    recipients: tuple[str, ...]
    message: EmailMessage

    @property
    def message_id(self) -> str:
        """The `Message-ID` header, which duecourse keeps stable across retries."""
        return str(self.message["Message-ID"])

    @property
    def outbox_id(self) -> str:
        """The outbox message id the sender put in `X-Duecourse-Message`."""
        return str(self.message["X-Duecourse-Message"])

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def body(self, subtype: str = "plain") -> str:
        part = self.message.get_body(preferencelist=(subtype,))
        assert isinstance(part, EmailMessage), f"no text/{subtype} part"
        return str(part.get_content())


class RecordingHandler:
    """Accepts every message and keeps it; `delay` slows each DATA command.

    The delay makes a large delivery last long enough for a test to stop the
    sender in the middle of it.
    """

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self._lock = threading.Lock()
        self._received: list[Received] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        parsed = email.message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        with self._lock:
            self._received.append(
                Received(
                    sequence=len(self._received),
                    mail_from=str(envelope.mail_from),
                    recipients=tuple(envelope.rcpt_tos),
                    message=parsed,
                )
            )
        return "250 Message accepted for delivery"

    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def count(self) -> int:
        with self._lock:
            return len(self._received)


@dataclass(frozen=True)
class SmtpTestServer:
    host: str
    port: int
    handler: RecordingHandler

    @property
    def url(self) -> str:
        """The value for `DUECOURSE_SMTP_URL`."""
        return f"smtp://{self.host}:{self.port}"

    def received(self) -> list[Received]:
        return self.handler.received()

    def count(self) -> int:
        return self.handler.count()

    def times_each_id_arrived(self) -> Counter[str]:
        return Counter(r.outbox_id for r in self.handler.received())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running_smtp_server(delay: float = 0.0) -> Iterator[SmtpTestServer]:
    """An SMTP server on a free local port, stopped on the way out."""
    handler = RecordingHandler(delay)
    port = free_port()
    controller = Controller(handler, hostname=HOST, port=port)
    controller.start()
    try:
        yield SmtpTestServer(HOST, port, handler)
    finally:
        controller.stop()
