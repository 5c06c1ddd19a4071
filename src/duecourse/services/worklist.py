"""The call worklist: open call tasks, ranked, and a collector taking one.

The ranking is `domain.worklist`'s risk score; each item says why it
exists: the reason the run or the promise review gave when it created the
task, and every reason of `CallReason` that applies today.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from duecourse.domain.errors import Conflict, NotFound
from duecourse.domain.worklist import CallReason, RiskFacts, call_reasons, risk_score
from duecourse.services.access import DeskUser
from duecourse.services.payments import AuditRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OpenTask:
    """An open call task with what the store knows of its client."""

    id: int
    client_id: int
    client_external_id: str
    client_name: str
    stage_key: str
    script: str
    reason: str
    balance: Decimal
    currency: str
    created_on: date
    oldest_due: date | None
    broken_promises: int
    notices_ignored: int
    dead_emails: int
    assignee_id: int | None
    assignee_name: str | None


@dataclass(frozen=True)
class WorkItem:
    task: OpenTask
    score: int
    days_overdue: int
    reasons: tuple[CallReason, ...]


class WorklistStore(Protocol):
    """Reads open call tasks and records who works them; one unit of work."""

    def open_tasks(self, task_id: int | None = None) -> list[OpenTask]:
        """Every open call task, or the one named if it is still open."""
        ...

    def assign(self, task_id: int, user_id: int, now: datetime) -> None: ...

    def audit(self, entry: AuditRecord) -> None: ...

    def commit(self) -> None: ...


def worklist(store: WorklistStore, as_of: date) -> list[WorkItem]:
    """Open call tasks, highest risk first, then largest balance, then oldest."""
    items = [work_item(task, as_of) for task in store.open_tasks()]
    return sorted(
        items, key=lambda i: (-i.score, -i.task.balance, i.task.created_on, i.task.id)
    )


def work_item(task: OpenTask, as_of: date) -> WorkItem:
    days = (as_of - task.oldest_due).days if task.oldest_due else 0
    facts = RiskFacts(
        broken_promises=task.broken_promises,
        days_overdue=max(days, 0),
        notices_ignored=task.notices_ignored,
        dead_emails=task.dead_emails,
        balance=task.balance,
    )
    return WorkItem(task, risk_score(facts), max(days, 0), tuple(call_reasons(facts)))


def open_task(store: WorklistStore, task_id: int) -> OpenTask:
    found = store.open_tasks(task_id)
    if not found:
        raise NotFound(f"call task {task_id} is not open; see the worklist")
    return found[0]


def take_task(
    store: WorklistStore, task_id: int, user: DeskUser, now: datetime
) -> OpenTask:
    """Assign an open call task to the user; a task another collector took is
    theirs until they finish it."""
    task = open_task(store, task_id)
    if task.assignee_id == user.id:
        return task
    if task.assignee_id is not None:
        raise Conflict(
            f"call task {task_id} was taken by {task.assignee_name}; "
            "pick another one from the worklist"
        )

    store.assign(task_id, user.id, now)
    store.audit(
        AuditRecord(
            at=now,
            actor=user.email,
            action="call task taken",
            subject=f"call task {task_id}",
            details={"client_id": task.client_id, "user_id": user.id},
        )
    )
    store.commit()
    log.info("call task taken task_id=%d user_id=%d", task_id, user.id)
    return task
