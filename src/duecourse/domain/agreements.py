"""Agreements: a renegotiated balance, and the autonomy margin that allows it.

An agreement replaces the balance of some invoices with instalments: a count,
the first due date and the days between them (a single instalment is simply
a new due date), optionally a discount and a waiver of the penalties owed.
Each user has an autonomy margin set by role and adjustable per user; terms
within it take effect at once, terms beyond it wait for a manager.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum

from duecourse.domain.errors import Conflict, DuecourseError, InvalidField
from duecourse.domain.money import Money, minor_units

DEFAULT_CANCEL_AFTER_DAYS = 15

# Instalment shares are truncated so that the last instalment, which takes
# the remainder, can never be smaller than the others or negative.
SHARE_ROUNDING = ROUND_DOWN

_HUNDRED = Decimal(100)


class NotPermitted(DuecourseError):
    """The user's role does not allow what was asked."""


class AgreementStatus(StrEnum):
    """Where an agreement stands.

    PENDING_APPROVAL -> ACTIVE: a manager approved terms beyond the margin of
    the user who proposed them (terms within it start ACTIVE).
    PENDING_APPROVAL -> REJECTED: a manager declined; the invoices are as before.
    ACTIVE -> COMPLETED: every instalment was paid.
    ACTIVE -> CANCELLED: an instalment was missed and the policy says cancel;
    the original balance comes back.
    REJECTED, COMPLETED and CANCELLED are final.
    """

    PENDING_APPROVAL = "pending"
    ACTIVE = "active"
    REJECTED = "rejected"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


ALLOWED_MOVES: dict[AgreementStatus, frozenset[AgreementStatus]] = {
    AgreementStatus.PENDING_APPROVAL: frozenset(
        {AgreementStatus.ACTIVE, AgreementStatus.REJECTED}
    ),
    AgreementStatus.ACTIVE: frozenset(
        {AgreementStatus.COMPLETED, AgreementStatus.CANCELLED}
    ),
    AgreementStatus.REJECTED: frozenset(),
    AgreementStatus.COMPLETED: frozenset(),
    AgreementStatus.CANCELLED: frozenset(),
}


def move_agreement(
    current: AgreementStatus, target: AgreementStatus
) -> AgreementStatus:
    """The new status, or `Conflict` naming the status and its allowed moves."""
    allowed = ALLOWED_MOVES[current]
    if target not in allowed:
        moves = ", ".join(sorted(s.value for s in allowed)) or "none, it is final"
        raise Conflict(
            f"an agreement that is {current.value} cannot become {target.value}; "
            f"allowed: {moves}"
        )
    return target


class MissPolicy(StrEnum):
    """What a missed instalment does to its agreement."""

    CANCEL = "cancel"
    """Cancel the agreement and restore the original balance."""
    KEEP = "keep"
    """Keep the agreement; the rule goes on chasing the late instalment."""


@dataclass(frozen=True)
class AgreementTerms:
    """What the client and the collector agreed; validated on creation."""

    instalments: int
    first_due: date
    interval_days: int = 30
    discount_percent: Decimal = Decimal(0)
    waive_penalties: bool = False
    on_miss: MissPolicy = MissPolicy.CANCEL
    cancel_after_days: int = DEFAULT_CANCEL_AFTER_DAYS

    def __post_init__(self) -> None:
        if self.instalments < 1:
            raise InvalidField(
                "instalments", f"{self.instalments} is not a count", "use 1 or more"
            )
        if self.instalments > 1 and self.interval_days < 1:
            raise InvalidField(
                "interval", f"{self.interval_days} days", "use 1 day or more"
            )
        if not 0 <= self.discount_percent < _HUNDRED:
            raise InvalidField(
                "discount",
                f"{self.discount_percent}% is not a discount",
                "use a percent from 0 up to, not including, 100",
            )
        if self.cancel_after_days < 0:
            raise InvalidField(
                "cancel_after_days", f"{self.cancel_after_days} is negative"
            )

    def due_date(self, seq: int) -> date:
        """The due date of instalment `seq`, counted from 1."""
        return self.first_due + timedelta(days=self.interval_days * (seq - 1))


class Role(StrEnum):
    """What a user may do: viewers read; collectors and up negotiate; managers
    and admins also approve what is beyond someone's margin."""

    ADMIN = "admin"
    MANAGER = "manager"
    COLLECTOR = "collector"
    VIEWER = "viewer"

    @property
    def negotiates(self) -> bool:
        return self is not Role.VIEWER

    @property
    def approves(self) -> bool:
        return self in (Role.MANAGER, Role.ADMIN)


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise InvalidField("role", f"{value!r} is not a role", f"use {names}") from None


