"""The desk's overview pages: today's run, the outbox, the audit log, approvals.

Reads for managers and collectors, plus the two small changes made from
them: sending a dead message again, and nothing else; approving and
rejecting agreements go through `services.agreements`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Protocol

from duecourse.domain.ageing import Bucket, age_balances
from duecourse.domain.errors import Conflict
from duecourse.domain.money import Money
from duecourse.domain.states import MessageStatus
from duecourse.services.access import DeskUser
from duecourse.services.compose import Composer
from duecourse.services.payments import AuditRecord
from duecourse.services.simulate import HeldStore, simulate
from duecourse.services.worklist import WorkItem, WorklistStore, worklist

log = logging.getLogger(__name__)

TOP_OF_WORKLIST = 5


@dataclass(frozen=True)
class StageCount:
    stage_key: str
    channel: str
    status: str
    count: int


@dataclass(frozen=True)
class OutboxLine:
    id: str
    client_external_id: str
    channel: str
    template: str
    status: str
    attempts: int
    run_on: date
    last_error: str | None
    sent_at: datetime | None


@dataclass(frozen=True)
class AuditLine:
    at: datetime
    actor: str
    action: str
    subject: str
    details: dict[str, object]


class DeskStore(WorklistStore, Protocol):
    """The reads of the overview pages, and the outbox retry."""

    def actions_taken(self, on: date) -> list[StageCount]: ...

    def open_balances(self) -> list[tuple[date, Money]]:
        """(due date, balance) of every open invoice."""
        ...

    def messages(self, status: str, limit: int) -> list[OutboxLine]:
        """Messages in this status, newest first."""
        ...

    def message_status(self, message_id: str) -> str | None: ...

    def requeue(self, message_id: str, now: datetime) -> None:
        """A dead message back to pending, due now; its attempts are kept."""
        ...

    def audit_lines(self, offset: int, limit: int) -> list[AuditLine]:
        """The audit log, newest first."""
        ...


@dataclass(frozen=True)
class Today:
    as_of: date
    done: list[StageCount]
    tomorrow: dict[str, int]
    ageing: dict[str, dict[Bucket, Decimal]]
    top_calls: list[WorkItem]


def today(
    store: DeskStore,
    open_held_store: Callable[[], HeldStore],
    composer: Composer,
    as_of: date,
) -> Today:
    """What the run did today, what it would do tomorrow, and the book's ageing.

    Tomorrow is a simulation of one day (nothing stored), counted by channel
    and template, such as `email/overdue`.
    """
    planned: dict[str, int] = {}
    for day in simulate(open_held_store, composer, as_of + timedelta(days=1), 1):
        for contact in day.contacts:
            label = f"{contact.channel}/{contact.what}"
            planned[label] = planned.get(label, 0) + 1
    return Today(
        as_of=as_of,
        done=store.actions_taken(as_of),
        tomorrow=dict(sorted(planned.items())),
        ageing=age_balances(store.open_balances(), as_of),
        top_calls=worklist(store, as_of)[:TOP_OF_WORKLIST],
    )


def retry_message(
    store: DeskStore, message_id: str, user: DeskUser, now: datetime
) -> None:
    """Send a dead message again: pending from now, its attempt count kept."""
    status = store.message_status(message_id)
    if status != MessageStatus.DEAD:
        raise Conflict(
            f"message {message_id} is {status or 'unknown'}; only dead messages "
            "are sent again"
        )
    store.requeue(message_id, now)
    store.audit(
        AuditRecord(
            at=now,
            actor=user.email,
            action="message retried",
            subject=f"message {message_id}",
            details={"user_id": user.id},
        )
    )
    store.commit()
    log.info("dead message queued again message_id=%s", message_id)
