"""The desk's tables: who took a call task, how calls ended, disputes.

New tables only: a call task's own status stays in `call_tasks`, and the
invoices a dispute names are linked here, so the billing tables are unchanged.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from duecourse.adapters.db.models import Base
from duecourse.adapters.db.types import Amount, UtcDateTime


class CallAssignment(Base):
    """The collector working a call task; one per task."""

    __tablename__ = "call_assignments"

    call_task_id: Mapped[int] = mapped_column(
        ForeignKey("call_tasks.id"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    assigned_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CallOutcomeRecord(Base):
    """How one call ended, with what it led to."""

    __tablename__ = "call_outcomes"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_task_id: Mapped[int] = mapped_column(ForeignKey("call_tasks.id"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text)
    amount: Mapped[Decimal | None] = mapped_column(Amount())
    promised_on: Mapped[date | None] = mapped_column(Date)
    promise_id: Mapped[int | None] = mapped_column(ForeignKey("promises.id"))
    agreement_id: Mapped[int | None] = mapped_column(ForeignKey("agreements.id"))
    details: Mapped[dict[str, object]] = mapped_column(JSON)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Dispute(Base):
    """An invoice the client contests, and why; one row per invoice."""

    __tablename__ = "disputes"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    call_outcome_id: Mapped[int | None] = mapped_column(ForeignKey("call_outcomes.id"))
    reason: Mapped[str] = mapped_column(Text)
    opened_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime())