@dataclass(frozen=True)
class Margin:
    """How far a user may go alone; None means no limit."""

    max_discount_percent: Decimal | None
    may_waive_penalties: bool
    max_instalments: int | None
    max_deferral_days: int | None


ROLE_MARGINS: dict[Role, Margin] = {
    Role.ADMIN: Margin(None, True, None, None),
    Role.MANAGER: Margin(Decimal(20), True, 12, 90),
    Role.COLLECTOR: Margin(Decimal(5), False, 3, 15),
    Role.VIEWER: Margin(Decimal(0), False, 0, 0),
}


def margin_for(
    role: Role,
    max_discount_percent: Decimal | None = None,
    may_waive_penalties: bool | None = None,
    max_instalments: int | None = None,
    max_deferral_days: int | None = None,
) -> Margin:
    """The role's margin with the user's own overrides; None keeps the default."""
    default = ROLE_MARGINS[role]
    return Margin(
        default.max_discount_percent
        if max_discount_percent is None
        else max_discount_percent,
        default.may_waive_penalties
        if may_waive_penalties is None
        else may_waive_penalties,
        default.max_instalments if max_instalments is None else max_instalments,
        default.max_deferral_days if max_deferral_days is None else max_deferral_days,
    )


def deferral_days(terms: AgreementTerms, earliest_due: date, as_of: date) -> int:
    """Days the agreement puts off the first payment: from the earliest covered
    due date, or from today when it is already past, to the first instalment.

    The later instalments are bounded by the margin's instalment count.
    """
    return max((terms.first_due - max(earliest_due, as_of)).days, 0)


def needs_approval(terms: AgreementTerms, margin: Margin, deferral: int) -> list[str]:
    """Each limit of the margin the terms exceed, as a sentence; empty if none.

    `deferral` is `deferral_days` for the covered invoices.
    """
    reasons = []
    top = margin.max_discount_percent
    if top is not None and terms.discount_percent > top:
        reasons.append(
            f"a discount of {terms.discount_percent}% exceeds the margin of {top}%"
        )
    if terms.waive_penalties and not margin.may_waive_penalties:
        reasons.append("waiving penalties is beyond the margin")
    count = margin.max_instalments
    if count is not None and terms.instalments > count:
        reasons.append(f"{terms.instalments} instalments exceed the margin of {count}")
    days = margin.max_deferral_days
    if days is not None and deferral > days:
        reasons.append(
            f"a deferral of {deferral} days exceeds the margin of {days} days"
        )
    return reasons


@dataclass(frozen=True)
class Instalment:
    seq: int
    due_date: date
    amount: Money


def agreed_total(balance: Money, discount_percent: Decimal) -> Money:
    """The balance after the discount, rounded once with money.CENT_ROUNDING."""
    return (balance * (1 - discount_percent / _HUNDRED)).rounded()


def instalment_schedule(balance: Money, terms: AgreementTerms) -> list[Instalment]:
    """The instalments that replace `balance` under `terms`.

    Every share but the last is the agreed total divided by the count,
    truncated to the minor unit; the last takes the remainder, so the sum is
    exactly the agreed total and no instalment is negative.
    """
    total = agreed_total(balance, terms.discount_percent)
    unit = Decimal(1).scaleb(-minor_units(balance.currency))
    count = terms.instalments
    if total.amount < unit * count:
        raise InvalidField(
            "instalments",
            f"{total} cannot be split into {count} instalments",
            "use fewer instalments",
        )
    share = (total.amount / count).quantize(unit, SHARE_ROUNDING)
    amounts = [share] * (count - 1) + [total.amount - share * (count - 1)]
    return [
        Instalment(seq, terms.due_date(seq), Money(amount, balance.currency))
        for seq, amount in enumerate(amounts, start=1)
    ]


def restore_balances(
    originals: Sequence[tuple[int, Decimal]], paid: Decimal
) -> list[tuple[int, Decimal]]:
    """The original balances after a cancelled agreement, by invoice id.

    What the client paid through instalments goes to the originals in the
    order given (oldest due date first); the discount is lost with the
    agreement, and no balance drops below zero.
    """
    left = max(paid, Decimal(0))
    restored = []
    for invoice_id, balance in originals:
        taken = min(left, balance)
        restored.append((invoice_id, balance - taken))
        left -= taken
    return restored
