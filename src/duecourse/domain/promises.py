"""Promises: the client's commitment to pay an amount by a date.

While a promise is open the rule is paused for the invoices it covers, until
the promised date plus a grace. Payments reaching the promised amount (or
settling every covered invoice) keep it; the grace passing first breaks it:
the rule resumes where it stands, the client's priority rises, and a second
broken promise sends the client to a manager.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from duecourse.domain.errors import Conflict, InvalidField

DEFAULT_GRACE_DAYS = 3
"""Days after the promised date before an unpaid promise counts as broken."""

ESCALATE_AFTER_BROKEN = 2
"""Broken promises after which a manager calls the client."""

ESCALATION_REASON = "two broken promises: manager to call"


class PromiseStatus(StrEnum):
    """Where a promise stands.

    OPEN -> KEPT: payments since the promise reached its amount, or settled
    every invoice it covers.
    OPEN -> BROKEN: the promised date plus the grace passed first.
    OPEN -> CANCELLED: a newer promise or an agreement took over its invoices.
    KEPT, BROKEN and CANCELLED are final.
    """

    OPEN = "open"
    KEPT = "kept"
    BROKEN = "broken"
    CANCELLED = "cancelled"


ALLOWED_MOVES: dict[PromiseStatus, frozenset[PromiseStatus]] = {
    PromiseStatus.OPEN: frozenset(
        {PromiseStatus.KEPT, PromiseStatus.BROKEN, PromiseStatus.CANCELLED}
    ),
    PromiseStatus.KEPT: frozenset(),
    PromiseStatus.BROKEN: frozenset(),
    PromiseStatus.CANCELLED: frozenset(),
}


def move_promise(current: PromiseStatus, target: PromiseStatus) -> PromiseStatus:
    """The new status, or `Conflict` naming the status and its allowed moves."""
    allowed = ALLOWED_MOVES[current]
    if target not in allowed:
        moves = ", ".join(sorted(s.value for s in allowed)) or "none, it is final"
        raise Conflict(
            f"a promise that is {current.value} cannot become {target.value}; "
            f"allowed: {moves}"
        )
    return target


def pause_ends(promised_on: date, grace_days: int) -> date:
    """The last day the rule stays paused: the promised date plus the grace."""
    if grace_days < 0:
        raise InvalidField("grace_days", f"{grace_days} is negative", "use 0 or more")
    return promised_on + timedelta(days=grace_days)


def check_promise(amount: Decimal, promised_on: date, as_of: date) -> None:
    """Raise `InvalidField` for a promise that cannot be taken on `as_of`."""
    if amount <= 0:
        raise InvalidField("amount", f"{amount} is not positive")
    if promised_on < as_of:
        raise InvalidField(
            "promised_on",
            f"{promised_on} is already past on {as_of}",
            "promise a date from today on",
        )


def judge_promise(
    amount: Decimal,
    paid_since: Decimal,
    all_settled: bool,
    pause_end: date,
    as_of: date,
) -> PromiseStatus:
    """What an open promise has become on `as_of`.

    Kept as soon as the money arrived, even on the last day of the grace;
    broken only from the day after the grace; open in between.
    """
    if all_settled or paid_since >= amount:
        return PromiseStatus.KEPT
    if as_of > pause_end:
        return PromiseStatus.BROKEN
    return PromiseStatus.OPEN


@dataclass(frozen=True)
class Standing:
    """How urgently the desk treats a client: raised by each broken promise."""

    priority: int = 0
    broken_promises: int = 0
    escalated: bool = False

    def after_broken_promise(self) -> Standing:
        """One more broken promise: priority up, escalated at the threshold."""
        broken = self.broken_promises + 1
        return replace(
            self,
            priority=self.priority + 1,
            broken_promises=broken,
            escalated=self.escalated or broken >= ESCALATE_AFTER_BROKEN,
        )

    def escalates_from(self, before: Standing) -> bool:
        """True when this standing is the one that first reached a manager."""
        return self.escalated and not before.escalated
