"""The web app in a real Chromium: a login, a portal link, and the notice banner.

The app runs under uvicorn on a free port; the banner is shown by a page of
another origin (a second small HTTP server), with one script tag, as a host
product would. Chromium is the system's (`/usr/bin/chromium`); nothing is
downloaded. With `DUECOURSE_SCREENSHOTS=1` the test saves the screenshots of
docs/screenshots.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as time_of_day
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright
from sqlalchemy import Engine

from duecourse.adapters.db.engine import make_engine, migrate
from duecourse.adapters.db.outbox_store import SqlOutboxStore
from duecourse.adapters.db.run_store import SqlRunStore
from duecourse.adapters.email.render import MessageTemplates
from duecourse.adapters.email.smtp import SmtpSender, SmtpServer
from duecourse.adapters.links import SignedLinks
from duecourse.adapters.penalty_terms import penalty_quote, penalty_terms
from duecourse.domain.states import Channel
from duecourse.entrypoints.web.context import client_signature
from duecourse.services.compose import Composer
from duecourse.services.dispatch import dispatch
from duecourse.services.run import run_collection
from tests.integration.book import add_client, add_invoice, apply_default_rule
from tests.support import service_absent
from tests.support.smtp import running_smtp_server
from tests.support.web import AS_OF, PASSWORD, SECRET, add_notice, add_user, web_app

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
NOTICE_SECRET = "notice-secret"
KEY = "pk_e2e"
PHONE: ViewportSize = {"width": 390, "height": 844}


@dataclass(frozen=True)
class Running:
    url: str
    engine: Engine


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def host_origin() -> str:
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def app_server(tmp_path: Path, host_origin: str) -> Iterator[Running]:
    database_url = f"sqlite:///{tmp_path / 'duecourse.db'}"
    engine = make_engine(database_url)
    migrate(engine)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    environ = {
        "DUECOURSE_NOTICE_KEY": KEY,
        "DUECOURSE_NOTICE_SECRET": NOTICE_SECRET,
        "DUECOURSE_NOTICE_ORIGINS": host_origin,
        "DUECOURSE_BANK_DETAILS": "Banco Exemplo\\nAgência 0001, conta 12345-6",
    }
    app = web_app(engine, tmp_path, base_url=base_url, environ=environ)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield Running(base_url, engine)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        engine.dispose()


@pytest.fixture
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        service_absent("no Chromium at /usr/bin/chromium: apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


class HostPage(HTTPServer):
    """A page of the client's own product, on another origin."""

    html = b""


class HostHandler(BaseHTTPRequestHandler):
    server: HostPage

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(self.server.html)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the browser's view is what the test reads."""


@pytest.fixture
def host_page(host_origin: str) -> Iterator[HostPage]:
    port = int(host_origin.rsplit(":", 1)[1])
    server = HostPage(("127.0.0.1", port), HostHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def screenshot(page: Page, name: str) -> None:
    if os.environ.get("DUECOURSE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_a_user_logs_in_in_a_real_browser(
    app_server: Running, browser: Browser
) -> None:
    add_user(app_server.engine, "ana@example.com", "manager")
    page = browser.new_page()

    page.goto(f"{app_server.url}/desk")
    page.fill("input[name=email]", "ana@example.com")
    page.fill("input[name=password]", PASSWORD)
    screenshot(page, "login")
    page.click("button[type=submit]")

    page.wait_for_url(f"{app_server.url}/desk")
    assert "ana@example.com" in page.inner_text("main")
    assert "manager" in page.inner_text("main")


def test_a_portal_link_opens_the_clients_page_on_a_phone(
    app_server: Running, browser: Browser
) -> None:
    client_id = book(app_server.engine)
    link, _ = SignedLinks(SECRET, app_server.url, 30).portal(client_id, AS_OF)
    page = browser.new_page(viewport=PHONE)

    page.goto(link)

    main = page.inner_text("main")
    assert "Cobranças em aberto" in main
    assert "A-1" in main
    assert "Banco Exemplo" in main
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the page scrolls sideways on a phone"
    screenshot(page, "portal")


def test_the_banner_shows_in_a_page_of_another_origin(
    app_server: Running, browser: Browser, host_page: HostPage, host_origin: str
) -> None:
    book(app_server.engine)
    signature = client_signature(NOTICE_SECRET, "acme")
    host_page.html = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Acme app</title>"
        "</head><body><main style='font-family:sans-serif;padding:1rem'>"
        "<h1>Your dashboard</h1><p>Projects, reports, settings...</p></main>"
        f'<script src="{app_server.url}/static/notice.js" data-client="acme" '
        f'data-key="{KEY}" data-signature="{signature}" defer></script>'
        "</body></html>"
    ).encode()
    page = browser.new_page(viewport={"width": 900, "height": 400})

    page.goto(host_origin)
    banner = page.wait_for_selector(".duecourse-notice", timeout=10_000)

    assert banner is not None
    text = banner.inner_text()
    assert text.startswith("Seu pagamento de R$")
    assert "Ver sua conta" in text
    screenshot(page, "banner")


def book(engine: Engine) -> int:
    apply_default_rule(engine)
    client_id = add_client(engine, "acme")
    add_invoice(engine, client_id, "A-1", date(2026, 2, 10))
    add_invoice(engine, client_id, "A-2", date(2026, 3, 10), amount="1250.00")
    add_notice(engine, client_id, "overdue_payment")
    return client_id


def test_the_link_in_a_delivered_email_opens_the_account_tab(
    app_server: Running, browser: Browser
) -> None:
    """The whole path a client takes: the run writes the overdue notice, SMTP
    delivers it, and the link inside opens the account tab in a browser."""
    book(app_server.engine)
    links = SignedLinks(SECRET, app_server.url, 30)
    composer = Composer(links, penalty_quote, penalty_terms)
    now = datetime.combine(AS_OF, time_of_day(15), UTC)

    with running_smtp_server() as smtp:
        run_collection(lambda: SqlRunStore(app_server.engine), composer, AS_OF, now)
        sender = SmtpSender(
            SmtpServer.from_url(smtp.url), "Billing <b@example.com>", MessageTemplates()
        )
        dispatch(
            SqlOutboxStore(app_server.engine), {Channel.EMAIL: sender}, lambda: now
        )
        delivered = smtp.received()

    assert len(delivered) == 1
    body = delivered[0].message.get_body(("plain",))
    assert body is not None
    link = re.search(r"http://127\.0\.0\.1:\d+/portal/\S+", body.get_content())
    assert link is not None, "the email carries no portal link"
    page = browser.new_page(viewport=PHONE)
    page.goto(link.group(0))

    main = page.inner_text("main")
    assert "A-1" in main
    assert "R$" in main
