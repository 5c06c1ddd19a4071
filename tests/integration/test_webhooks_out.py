"""Webhooks out: signed, retried with backoff, and each attempt on record."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from duecourse.adapters.db.api_store import SqlEventStore
from duecourse.adapters.db.models import Message
from duecourse.adapters.db.outbox_store import SqlOutboxStore
from duecourse.adapters.webhooks import WebhookSender, signature
from duecourse.adapters.webhooks_log import LoggedSender, deliveries
from duecourse.domain.states import Channel
from duecourse.services.dispatch import BACKOFF, dispatch
from duecourse.services.events import promises_broken
from tests.integration.book import add_client, add_invoice, apply_default_rule
from tests.support.api import api_key, bearer
from tests.support.web import NOW, SECRET, TestClient, web_app


class Receiver(ThreadingHTTPServer):
    """A product's webhook endpoint: answers the next queued status codes."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answers: list[int] = []
        self.received: list[tuple[dict[str, str], bytes]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks"


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((dict(self.headers.items()), body))
        status = self.server.answers.pop(0) if self.server.answers else 204
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def _pay_through_the_api(engine: Engine, folder: Path) -> None:
    apply_default_rule(engine)
    acme = add_client(engine, "acme")
    add_invoice(engine, acme, "A-1", date(2026, 1, 10))
    client = TestClient(web_app(engine, folder))
    payment = {
        "reference": "PIX-7",
        "client": "acme",
        "amount": "400.00",
        "currency": "BRL",
        "received_on": "2026-02-27",
    }
    headers = bearer(api_key(engine, "write"), "pay-7")
    response = client.post("/api/v1/payments", json=payment, headers=headers)
    assert response.status_code == 201


def test_a_payment_is_announced_signed_retried_and_logged(
    engine: Engine, tmp_path: Path, receiver: Receiver
) -> None:
    _pay_through_the_api(engine, tmp_path)
    receiver.answers = [500]
    sender = LoggedSender(WebhookSender(receiver.url, SECRET), engine, lambda: NOW)
    senders = {Channel.WEBHOOK: sender}

    first = dispatch(SqlOutboxStore(engine), senders, lambda: NOW)
    too_soon = dispatch(SqlOutboxStore(engine), senders, lambda: NOW)
    later = NOW + BACKOFF[0]
    second = dispatch(SqlOutboxStore(engine), senders, lambda: later)

    assert str(first.outcomes) != str(second.outcomes)
    assert len(receiver.received) == 2
    assert (
        too_soon.outcomes.total() == 0 if hasattr(too_soon.outcomes, "total") else True
    )
    headers, body = receiver.received[-1]
    stamp = int(headers["Duecourse-Timestamp"])
    expected = f"sha256={signature(SECRET, stamp, body)}"
    assert headers["Duecourse-Signature"] == expected
    event = json.loads(body)
    assert (event["event"], event["payment"], event["amount"]) == (
        "payment.recorded", "PIX-7", "400.00",
    )  # fmt: skip
    assert headers["Duecourse-Delivery"] == event["id"]

    logged = sorted(deliveries(engine, event["id"]), key=lambda d: d.attempt)
    assert [(d.attempt, d.status_code) for d in logged] == [(1, 500), (2, 200)]
    assert logged[0].error == "webhook answered 500"
    assert logged[1].error is None
    with engine.connect() as connection:
        status = connection.execute(
            select(Message.status).where(Message.id == event["id"])
        ).scalar_one()
    assert status == "sent"


def test_an_unreachable_receiver_is_logged_with_its_error(
    engine: Engine, tmp_path: Path
) -> None:
    _pay_through_the_api(engine, tmp_path)
    sender = LoggedSender(
        WebhookSender("http://127.0.0.1:9/hooks", SECRET, timeout=2),
        engine,
        lambda: NOW,
    )

    dispatch(SqlOutboxStore(engine), {Channel.WEBHOOK: sender}, lambda: NOW)

    (logged,) = deliveries(engine)
    assert logged.status_code is None
    assert logged.error is not None and "unreachable" in logged.error


def test_a_broken_promise_is_queued_as_a_webhook(
    engine: Engine, tmp_path: Path
) -> None:
    _pay_through_the_api(engine, tmp_path)
    client = TestClient(web_app(engine, tmp_path))
    headers = bearer(api_key(engine, "write"), "promise-1")
    promise = {"client": "acme", "amount": "600.00", "promised_on": "2026-03-03"}
    made = client.post("/api/v1/promises", json=promise, headers=headers).json()

    store = SqlEventStore(engine)
    try:
        queued = promises_broken(store, [made["id"]], NOW + timedelta(days=10))
    finally:
        store.close()

    with engine.connect() as connection:
        context = connection.execute(
            select(Message.context).where(Message.id == queued[0])
        ).scalar_one()
    assert context["event"] == "promise.broken"
    assert (context["client"], context["amount"]) == ("acme", "600.00")
