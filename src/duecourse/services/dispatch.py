"""Draining the outbox: delivery at least once, with backoff and a dead letter.

A dispatcher claims ready messages for a lease, delivers them, and marks the
outcome. A dispatcher that dies mid-delivery leaves its claims to expire, and
another one takes them again: a message can be delivered twice, never lost,
and its stable id lets the receiving side recognise the repeat.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from duecourse.domain.states import Channel
from duecourse.services.ports import Counts, DeliveryFailed, OutgoingMessage, Sender

log = logging.getLogger(__name__)

BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
)
"""Wait before attempt 2, 3, ...; after the last, the message goes dead."""

LEASE = timedelta(minutes=5)


class OutboxStore(Protocol):
    def claim(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[OutgoingMessage]:
        """Take up to `limit` ready messages, committed, so no other
        dispatcher takes them before `lease_until`."""
        ...

    def delivered(self, message_id: str, now: datetime) -> None: ...

    def retry(
        self, message_id: str, attempts: int, at: datetime, error: str
    ) -> None: ...

    def dead(self, message_id: str, attempts: int, error: str) -> None: ...


@dataclass
class DispatchSummary:
    outcomes: Counts = field(default_factory=Counts)

    def line(self) -> str:
        return f"outbox: {self.outcomes}"


def dispatch(
    store: OutboxStore,
    senders: Mapping[Channel, Sender],
    clock: Callable[[], datetime],
    batch: int = 100,
    max_batches: int | None = None,
) -> DispatchSummary:
    """Deliver every ready message, batch by batch, until none is ready."""
    summary = DispatchSummary()
    batches = 0
    while max_batches is None or batches < max_batches:
        now = clock()
        claimed = store.claim(now, now + LEASE, batch)
        if not claimed:
            break
        batches += 1
        for message in claimed:
            summary.outcomes.add(_deliver(store, senders, message, clock))
    return summary


def _deliver(
    store: OutboxStore,
    senders: Mapping[Channel, Sender],
    message: OutgoingMessage,
    clock: Callable[[], datetime],
) -> str:
    attempts = message.attempts + 1
    sender = senders.get(message.channel)
    try:
        if sender is None:
            raise DeliveryFailed(f"no sender for {message.channel}", permanent=True)
        sender.deliver(message)
    except DeliveryFailed as failure:
        if failure.permanent or attempts > len(BACKOFF):
            store.dead(message.id, attempts, failure.reason)
            log.warning(
                "delivery failed for good message_id=%s channel=%s attempts=%d "
                "reason=%s",
                message.id,
                message.channel,
                attempts,
                failure.reason,
            )
            return "dead"
        retry_at = clock() + BACKOFF[attempts - 1]
        store.retry(message.id, attempts, retry_at, failure.reason)
        log.info(
            "delivery failed, will retry message_id=%s attempts=%d retry_at=%s",
            message.id,
            attempts,
            retry_at.isoformat(),
        )
        return "retrying"
    store.delivered(message.id, clock())
    log.debug("message delivered message_id=%s channel=%s", message.id, message.channel)
    return "sent"
