"""The desk in a real Chromium: a collector takes a call and records a promise.

The app and the browser are those of `test_browser`. With
`DUECOURSE_SCREENSHOTS=1` the test saves the desk's screenshots to
docs/screenshots.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import Browser
from sqlalchemy.orm import Session

from duecourse.adapters.db.models import CallTask
from tests.e2e import test_browser as shared
from tests.e2e.test_browser import Running, screenshot
from tests.integration.book import add_client, add_invoice, apply_default_rule
from tests.support.web import AS_OF, PASSWORD, add_user

pytestmark = pytest.mark.slow

# The fixtures of `test_browser`: the app under uvicorn, Chromium.
app_server = shared.app_server
browser = shared.browser
host_origin = shared.host_origin


def test_a_collector_records_a_promise_and_the_client_page_shows_it(
    app_server: Running, browser: Browser
) -> None:
    engine = app_server.engine
    apply_default_rule(engine)
    client_id = add_client(engine, "acme")
    add_invoice(engine, client_id, "A-1", date(2026, 2, 1), "1500.00")
    with Session(engine) as session:
        session.add(
            CallTask(
                client_id=client_id,
                stage_key="call",
                script="overdue_call",
                reason="1 invoice(s) overdue since 2026-02-01",
                balance=Decimal("1500.00"),
                currency="BRL",
                status="open",
                created_on=AS_OF,
            )
        )
        session.commit()
    add_user(engine, "carla@example.com", "collector")
    page = browser.new_page(viewport={"width": 1200, "height": 900})

    page.goto(f"{app_server.url}/desk/today")
    page.fill("input[name=email]", "carla@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{app_server.url}/desk/today")
    screenshot(page, "desk-today")
    page.click("nav.desk-nav >> text=Worklist")
    assert "Client acme" in page.inner_text("main")
    screenshot(page, "desk-worklist")
    page.click("table.worklist button[type=submit]")
    page.wait_for_url("**/desk/calls/*")
    assert "A-1" in page.inner_text("main")
    screenshot(page, "desk-call")
    page.check("input[name=outcome][value=promise]")
    page.fill("input[name=amount]", "1500.00")
    page.fill("input[name=promised_on]", "2026-03-10")
    page.click("form.stack button[type=submit]")
    assert "paused until 2026-03-13" in page.inner_text("main")
    page.click("text=Client page")

    timeline = page.inner_text("ol.timeline")
    assert "promise to pay" in timeline
    assert "1500.00 BRL by 2026-03-10" in timeline
    screenshot(page, "desk-client")
