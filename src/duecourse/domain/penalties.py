"""Penalties: the late fee and interest an overdue invoice carries.

A penalty policy says what is charged once (a fee: a percent of the overdue
principal, a fixed compensation by debt size, or both), how interest accrues
(simple interest, a percent a month spread over 30 days or a percent a year
spread over 365, optionally on top of a reference rate), what caps the total,
and whether the penalty is owed or only disclosed. Amounts stay exact until
`_round_once`, the one place where they become cents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from enum import Enum

from duecourse.domain.errors import CurrencyMismatch
from duecourse.domain.interest import Accrual, InterestTerms
from duecourse.domain.money import Money, minor_units

FREE_FORM = "free-form"

# A cap is a ceiling: rounding it up could let the total pass it, so it is
# truncated to the minor unit, while amounts use money.CENT_ROUNDING.
CAP_ROUNDING = ROUND_DOWN

_HUNDRED = Decimal(100)


class PenaltyMode(Enum):
    """What happens to a computed penalty. A policy's mode never changes."""

    CHARGED = "charged"
    """Added to what the client owes once the grace is over; the grace days
    themselves are free: fee and interest start after them."""

    WAIVED_IN_GRACE = "waived-in-grace"
    """Forgiven if paid within the grace; paid later, the full penalty is owed,
    with interest counted from the day after the due date."""

    DISCLOSED = "disclosed"
    """Computed as CHARGED would and stated in messages, never owed."""


@dataclass(frozen=True)
class CompensationTier:
    """A fixed sum owed once when the overdue principal is `from_principal` or more."""

    from_principal: Decimal
    amount: Decimal


@dataclass(frozen=True)
class PenaltyPolicy:
    """The terms of a penalty, from a preset or written free-form in a rule.

    Fixed sums (`compensation`, `cap_amount`) are in `currency`; a policy
    without fixed sums has no currency and applies to invoices in any.
    """

    name: str = FREE_FORM
    grace_days: int = 0
    late_fee_percent: Decimal = Decimal(0)
    compensation: tuple[CompensationTier, ...] = ()
    interest: InterestTerms | None = None
    cap_percent: Decimal | None = None
    cap_amount: Decimal | None = None
    mode: PenaltyMode = PenaltyMode.CHARGED
    currency: str | None = None
    source: str = ""

    def __post_init__(self) -> None:
        if self.grace_days < 0:
            raise ValueError("grace_days must not be negative")
        tiers = [tier.from_principal for tier in self.compensation]
        if tiers != sorted(set(tiers)):
            raise ValueError("compensation tiers must rise by from_principal")
        if (self.compensation or self.cap_amount is not None) and not self.currency:
            raise ValueError("fixed sums need the policy's currency")

    def late_fee_on(self, principal: Decimal) -> Decimal:
        """The fee charged once: the percent plus the tier the debt falls in."""
        fee = principal * self.late_fee_percent / _HUNDRED
        reached = [t for t in self.compensation if principal >= t.from_principal]
        if reached:
            fee += reached[-1].amount
        return fee

    def cap_on(self, principal: Decimal) -> Decimal | None:
        """The most the fee and interest together may reach, if capped."""
        caps = []
        if self.cap_amount is not None:
            caps.append(self.cap_amount)
        if self.cap_percent is not None:
            caps.append(principal * self.cap_percent / _HUNDRED)
        return min(caps) if caps else None

    def check_currency(self, principal: Money) -> None:
        if self.currency is not None and principal.currency != self.currency:
            raise CurrencyMismatch(
                f"the {self.name} penalty policy is in {self.currency}, "
                f"so it cannot apply to an invoice in {principal.currency}"
            )


@dataclass(frozen=True)
class PenaltyToDate:
    """The penalty on one overdue principal as of a day, in cents.

    `owed` says whether it is added to what the client owes: false when the
    policy only discloses it or the grace is not over. `provisional` says a
    rate used is unconfirmed or past the date its data was last checked.
    """

    late_fee: Money
    interest: Money
    total: Money
    days_late: int
    owed: bool
    provisional: bool = False


def penalty_to_date(
    policy: PenaltyPolicy, principal: Money, due_date: date, as_of: date
) -> PenaltyToDate:
    """The penalty owed (or disclosed) on `principal` unpaid since `due_date`.

    Days late count calendar days after the due date. Within the grace
    (days late up to `grace_days`) nothing is due. After it, the fee is
    charged once and interest accrues on each day from the first charged
    day to `as_of`, both included: the day after the grace for CHARGED and
    DISCLOSED, the day after the due date for WAIVED_IN_GRACE. The cap bounds
    fee and interest together. The result never decreases as `as_of` moves on.
    """
    policy.check_currency(principal)
    days_late = max((as_of - due_date).days, 0)
    zero = Money.zero(principal.currency)

    if days_late <= policy.grace_days or principal.amount <= 0:
        return PenaltyToDate(zero, zero, zero, days_late, owed=False)

    interest_starts = due_date + timedelta(days=1)
    first_day = interest_starts
    if policy.mode is not PenaltyMode.WAIVED_IN_GRACE:
        first_day += timedelta(days=policy.grace_days)
    interest = Decimal(0)
    accrual = Accrual()
    if policy.interest is not None:
        accrual = policy.interest.accrual(first_day, as_of, interest_starts)
        interest = policy.interest.amount(principal.amount, accrual)

    fee = policy.late_fee_on(principal.amount)
    cap = policy.cap_on(principal.amount)
    late_fee, interest_due = _round_once(principal.currency, fee, interest, cap)
    return PenaltyToDate(
        late_fee=late_fee,
        interest=interest_due,
        total=late_fee + interest_due,
        days_late=days_late,
        owed=policy.mode is not PenaltyMode.DISCLOSED,
        provisional=accrual.provisional,
    )


def _round_once(
    currency: str, fee: Decimal, interest: Decimal, cap: Decimal | None
) -> tuple[Money, Money]:
    """The exact fee and interest in the currency's minor unit, within the cap.

    Each amount is rounded with money.CENT_ROUNDING; the cap is truncated.
    The fee is served first, interest fills what the cap leaves.
    """
    late_fee = Money(fee, currency).rounded()
    interest_due = Money(interest, currency).rounded()
    if cap is not None:
        unit = Decimal(1).scaleb(-minor_units(currency))
        ceiling = Money(cap.quantize(unit, CAP_ROUNDING), currency)
        late_fee = min(late_fee, ceiling)
        interest_due = min(interest_due, ceiling - late_fee)
    return late_fee, interest_due
