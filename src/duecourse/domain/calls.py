"""Calls: how a collector's call ended.

Every call ends with exactly one outcome. Outcomes that commit the client
(a promise, a new date, an agreement) change what the rule does next; the
others are recorded for the history and the next collector.
"""

from __future__ import annotations

from enum import StrEnum


class CallOutcome(StrEnum):
    """How a call ended.

    PROMISE: the client promised an amount by a date; the rule pauses.
    NEW_DATE: the client will pay the whole balance on a new date, recorded
    as a promise of the full balance.
    AGREEMENT: instalments were proposed; active at once within the
    collector's margin, otherwise waiting for a manager.
    DISPUTE: the client contests the charges; recorded, nothing paused.
    NO_ANSWER and WRONG_CONTACT: nobody to talk to; the task stays open.
    """

    PROMISE = "promise"
    NEW_DATE = "new_date"
    AGREEMENT = "agreement"
    DISPUTE = "dispute"
    NO_ANSWER = "no_answer"
    WRONG_CONTACT = "wrong_contact"

    @property
    def closes_task(self) -> bool:
        """Whether the call task is done: someone answered."""
        return self not in (CallOutcome.NO_ANSWER, CallOutcome.WRONG_CONTACT)

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    CallOutcome.PROMISE: "promise to pay",
    CallOutcome.NEW_DATE: "new payment date",
    CallOutcome.AGREEMENT: "instalment agreement proposed",
    CallOutcome.DISPUTE: "dispute",
    CallOutcome.NO_ANSWER: "no answer",
    CallOutcome.WRONG_CONTACT: "wrong contact",
}
