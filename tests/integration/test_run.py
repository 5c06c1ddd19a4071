"""The daily run on a real database: each stage once, messages in the outbox."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from duecourse.adapters.db.models import (
    Action,
    CallTask,
    Client,
    Invoice,
    Message,
    Notice,
)
from duecourse.adapters.db.run_store import SqlRunStore
from duecourse.services.run import RunSummary, run_collection
from tests.integration.book import add_client, add_invoice, apply_default_rule, composer

DUE = date(2026, 3, 18)  # a Wednesday


def run(engine: Engine, as_of: date, dry_run: bool = False) -> RunSummary:
    now = datetime.combine(as_of, datetime.min.time(), UTC) + timedelta(hours=15)
    return run_collection(
        lambda: SqlRunStore(engine), composer(), as_of, now, dry_run=dry_run
    )


def count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_the_bill_goes_once_however_often_the_run_is_repeated(engine: Engine) -> None:
    apply_default_rule(engine)
    client = add_client(engine, "C1")
    add_invoice(engine, client, "INV-1", DUE)

    first = run(engine, date(2026, 3, 6))
    second = run(engine, date(2026, 3, 6))

    assert first.done.by_label == {"bill/email": 1}
    assert second.done.by_label == {}
    assert count(engine, Action) == 1
    with Session(engine) as session:
        message = session.scalars(select(Message)).one()
        assert message.template == "bill"
        assert message.language == "pt_BR"
        assert message.context["invoices"][0]["number"] == "INV-1"
        assert message.context["payment_link"].startswith("http://127.0.0.1:8000/")


def test_the_invoice_is_looked_at_again_only_on_its_next_stage_date(
    engine: Engine,
) -> None:
    apply_default_rule(engine)
    client = add_client(engine, "C1")
    invoice = add_invoice(engine, client, "INV-1", DUE)

    run(engine, date(2026, 3, 6))

    with Session(engine) as session:
        stored = session.get_one(Invoice, invoice)
        assert stored.next_action_on == date(2026, 3, 13)  # the -3 reminder
    assert run(engine, date(2026, 3, 12)).invoices == 0


def test_one_email_per_client_lists_every_invoice_due_that_day(
    engine: Engine,
) -> None:
    apply_default_rule(engine)
    client = add_client(engine, "C1")
    add_invoice(engine, client, "INV-1", DUE)
    add_invoice(engine, client, "INV-2", DUE, amount="250.50")

    summary = run(engine, date(2026, 3, 6))

    assert summary.messages == 1
    assert count(engine, Action) == 2
    with Session(engine) as session:
        message = session.scalars(select(Message)).one()
        numbers = [line["number"] for line in message.context["invoices"]]
        assert numbers == ["INV-1", "INV-2"]
        assert Decimal(message.context["total_balance"]) == Decimal("1250.50")
        actions = session.scalars(select(Action)).all()
        assert {a.message_id for a in actions} == {message.id}


def test_overdue_notices_state_the_penalty_to_date(engine: Engine) -> None:
    apply_default_rule(engine)
    client = add_client(engine, "C1")
    add_invoice(engine, client, "INV-1", DUE)
    for day in (date(2026, 3, 6), date(2026, 3, 13), DUE):
        run(engine, day)

    run(engine, date(2026, 3, 23))  # 3 days late, moved off the weekend

    with Session(engine) as session:
        message = session.scalars(
            select(Message).where(Message.template == "overdue")
        ).one()
    line = message.context["invoices"][0]
    assert line["days_late"] == 5
    # The default terms: 2% late fee, 1% a month pro rata: 20.00 + 1.67
    assert line["penalty"]["late_fee"] == "20.00"
    assert line["penalty"]["interest"] == "1.67"
    assert message.context["total_due"] == "1021.67"
    assert message.context["penalty_terms"] is not None


def test_a_paid_invoice_leaves_the_run_at_once(engine: Engine) -> None:
    apply_default_rule(engine)
    client = add_client(engine, "C1")
    invoice = add_invoice(engine, client, "INV-1", DUE)
    run(engine, date(2026, 3, 6))
    with Session(engine) as session, session.begin():
        session.execute(
            update(Invoice)
            .where(Invoice.id == invoice)
            .values(balance=Decimal(0), status="paid", next_action_on=None)
        )

    summaries = [run(engine, DUE + timedelta(days=d)) for d in range(-5, 40)]

    assert sum(s.invoices for s in summaries) == 0
    assert count(engine, Action) == 1


def test_a_dry_run_reports_what_a_run_would_do_and_stores_nothing(
    engine: Engine,
) -> None:
    apply_default_rule(engine)
    client = add_client(engine, "C1")
    add_invoice(engine, client, "INV-1", DUE)

    dry = run(engine, date(2026, 3, 6), dry_run=True)

    assert dry.done.by_label == {"bill/email": 1}
    assert count(engine, Action) == 0
    assert count(engine, Message) == 0
    assert run(engine, date(2026, 3, 6)).done.by_label == dry.done.by_label


def test_a_client_without_an_email_gets_a_dead_letter_for_the_desk(
    engine: Engine,
) -> None:
    apply_default_rule(engine)
    client = add_client(engine, "C1", email=None)
    add_invoice(engine, client, "INV-1", DUE)

    run(engine, date(2026, 3, 6))

    with Session(engine) as session:
        message = session.scalars(select(Message)).one()
    assert message.status == "dead"
    assert message.last_error == "client has no email contact"


def test_the_cadence_creates_call_tasks_notices_and_the_suspension_webhook(
    engine: Engine,
) -> None:
    apply_default_rule(engine)
    client = add_client(engine, "C1")
    add_invoice(engine, client, "INV-1", DUE)

    for offset in range(-12, 35):
        run(engine, DUE + timedelta(days=offset))

    with Session(engine) as session:
        done = set(
            session.scalars(select(Action.stage_key).where(Action.status == "done"))
        )
        webhooks = session.scalars(
            select(Message).where(Message.channel == "webhook")
        ).all()
    assert done == {
        "bill",
        "reminder",
        "due_today",
        "pending_notice",
        "overdue_3",
        "overdue_10",
        "overdue_notice",
        "call",
        "final_notice",
        "suspend",
        "suspended",
    }
    assert count(engine, CallTask) == 1
    assert count(engine, Notice) == 2
    assert [w.context["event"] for w in webhooks] == ["suspend"]


def test_a_client_with_bad_data_is_reported_and_the_others_still_run(
    engine: Engine,
) -> None:
    apply_default_rule(engine)
    broken = add_client(engine, "C1")
    healthy = add_client(engine, "C2")
    add_invoice(engine, broken, "INV-1", DUE)
    add_invoice(engine, healthy, "INV-2", DUE)
    with Session(engine) as session, session.begin():
        session.execute(
            update(Client).where(Client.id == broken).values(time_zone="Mars/Olympus")
        )

    summary = run(engine, date(2026, 3, 6))

    assert summary.done.by_label == {"bill/email": 1}
    assert len(summary.problems) == 1 and "C1" in summary.problems[0]
    with Session(engine) as session:
        stuck = session.scalars(select(Invoice).where(Invoice.number == "INV-1")).one()
        assert stuck.next_action_on is not None
        assert stuck.next_action_on <= date(2026, 3, 6)


def test_an_invoice_with_its_own_payment_page_links_to_it_and_two_to_the_account(
    engine: Engine,
) -> None:
    apply_default_rule(engine)
    alone = add_client(engine, "C1")
    pair = add_client(engine, "C2")
    add_invoice(engine, alone, "INV-1", DUE)
    add_invoice(engine, pair, "INV-2", DUE)
    add_invoice(engine, pair, "INV-3", DUE)
    with Session(engine) as session, session.begin():
        session.execute(
            update(Invoice).values(
                payment_url="https://pay.example.com/" + Invoice.number
            )
        )

    run(engine, date(2026, 3, 6))

    with Session(engine) as session:
        messages = {
            m.client_id: m.context for m in session.scalars(select(Message)).all()
        }
    assert messages[alone]["payment_link"] == "https://pay.example.com/INV-1"
    assert messages[alone]["link_expires_on"] is None
    assert "/portal/" in messages[pair]["payment_link"]
    assert messages[pair]["link_expires_on"] == "2026-04-05"
