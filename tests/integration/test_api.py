"""`/api/v1`: keys and scopes, pages and filters, idempotent creation, problems."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from duecourse.adapters.db.api_store import SqlApiKeyStore
from duecourse.adapters.db.models import Message, Payment
from duecourse.services.api_keys import revoke_key
from tests.integration.book import add_client, add_invoice, apply_default_rule
from tests.support.api import api_key, bearer
from tests.support.web import NOW, TestClient, web_app

V1 = "/api/v1"
CLIENT = {
    "external_id": "acme",
    "name": "Acme Ltda",
    "country": "BR",
    "time_zone": "America/Sao_Paulo",
    "language": "pt_BR",
    "currency": "BRL",
    "contact": {"name": "Maria", "email": "finance@acme.com.br"},
    "contract": {
        "amount": "1000.00",
        "billing_period_months": 1,
        "due_day": 10,
        "notice_lead_days": 10,
    },
}


@pytest.fixture
def client(engine: Engine, tmp_path: Path) -> TestClient:
    return TestClient(web_app(engine, tmp_path))


@pytest.fixture
def writer(engine: Engine) -> dict[str, str]:
    return bearer(api_key(engine, "read", "write"))


@pytest.fixture
def book(engine: Engine) -> None:
    """Two clients; acme owes three invoices, beta one."""
    apply_default_rule(engine)
    acme = add_client(engine, "acme")
    beta = add_client(engine, "beta")
    add_invoice(engine, acme, "A-1", date(2026, 1, 10))
    add_invoice(engine, acme, "A-2", date(2026, 2, 10), amount="250.50")
    add_invoice(engine, acme, "A-3", date(2026, 3, 10))
    add_invoice(engine, beta, "B-1", date(2026, 2, 10))


def post(
    client: TestClient,
    path: str,
    body: dict[str, Any],
    headers: dict[str, str],
    key: str,
) -> Any:
    return client.post(
        f"{V1}{path}", json=body, headers={**headers, "Idempotency-Key": key}
    )


def test_a_request_without_a_key_is_refused_as_a_problem(client: TestClient) -> None:
    response = client.get(f"{V1}/clients")

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["status"] == 401


def test_a_revoked_or_altered_key_is_refused(
    engine: Engine, client: TestClient
) -> None:
    token = api_key(engine, "read")
    assert client.get(f"{V1}/clients", headers=bearer(token)).status_code == 200

    revoke_key(SqlApiKeyStore(engine), token.split("_")[1], "test", NOW)

    assert client.get(f"{V1}/clients", headers=bearer(token)).status_code == 401
    altered = api_key(engine, "read")[:-2] + "xx"
    assert client.get(f"{V1}/clients", headers=bearer(altered)).status_code == 401


def test_a_read_only_key_cannot_create(engine: Engine, client: TestClient) -> None:
    reader = bearer(api_key(engine, "read"))

    response = post(client, "/clients", CLIENT, reader, "k-1")

    assert response.status_code == 403
    assert "write scope" in response.json()["detail"]


def test_invoices_are_listed_page_by_page(
    client: TestClient, writer: dict[str, str], book: None
) -> None:
    first = client.get(f"{V1}/invoices?limit=3", headers=writer).json()
    second = client.get(
        f"{V1}/invoices?limit=3&after={first['next']}", headers=writer
    ).json()

    assert [i["number"] for i in first["items"]] == ["A-1", "A-2", "A-3"]
    assert [i["number"] for i in second["items"]] == ["B-1"]
    assert second["next"] is None


def test_invoices_are_filtered_by_client_status_and_due_date(
    client: TestClient, writer: dict[str, str], book: None
) -> None:
    query = "client=acme&status=open&due_after=2026-01-10&due_before=2026-03-10"

    body = client.get(f"{V1}/invoices?{query}", headers=writer).json()

    assert [i["number"] for i in body["items"]] == ["A-2"]
    assert body["items"][0]["amount"] == "250.50"
    assert body["items"][0]["balance"] == "250.50"


def test_every_resource_lists_and_reads_one(
    client: TestClient, writer: dict[str, str], book: None
) -> None:
    acme = client.get(f"{V1}/clients/acme", headers=writer).json()
    contracts = client.get(f"{V1}/contracts?client=acme", headers=writer).json()
    contract = client.get(
        f"{V1}/contracts/{contracts['items'][0]['id']}", headers=writer
    ).json()
    invoice = client.get(f"{V1}/invoices/A-1", headers=writer).json()
    rules = client.get(f"{V1}/rules?active=true", headers=writer).json()
    rule = client.get(f"{V1}/rules/{rules['items'][0]['id']}", headers=writer).json()

    assert acme["currency"] == "BRL"
    assert contract["amount"] == "1000.00"
    assert contract["prepay_discount_percent"] == "0"
    assert invoice["client"] == "acme"
    assert rule["name"] == rules["items"][0]["name"]
    assert "[[stage]]" in rule["source"] or "stage" in rule["source"]
    for path in ("/actions", "/call_tasks", "/promises", "/payments"):
        listing = client.get(f"{V1}{path}?limit=10", headers=writer)
        assert listing.status_code == 200, path
        assert listing.json() == {"items": [], "next": None}
    for path in ("/actions/1", "/call_tasks/1", "/promises/1", "/payments/nope"):
        assert client.get(f"{V1}{path}", headers=writer).status_code == 404, path


def test_a_client_is_created_with_its_contact_and_contract(
    client: TestClient, writer: dict[str, str]
) -> None:
    response = post(client, "/clients", CLIENT, writer, "new-acme")

    assert response.status_code == 201
    assert response.json()["external_id"] == "acme"
    contracts = client.get(f"{V1}/contracts?client=acme", headers=writer).json()
    assert contracts["items"][0]["amount"] == "1000.00"


def test_a_retry_with_the_same_key_replays_and_creates_once(
    engine: Engine, client: TestClient, writer: dict[str, str], book: None
) -> None:
    payment = {
        "reference": "PIX-1",
        "client": "acme",
        "amount": "1000.00",
        "currency": "BRL",
        "received_on": "2026-02-28",
        "invoice": "A-1",
    }

    first = post(client, "/payments", payment, writer, "pay-1")
    again = post(client, "/payments", payment, writer, "pay-1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Payment)) == 1
        events = session.scalars(
            select(Message.template).where(Message.channel == "webhook")
        ).all()
    assert events == ["payment.recorded"]
    invoice = client.get(f"{V1}/invoices/A-1", headers=writer).json()
    assert (invoice["status"], invoice["balance"]) == ("paid", "0.00")


def test_the_same_key_with_another_body_is_refused(
    client: TestClient, writer: dict[str, str], book: None
) -> None:
    invoice = {
        "number": "A-9",
        "client": "acme",
        "amount": "99.90",
        "currency": "BRL",
        "issue_date": "2026-03-01",
        "due_date": "2026-03-31",
    }
    assert post(client, "/invoices", invoice, writer, "inv-9").status_code == 201

    response = post(client, "/invoices", {**invoice, "amount": "1.00"}, writer, "inv-9")

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"


def test_every_post_needs_an_idempotency_key(
    client: TestClient, writer: dict[str, str]
) -> None:
    response = client.post(f"{V1}/clients", json=CLIENT, headers=writer)

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["Idempotency-Key"]


def test_validation_errors_name_the_field(
    client: TestClient, writer: dict[str, str], book: None
) -> None:
    bad_shape = post(
        client, "/clients", {**CLIENT, "contact": {"name": ""}}, writer, "c-1"
    )
    bad_value = post(
        client, "/clients", {**CLIENT, "time_zone": "Mars/Olympus"}, writer, "c-2"
    )
    bad_invoice = post(
        client,
        "/invoices",
        {
            "number": "A-1",
            "client": "nobody",
            "amount": "10.00",
            "currency": "BRL",
            "issue_date": "2026-03-01",
            "due_date": "2026-03-31",
        },
        writer,
        "i-1",
    )

    assert bad_shape.status_code == bad_value.status_code == 422
    assert bad_shape.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in bad_shape.json()["errors"]] == ["contact.name"]
    assert [e["field"] for e in bad_value.json()["errors"]] == ["time_zone"]
    fields = {e["field"] for e in bad_invoice.json()["errors"]}
    assert fields == {"number", "client"}


def test_money_is_never_a_float(
    client: TestClient, writer: dict[str, str], book: None
) -> None:
    payment = {
        "reference": "PIX-2",
        "client": "acme",
        "amount": 10.5,
        "currency": "BRL",
        "received_on": "2026-02-28",
    }

    refused = post(client, "/payments", payment, writer, "p-float")
    listed = client.get(f"{V1}/invoices", headers=writer).json()

    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "amount"
    for invoice in listed["items"]:
        assert isinstance(invoice["amount"], str)
        assert isinstance(invoice["balance"], str)


def test_a_promise_is_taken_and_listed(
    client: TestClient, writer: dict[str, str], book: None
) -> None:
    promise = {
        "client": "acme",
        "amount": "250.50",
        "promised_on": "2026-03-05",
        "invoices": ["A-2"],
    }

    made = post(client, "/promises", promise, writer, "promise-1")
    listed = client.get(f"{V1}/promises?client=acme&status=open", headers=writer)

    assert made.status_code == 201
    assert made.json()["invoices"] == ["A-2"]
    assert made.json()["amount"] == "250.50"
    assert [p["id"] for p in listed.json()["items"]] == [made.json()["id"]]


def test_applying_a_rule_needs_the_admin_scope(
    engine: Engine, client: TestClient, writer: dict[str, str]
) -> None:
    source = (Path("src/duecourse/rules/default.toml")).read_text()
    admin = bearer(api_key(engine, "admin"))

    refused = post(client, "/rules", {"source": source}, writer, "rule-1")
    applied = post(client, "/rules", {"source": source}, admin, "rule-1")
    same = post(client, "/rules", {"source": source}, admin, "rule-2")
    broken = post(client, "/rules", {"source": "name = 3"}, admin, "rule-3")

    assert refused.status_code == 403
    assert applied.status_code == 201
    assert same.status_code == 200
    assert broken.status_code == 422
    assert broken.json()["errors"]
