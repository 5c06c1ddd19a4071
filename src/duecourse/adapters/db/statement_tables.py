"""The tables of bank statement imports and of their entries.

An entry's `entry_id` is the parser's stable id and is unique: importing the
same statement again finds every entry already stored and records nothing.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from duecourse.adapters.db.models import Base
from duecourse.adapters.db.types import Amount, UtcDateTime


class StatementImport(Base):
    """One statement file imported, with what became of its entries."""

    __tablename__ = "statement_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(300))
    format: Mapped[str] = mapped_column(String(12))
    account: Mapped[str] = mapped_column(String(80))
    statement_id: Mapped[str] = mapped_column(String(200))
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(120))
    entries: Mapped[int] = mapped_column(Integer)
    skipped: Mapped[int] = mapped_column(Integer)
    matched: Mapped[int] = mapped_column(Integer)
    queued: Mapped[int] = mapped_column(Integer)
    ignored: Mapped[int] = mapped_column(Integer)


class StatementEntryRow(Base):
    """One booking of an imported statement and what it was matched to."""

    __tablename__ = "statement_entries"
    __table_args__ = (Index("ix_statement_entries_queue", "status", "booking_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[str] = mapped_column(String(200), unique=True)
    import_id: Mapped[int] = mapped_column(
        ForeignKey("statement_imports.id"), index=True
    )
    account: Mapped[str] = mapped_column(String(80))
    booking_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Amount())
    currency: Mapped[str] = mapped_column(String(3))
    reference: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    counterparty: Mapped[str | None] = mapped_column(String(200))
    is_reversal: Mapped[bool] = mapped_column(Boolean)
    return_reason: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(String(300))
    payment_id: Mapped[int | None] = mapped_column(
        ForeignKey("payments.id"), index=True
    )
    resolved_by: Mapped[str | None] = mapped_column(String(120))
