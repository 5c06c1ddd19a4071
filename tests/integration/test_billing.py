"""Billing on a real database: each period invoiced once, terms changed ahead."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from duecourse.adapters.db.billing_store import SqlBillingStore
from duecourse.adapters.db.billing_tables import ContractChange
from duecourse.adapters.db.engine import make_engine, migrate
from duecourse.adapters.db.models import Action, Contract, Invoice, Message, Payment
from duecourse.adapters.db.run_store import SqlRunStore
from duecourse.adapters.db.schema import metadata
from duecourse.domain.errors import InvalidField, NotFound
from duecourse.services.billing import (
    BillingSummary,
    TermsChanged,
    change_terms,
    issue_invoices,
)
from duecourse.services.run import run_collection
from tests.integration.book import add_client, add_invoice, apply_default_rule, composer

NOW = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def bill(engine: Engine, as_of: date) -> BillingSummary:
    store = SqlBillingStore(engine)
    try:
        return issue_invoices(store, as_of, "tester", NOW)
    finally:
        store.close()


def change(engine: Engine, contract_id: int, **terms: Any) -> TermsChanged:
    store = SqlBillingStore(engine)
    try:
        return change_terms(store, contract_id, actor="tester", now=NOW, **terms)
    finally:
        store.close()


def run(engine: Engine, as_of: date) -> None:
    now = datetime.combine(as_of, datetime.min.time(), UTC) + timedelta(hours=15)
    run_collection(lambda: SqlRunStore(engine), composer(), as_of, now)


def contract_of(engine: Engine, client_id: int, **terms: Any) -> int:
    """The client's contract, with the given terms instead of the book's."""
    with Session(engine) as session, session.begin():
        contract = session.scalars(
            select(Contract).where(Contract.client_id == client_id)
        ).one()
        for name, value in terms.items():
            setattr(contract, name, value)
        return contract.id


def invoices(engine: Engine) -> list[Invoice]:
    with Session(engine) as session:
        return list(session.scalars(select(Invoice).order_by(Invoice.due_date)))


def test_billing_twice_issues_one_invoice_per_period(engine: Engine) -> None:
    client = add_client(engine, "C1")
    contract = contract_of(engine, client)

    first = bill(engine, date(2026, 3, 10))
    second = bill(engine, date(2026, 3, 10))

    assert (first.issued, second.issued) == (3, 0)
    issued = invoices(engine)
    assert [i.number for i in issued] == [
        f"C1-{contract}-202601",
        f"C1-{contract}-202602",
        f"C1-{contract}-202603",
    ]
    march = issued[-1]
    assert (march.period_start, march.period_end) == (
        date(2026, 3, 1),
        date(2026, 3, 31),
    )
    assert (march.issue_date, march.due_date) == (date(2026, 3, 8), date(2026, 3, 18))
    assert march.amount == Decimal("1000.00")
    assert march.next_action_on == date(2026, 3, 10)


def test_a_due_day_of_31_falls_on_the_last_day_of_february(engine: Engine) -> None:
    client = add_client(engine, "C1")
    contract_of(engine, client, due_day=31)

    bill(engine, date(2026, 3, 1))

    assert [i.due_date for i in invoices(engine)] == [
        date(2026, 1, 31),
        date(2026, 2, 28),
    ]


def test_an_annual_contract_bills_twelve_months_less_its_discount(
    engine: Engine,
) -> None:
    client = add_client(engine, "C1")
    contract_of(
        engine,
        client,
        billing_period_months=12,
        prepay_discount_percent=Decimal(10),
        starts_on=date(2026, 2, 1),
    )

    bill(engine, date(2027, 1, 31))

    (year,) = invoices(engine)
    assert (year.period_start, year.period_end) == (date(2026, 2, 1), date(2027, 1, 31))
    assert year.amount == Decimal("10800.00")
    assert year.discount_percent == Decimal(10)


def test_a_new_due_day_applies_from_the_next_invoice(engine: Engine) -> None:
    client = add_client(engine, "C1")
    contract = contract_of(engine, client)
    bill(engine, date(2026, 2, 10))

    changed = change(engine, contract, due_day=5)
    bill(engine, date(2026, 2, 25))

    assert changed.applies_from == date(2026, 3, 1)
    assert [i.due_date for i in invoices(engine)] == [
        date(2026, 1, 18),
        date(2026, 2, 18),
        date(2026, 3, 5),
    ]
    with Session(engine) as session:
        record = session.scalars(select(ContractChange)).one()
    assert record.changes == {"due_day": {"from": "18", "to": "5"}}
    assert (record.actor, record.applies_from) == ("tester", date(2026, 3, 1))


def test_a_new_period_takes_its_standard_discount_from_the_next_invoice(
    engine: Engine,
) -> None:
    client = add_client(engine, "C1")
    contract = contract_of(engine, client)
    bill(engine, date(2026, 1, 10))

    changed = change(engine, contract, period=12, lead_days=20)
    bill(engine, date(2026, 2, 1))

    assert set(changed.changes) == {"period_months", "discount_percent", "lead_days"}
    january, year = invoices(engine)
    assert january.amount == Decimal("1000.00")
    assert (year.period_start, year.period_end) == (date(2026, 2, 1), date(2027, 1, 31))
    assert year.issue_date == date(2026, 1, 29)
    assert year.amount == Decimal("10800.00")


def test_changing_nothing_or_an_unknown_contract_is_refused(engine: Engine) -> None:
    client = add_client(engine, "C1")
    contract = contract_of(engine, client)

    with pytest.raises(InvalidField, match="nothing to change"):
        change(engine, contract)
    with pytest.raises(NotFound, match="no contract 999"):
        change(engine, 999, due_day=3)
    with pytest.raises(InvalidField, match="32 is not a day of the month"):
        change(engine, contract, due_day=32)


def test_the_clients_credit_pays_a_new_invoice(engine: Engine) -> None:
    client = add_client(engine, "C1")
    contract_of(engine, client)
    with Session(engine) as session, session.begin():
        session.add(
            Payment(
                client_id=client,
                reference="BANK-1",
                amount=Decimal("1500.00"),
                currency="BRL",
                received_on=date(2026, 1, 5),
                method="pix",
                unallocated=Decimal("1500.00"),
                created_at=NOW,
            )
        )

    summary = bill(engine, date(2026, 2, 10))

    assert summary.settled_by_credit == 1
    january, february = invoices(engine)
    assert (january.status, january.balance) == ("paid", Decimal(0))
    assert january.next_action_on is None
    assert february.balance == Decimal("500.00")
    with Session(engine) as session:
        assert session.scalars(select(Payment.unallocated)).one() == Decimal(0)


def test_a_number_already_taken_is_reported_and_other_contracts_billed(
    engine: Engine,
) -> None:
    first = add_client(engine, "C1")
    contract = contract_of(engine, first)
    contract_of(engine, add_client(engine, "C2"))
    add_invoice(engine, first, f"C1-{contract}-202601", date(2026, 1, 18))

    summary = bill(engine, date(2026, 1, 10))

    assert summary.issued == 1
    assert summary.problems == [
        f"contract {contract}: invoice number C1-{contract}-202601 is already "
        "taken by another invoice, so the period from 2026-01-01 was not billed; "
        "renumber the other invoice"
    ]


def emails(engine: Engine, client_id: int) -> list[Message]:
    with Session(engine) as session:
        query = select(Message).where(Message.client_id == client_id)
        return list(session.scalars(query.order_by(Message.run_on)))


def test_the_bill_shows_the_period_and_the_prepay_discount(engine: Engine) -> None:
    apply_default_rule(engine)
    client = add_client(engine, "C1")
    contract_of(
        engine,
        client,
        billing_period_months=6,
        prepay_discount_percent=Decimal(5),
        starts_on=date(2026, 3, 1),
    )

    bill(engine, date(2026, 3, 9))
    run(engine, date(2026, 3, 9))

    (message,) = emails(engine, client)
    assert message.template == "bill"
    lines: list[dict[str, Any]] = message.context["invoices"]  # type: ignore[assignment]
    line = lines[0]
    assert (line["period_start"], line["period_end"]) == ("2026-03-01", "2026-08-31")
    assert line["discount_percent"] == "5"
    assert Decimal(line["amount"]) == Decimal("5700.00")
    assert message.context["offer"] is None


OFFER_RULE = """
name = "offer"
description = "Bill, and offer a prepaid year to clients who always pay late."

