"""The call worklist: why a call task is worth a call, and which call first.

The risk score adds points for what makes money less likely to come:

- 40 points per broken promise (from the client's standing);
- 1 point per day the oldest open invoice is overdue, up to 120;
- 10 points per notice ignored: an email sent after a due date, with no
  payment since, up to 5 of them;
- 15 points when an email to the client went dead (bounced).

Tasks are ranked by score, then by balance, then oldest first. Balances of
different currencies are only compared as numbers for that tie-break.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

POINTS_PER_BROKEN_PROMISE = 40
MAX_DAYS_COUNTED = 120
POINTS_PER_IGNORED_NOTICE = 10
MAX_NOTICES_COUNTED = 5
POINTS_FOR_BOUNCE = 15

LARGE_BALANCE = Decimal(5000)
"""A balance from which the size alone is a reason to call.

One threshold for every currency: a per-currency threshold needs a setting
per currency, which the book does not have yet.
"""

UNANSWERED_EMAILS = 2


class CallReason(StrEnum):
    """Why a call task deserves a call, as the worklist shows it."""

    NO_ANSWER = "no answer to two emails"
    BOUNCED = "bounced email"
    BROKEN_PROMISE = "broken promise"
    LARGE_BALANCE = "large balance"


@dataclass(frozen=True)
class RiskFacts:
    """What the desk knows about a client when ranking its call task."""

    broken_promises: int
    days_overdue: int
    notices_ignored: int
    dead_emails: int
    balance: Decimal


def risk_score(facts: RiskFacts) -> int:
    """The score of the module docstring; higher means call sooner."""
    days = min(max(facts.days_overdue, 0), MAX_DAYS_COUNTED)
    notices = min(facts.notices_ignored, MAX_NOTICES_COUNTED)
    return (
        POINTS_PER_BROKEN_PROMISE * facts.broken_promises
        + days
        + POINTS_PER_IGNORED_NOTICE * notices
        + (POINTS_FOR_BOUNCE if facts.dead_emails else 0)
    )


def call_reasons(facts: RiskFacts) -> list[CallReason]:
    """Every reason that applies, most telling first."""
    reasons = []
    if facts.broken_promises:
        reasons.append(CallReason.BROKEN_PROMISE)
    if facts.dead_emails:
        reasons.append(CallReason.BOUNCED)
    if facts.notices_ignored >= UNANSWERED_EMAILS:
        reasons.append(CallReason.NO_ANSWER)
    if facts.balance >= LARGE_BALANCE:
        reasons.append(CallReason.LARGE_BALANCE)
    return reasons
