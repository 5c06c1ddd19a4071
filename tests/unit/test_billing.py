"""Billing periods, their dates and amounts; the late streak; the prepay offer."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import Decimal
from itertools import islice, pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from duecourse.domain.billing import (
    STANDARD_DISCOUNTS,
    BillingPeriod,
    BillingTerms,
    PaidInvoice,
    due_date_in,
    late_streak,
    owed_periods,
    parse_period,
    percent_text,
    period_amount,
    prepaid_saving,
    schedule,
)
from duecourse.domain.cadence import ClientCase, InvoiceCase, plan_client
from duecourse.domain.errors import InvalidField, InvalidRule
from duecourse.domain.money import Money
from duecourse.domain.rules import CollectionRule, Conditions, Stage, parse_rule
from duecourse.domain.states import ActionStatus, Channel
from duecourse.services.billing import invoice_number, prepay_offer
from duecourse.services.ports import ContractRecord

BRL = "BRL"


def terms(
    months: int = 1,
    due_day: int = 18,
    lead_days: int = 10,
    monthly: str = "1000.00",
    discount: str = "0",
) -> BillingTerms:
    return BillingTerms(
        Money.of(monthly, BRL),
        BillingPeriod(months),
        Decimal(discount),
        due_day,
        lead_days,
    )


days = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))
periods = st.sampled_from(list(BillingPeriod))
cents = st.decimals(min_value=0, max_value=1_000_000, places=2)
discounts = st.decimals(min_value=0, max_value=Decimal("99.99"), places=2)


# Due dates


def test_a_due_day_past_the_end_of_february_falls_on_its_last_day() -> None:
    assert due_date_in(2026, 2, 31) == date(2026, 2, 28)
    assert due_date_in(2028, 2, 30) == date(2028, 2, 29)
    assert due_date_in(2026, 4, 31) == date(2026, 4, 30)
    assert due_date_in(2026, 3, 31) == date(2026, 3, 31)


def test_a_due_day_outside_the_month_is_refused() -> None:
    with pytest.raises(InvalidField, match="32 is not a day of the month"):
        due_date_in(2026, 1, 32)


@given(st.integers(1900, 2200), st.integers(1, 12), st.integers(1, 31))
def test_the_due_date_is_always_a_day_of_its_month(
    year: int, month: int, due_day: int
) -> None:
    due = due_date_in(year, month, due_day)

    assert (due.year, due.month) == (year, month)
    assert due.day == min(due_day, calendar.monthrange(year, month)[1])


# The schedule


def test_a_monthly_contract_bills_each_month_on_its_due_day() -> None:
    first, second = islice(schedule(terms(), date(2026, 1, 1)), 2)

    assert (first.start, first.end) == (date(2026, 1, 1), date(2026, 1, 31))
    assert (first.due_date, first.issue_date) == (date(2026, 1, 18), date(2026, 1, 8))
    assert (second.start, second.due_date) == (date(2026, 2, 1), date(2026, 2, 18))


def test_an_annual_period_covers_twelve_months_and_falls_due_once() -> None:
    (year,) = islice(schedule(terms(12, due_day=31), date(2026, 2, 1)), 1)

    assert (year.start, year.end) == (date(2026, 2, 1), date(2027, 1, 31))
    assert year.due_date == date(2026, 2, 28)


def test_periods_keep_the_contracts_start_day_through_short_months() -> None:
    starts = [p.start for p in islice(schedule(terms(), date(2026, 1, 31)), 3)]

    assert starts == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)]


def test_the_due_day_comes_on_or_after_the_start_of_the_period() -> None:
    (first,) = islice(schedule(terms(due_day=5), date(2026, 1, 20)), 1)

    assert first.due_date == date(2026, 2, 5)


@given(days, periods, st.integers(1, 31), st.integers(0, 60))
def test_periods_follow_each_other_without_gap_or_overlap(
    start: date, period: BillingPeriod, due_day: int, lead_days: int
) -> None:
    contract = terms(period.value, due_day, lead_days)

    listed = list(islice(schedule(contract, start), 13))

    assert listed[0].start == start
    for before, after in pairwise(listed):
        assert after.start == before.end + timedelta(days=1)
        assert after.issue_date > before.issue_date
    for period_ in listed:
        assert period_.start <= period_.due_date <= period_.end
        assert period_.issue_date == period_.due_date - timedelta(days=lead_days)
        months = (period_.end.year - period_.start.year) * 12
        months += period_.end.month - period_.start.month
        assert months in (period.value - 1, period.value)


# What is owed


def test_periods_are_owed_once_their_issue_date_has_come() -> None:
    listed = schedule(terms(), date(2026, 1, 1))

    owed = owed_periods(listed, date(2026, 3, 8))

    assert [p.start for p in owed] == [
        date(2026, 1, 1),
        date(2026, 2, 1),
        date(2026, 3, 1),
    ]


def test_periods_invoiced_or_after_the_contract_ends_are_not_owed() -> None:
    listed = schedule(terms(), date(2026, 1, 1))

    owed = owed_periods(
        listed, date(2026, 6, 30), invoiced={date(2026, 1, 1)}, ends_on=date(2026, 3, 5)
    )

    assert [p.start for p in owed] == [date(2026, 2, 1), date(2026, 3, 1)]


# Amounts


def test_an_annual_invoice_is_twelve_months_less_the_prepay_discount() -> None:
    monthly = Money.of("1000.00", BRL)

    assert period_amount(monthly, 12, Decimal(10)) == Money.of("10800.00", BRL)
    assert prepaid_saving(monthly, 12, Decimal(10)) == Money.of("1200.00", BRL)
    assert period_amount(monthly, 6, Decimal(5)) == Money.of("5700.00", BRL)


def test_the_amount_is_rounded_once_half_up() -> None:
    monthly = Money.of("33.33", BRL)

    # 33.33 x 6 x 0.925 = 184.98150
    assert period_amount(monthly, 6, Decimal("7.5")) == Money.of("184.98", BRL)


def test_a_discount_of_a_hundred_percent_or_more_is_refused() -> None:
    with pytest.raises(InvalidField, match="100% is not a discount"):
        period_amount(Money.of("10", BRL), 12, Decimal(100))


@given(cents, periods, discounts)
def test_amounts_are_never_negative_and_the_saving_is_exact(
    monthly_amount: Decimal, period: BillingPeriod, discount: Decimal
) -> None:
    monthly = Money(monthly_amount, BRL)

    amount = period_amount(monthly, period, discount)
    saving = prepaid_saving(monthly, period, discount)

    assert amount.amount >= 0
    assert saving.amount >= 0
    assert amount + saving == monthly * period.value
    assert abs(saving.amount - monthly_amount * period * discount / 100) <= Decimal(
        "0.005"
    )


def test_standard_discounts_are_five_percent_semiannual_and_ten_annual() -> None:
    assert STANDARD_DISCOUNTS[BillingPeriod.SEMIANNUAL] == 5
    assert STANDARD_DISCOUNTS[BillingPeriod.ANNUAL] == 10
    assert percent_text(Decimal("10.0000")) == "10"
    assert percent_text(Decimal("7.50")) == "7.5"


def test_a_period_that_is_not_one_six_or_twelve_months_is_refused() -> None:
    with pytest.raises(InvalidField, match="3 months is not a billing period"):
        parse_period(3)


def test_the_invoice_number_names_client_contract_and_month() -> None:
    assert invoice_number("acme", 7, date(2026, 3, 1)) == "acme-7-202603"
    assert len(invoice_number("x" * 80, 123456, date(2026, 3, 1))) == 60


# The late streak


def test_the_streak_counts_late_payments_back_to_the_first_on_time() -> None:
    paid = [
        PaidInvoice(date(2026, 3, 18), date(2026, 3, 25)),
        PaidInvoice(date(2026, 2, 18), date(2026, 2, 19)),
        PaidInvoice(date(2026, 1, 18), date(2026, 1, 18)),
        PaidInvoice(date(2025, 12, 18), date(2025, 12, 30)),
    ]

    assert late_streak(paid) == 2
    assert late_streak([]) == 0


def rule(conditions: Conditions) -> CollectionRule:
    stage = Stage("offer", -3, Channel.EMAIL, "reminder", conditions=conditions)
    return CollectionRule("r", "", (stage,))


def test_a_late_streak_condition_skips_clients_who_pay_on_time() -> None:
    invoice = InvoiceCase(
        1, date(2026, 3, 18), Money.of("10", BRL), rule(Conditions(late_streak=3)),
        frozenset(),
    )  # fmt: skip

    late = plan_client(
        ClientCase(1, "BR", None, (invoice,), late_streak=3), date(2026, 3, 13)
    )
    punctual = plan_client(ClientCase(1, "BR", None, (invoice,)), date(2026, 3, 13))

    assert late.decisions[0].status is ActionStatus.DONE
    assert punctual.decisions[0].status is ActionStatus.SKIPPED
    assert punctual.decisions[0].reason == "paid late 0 time(s) in a row"


# The offer in a rule


RULE = """
name = "offer"
[[stages]]
key = "prepay_offer"
offset_days = -3
channel = "email"
template = "reminder"
offer = {{ {offer} }}
[stages.conditions]
late_streak = {streak}
"""


def parse(offer: str, streak: int = 3, channel: str = "email") -> CollectionRule:
    text = RULE.format(offer=offer, streak=streak).replace('"email"', f'"{channel}"')
    return parse_rule(text, "offer.toml", lambda *_: True)


def test_an_email_stage_may_offer_a_prepaid_year_to_late_payers() -> None:
    stage = parse("switch_to_months = 12").stages[0]

    assert stage.offer_months == 12
    assert stage.offer_discount_percent is None
    assert stage.conditions.late_streak == 3


def test_an_offer_may_name_its_own_discount() -> None:
    stage = parse('switch_to_months = 6, discount_percent = "7.5"').stages[0]

    assert (stage.offer_months, stage.offer_discount_percent) == (6, Decimal("7.5"))


@pytest.mark.parametrize(
    ("offer", "streak", "channel", "problem"),
    [
        ("switch_to_months = 3", 3, "email", "offer.switch_to_months: 3 is not a"),
        ("switch_to_months = 1", 3, "email", "offer.switch_to_months: 1 is not a"),
        ("switch_to_months = 12", 0, "email", "late_streak: must be a whole number"),
        ("switch_to_months = 12", 13, "email", "late_streak: must be a whole number"),
        ("switch_to_months = 12", 3, "call", "offer: is only for email stages"),
        ('switch_to_months = 12, discount_percent = "100"', 3, "email", "100%"),
        ("switch_to_months = 12, discount_percent = 9.5", 3, "email", "not a percent"),
        ("months = 12", 3, "email", "offer.months: is not a known offer setting"),
    ],
)
def test_a_bad_offer_or_streak_is_reported(
    offer: str, streak: int, channel: str, problem: str
) -> None:
    with pytest.raises(InvalidRule) as raised:
        parse(offer, streak, channel)

    assert problem in str(raised.value)


def test_the_offer_states_the_saving_of_a_prepaid_year() -> None:
    stage = Stage("offer", -3, Channel.EMAIL, "reminder", offer_months=12)
    contract = ContractRecord(1, "100.00", BRL, 1)

    offer = prepay_offer(contract, [stage])

    assert offer == {
        "months": 12,
        "discount_percent": "10",
        "amount": "1080.00",
        "saving": "120.00",
        "currency": BRL,
    }


def test_no_offer_to_a_contract_already_prepaying_as_long_or_without_one() -> None:
    stage = Stage("offer", -3, Channel.EMAIL, "reminder", offer_months=6)

    assert prepay_offer(ContractRecord(1, "100.00", BRL, 12), [stage]) is None
    assert prepay_offer(None, [stage]) is None
    plain = Stage("bill", -10, Channel.EMAIL, "bill")
    assert prepay_offer(ContractRecord(1, "100.00", BRL, 1), [plain]) is None
