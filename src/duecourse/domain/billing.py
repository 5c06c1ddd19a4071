"""Billing: the periods a contract bills, their dates and their amounts.

A contract bills its client one period at a time: 1, 6 or 12 months paid in
advance, at the contract's monthly amount times the months, less the prepay
discount of the contract. Periods follow each other without gap or overlap
from the contract's start; each period's invoice falls due on the client's
chosen due day (days 29 to 31 fall back to the month's last day) and is issued
the client's chosen number of lead days before it.

The terms in force are the contract's; a change of terms applies from the
first period not yet invoiced, so an invoice never changes once issued.
"""

from __future__ import annotations

import calendar
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import IntEnum

from duecourse.domain.errors import InvalidField
from duecourse.domain.money import Money

MAX_LEAD_DAYS = 60
"""The longest notice a client may ask for: a bill two months ahead."""

LATE_STREAK_LIMIT = 12
"""How many invoices back a late streak is counted; a rule asks for at most this."""


class BillingPeriod(IntEnum):
    """How many months one invoice of a contract covers, paid in advance.

    A contract may move to another period at any time; the move applies from
    its next invoice (see `change_terms` in the billing service).
    """

    MONTHLY = 1
    SEMIANNUAL = 6
    ANNUAL = 12


STANDARD_DISCOUNTS: Mapping[BillingPeriod, Decimal] = {
    BillingPeriod.MONTHLY: Decimal(0),
    BillingPeriod.SEMIANNUAL: Decimal(5),
    BillingPeriod.ANNUAL: Decimal(10),
}
"""The prepay discount, in percent, offered for each period unless said otherwise."""


def parse_period(months: int, field: str = "period") -> BillingPeriod:
    """The billing period of so many months, or `InvalidField` naming the choices."""
    try:
        return BillingPeriod(months)
    except ValueError:
        choices = ", ".join(str(p.value) for p in BillingPeriod)
        raise InvalidField(
            field, f"{months!r} months is not a billing period", f"use {choices}"
        ) from None


def check_due_day(day: int, field: str = "due_day") -> int:
    """A due day is a day of the month, 1 to 31; 29 to 31 fall back in short months."""
    if not 1 <= day <= 31:
        raise InvalidField(field, f"{day} is not a day of the month", "use 1 to 31")
    return day


def check_lead_days(days: int, field: str = "lead_days") -> int:
    """Lead days: how many days before the due date the bill arrives, 0 to 60."""
    if not 0 <= days <= MAX_LEAD_DAYS:
        raise InvalidField(
            field, f"{days} is not a number of lead days", f"use 0 to {MAX_LEAD_DAYS}"
        )
    return days


def check_discount(percent: Decimal, field: str = "discount_percent") -> Decimal:
    """A prepay discount is a percent from 0 up to, not including, 100."""
    if not 0 <= percent < 100:
        raise InvalidField(
            field, f"{percent}% is not a discount", "use 0 up to 100, like 10 for 10%"
        )
    return percent


def percent_text(percent: Decimal) -> str:
    """A percent as people write it: 10, 5, 7.5 (no trailing zeros, no exponent)."""
    return format(percent.normalize(), "f")


def due_date_in(year: int, month: int, due_day: int) -> date:
    """The due date in a month: the chosen day, or the month's last day if shorter.

    A client who chose the 31st pays on 28 or 29 February and 30 April.
    """
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(check_due_day(due_day), last))


def _month_shift(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


@dataclass(frozen=True)
class BillingTerms:
    """The terms in force on a contract: what each next invoice is made of.

    `monthly` is the contract's amount per month; the invoice of a period is
    `monthly` times its months, less `discount_percent`.
    """

    monthly: Money
    period: BillingPeriod
    discount_percent: Decimal
    due_day: int
    lead_days: int

    def __post_init__(self) -> None:
        if self.monthly.amount < 0:
            raise InvalidField("amount", f"{self.monthly} is negative")
        check_discount(self.discount_percent)
        check_due_day(self.due_day)
        check_lead_days(self.lead_days)


@dataclass(frozen=True)
class Period:
    """One billing period: `start` to `end`, both included, and its invoice's dates.

    The due date is the first due day on or after the start, and never after
    the end; the invoice is issued `lead_days` before the due date.
    """

    start: date
    end: date
    due_date: date
    issue_date: date
    months: BillingPeriod


def schedule(
    terms: BillingTerms, first_start: date, anchor_day: int | None = None
) -> Iterator[Period]:
    """The periods from `first_start` on, one after another, without end.

    Every period starts on the contract's anchor day (the day of the month it
    started; 29 to 31 fall back in short months), so a contract started on 31
    January bills from 28 February, then from 31 March, never drifting.
    """
    anchor = anchor_day if anchor_day is not None else first_start.day
    start = first_start
    step = 1
    while True:
        year, month = _month_shift(
            first_start.year, first_start.month, step * terms.period
        )
        following = due_date_in(year, month, anchor)
        end = following - timedelta(days=1)
        due = _due_in_period(start, end, terms.due_day)
        issue = due - timedelta(days=terms.lead_days)
        yield Period(start, end, due, issue, terms.period)
        start = following
        step += 1


def _due_in_period(start: date, end: date, due_day: int) -> date:
    due = due_date_in(start.year, start.month, due_day)
    if due < start:
        year, month = _month_shift(start.year, start.month, 1)
        due = due_date_in(year, month, due_day)
    return min(due, end)


def owed_periods(
    periods: Iterable[Period],
    as_of: date,
    invoiced: Collection[date] = (),
    ends_on: date | None = None,
) -> list[Period]:
    """The periods owed as of a day: issued on or before it and not yet invoiced.

    `periods` is a schedule in order (issue dates rise with it); `invoiced`
    holds the starts of the periods already invoiced. A period that starts
    after the contract's end is never owed.
    """
    owed = []
    for period in periods:
        if period.issue_date > as_of:
            break
        if ends_on is not None and period.start > ends_on:
            break
        if period.start not in invoiced:
            owed.append(period)
    return owed


def period_amount(monthly: Money, months: int, discount_percent: Decimal) -> Money:
    """The invoice of a period: monthly times months, less the discount.

    Rounded once, here, to the currency's minor unit (`CENT_ROUNDING`).
    """
    factor = 1 - check_discount(discount_percent) / 100
    return (monthly * months * factor).rounded()


def prepaid_saving(monthly: Money, months: int, discount_percent: Decimal) -> Money:
    """What prepaying `months` at the discount saves against paying month by month.

    Exactly the full price less the invoice, so saving and invoice add up to
    what the months cost undiscounted, to the cent.
    """
    full = (monthly * months).rounded()
    return full - period_amount(monthly, months, discount_percent)


@dataclass(frozen=True)
class PaidInvoice:
    """A settled invoice as a late streak looks at it."""

    due_date: date
    paid_on: date | None


def late_streak(paid_newest_first: Iterable[PaidInvoice]) -> int:
    """How many of the client's last paid invoices were paid after their due date.

    Counted from the most recent due date back, up to `LATE_STREAK_LIMIT`; it
    stops at the first invoice paid on time (or with no payment date known).
    """
    streak = 0
    for invoice in paid_newest_first:
        if streak >= LATE_STREAK_LIMIT:
            break
        if invoice.paid_on is None or invoice.paid_on <= invoice.due_date:
            break
        streak += 1
    return streak
