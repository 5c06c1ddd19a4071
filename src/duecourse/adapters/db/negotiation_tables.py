"""The tables of negotiation: users and their margins, promises, agreements.

None of them alters the billing tables: which invoices a promise or an
agreement covers, and which invoices are an agreement's instalments, live in
link tables, and a client's priority lives in `client_standing`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from duecourse.adapters.db.models import Base
from duecourse.adapters.db.types import Amount, UtcDateTime


class User(Base):
    """Someone who works the desk. Null margin columns keep the role's default."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(12))
    # Set by web logins, which come later; a user without one cannot log in.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean)
    max_discount_percent: Mapped[Decimal | None] = mapped_column(Amount())
    may_waive_penalties: Mapped[bool | None] = mapped_column(Boolean)
    max_instalments: Mapped[int | None] = mapped_column(Integer)
    max_deferral_days: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Promise(Base):
    __tablename__ = "promises"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Amount())
    currency: Mapped[str] = mapped_column(String(3))
    promised_on: Mapped[date] = mapped_column(Date)
    grace_days: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), index=True)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    resolved_on: Mapped[date | None] = mapped_column(Date)


class PromiseInvoice(Base):
    """An invoice a promise covers, with its balance when the promise was made."""

    __tablename__ = "promise_invoices"

    promise_id: Mapped[int] = mapped_column(ForeignKey("promises.id"), primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoices.id"), primary_key=True, index=True
    )
    balance_then: Mapped[Decimal] = mapped_column(Amount())


class Agreement(Base):
    """Terms, who asked and who decided, and the sums at activation."""

    __tablename__ = "agreements"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    discount_percent: Mapped[Decimal] = mapped_column(Amount())
    waive_penalties: Mapped[bool] = mapped_column(Boolean)
    instalment_count: Mapped[int] = mapped_column(Integer)
    first_due: Mapped[date] = mapped_column(Date)
    interval_days: Mapped[int] = mapped_column(Integer)
    # The one new due date when the agreement is a single instalment.
    new_due_date: Mapped[date | None] = mapped_column(Date)
    on_miss: Mapped[str] = mapped_column(String(12))
    cancel_after_days: Mapped[int] = mapped_column(Integer)
    requested_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approval_reasons: Mapped[list[str]] = mapped_column(JSON)
    # Set at activation: what was covered, penalties included or waived.
    covered_balance: Mapped[Decimal | None] = mapped_column(Amount())
    penalties_included: Mapped[Decimal | None] = mapped_column(Amount())
    penalties_waived: Mapped[Decimal | None] = mapped_column(Amount())
    agreed_total: Mapped[Decimal | None] = mapped_column(Amount())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    closed_on: Mapped[date | None] = mapped_column(Date)
    close_reason: Mapped[str | None] = mapped_column(String(200))


class AgreementInvoice(Base):
    """An original invoice an agreement covers; its balance at activation."""

    __tablename__ = "agreement_invoices"

    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("agreements.id"), primary_key=True
    )
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoices.id"), primary_key=True, index=True
    )
    balance_then: Mapped[Decimal | None] = mapped_column(Amount())


class AgreementInstalment(Base):
    """An invoice created for one instalment of an agreement."""

    __tablename__ = "agreement_instalments"

    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("agreements.id"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), unique=True)


class ClientStanding(Base):
    """How urgently the desk treats a client; raised by broken promises."""

    __tablename__ = "client_standing"

    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), primary_key=True)
    priority: Mapped[int] = mapped_column(Integer)
    broken_promises: Mapped[int] = mapped_column(Integer)
    escalated: Mapped[bool] = mapped_column(Boolean)
