"""The planner decides each stage once: done, skipped with a reason, or later."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from duecourse.domain.cadence import (
    ClientCase,
    InvoiceCase,
    delivery_opens,
    plan_client,
)
from duecourse.domain.money import Money
from duecourse.domain.rules import CollectionRule, Conditions, Limits, Stage
from duecourse.domain.states import ActionStatus, CatchUp, Channel

STAGES = (
    Stage(
        "bill",
        -10,
        Channel.EMAIL,
        "bill",
        use_client_lead_days=True,
        catch_up=CatchUp.SEND,
    ),
    Stage("reminder", -3, Channel.EMAIL, "reminder", catch_up=CatchUp.SKIP),
    Stage("due_today", 0, Channel.EMAIL, "due_today", catch_up=CatchUp.SKIP),
    Stage("overdue_3", 3, Channel.EMAIL, "overdue"),
    Stage("overdue_10", 10, Channel.EMAIL, "overdue"),
    Stage(
        "call",
        12,
        Channel.CALL,
        "overdue_call",
        conditions=Conditions(min_balance=Decimal("50"), no_response=True),
    ),
    Stage("suspend", 30, Channel.WEBHOOK, "suspend", event="suspend"),
)
RULE = CollectionRule("default", "", STAGES, Limits(max_contacts_per_week=3))

# A Wednesday with no public holiday in Brazil around it.
DUE = date(2026, 3, 18)


def invoice(**changes: object) -> InvoiceCase:
    fields: dict[str, object] = {
        "invoice_id": 1,
        "due_date": DUE,
        "balance": Money(Decimal("100.00"), "BRL"),
        "rule": RULE,
        "taken": frozenset(),
    }
    fields.update(changes)
    return InvoiceCase(**fields)  # type: ignore[arg-type]


def client(*invoices: InvoiceCase, contacts: tuple[date, ...] = ()) -> ClientCase:
    return ClientCase(1, "BR", "smb", invoices, contacts)


def statuses(case: ClientCase, as_of: date) -> dict[str, ActionStatus]:
    return {d.stage.key: d.status for d in plan_client(case, as_of).decisions}


def test_nothing_is_due_before_the_first_stage_and_the_next_look_is_its_date() -> None:
    plan = plan_client(client(invoice()), DUE - timedelta(days=20))

    assert plan.decisions == ()
    assert plan.next_look[1] == date(2026, 3, 6)  # a Friday, 12 days before


def test_the_bill_follows_the_lead_days_the_client_chose() -> None:
    plan = plan_client(client(invoice(lead_days=7)), date(2026, 3, 11))

    assert [d.stage.key for d in plan.decisions] == ["bill"]
    assert plan.decisions[0].scheduled_on == date(2026, 3, 11)


def test_a_stage_on_a_weekend_moves_back_before_the_due_date() -> None:
    # Due Monday 2026-03-23: one day before is Sunday, so it goes on Friday.
    rule = CollectionRule("r", "", (Stage("r", -1, Channel.EMAIL, "reminder"),))
    case = client(invoice(rule=rule, due_date=date(2026, 3, 23)))

    plan = plan_client(case, date(2026, 3, 20))

    assert plan.decisions[0].scheduled_on == date(2026, 3, 20)


def test_an_overdue_stage_on_a_holiday_moves_to_the_next_business_day() -> None:
    # 2026-04-21 is Tiradentes, a national holiday in Brazil.
    rule = CollectionRule("r", "", (Stage("late", 3, Channel.EMAIL, "overdue"),))
    case = client(invoice(rule=rule, due_date=date(2026, 4, 18)))

    assert plan_client(case, date(2026, 4, 21)).decisions == ()
    plan = plan_client(case, date(2026, 4, 22))
    assert plan.decisions[0].scheduled_on == date(2026, 4, 22)


def test_after_an_outage_only_the_latest_overdue_email_is_sent() -> None:
    as_of = date(2026, 3, 30)  # a Monday, 12 days late; the 10th was a Saturday
    taken = frozenset({"bill", "reminder", "due_today"})

    result = statuses(client(invoice(taken=taken)), as_of)

    assert result["overdue_10"] is ActionStatus.DONE
    assert result["overdue_3"] is ActionStatus.SKIPPED


def test_a_reminder_whose_due_date_passed_is_skipped_not_sent() -> None:
    result = statuses(client(invoice()), DUE + timedelta(days=1))

    assert result["bill"] is ActionStatus.SKIPPED
    assert result["reminder"] is ActionStatus.SKIPPED
    assert result["due_today"] is ActionStatus.SKIPPED


def test_a_late_bill_is_still_sent_while_the_due_date_is_ahead() -> None:
    result = statuses(client(invoice()), DUE - timedelta(days=5))

    assert result["bill"] is ActionStatus.DONE
    # The reminder falls on the same Friday; the bill already says it all.
    assert result["reminder"] is ActionStatus.SKIPPED


def test_the_call_is_skipped_when_the_client_paid_something_since_contact() -> None:
    taken = frozenset(s.key for s in STAGES if s.offset_days < 12)
    paid = invoice(taken=taken, paid_since_contact=True)

    assert statuses(client(paid), date(2026, 3, 30))["call"] is ActionStatus.SKIPPED
    unpaid = invoice(taken=taken)
    assert statuses(client(unpaid), date(2026, 3, 30))["call"] is ActionStatus.DONE


def test_the_call_is_skipped_below_the_minimum_balance() -> None:
    taken = frozenset(s.key for s in STAGES if s.offset_days < 12)
    small = invoice(taken=taken, balance=Money(Decimal("49.99"), "BRL"))

    assert statuses(client(small), date(2026, 3, 30))["call"] is ActionStatus.SKIPPED


def test_a_paid_invoice_has_nothing_left_to_do() -> None:
    plan = plan_client(client(invoice(balance=Money.zero("BRL"))), DUE)

    assert plan.decisions == ()
    assert plan.next_look[1] is None


def test_a_promise_pauses_the_rule_until_its_date() -> None:
    paused = invoice(paused_until=DUE + timedelta(days=5), taken=frozenset({"bill"}))

    plan = plan_client(client(paused), DUE + timedelta(days=4))

    assert plan.decisions == ()
    assert plan.next_look[1] == DUE + timedelta(days=6)


def test_the_weekly_cap_holds_contacts_until_a_slot_frees() -> None:
    as_of = date(2026, 3, 23)  # overdue_3 moved off the weekend to Monday
    contacts = (date(2026, 3, 17), date(2026, 3, 20), date(2026, 3, 22))
    taken = frozenset({"bill", "reminder", "due_today"})

    plan = plan_client(client(invoice(taken=taken), contacts=contacts), as_of)

    assert plan.decisions == ()
    assert plan.next_look[1] == date(2026, 3, 24)  # the 17th leaves the window


def test_webhooks_are_not_held_by_the_weekly_cap() -> None:
    taken = frozenset(s.key for s in STAGES if s.key != "suspend")
    as_of = DUE + timedelta(days=30)
    contacts = (as_of, as_of, as_of)

    result = statuses(client(invoice(taken=taken), contacts=contacts), as_of)

    assert result == {"suspend": ActionStatus.DONE}


@settings(max_examples=200, deadline=None)
@given(
    due=st.dates(date(2025, 1, 1), date(2028, 12, 31)),
    lead=st.one_of(st.none(), st.integers(1, 25)),
    days=st.lists(st.integers(-40, 45), min_size=1, max_size=8, unique=True),
)
def test_run_on_any_days_every_stage_is_decided_at_most_once(
    due: date, lead: int | None, days: list[int]
) -> None:
    """However the runs are spread, replaying the plan never decides a stage twice,
    and after the last stage date every stage has been decided."""
    taken: set[str] = set()
    decided: list[str] = []
    for offset in [*sorted(days), 60]:
        as_of = due + timedelta(days=offset)
        case = client(invoice(due_date=due, lead_days=lead, taken=frozenset(taken)))
        for decision in plan_client(case, as_of).decisions:
            decided.append(decision.stage.key)
            taken.add(decision.stage.key)

    assert sorted(decided) == sorted(s.key for s in STAGES)


def test_a_message_due_in_quiet_hours_waits_for_the_morning_in_the_client_zone() -> (
    None
):
    limits = Limits(quiet_start=time(20), quiet_end=time(8))
    late_evening_in_sao_paulo = datetime(2026, 3, 18, 23, 30, tzinfo=UTC)  # 20:30

    opens = delivery_opens(
        date(2026, 3, 18), late_evening_in_sao_paulo, "America/Sao_Paulo", limits
    )

    assert opens == datetime(2026, 3, 19, 11, 0, tzinfo=UTC)  # 08:00 local


def test_a_message_for_today_goes_at_once_outside_quiet_hours() -> None:
    now = datetime(2026, 3, 18, 15, 0, tzinfo=UTC)  # 12:00 in Sao Paulo

    assert delivery_opens(date(2026, 3, 18), now, "America/Sao_Paulo", Limits()) == now
