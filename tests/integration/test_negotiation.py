"""Promises and agreements on a real database, followed by the daily run."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from duecourse.adapters.db.models import AuditEntry, CallTask, Invoice, Message
from duecourse.adapters.db.negotiation_store import SqlNegotiationStore
from duecourse.adapters.db.negotiation_tables import (
    Agreement,
    ClientStanding,
    Promise,
)
from duecourse.adapters.db.records import SqlRecordStore
from duecourse.adapters.db.run_store import SqlRunStore
from duecourse.adapters.db.schema import metadata
from duecourse.domain.agreements import (
    AgreementStatus,
    AgreementTerms,
    NotPermitted,
    Role,
)
from duecourse.domain.errors import Conflict
from duecourse.domain.promises import ESCALATION_REASON
from duecourse.services.agreements import (
    AgreementOutcome,
    NewUser,
    add_user,
    approve,
    propose_agreement,
    review_agreements,
)
from duecourse.services.payments import PaymentInput, record_payment
from duecourse.services.promises import PromiseMade, make_promise, review_promises
from duecourse.services.run import RunSummary, run_collection
from tests.integration.book import add_client, add_invoice, apply_default_rule, composer

DUE = date(2026, 3, 18)  # a Wednesday
OWN_TABLES = {
    "users",
    "promises",
    "promise_invoices",
    "agreements",
    "agreement_invoices",
    "agreement_instalments",
    "client_standing",
}


def moment(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=15)


def run(engine: Engine, as_of: date) -> RunSummary:
    return run_collection(lambda: SqlRunStore(engine), composer(), as_of, moment(as_of))


def promise(engine: Engine, on: date, promised_on: date, grace: int = 3) -> PromiseMade:
    store = SqlNegotiationStore(engine)
    try:
        return make_promise(
            store,
            "C1",
            Decimal("1000.00"),
            promised_on,
            None,
            "desk",
            moment(on),
            grace_days=grace,
        )
    finally:
        store.close()


def review(engine: Engine, as_of: date) -> None:
    store = SqlNegotiationStore(engine)
    try:
        review_promises(store, as_of, moment(as_of))
        review_agreements(store, as_of, moment(as_of))
    finally:
        store.close()


def user(engine: Engine, email: str, role: Role) -> int:
    store = SqlNegotiationStore(engine)
    try:
        return add_user(store, NewUser(email, email, role), "test", moment(DUE))
    finally:
        store.close()


def propose(engine: Engine, actor: int, on: date, **terms: object) -> AgreementOutcome:
    chosen: dict[str, object] = {"instalments": 3, "first_due": date(2026, 4, 1)}
    chosen.update(terms)
    store = SqlNegotiationStore(engine)
    try:
        return propose_agreement(
            store,
            "C1",
            ["INV-1"],
            AgreementTerms(**chosen),  # type: ignore[arg-type]
            actor,
            moment(on),
        )
    finally:
        store.close()


def pay(engine: Engine, reference: str, amount: str, on: date, number: str) -> None:
    store = SqlRecordStore(engine)
    try:
        record_payment(
            store,
            PaymentInput(reference, "C1", Decimal(amount), "BRL", on, number),
            "bank",
            moment(on),
        )
    finally:
        store.close()


def messages(engine: Engine, on: date) -> list[Message]:
    with Session(engine) as session:
        return list(session.scalars(select(Message).where(Message.run_on == on)))


def numbers_in(message: Message) -> list[str]:
    return [line["number"] for line in message.context["invoices"]]


def invoice(engine: Engine, number: str) -> Invoice:
    with Session(engine) as session:
        return session.scalars(select(Invoice).where(Invoice.number == number)).one()


@pytest.fixture
def book(engine: Engine) -> Engine:
    """Client C1 with INV-1 of 1000.00 due on DUE, billed on time."""
    apply_default_rule(engine)
    client = add_client(engine, "C1")
    add_invoice(engine, client, "INV-1", DUE)
    return engine


def test_the_migration_matches_the_tables(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        differences = compare_metadata(context, metadata)

    # Other parts of the product check their own tables.
    ours = [d for d in differences if OWN_TABLES.intersection(str(d).split("'"))]
    assert ours == []


def test_a_promise_pauses_the_rule_and_nothing_goes_meanwhile(book: Engine) -> None:
    for day in (date(2026, 3, 6), date(2026, 3, 13), DUE):
        run(book, day)

    made = promise(book, date(2026, 3, 19), promised_on=date(2026, 3, 24))
    summaries = [run(book, date(2026, 3, 19) + timedelta(days=d)) for d in range(9)]

    assert made.paused_until == date(2026, 3, 27)
    assert sum(s.invoices for s in summaries) == 0
    assert sum(s.messages + s.call_tasks + s.notices for s in summaries) == 0
    stored = invoice(book, "INV-1")
    assert stored.paused_until == date(2026, 3, 27)
    assert stored.next_action_on == date(2026, 3, 28)


def test_a_broken_promise_resumes_the_rule_where_it_stands(book: Engine) -> None:
    for day in (date(2026, 3, 6), date(2026, 3, 13), DUE):
        run(book, day)
    promise(book, date(2026, 3, 19), promised_on=date(2026, 3, 24))

    review(book, date(2026, 3, 27))
    with Session(book) as session:
        assert session.scalars(select(Promise.status)).one() == "open"
    review(book, date(2026, 3, 28))
    summary = run(book, date(2026, 3, 28))

    with Session(book) as session:
        assert session.scalars(select(Promise.status)).one() == "broken"
        standing = session.get_one(ClientStanding, 1)
    assert (standing.priority, standing.broken_promises) == (1, 1)
    assert not standing.escalated
    assert summary.done.by_label == {
        "overdue_3/email": 1,
        "pending_notice/notice": 1,
    }
    [sent] = messages(book, date(2026, 3, 28))
    assert sent.template == "overdue"


def test_a_second_broken_promise_sends_the_client_to_a_manager(
    book: Engine,
) -> None:
    promise(book, date(2026, 3, 19), promised_on=date(2026, 3, 24))
    review(book, date(2026, 3, 28))
    promise(book, date(2026, 3, 28), promised_on=date(2026, 3, 30), grace=0)

    review(book, date(2026, 3, 31))

    with Session(book) as session:
        standing = session.get_one(ClientStanding, 1)
        task = session.scalars(select(CallTask)).one()
        actions = set(session.scalars(select(AuditEntry.action)))
    assert (standing.priority, standing.broken_promises, standing.escalated) == (
        2,
        2,
        True,
    )
    assert task.reason == ESCALATION_REASON
    assert task.balance == Decimal("1000.00")
    assert {"promise made", "promise broken"} <= actions


def test_payment_in_full_keeps_the_promise(book: Engine) -> None:
    promise(book, date(2026, 3, 19), promised_on=date(2026, 3, 24))
    pay(book, "TX-1", "1000.00", date(2026, 3, 24), "INV-1")

    review(book, date(2026, 3, 25))

    with Session(book) as session:
        assert session.scalars(select(Promise.status)).one() == "kept"
        assert session.scalar(select(func.count()).select_from(ClientStanding)) == 0
    assert invoice(book, "INV-1").status == "paid"


def test_a_new_promise_supersedes_the_open_one(book: Engine) -> None:
    first = promise(book, date(2026, 3, 19), promised_on=date(2026, 3, 24))
    second = promise(book, date(2026, 3, 20), promised_on=date(2026, 3, 26))

    assert second.superseded == (first.promise_id,)
    with Session(book) as session:
        statuses = list(session.scalars(select(Promise.status).order_by(Promise.id)))
    assert statuses == ["cancelled", "open"]


def test_within_the_margin_an_agreement_takes_effect_and_the_run_follows_it(
    book: Engine,
) -> None:
    run(book, date(2026, 3, 6))
    collector = user(book, "ana@example.com", Role.COLLECTOR)

    outcome = propose(book, collector, date(2026, 3, 19))
    run(book, date(2026, 3, 19))
    run(book, date(2026, 3, 20))

    assert outcome.status is AgreementStatus.ACTIVE
    assert outcome.instalment_numbers == ("INV-1-A1-1", "INV-1-A1-2", "INV-1-A1-3")
    original = invoice(book, "INV-1")
    assert (original.status, original.next_action_on) == ("void", None)
    assert original.balance == Decimal("1000.00")
    with Session(book) as session:
        agreement = session.get_one(Agreement, outcome.agreement_id)
    # The penalty owed the day after the due date is part of the balance.
    assert agreement.penalties_included is not None
    assert agreement.penalties_included > 0
    assert agreement.agreed_total == Decimal("1000.00") + agreement.penalties_included
    amounts = [invoice(book, n).amount for n in outcome.instalment_numbers]
    assert sum(amounts) == agreement.agreed_total
    [bill] = messages(book, date(2026, 3, 20))
    assert bill.template == "bill"
    assert numbers_in(bill) == ["INV-1-A1-1"]


def test_a_manager_may_waive_the_penalties_and_it_is_recorded(book: Engine) -> None:
    run(book, date(2026, 3, 6))
    manager = user(book, "max@example.com", Role.MANAGER)

    outcome = propose(book, manager, date(2026, 3, 25), waive_penalties=True)

    with Session(book) as session:
        agreement = session.get_one(Agreement, outcome.agreement_id)
    assert outcome.status is AgreementStatus.ACTIVE
    assert agreement.penalties_waived is not None
    assert agreement.penalties_waived > 0
    assert agreement.agreed_total == Decimal("1000.00")


def test_beyond_the_margin_an_agreement_waits_for_a_manager(book: Engine) -> None:
    collector = user(book, "ana@example.com", Role.COLLECTOR)
    manager = user(book, "max@example.com", Role.MANAGER)

    outcome = propose(book, collector, DUE, discount_percent=Decimal(10))

    assert outcome.status is AgreementStatus.PENDING_APPROVAL
    assert outcome.reasons == ("a discount of 10% exceeds the margin of 5%",)
    assert invoice(book, "INV-1").status == "open"
    store = SqlNegotiationStore(book)
    try:
        with pytest.raises(NotPermitted, match="only a manager or an admin"):
            approve(store, outcome.agreement_id, collector, moment(DUE))
        approved = approve(store, outcome.agreement_id, manager, moment(DUE))
        with pytest.raises(Conflict, match="is active cannot become active"):
            approve(store, outcome.agreement_id, manager, moment(DUE))
    finally:
        store.close()

    assert approved.status is AgreementStatus.ACTIVE
    assert invoice(book, "INV-1").status == "void"
    assert sum(invoice(book, n).amount for n in approved.instalment_numbers) == Decimal(
        "900.00"
    )
    with Session(book) as session:
        agreement = session.get_one(Agreement, outcome.agreement_id)
    assert agreement.approved_by == manager


def test_a_missed_instalment_cancels_the_agreement_and_restores_the_balance(
    book: Engine,
) -> None:
    collector = user(book, "ana@example.com", Role.COLLECTOR)
    outcome = propose(book, collector, date(2026, 3, 19))
    first, second, third = outcome.instalment_numbers
    pay(book, "TX-1", "333.33", date(2026, 4, 1), first)

    review(book, date(2026, 5, 16))  # the second is 15 days late: not yet
    with Session(book) as session:
        assert session.get_one(Agreement, outcome.agreement_id).status == "active"
    review(book, date(2026, 5, 17))
    run(book, date(2026, 5, 17))

    with Session(book) as session:
        agreement = session.get_one(Agreement, outcome.agreement_id)
    assert agreement.status == "cancelled"
    assert agreement.close_reason == f"instalment {second} unpaid since 2026-05-01"
    original = invoice(book, "INV-1")
    assert (original.status, original.balance) == ("open", Decimal("666.67"))
    assert [invoice(book, n).status for n in (first, second, third)] == [
        "paid",
        "void",
        "void",
    ]
    [email] = [m for m in messages(book, date(2026, 5, 17)) if m.channel == "email"]
    assert numbers_in(email) == ["INV-1"]


def test_an_agreement_paid_in_full_is_completed(book: Engine) -> None:
    collector = user(book, "ana@example.com", Role.COLLECTOR)
    outcome = propose(book, collector, DUE, instalments=2)
    for seq, number in enumerate(outcome.instalment_numbers):
        pay(book, f"TX-{seq}", "500.00", date(2026, 4, 1), number)

    review(book, date(2026, 4, 2))

    with Session(book) as session:
        agreement = session.get_one(Agreement, outcome.agreement_id)
    assert (agreement.status, agreement.closed_on) == ("completed", date(2026, 4, 2))


def test_a_viewer_cannot_propose(book: Engine) -> None:
    viewer = user(book, "vic@example.com", Role.VIEWER)
    with pytest.raises(NotPermitted, match="only reads"):
        propose(book, viewer, DUE)
