"""Every webhook delivery attempt on record, for the desk to show.

`LoggedSender` wraps the webhook sender: each attempt, delivered or failed,
becomes a row of `webhook_deliveries` (message id, attempt number, the
receiver's status code or the error, when), written in its own transaction
so that it stays even when the dispatcher's bookkeeping fails afterwards.
Retries and backoff stay the dispatcher's: this only watches.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, insert, select

from duecourse.adapters.db.api_tables import WebhookDelivery
from duecourse.services.ports import DeliveryFailed, OutgoingMessage, Sender

log = logging.getLogger(__name__)

_ANSWERED = re.compile(r"answered (\d{3})")
DELIVERED = 200
"""Recorded for a success: the webhook sender accepts any 2xx without
reporting which; returning the status from `WebhookSender.deliver` would let
the exact code be recorded."""


class LoggedSender:
    """A `Sender` that records each attempt of the sender it wraps."""

    def __init__(
        self, sender: Sender, engine: Engine, clock: Callable[[], datetime]
    ) -> None:
        self._sender = sender
        self._engine = engine
        self._clock = clock

    def deliver(self, message: OutgoingMessage) -> None:
        attempt = message.attempts + 1
        try:
            self._sender.deliver(message)
        except DeliveryFailed as failure:
            answered = _ANSWERED.search(failure.reason)
            status = int(answered.group(1)) if answered else None
            self._record(message.id, attempt, status, failure.reason)
            raise
        self._record(message.id, attempt, DELIVERED, None)

    def _record(
        self, message_id: str, attempt: int, status: int | None, error: str | None
    ) -> None:
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    insert(WebhookDelivery),
                    {
                        "message_id": message_id,
                        "attempt": attempt,
                        "status_code": status,
                        "error": error[:500] if error else None,
                        "at": self._clock(),
                    },
                )
        except Exception:
            # The delivery itself happened; losing its log line must not make
            # the dispatcher retry it.
            log.exception("delivery not logged message_id=%s", message_id)


@dataclass(frozen=True)
class Delivery:
    message_id: str
    attempt: int
    status_code: int | None
    error: str | None
    at: datetime


def deliveries(
    engine: Engine, message_id: str | None = None, limit: int = 100
) -> list[Delivery]:
    """The latest attempts, newest first; of one message when it is named."""
    query = select(
        WebhookDelivery.message_id,
        WebhookDelivery.attempt,
        WebhookDelivery.status_code,
        WebhookDelivery.error,
        WebhookDelivery.at,
    ).order_by(WebhookDelivery.id.desc())
    if message_id is not None:
        query = query.where(WebhookDelivery.message_id == message_id)
    with engine.connect() as connection:
        return [Delivery(*row) for row in connection.execute(query.limit(limit))]
