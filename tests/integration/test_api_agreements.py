"""`/api/v1/agreements`: proposed for a desk user, within or beyond their margin,
then approved or rejected by a manager; on both databases."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from duecourse.adapters.db.negotiation_tables import Agreement
from tests.integration.book import add_client, add_invoice, apply_default_rule
from tests.support.api import api_key, bearer
from tests.support.web import TestClient, add_user, web_app

V1 = "/api/v1"
COLLECTOR = "ana@example.com"
MANAGER = "max@example.com"
# Within a collector's margin: 5% off, 3 instalments, 15 days' deferral.
WITHIN = {
    "client": "acme",
    "invoices": ["A-1", "A-2"],
    "instalments": 2,
    "first_due": "2026-03-10",
    "interval_days": 30,
    "discount_percent": "5",
    "waive_penalties": False,
    "proposed_by": COLLECTOR,
}
BEYOND = {
    **WITHIN,
    "instalments": 6,
    "discount_percent": "10.5",
    "waive_penalties": True,
}


@pytest.fixture
def client(engine: Engine, tmp_path: Path) -> TestClient:
    return TestClient(web_app(engine, tmp_path))


@pytest.fixture
def writer(engine: Engine) -> dict[str, str]:
    return bearer(api_key(engine, "read", "write"))


@pytest.fixture
def book(engine: Engine) -> None:
    """acme owes A-1 (1000.00) and A-2 (250.50), beta owes B-1; today is
    2026-03-01. Ana collects, Max manages."""
    apply_default_rule(engine)
    acme = add_client(engine, "acme")
    beta = add_client(engine, "beta")
    add_invoice(engine, acme, "A-1", date(2026, 1, 10))
    add_invoice(engine, acme, "A-2", date(2026, 2, 10), amount="250.50")
    add_invoice(engine, beta, "B-1", date(2026, 2, 10))
    add_user(engine, COLLECTOR, "collector")
    add_user(engine, MANAGER, "manager")


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


def invoice(client: TestClient, headers: dict[str, str], number: str) -> Any:
    return client.get(f"{V1}/invoices/{number}", headers=headers).json()


def agreement_count(engine: Engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(Agreement)) or 0


def test_terms_within_the_margin_are_active_at_once(
    client: TestClient, writer: dict[str, str], book: None
) -> None:
    response = post(client, "/agreements", WITHIN, writer, "agree-1")

    assert response.status_code == 201
    made = response.json()
    assert made["status"] == "active"
    assert made["reasons"] == []
    assert made["invoices"] == ["A-1", "A-2"]
    assert (made["proposed_by"], made["decided_by"]) == (COLLECTOR, None)
    assert made["discount_percent"] == "5"
    assert made["covered_balance"] == "1250.50"
    assert made["agreed_total"] == "1187.98"
    schedule = made["schedule"]
    assert [i["amount"] for i in schedule] == ["593.99", "593.99"]
    assert [i["due_date"] for i in schedule] == ["2026-03-10", "2026-04-09"]
    for instalment in schedule:
        issued = invoice(client, writer, instalment["invoice"])
        assert (issued["status"], issued["balance"]) == ("open", instalment["amount"])
    assert invoice(client, writer, "A-1")["status"] == "void"
    assert invoice(client, writer, "A-2")["status"] == "void"


def test_terms_beyond_the_margin_wait_with_the_reasons(
    client: TestClient, writer: dict[str, str], book: None
) -> None:
    response = post(client, "/agreements", BEYOND, writer, "agree-2")

    assert response.status_code == 201
    made = response.json()
    assert made["status"] == "pending"
    assert made["schedule"] == []
    assert made["agreed_total"] is None
    reasons = " | ".join(made["reasons"])
    assert len(made["reasons"]) == 3
    assert "10.5%" in reasons
    assert "waiving penalties" in reasons
    assert "6 instalments" in reasons
    assert invoice(client, writer, "A-1")["status"] == "open"


def test_a_manager_approves_and_the_agreement_takes_effect(
    client: TestClient, writer: dict[str, str], book: None
) -> None:
    pending = post(client, "/agreements", BEYOND, writer, "agree-3").json()

    response = post(
        client,
        f"/agreements/{pending['id']}/approve",
        {"decided_by": MANAGER},
        writer,
        "approve-3",
    )
    again = post(
        client,
        f"/agreements/{pending['id']}/approve",
        {"decided_by": MANAGER},
        writer,
        "approve-3b",
    )

    assert response.status_code == 200
    approved = response.json()
    assert (approved["status"], approved["decided_by"]) == ("active", MANAGER)
    assert approved["reasons"] == pending["reasons"]
    assert len(approved["schedule"]) == 6
    assert invoice(client, writer, "A-1")["status"] == "void"
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"


def test_a_collector_cannot_approve(
    client: TestClient, writer: dict[str, str], book: None
) -> None:
    pending = post(client, "/agreements", BEYOND, writer, "agree-4").json()

    response = post(
        client,
        f"/agreements/{pending['id']}/approve",
        {"decided_by": COLLECTOR},
        writer,
        "approve-4",
    )

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert "only a manager or an admin approves" in problem["detail"]
    assert [e["field"] for e in problem["errors"]] == ["decided_by"]
    shown = client.get(f"{V1}/agreements/{pending['id']}", headers=writer).json()
    assert shown["status"] == "pending"


def test_a_manager_rejects_and_the_invoices_stay(
    client: TestClient, writer: dict[str, str], book: None
) -> None:
    pending = post(client, "/agreements", BEYOND, writer, "agree-5").json()

    response = post(
        client,
        f"/agreements/{pending['id']}/reject",
        {"decided_by": MANAGER, "reason": "too generous"},
        writer,
        "reject-5",
    )

    assert response.status_code == 200
    rejected = response.json()
    assert (rejected["status"], rejected["decided_by"]) == ("rejected", MANAGER)
    assert rejected["close_reason"] == "too generous"
    assert invoice(client, writer, "A-1")["status"] == "open"


def test_agreements_are_listed_filtered_and_read_one(
    client: TestClient, writer: dict[str, str], book: None
) -> None:
    active = post(client, "/agreements", WITHIN, writer, "l-1").json()
    beta = {**BEYOND, "client": "beta", "invoices": None}
    pending = post(client, "/agreements", beta, writer, "l-2").json()

    first = client.get(f"{V1}/agreements?limit=1", headers=writer).json()
    second = client.get(
        f"{V1}/agreements?limit=1&after={first['next']}", headers=writer
    ).json()
    by_client = client.get(f"{V1}/agreements?client=beta", headers=writer).json()
    by_status = client.get(f"{V1}/agreements?status=active", headers=writer).json()
    one = client.get(f"{V1}/agreements/{pending['id']}", headers=writer)
    missing = client.get(f"{V1}/agreements/999999", headers=writer)
    bad_status = client.get(f"{V1}/agreements?status=maybe", headers=writer)

    assert [a["id"] for a in first["items"]] == [active["id"]]
    assert [a["id"] for a in second["items"]] == [pending["id"]]
    assert [a["id"] for a in by_client["items"]] == [pending["id"]]
    assert [a["id"] for a in by_status["items"]] == [active["id"]]
    assert one.status_code == 200
    assert one.json() == pending
    assert one.json()["invoices"] == ["B-1"]
    assert missing.status_code == 404
    assert [e["field"] for e in bad_status.json()["errors"]] == ["status"]


def test_a_read_only_key_cannot_propose_or_decide(
    engine: Engine, client: TestClient, writer: dict[str, str], book: None
) -> None:
    reader = bearer(api_key(engine, "read"))
    pending = post(client, "/agreements", BEYOND, writer, "agree-6").json()

    proposed = post(client, "/agreements", WITHIN, reader, "r-1")
    approved = post(
        client,
        f"/agreements/{pending['id']}/approve",
        {"decided_by": MANAGER},
        reader,
        "r-2",
    )

    assert proposed.status_code == approved.status_code == 403
    assert "write scope" in proposed.json()["detail"]
    assert client.get(f"{V1}/agreements", headers=reader).status_code == 200
    assert agreement_count(engine) == 1


def test_a_retry_with_the_same_key_replays_and_proposes_once(
    engine: Engine, client: TestClient, writer: dict[str, str], book: None
) -> None:
    first = post(client, "/agreements", WITHIN, writer, "same")
    again = post(client, "/agreements", WITHIN, writer, "same")
    other = post(client, "/agreements", {**WITHIN, "instalments": 3}, writer, "same")
    unkeyed = client.post(f"{V1}/agreements", json=WITHIN, headers=writer)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert agreement_count(engine) == 1
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert [e["field"] for e in unkeyed.json()["errors"]] == ["Idempotency-Key"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"discount_percent": 5}, "discount_percent"),
        ({"discount_percent": "100"}, "discount_percent"),
        ({"interval_days": 0}, "interval_days"),
        ({"instalments": 0}, "instalments"),
        ({"invoices": ["A-9"]}, "invoices"),
        ({"client": "nobody"}, "client"),
        ({"proposed_by": "who@example.com"}, "proposed_by"),
        ({"first_due": "someday"}, "first_due"),
    ],
)
def test_a_bad_field_is_named_in_the_problem(
    engine: Engine,
    client: TestClient,
    writer: dict[str, str],
    book: None,
    change: dict[str, Any],
    field: str,
) -> None:
    response = post(client, "/agreements", {**WITHIN, **change}, writer, "bad")

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert agreement_count(engine) == 0


def test_a_viewer_cannot_propose(
    engine: Engine, client: TestClient, writer: dict[str, str], book: None
) -> None:
    add_user(engine, "vic@example.com", "viewer")

    response = post(
        client, "/agreements", {**WITHIN, "proposed_by": "vic@example.com"}, writer, "v"
    )

    assert response.status_code == 403
    assert [e["field"] for e in response.json()["errors"]] == ["proposed_by"]
    assert "only reads" in response.json()["detail"]
