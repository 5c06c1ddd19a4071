"""The states of the records duecourse keeps, and the channels it speaks through."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    """How a stage reaches the client or the team."""

    EMAIL = "email"
    """The official channel: amount, due date, payment link, penalties."""
    CALL = "call"
    """A call task for a collector, with the stage's script."""
    NOTICE = "notice"
    """A banner the client's own product shows."""
    WEBHOOK = "webhook"
    """A signed event to the client's product, such as suspend or reinstate."""


class InvoiceStatus(StrEnum):
    """Where an invoice stands.

    OPEN -> PAID when payments cover the balance; OPEN -> VOID when cancelled.
    PAID -> OPEN only when a payment is reversed. VOID is final.
    """

    OPEN = "open"
    PAID = "paid"
    VOID = "void"


class ActionStatus(StrEnum):
    """What became of a stage for an invoice. Every state is final.

    DONE: carried out (its messages are in the outbox).
    SKIPPED: deliberately not carried out, with a reason (catch-up after an
    outage, a later stage of the same channel superseded it, a condition
    failed). Recorded so that nothing is silently lost and nothing is retried.
    """

    DONE = "done"
    SKIPPED = "skipped"


class MessageStatus(StrEnum):
    """A message's life in the outbox.

    PENDING -> SENDING (claimed by a dispatcher) -> SENT, or back to PENDING
    with a later attempt time after a temporary failure, or DEAD after the
    last attempt or a permanent failure. A SENDING message whose claim
    expired is taken again: delivery is at least once, and the stable message
    id lets the receiving side recognise a repeat.
    """

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"


class CatchUp(StrEnum):
    """What a stage does when its day passed without a run."""

    SEND = "send"
    """Carry it out late: an overdue notice still has something to say."""
    SKIP = "skip"
    """Record it as skipped: a late reminder would only confuse."""
