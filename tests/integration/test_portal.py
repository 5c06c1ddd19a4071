"""The portal: a client's account tab, opened by a signed, expiring link."""

from __future__ import annotations

import re
import zlib
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from babel.numbers import format_currency
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from duecourse.adapters.db.models import Allocation, AuditEntry, Invoice, Payment
from duecourse.adapters.links import SignedLinks
from duecourse.adapters.penalty_terms import penalty_quote
from duecourse.domain.money import Money
from duecourse.domain.rules import parse_rule
from duecourse.entrypoints.web.words import speaker_for
from tests.integration.book import (
    DEFAULT_RULE,
    add_client,
    add_invoice,
    apply_default_rule,
)
from tests.support.web import AS_OF, NOW, SECRET, TestClient, web_app

DUE = date(2026, 2, 10)


@pytest.fixture
def client(engine: Engine, tmp_path: Path) -> TestClient:
    return TestClient(web_app(engine, tmp_path))


def link(client_id: int, issued_on: date = AS_OF, secret: str = SECRET) -> str:
    url, _ = SignedLinks(secret, "http://testserver", 30).portal(client_id, issued_on)
    return url.removeprefix("http://testserver")


def book(engine: Engine) -> tuple[int, int]:
    """Two clients: the first with an overdue invoice and a paid one."""
    apply_default_rule(engine)
    first = add_client(engine, "acme")
    other = add_client(engine, "globex")
    add_invoice(engine, first, "A-1", DUE)
    paid = add_invoice(engine, first, "A-0", date(2026, 1, 10), amount="500.00")
    add_invoice(engine, other, "B-1", DUE)
    with Session(engine) as session:
        session.execute(
            update(Invoice)
            .where(Invoice.id == paid)
            .values(status="paid", balance=Decimal(0), next_action_on=None)
        )
        payment = Payment(
            client_id=first,
            reference="PIX-7781",
            amount=Decimal("500.00"),
            currency="BRL",
            received_on=date(2026, 1, 9),
            method="pix",
            unallocated=Decimal(0),
            created_at=NOW,
        )
        session.add(payment)
        session.flush()
        session.add(
            Allocation(payment_id=payment.id, invoice_id=paid, amount=Decimal("500"))
        )
        session.commit()
    return first, other


def expected_penalty() -> str:
    rule = parse_rule(DEFAULT_RULE.read_text(), "default", lambda *_: True)
    quote = penalty_quote(rule, Money.of("1000.00", "BRL"), DUE, AS_OF)
    assert quote is not None
    total = Money.of(quote["total"], "BRL").rounded().amount
    return speaker_for("pt_BR").money(total, "BRL")


def test_a_valid_link_shows_only_that_clients_account_with_penalties(
    engine: Engine, client: TestClient
) -> None:
    first, _ = book(engine)

    response = client.get(link(first))

    assert response.status_code == 200
    assert "A-1" in response.text
    assert "B-1" not in response.text
    assert expected_penalty() in response.text
    assert "A-0" in response.text
    assert "PIX-7781" in response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert 'name="viewport"' in response.text


def test_each_visit_is_recorded_for_the_desk(
    engine: Engine, client: TestClient
) -> None:
    first, _ = book(engine)

    client.get(link(first))

    with Session(engine) as session:
        entries = session.scalars(select(AuditEntry)).all()
    visits = [e for e in entries if e.action == "portal visited"]
    assert [e.subject for e in visits] == [f"client {first}"]


def test_an_expired_link_is_refused_and_shows_no_data(
    engine: Engine, client: TestClient
) -> None:
    first, _ = book(engine)

    response = client.get(link(first, issued_on=AS_OF - timedelta(days=31)))

    assert response.status_code == 410
    assert "expired" in response.text
    assert "A-1" not in response.text
    assert "Client acme" not in response.text


def test_an_altered_link_is_refused(engine: Engine, client: TestClient) -> None:
    first, other = book(engine)
    genuine = link(first)

    to_other = genuine.replace(f"/portal/{first}.", f"/portal/{other}.")
    longer = re.sub(r"\d{4}-\d{2}-\d{2}", "2099-01-01", genuine)
    forged = link(other, secret="another-secret")

    for path in (to_other, longer, forged, "/portal/not-a-token"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "B-1" not in response.text
        assert "A-1" not in response.text


def test_the_refusal_speaks_the_browsers_language(
    engine: Engine, client: TestClient
) -> None:
    response = client.get(
        "/portal/1.2026-01-01.xyz", headers={"Accept-Language": "es-MX,es;q=0.9"}
    )

    assert response.status_code == 403
    assert "Este enlace no se puede abrir" in response.text


def test_the_statement_downloads_as_a_pdf_with_the_invoices(
    engine: Engine, client: TestClient
) -> None:
    first, _ = book(engine)

    response = client.get(f"{link(first)}/statement.pdf")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith(b"%PDF-")
    text = pdf_text(response.content)
    assert b"A-1" in text
    assert b"PIX-7781" in text
    assert b"B-1" not in text


@pytest.mark.parametrize(
    ("language", "heading"),
    [
        ("pt_BR", "Cobranças em aberto"),
        ("es", "Cargos pendientes"),
        ("en", "Open charges"),
    ],
)
def test_the_page_is_in_the_clients_language(
    engine: Engine, client: TestClient, language: str, heading: str
) -> None:
    apply_default_rule(engine)
    client_id = add_client(engine, "intl", language=language, currency="USD")
    add_invoice(engine, client_id, "I-1", date(2026, 3, 20), currency="USD")

    response = client.get(link(client_id))

    assert f'<html lang="{language.replace("_", "-")}">' in response.text
    assert heading in response.text
    assert format_currency(Decimal("1000.00"), "USD", locale=language) in response.text


def pdf_text(document: bytes) -> bytes:
    """The page content of a PDF, its compressed streams inflated."""
    streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", document, re.DOTALL)
    inflated = []
    for stream in streams:
        try:
            inflated.append(zlib.decompress(stream))
        except zlib.error:
            inflated.append(stream)
    return b"\n".join(inflated)
