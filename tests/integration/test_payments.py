"""Recording payments: balances fall, paid invoices leave the rule, credit waits;
a reversed payment gives its invoices their balance back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, Row, insert, select

from duecourse.adapters.db.models import (
    Action,
    AuditEntry,
    Invoice,
    Message,
    Payment,
    RuleVersion,
)
from duecourse.adapters.db.records import SqlRecordStore
from duecourse.bootstrap import build
from duecourse.domain.errors import Conflict, InvalidField, InvalidImport, NotFound
from duecourse.entrypoints.cli import reverse_payment_command
from duecourse.services.imports import import_csv
from duecourse.services.payments import PaymentInput, record_payment, reverse_payment

TODAY = date(2025, 3, 10)
NOW = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)

CLIENTS = """\
external_id,name,country,time_zone,language,currency,contact_name,contact_email
acme,Acme Ltda,BR,America/Sao_Paulo,pt_BR,BRL,Ana,ana@example.com.br
"""
INVOICES = """\
number,client_external_id,amount,currency,issue_date,due_date
A-1,acme,100.00,BRL,2025-01-10,2025-02-10
A-2,acme,200.00,BRL,2025-02-10,2025-03-10
"""
PAYMENTS = """\
reference,client_external_id,amount,currency,received_on,invoice_number,method
BANK-1,acme,100.00,BRL,2025-03-08,A-1,pix
BANK-2,acme,50,BRL,2025-03-09,,
"""


@pytest.fixture
def store(engine: Engine) -> Iterator[SqlRecordStore]:
    opened = SqlRecordStore(engine)
    import_csv("clients", CLIENTS, "clients.csv", opened, "tester", TODAY, now=NOW)
    import_csv("invoices", INVOICES, "invoices.csv", opened, "tester", TODAY, now=NOW)
    yield opened
    opened.close()


def pay(
    store: SqlRecordStore,
    amount: str,
    reference: str = "R-1",
    number: str | None = None,
) -> None:
    payment = PaymentInput(
        "R-1", "acme", Decimal(amount), "BRL", TODAY, invoice_number=number
    )
    record_payment(store, payment, "tester", NOW)


def invoice(engine: Engine, number: str) -> Row[Any]:
    with engine.connect() as connection:
        return connection.execute(
            select(Invoice.__table__).where(Invoice.number == number)
        ).one()


def test_a_partial_payment_lowers_the_oldest_balance(
    engine: Engine, store: SqlRecordStore
) -> None:
    pay(store, "40")

    first = invoice(engine, "A-1")
    assert (first.balance, first.status) == (Decimal("60"), "open")
    assert first.next_action_on == TODAY
    assert first.last_payment_on == TODAY
    assert invoice(engine, "A-2").balance == Decimal("200")


def test_a_paid_invoice_leaves_the_rule_at_once(
    engine: Engine, store: SqlRecordStore
) -> None:
    pay(store, "200", number="A-2")

    paid = invoice(engine, "A-2")
    assert (paid.status, paid.balance, paid.next_action_on) == ("paid", 0, None)
    assert invoice(engine, "A-1").balance == Decimal("100")


def test_an_overpayment_settles_everything_and_leaves_credit(
    engine: Engine, store: SqlRecordStore
) -> None:
    pay(store, "350")

    assert invoice(engine, "A-1").status == "paid"
    assert invoice(engine, "A-2").status == "paid"
    with engine.connect() as connection:
        credit = connection.execute(select(Payment.unallocated)).scalar_one()
    assert credit == Decimal("50")


def test_credit_is_used_on_the_next_invoice_imported(
    engine: Engine, store: SqlRecordStore
) -> None:
    pay(store, "350")
    later = "number,client_external_id,amount,currency,issue_date,due_date\n"
    later += "A-3,acme,80.00,BRL,2025-03-10,2025-04-10\n"

    result = import_csv("invoices", later, "next.csv", store, "tester", TODAY)

    third = invoice(engine, "A-3")
    assert (third.balance, third.status, result.settled) == (Decimal("30"), "open", 0)
    with engine.connect() as connection:
        assert connection.execute(select(Payment.unallocated)).scalar_one() == 0


def test_a_payment_in_another_currency_is_refused(store: SqlRecordStore) -> None:
    payment = PaymentInput("R-9", "acme", Decimal(10), "USD", TODAY)

    with pytest.raises(InvalidField, match="acme is billed in BRL"):
        record_payment(store, payment, "tester", NOW)


def test_the_same_payments_file_twice_records_nothing_twice(
    engine: Engine, store: SqlRecordStore
) -> None:
    first = import_csv("payments", PAYMENTS, "p.csv", store, "tester", TODAY)
    second = import_csv("payments", PAYMENTS, "p.csv", store, "tester", TODAY)

    assert (first.created, first.skipped) == (2, 0)
    assert (second.created, second.skipped) == (0, 2)
    assert invoice(engine, "A-1").status == "paid"
    assert invoice(engine, "A-2").balance == Decimal("150")


def test_pending_messages_are_withdrawn_when_their_invoices_are_settled(
    engine: Engine, store: SqlRecordStore
) -> None:
    with engine.begin() as connection:
        version = connection.execute(
            insert(RuleVersion).returning(RuleVersion.id),
            {"name": "standard", "version": 1, "source": "", "digest": "x",
             "active": True, "created_at": NOW, "created_by": "tester"},
        ).scalar_one()  # fmt: skip
        rows = connection.execute(select(Invoice.number, Invoice.id))
        ids = {number: invoice_id for number, invoice_id in rows}
        client_id = connection.execute(select(Invoice.client_id)).scalars().first()
        for message_id, numbers in (("m-alone", ["A-1"]), ("m-both", ["A-1", "A-2"])):
            connection.execute(
                insert(Message),
                {"id": message_id, "client_id": client_id, "channel": "email",
                 "template": "reminder", "language": "pt_BR", "recipients": "a@x",
                 "context": {}, "run_on": TODAY, "status": "pending", "attempts": 0,
                 "next_attempt_at": NOW, "created_at": NOW},
            )  # fmt: skip
            for number in numbers:
                connection.execute(
                    insert(Action),
                    {"invoice_id": ids[number], "rule_version_id": version,
                     "stage_key": message_id, "channel": "email", "status": "done",
                     "reason": "", "scheduled_on": TODAY, "taken_on": TODAY,
                     "message_id": message_id},
                )  # fmt: skip

    pay(store, "100", number="A-1")

    with engine.connect() as connection:
        rows = connection.execute(
            select(Message.id, Message.status, Message.last_error)
        )
        states = {message_id: (status, error) for message_id, status, error in rows}
    assert states["m-alone"] == ("dead", "withdrawn: settled before delivery")
    assert states["m-both"] == ("pending", None)


def test_a_payments_file_with_bad_rows_records_none_of_its_payments(
    engine: Engine, store: SqlRecordStore
) -> None:
    bad = PAYMENTS + "BANK-3,nobody,10,BRL,2025-03-09,,\n"
    bad += "BANK-4,acme,10,BRL,2025-03-09,A-404,\n"

    with pytest.raises(InvalidImport) as raised:
        import_csv("payments", bad, "p.csv", store, "tester", TODAY)

    assert [problem.split(":")[0] for problem in raised.value.problems] == [
        "row 4, column client_external_id",
        "row 5, column invoice_number",
    ]
    assert invoice(engine, "A-1").balance == Decimal("100")
    with engine.connect() as connection:
        assert connection.execute(select(Payment.id)).first() is None


LATER = datetime(2025, 3, 20, 9, 0, tzinfo=UTC)


def pay_as(store: SqlRecordStore, reference: str, amount: str, number: str) -> None:
    payment = PaymentInput(
        reference, "acme", Decimal(amount), "BRL", TODAY, invoice_number=number
    )
    record_payment(store, payment, "tester", NOW)


def test_reversing_a_payment_reopens_its_settled_invoice(
    engine: Engine, store: SqlRecordStore
) -> None:
    pay_as(store, "R-1", "100", "A-1")

    reversed_ = reverse_payment(store, "R-1", "returned: AC04", "tester", LATER)

    first = invoice(engine, "A-1")
    assert (first.status, first.balance) == ("open", Decimal("100"))
    assert first.next_action_on == LATER.date()
    assert first.last_payment_on is None
    assert reversed_.reopened == (first.id,)
    assert reversed_.restored == ((first.id, Decimal("100")),)
    with engine.connect() as connection:
        stamp = connection.execute(select(Payment.reversed_at)).scalar_one()
        audit = connection.execute(
            select(AuditEntry.details).where(AuditEntry.action == "payment reversed")
        ).scalar_one()
    assert stamp == LATER
    assert audit["reason"] == "returned: AC04"


def test_a_partial_allocation_is_restored_exactly(
    engine: Engine, store: SqlRecordStore
) -> None:
    pay_as(store, "R-1", "60.25", "A-2")
    pay_as(store, "R-2", "39.75", "A-2")

    reverse_payment(store, "R-1", "returned", "tester", LATER)

    second = invoice(engine, "A-2")
    assert (second.status, second.balance) == ("open", Decimal("160.25"))
    # Still open all along: its rule keeps its own date.
    assert second.next_action_on == TODAY
    assert second.last_payment_on == TODAY
    assert invoice(engine, "A-1").balance == Decimal("100")


def test_a_reversed_payment_leaves_no_credit_to_use(
    engine: Engine, store: SqlRecordStore
) -> None:
    pay(store, "350")

    reversed_ = reverse_payment(store, "R-1", "returned", "tester", LATER)
    later = "number,client_external_id,amount,currency,issue_date,due_date\n"
    later += "A-3,acme,80.00,BRL,2025-03-10,2025-04-10\n"
    import_csv("invoices", later, "next.csv", store, "tester", TODAY)

    assert reversed_.credit_removed == Decimal("50")
    assert [invoice(engine, n).balance for n in ("A-1", "A-2", "A-3")] == [
        Decimal("100"),
        Decimal("200"),
        Decimal("80"),
    ]
    with engine.connect() as connection:
        assert connection.execute(select(Payment.unallocated)).scalar_one() == 0


def test_a_payment_is_reversed_only_once(engine: Engine, store: SqlRecordStore) -> None:
    pay_as(store, "R-1", "100", "A-1")
    reverse_payment(store, "R-1", "returned", "tester", LATER)

    with pytest.raises(Conflict, match="'R-1' was reversed already"):
        reverse_payment(store, "R-1", "returned again", "tester", LATER)
    store.rollback()

    assert invoice(engine, "A-1").balance == Decimal("100")
    with pytest.raises(NotFound, match="no payment with reference 'R-404'"):
        reverse_payment(store, "R-404", "returned", "tester", LATER)


def test_the_cli_reverses_a_payment_and_refuses_a_second_time(
    engine: Engine,
    store: SqlRecordStore,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pay_as(store, "R-1", "100", "A-1")
    monkeypatch.setenv("DUECOURSE_DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)
    app = build()
    runner = CliRunner()
    arguments = ["R-1", "--reason", "returned by the bank"]

    first = runner.invoke(reverse_payment_command, arguments, obj=app)
    second = runner.invoke(reverse_payment_command, arguments, obj=app)
    app.engine.dispose()

    assert first.exit_code == 0, first.output
    assert "1 reopened" in first.output
    assert invoice(engine, "A-1").status == "open"
    assert isinstance(second.exception, Conflict)
