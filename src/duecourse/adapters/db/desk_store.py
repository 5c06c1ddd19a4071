"""The desk's unit of work on SQLAlchemy Core: call tasks, calls, overviews.

It extends the negotiation store, so a call that ends in a promise or an
agreement writes its outcome on the same connection and in the same
transaction as the promise or the agreement.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, update

from duecourse.adapters.db.desk_tables import CallAssignment, CallOutcomeRecord, Dispute
from duecourse.adapters.db.models import (
    Action,
    AuditEntry,
    CallTask,
    Client,
    Invoice,
    Message,
)
from duecourse.adapters.db.negotiation_store import SqlNegotiationStore
from duecourse.adapters.db.negotiation_tables import ClientStanding, User
from duecourse.domain.money import Money
from duecourse.domain.states import ActionStatus, Channel, InvoiceStatus, MessageStatus
from duecourse.services.calls import CallEnd
from duecourse.services.desk import AuditLine, OutboxLine, StageCount
from duecourse.services.worklist import OpenTask

OPEN_TASK = "open"
DONE_TASK = "done"


class SqlDeskStore(SqlNegotiationStore):
    """Implements `WorklistStore`, `CallStore` and `DeskStore`."""

    # The worklist

    def open_tasks(self, task_id: int | None = None) -> list[OpenTask]:
        query = (
            select(
                CallTask,
                Client.external_id,
                Client.name.label("client_name"),
                CallAssignment.user_id,
                User.name.label("assignee_name"),
                ClientStanding.broken_promises,
            )
            .join(Client, Client.id == CallTask.client_id)
            .outerjoin(CallAssignment, CallAssignment.call_task_id == CallTask.id)
            .outerjoin(User, User.id == CallAssignment.user_id)
            .outerjoin(ClientStanding, ClientStanding.client_id == CallTask.client_id)
            .where(CallTask.status == OPEN_TASK)
            .order_by(CallTask.id)
        )
        if task_id is not None:
            query = query.where(CallTask.id == task_id)
        rows = self.connection.execute(query).all()
        ids = sorted({row.client_id for row in rows})
        balances = self._open_sums(ids)
        ignored = self._ignored_notices(ids)
        dead = self._dead_emails(ids)
        return [_task(row, balances, ignored, dead) for row in rows]

    def _open_sums(self, client_ids: list[int]) -> dict[int, tuple[Decimal, date]]:
        rows = self.connection.execute(
            select(Invoice.client_id, Invoice.balance, Invoice.due_date).where(
                Invoice.client_id.in_(client_ids),
                Invoice.status == InvoiceStatus.OPEN.value,
            )
        )
        sums: dict[int, tuple[Decimal, date]] = {}
        for client_id, balance, due_date in rows:
            total, oldest = sums.get(client_id, (Decimal(0), due_date))
            sums[client_id] = (total + balance, min(oldest, due_date))
        return sums

    def _ignored_notices(self, client_ids: list[int]) -> dict[int, int]:
        """Emails sent after a due date, with no payment since, per client."""
        query = (
            select(Invoice.client_id, func.count(func.distinct(Action.message_id)))
            .join(Invoice, Invoice.id == Action.invoice_id)
            .where(
                Invoice.client_id.in_(client_ids),
                Invoice.status == InvoiceStatus.OPEN.value,
                Action.channel == Channel.EMAIL.value,
                Action.status == ActionStatus.DONE.value,
                Action.taken_on > Invoice.due_date,
                (Invoice.last_payment_on.is_(None))
                | (Action.taken_on > Invoice.last_payment_on),
            )
            .group_by(Invoice.client_id)
        )
        return {row[0]: int(row[1]) for row in self.connection.execute(query)}

    def _dead_emails(self, client_ids: list[int]) -> dict[int, int]:
        query = (
            select(Message.client_id, func.count())
            .where(
                Message.client_id.in_(client_ids),
                Message.channel == Channel.EMAIL.value,
                Message.status == MessageStatus.DEAD.value,
            )
            .group_by(Message.client_id)
        )
        return {row[0]: int(row[1]) for row in self.connection.execute(query)}

    def assign(self, task_id: int, user_id: int, now: datetime) -> None:
        self.connection.execute(
            insert(CallAssignment),
            {"call_task_id": task_id, "user_id": user_id, "assigned_at": now},
        )

    # Calls

    def record_outcome(
        self, task_id: int, client_id: int, user_id: int, call: CallEnd, now: datetime
    ) -> int:
        details: dict[str, object] = {}
        if call.reason:
            details["reason"] = call.reason
        if call.terms is not None:
            details["instalments"] = call.terms.instalments
            details["first_due"] = call.terms.first_due.isoformat()
        result = self.connection.execute(
            insert(CallOutcomeRecord).returning(CallOutcomeRecord.id),
            {
                "call_task_id": task_id,
                "client_id": client_id,
                "user_id": user_id,
                "outcome": call.outcome.value,
                "note": call.note,
                "amount": call.amount,
                "promised_on": call.promised_on,
                "promise_id": None,
                "agreement_id": None,
                "details": details,
                "recorded_at": now,
            },
        )
        return int(result.scalar_one())

    def link_outcome(
        self, outcome_id: int, promise_id: int | None, agreement_id: int | None
    ) -> None:
        self.connection.execute(
            update(CallOutcomeRecord)
            .where(CallOutcomeRecord.id == outcome_id)
            .values(promise_id=promise_id, agreement_id=agreement_id)
        )

    def close_task(self, task_id: int) -> None:
        self.connection.execute(
            update(CallTask).where(CallTask.id == task_id).values(status=DONE_TASK)
        )

    def add_disputes(
        self,
        client_id: int,
        invoice_ids: list[int],
        outcome_id: int,
        reason: str,
        user_id: int,
        now: datetime,
    ) -> None:
        if not invoice_ids:
            return
        self.connection.execute(
            insert(Dispute),
            [
                {
                    "client_id": client_id,
                    "invoice_id": invoice_id,
                    "call_outcome_id": outcome_id,
                    "reason": reason,
                    "opened_by": user_id,
                    "opened_at": now,
                }
                for invoice_id in invoice_ids
            ],
        )

    # Overviews

    def actions_taken(self, on: date) -> list[StageCount]:
        query = (
            select(Action.stage_key, Action.channel, Action.status, func.count())
            .where(Action.taken_on == on)
            .group_by(Action.stage_key, Action.channel, Action.status)
            .order_by(Action.stage_key, Action.status)
        )
        return [StageCount(*row) for row in self.connection.execute(query)]

    def open_balances(self) -> list[tuple[date, Money]]:
        query = select(Invoice.due_date, Invoice.balance, Invoice.currency).where(
            Invoice.status == InvoiceStatus.OPEN.value
        )
        return [
            (due, Money(balance, currency))
            for due, balance, currency in self.connection.execute(query)
        ]

    def messages(self, status: str, limit: int) -> list[OutboxLine]:
        query = (
            select(Message, Client.external_id)
            .join(Client, Client.id == Message.client_id)
            .where(Message.status == status)
            .order_by(Message.created_at.desc(), Message.id)
            .limit(limit)
        )
        return [_outbox_line(row) for row in self.connection.execute(query)]

    def message_status(self, message_id: str) -> str | None:
        query = select(Message.status).where(Message.id == message_id)
        found = self.connection.execute(query).scalar_one_or_none()
        return None if found is None else str(found)

    def requeue(self, message_id: str, now: datetime) -> None:
        self.connection.execute(
            update(Message)
            .where(Message.id == message_id)
            .values(
                status=MessageStatus.PENDING.value,
                next_attempt_at=now,
                claimed_until=None,
            )
        )

    def audit_lines(self, offset: int, limit: int) -> list[AuditLine]:
        query = (
            select(
                AuditEntry.at,
                AuditEntry.actor,
                AuditEntry.action,
                AuditEntry.subject,
                AuditEntry.details,
            )
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return [AuditLine(*row) for row in self.connection.execute(query)]

    def client_id_of(self, external_id: str) -> int | None:
        query = select(Client.id).where(Client.external_id == external_id)
        found = self.connection.execute(query).scalar_one_or_none()
        return None if found is None else int(found)

    def client_names(self, client_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
        """(external id, name) of each client."""
        query = select(Client.id, Client.external_id, Client.name).where(
            Client.id.in_(client_ids)
        )
        return {row[0]: (row[1], row[2]) for row in self.connection.execute(query)}


def _task(
    row: Any,
    balances: dict[int, tuple[Decimal, date]],
    ignored: dict[int, int],
    dead: dict[int, int],
) -> OpenTask:
    balance, oldest = balances.get(row.client_id, (row.balance, None))
    return OpenTask(
        id=row.id,
        client_id=row.client_id,
        client_external_id=row.external_id,
        client_name=row.client_name,
        stage_key=row.stage_key,
        script=row.script,
        reason=row.reason,
        balance=balance,
        currency=row.currency,
        created_on=row.created_on,
        oldest_due=oldest,
        broken_promises=row.broken_promises or 0,
        notices_ignored=ignored.get(row.client_id, 0),
        dead_emails=dead.get(row.client_id, 0),
        assignee_id=row.user_id,
        assignee_name=row.assignee_name,
    )


def _outbox_line(row: Any) -> OutboxLine:
    return OutboxLine(
        id=row.id,
        client_external_id=row.external_id,
        channel=row.channel,
        template=row.template,
        status=row.status,
        attempts=row.attempts,
        run_on=row.run_on,
        last_error=row.last_error,
        sent_at=row.sent_at,
    )
