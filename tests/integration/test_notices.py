"""The notice endpoint: signed, origin-checked, cacheable JSON for the banner."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine

from duecourse.domain.agreements import Role
from duecourse.entrypoints.web.context import client_signature
from tests.integration.book import add_client, add_invoice, apply_default_rule
from tests.support.web import TestClient, add_notice, add_user, log_in, web_app

KEY = "pk_test_notice"
NOTICE_SECRET = "notice-secret"
HOST = "https://app.example.com"
ENVIRON = {
    "DUECOURSE_NOTICE_KEY": KEY,
    "DUECOURSE_NOTICE_SECRET": NOTICE_SECRET,
    "DUECOURSE_NOTICE_ORIGINS": f"{HOST}, http://localhost:3000",
}


@pytest.fixture
def client(engine: Engine, tmp_path: Path) -> TestClient:
    return TestClient(web_app(engine, tmp_path, environ=ENVIRON))


@pytest.fixture
def overdue(engine: Engine) -> str:
    """A client with an overdue invoice and an active notice; its external id."""
    apply_default_rule(engine)
    client_id = add_client(engine, "acme")
    add_invoice(engine, client_id, "A-1", date(2026, 2, 10))
    add_notice(engine, client_id, "overdue_payment")
    return "acme"


def url(client: str, sig: str | None = None, key: str = KEY) -> str:
    signature = sig if sig is not None else client_signature(NOTICE_SECRET, client)
    return f"/notices/{client}?key={key}&sig={signature}"


def test_the_notice_is_small_json_in_the_clients_language(
    client: TestClient, overdue: str
) -> None:
    response = client.get(url(overdue), headers={"Origin": HOST})

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    notice = body["notice"]
    assert body["client"] == "acme"
    assert notice["severity"] == "warning"
    assert notice["language"] == "pt-BR"
    assert notice["text"].startswith("Seu pagamento de R$")
    assert notice["amount_text"] in notice["text"]
    assert notice["currency"] == "BRL"
    assert Decimal(notice["amount"]) > Decimal("1000.00")
    assert notice["portal_url"].startswith("http://testserver/portal/")
    assert set(notice["how_to_pay"]) == {"payment_url", "bank_details"}
    assert len(response.content) < 1024


def test_the_portal_link_of_the_notice_opens_the_clients_page(
    client: TestClient, overdue: str
) -> None:
    portal_url = client.get(url(overdue)).json()["notice"]["portal_url"]

    page = client.get(portal_url.removeprefix("http://testserver"))

    assert page.status_code == 200
    assert "A-1" in page.text


def test_a_client_without_an_active_notice_gets_none(
    engine: Engine, client: TestClient
) -> None:
    add_client(engine, "quiet")

    response = client.get(url("quiet"))

    assert response.status_code == 200
    assert response.json() == {"client": "quiet", "notice": None}


def test_the_signature_and_the_key_are_required(
    client: TestClient, overdue: str
) -> None:
    missing = client.get(f"/notices/{overdue}?key={KEY}")
    wrong = client.get(url(overdue, sig=client_signature(NOTICE_SECRET, "globex")))
    other_key = client.get(url(overdue, key="pk_someone_else"))

    for response in (missing, wrong, other_key):
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"
        assert "notice" not in response.json()


def test_cors_headers_go_only_to_allowed_origins(
    client: TestClient, overdue: str
) -> None:
    allowed = client.get(url(overdue), headers={"Origin": HOST})
    refused = client.get(url(overdue), headers={"Origin": "https://evil.example"})
    no_origin = client.get(url(overdue))

    assert allowed.headers["access-control-allow-origin"] == HOST
    assert refused.status_code == 403
    assert "access-control-allow-origin" not in refused.headers
    assert no_origin.status_code == 200
    assert "access-control-allow-origin" not in no_origin.headers


def test_an_unchanged_notice_is_answered_with_304(
    client: TestClient, overdue: str
) -> None:
    first = client.get(url(overdue), headers={"Origin": HOST})
    etag = first.headers["etag"]

    again = client.get(url(overdue), headers={"Origin": HOST, "If-None-Match": etag})
    stale = client.get(url(overdue), headers={"If-None-Match": '"something-else"'})

    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["access-control-allow-origin"] == HOST
    assert stale.status_code == 200
    assert first.headers["cache-control"] == "private, no-cache"


def test_an_unknown_client_is_not_found(client: TestClient) -> None:
    response = client.get(url("nobody"))

    assert response.status_code == 404


def test_the_banner_script_is_served(client: TestClient) -> None:
    response = client.get("/static/notice.js")

    assert response.status_code == 200
    assert "data-signature" in response.text


def test_an_admin_previews_a_clients_banner_with_its_signed_tag(
    engine: Engine, client: TestClient, overdue: str
) -> None:
    add_user(engine, "admin@example.com", Role.ADMIN)
    add_user(engine, "cleo@example.com", Role.COLLECTOR)

    log_in(client, "cleo@example.com")
    refused = client.get(f"/desk/integration?client={overdue}")
    log_in(client, "admin@example.com")
    page = client.get(f"/desk/integration?client={overdue}")

    assert refused.status_code == 403
    assert page.status_code == 200
    signature = client_signature(NOTICE_SECRET, overdue)
    assert f'data-signature="{signature}"' in page.text
    assert '<script src="/static/notice.js"' in page.text
