"""Importing CSV files: every problem reported, and nothing stored unless clean."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select

from duecourse.adapters.db.models import (
    AuditEntry,
    Client,
    Contact,
    Contract,
    Invoice,
    Payment,
)
from duecourse.adapters.db.records import SqlRecordStore
from duecourse.domain.errors import InvalidImport
from duecourse.services.demo import load_demo
from duecourse.services.imports import ImportResult, import_csv

TODAY = date(2025, 3, 10)
NOW = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)

CLIENTS = """\
external_id,name,country,time_zone,language,currency,segment,contact_name,contact_email,contract_amount,billing_period_months,due_day,notice_lead_days
acme,Acme Ltda,BR,America/Sao_Paulo,pt_BR,BRL,smb,Ana,ana@example.com.br,990.00,1,10,5
acme,,,,,,,Bruno,bruno@example.com.br,,,,
zeta,Zeta Inc,US,America/New_York,en,USD,enterprise,Zoe,zoe@example.com,,,,
"""
INVOICES = """\
number,client_external_id,amount,currency,issue_date,due_date,payment_url
A-1,acme,990.00,BRL,2025-02-10,2025-03-10,https://pay.example.com/A-1
Z-1,zeta,1200.50,USD,2025-02-01,2025-03-01,
"""


@pytest.fixture
def store(engine: Engine) -> Iterator[SqlRecordStore]:
    opened = SqlRecordStore(engine)
    yield opened
    opened.close()


def load(store: SqlRecordStore, kind: str, text: str | bytes) -> ImportResult:
    return import_csv(kind, text, f"{kind}.csv", store, "tester", TODAY, now=NOW)


def count(engine: Engine, model: type[object]) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(select(func.count()).select_from(model)).scalar_one()
        )


def test_clients_with_contacts_and_contract_are_imported(
    engine: Engine, store: SqlRecordStore
) -> None:
    result = load(store, "clients", CLIENTS)

    assert (result.created, result.contacts, result.contracts) == (2, 3, 1)
    with engine.connect() as connection:
        acme = connection.execute(
            select(Client).where(Client.external_id == "acme")
        ).one()
        audit = connection.execute(select(AuditEntry)).one()
    assert (acme.language, acme.currency, acme.segment) == ("pt_BR", "BRL", "smb")
    assert audit.details["created"] == 2
    assert "ana@example.com.br" not in str(audit.details)


def test_invoices_are_open_and_due_for_a_look_today(
    engine: Engine, store: SqlRecordStore
) -> None:
    load(store, "clients", CLIENTS)

    result = load(store, "invoices", INVOICES)

    assert result.created == 2
    with engine.connect() as connection:
        invoice = connection.execute(
            select(Invoice).where(Invoice.number == "A-1")
        ).one()
        contract_id = connection.execute(select(Contract.id)).scalar_one()
    assert invoice.status == "open"
    assert invoice.balance == Decimal("990.00")
    assert invoice.next_action_on == TODAY
    assert invoice.contract_id == contract_id


def test_payments_are_recorded_and_settle_invoices(
    engine: Engine, store: SqlRecordStore
) -> None:
    load(store, "clients", CLIENTS)
    load(store, "invoices", INVOICES)

    result = load(
        store,
        "payments",
        "reference,client_external_id,amount,currency,received_on,invoice_number\n"
        "BANK-1,acme,990.00,BRL,2025-03-09,A-1\n",
    )

    assert (result.created, result.settled) == (1, 1)
    assert count(engine, Payment) == 1


def test_every_bad_row_is_reported_and_nothing_is_stored(
    engine: Engine, store: SqlRecordStore
) -> None:
    bad = """\
external_id,name,country,time_zone,language,currency,contract_amount,billing_period_months,due_day,notice_lead_days
ok,Fine Co,GB,Europe/London,en,GBP,,,,
bad1,Bad One,XX,Mars/Olympus,fr,GBP,,,,
bad2,Bad Two,MX,America/Mexico_City,es,MXN,abc,3,40,5
"""
    with pytest.raises(InvalidImport) as raised:
        load(store, "clients", bad)

    problems = raised.value.problems
    assert "row 3, column country: 'XX' is not a country code" in problems[0]
    assert any(p.startswith("row 3, column time_zone:") for p in problems)
    assert any(p.startswith("row 3, column language:") for p in problems)
    assert any(p.startswith("row 4, column contract_amount:") for p in problems)
    assert any(p.startswith("row 4, column billing_period_months:") for p in problems)
    assert "row 4, column due_day: '40' is not allowed; use 1 to 31" in problems
    assert count(engine, Client) == 0
    assert count(engine, AuditEntry) == 0


def test_a_missing_column_is_reported_against_the_header(store: SqlRecordStore) -> None:
    with pytest.raises(InvalidImport) as raised:
        load(store, "invoices", "number,client_external_id,amount\nA-1,acme,10\n")

    assert "row 1, column currency: is missing from the header" in str(raised.value)


def test_semicolons_and_decimal_commas_are_read(
    engine: Engine, store: SqlRecordStore
) -> None:
    load(store, "clients", CLIENTS)
    text = (
        "number;client_external_id;amount;currency;issue_date;due_date\n"
        "A-9;acme;1234,56;BRL;2025-02-10;2025-03-10\n"
    )

    load(store, "invoices", text)

    with engine.connect() as connection:
        amount = connection.execute(select(Invoice.amount)).scalar_one()
    assert amount == Decimal("1234.56")


def test_a_byte_order_mark_is_ignored(engine: Engine, store: SqlRecordStore) -> None:
    load(store, "clients", ("\ufeff" + CLIENTS).encode())

    assert count(engine, Client) == 2


def test_importing_a_known_client_again_updates_it(
    engine: Engine, store: SqlRecordStore
) -> None:
    load(store, "clients", CLIENTS)
    renamed = CLIENTS.replace("Acme Ltda", "Acme Brasil Ltda")

    result = load(store, "clients", renamed)

    assert (result.created, result.updated) == (0, 2)
    assert (result.contacts, result.contracts) == (0, 0)
    assert count(engine, Client) == 2
    assert count(engine, Contact) == 3
    with engine.connect() as connection:
        names = set(connection.execute(select(Client.name)).scalars())
    assert "Acme Brasil Ltda" in names


def test_an_invoice_number_already_present_is_refused(
    engine: Engine, store: SqlRecordStore
) -> None:
    load(store, "clients", CLIENTS)
    load(store, "invoices", INVOICES)
    again = INVOICES.splitlines()[0] + "\nA-2,acme,10,BRL,2025-03-01,2025-03-31,\n"
    again += "A-1,acme,10,BRL,2025-03-01,2025-03-31,\n"

    with pytest.raises(InvalidImport) as raised:
        load(store, "invoices", again)

    assert raised.value.problems == [
        "row 3, column number: invoice A-1 is already present; use a new number"
    ]
    assert count(engine, Invoice) == 2


def test_the_demo_book_loads_once(engine: Engine) -> None:
    def open_store() -> SqlRecordStore:
        return SqlRecordStore(engine)

    first = load_demo(open_store, TODAY, now=NOW)
    again = load_demo(open_store, TODAY, now=NOW)

    assert first and not again
    assert count(engine, Client) >= 12
    with engine.connect() as connection:
        paid = connection.execute(
            select(func.count()).where(Invoice.status == "paid")
        ).scalar_one()
    assert paid >= 2