[[stages]]
key = "bill"
offset_days = -10
use_client_lead_days = true
channel = "email"
template = "bill"

[[stages]]
key = "prepay_offer"
offset_days = -3
channel = "email"
template = "reminder"
offer = { switch_to_months = 12 }
[stages.conditions]
late_streak = 3
"""


def paid_history(engine: Engine, client_id: int, days_late: int) -> None:
    """Three earlier invoices, each paid `days_late` days after its due date."""
    for month in (1, 2, 3):
        due = date(2025, month, 18)
        invoice = add_invoice(engine, client_id, f"OLD-{client_id}-{month}", due)
        with Session(engine) as session, session.begin():
            session.execute(
                update(Invoice)
                .where(Invoice.id == invoice)
                .values(
                    balance=Decimal(0),
                    status="paid",
                    next_action_on=None,
                    last_payment_on=due + timedelta(days=days_late),
                )
            )


def test_a_client_who_always_pays_late_is_offered_a_prepaid_year(
    engine: Engine,
) -> None:
    apply_default_rule(engine, OFFER_RULE)
    late = add_client(engine, "LATE")
    punctual = add_client(engine, "PUNCTUAL")
    paid_history(engine, late, days_late=6)
    paid_history(engine, punctual, days_late=0)
    for client in (late, punctual):
        contract_of(engine, client, amount=Decimal("100.00"))
        add_invoice(engine, client, f"NOW-{client}", date(2026, 3, 18))

    run(engine, date(2026, 3, 6))
    run(engine, date(2026, 3, 13))

    bill_message, offer_message = emails(engine, late)
    assert bill_message.context["offer"] is None
    assert offer_message.context["offer"] == {
        "months": 12,
        "discount_percent": "10",
        "amount": "1080.00",
        "saving": "120.00",
        "currency": "BRL",
    }
    assert [m.context["offer"] for m in emails(engine, punctual)] == [None]
    with Session(engine) as session:
        skipped = session.scalars(
            select(Action.reason).where(Action.stage_key == "prepay_offer")
        ).all()
    assert "paid late 0 time(s) in a row" in skipped


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_migration_builds_the_tables_the_models_describe(
    kind: str, request: pytest.FixtureRequest, tmp_path: Any
) -> None:
    if kind == "sqlite":
        fresh = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
        migrate(fresh)
    else:
        fresh = make_engine(request.getfixturevalue("postgres_url"))

    with fresh.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    fresh.dispose()

    ours = [d for d in differences if _touches_billing(d)]
    assert ours == []


def _touches_billing(difference: Any) -> bool:
    text = repr(difference)
    return any(
        name in text
        for name in ("contract_changes", "period_start", "period_end", "uq_invoices")
    ) or ("discount_percent" in text and "invoices" in text)
