"""Webhook events beyond the rule's own: `payment.recorded`, `promise.broken`.

Suspend and reinstate come from collection rules and reconciliation; these
two come from recording a payment and from the promise review. Each is an
outbox message on the webhook channel, so it is signed, retried with
backoff and logged like any other (see `adapters.webhooks_log`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from duecourse.domain.money import Money
from duecourse.services.payments import PaymentInput, PaymentRecorded

log = logging.getLogger(__name__)

PAYMENT_RECORDED = "payment.recorded"
PROMISE_BROKEN = "promise.broken"


@dataclass(frozen=True)
class BrokenPromise:
    promise_id: int
    client_id: int
    client_external_id: str
    amount: Decimal
    currency: str
    promised_on: date


class EventStore(Protocol):
    def add_webhook(
        self, client_id: int, event: str, context: dict[str, object], now: datetime
    ) -> str:
        """Queue a webhook message in the outbox; its id. Does not commit."""
        ...

    def client_external_id(self, client_id: int) -> str: ...

    def broken_promises(self, promise_ids: Sequence[int]) -> list[BrokenPromise]: ...

    def commit(self) -> None: ...


def payment_recorded(
    store: EventStore, payment: PaymentInput, recorded: PaymentRecorded, now: datetime
) -> str | None:
    """Queue `payment.recorded` for a new payment; None for a repeated one."""
    if recorded.duplicate:
        return None
    message_id = store.add_webhook(
        recorded.client_id,
        PAYMENT_RECORDED,
        {
            "event": PAYMENT_RECORDED,
            "client": payment.client_external_id,
            "payment": payment.reference,
            "amount": _text(payment.amount, payment.currency),
            "currency": payment.currency,
            "received_on": payment.received_on.isoformat(),
            "invoices_settled": len(recorded.settled),
            "unallocated": _text(recorded.unallocated, payment.currency),
        },
        now,
    )
    store.commit()
    log.info("event queued event=%s message_id=%s", PAYMENT_RECORDED, message_id)
    return message_id


def promises_broken(
    store: EventStore, promise_ids: Sequence[int], now: datetime
) -> list[str]:
    """Queue `promise.broken` for each promise a review found broken."""
    queued = []
    for promise in store.broken_promises(promise_ids):
        queued.append(
            store.add_webhook(
                promise.client_id,
                PROMISE_BROKEN,
                {
                    "event": PROMISE_BROKEN,
                    "client": promise.client_external_id,
                    "promise": promise.promise_id,
                    "amount": _text(promise.amount, promise.currency),
                    "currency": promise.currency,
                    "promised_on": promise.promised_on.isoformat(),
                },
                now,
            )
        )
    store.commit()
    if queued:
        log.info("events queued event=%s count=%d", PROMISE_BROKEN, len(queued))
    return queued


def _text(amount: Decimal, currency: str) -> str:
    """In the currency's minor units, as PostgreSQL and SQLite both give it."""
    return str(Money(amount, currency).rounded().amount)
