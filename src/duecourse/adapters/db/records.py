"""Billing records on SQLAlchemy Core: what imports and payments read and write.

One store is one transaction on one connection: the service commits it, or
rolls it back when an import has problems; `close` drops uncommitted work.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Connection, Engine, Float, cast, func, insert, select, update

from duecourse.adapters.db.models import (
    Action,
    Allocation,
    AuditEntry,
    Client,
    Contact,
    Contract,
    Invoice,
    Message,
    Payment,
    RuleVersion,
)
from duecourse.domain.states import InvoiceStatus, MessageStatus
from duecourse.services.imports import (
    ClientFields,
    ContactFields,
    ContractTerms,
    NewInvoice,
)
from duecourse.services.payments import (
    AuditRecord,
    BalanceChange,
    BalanceRestored,
    ClientRef,
    Credit,
    InvoiceBalance,
    PaymentInput,
    StoredPayment,
)

_INVOICE_BALANCE = (
    Invoice.id,
    Invoice.number,
    Invoice.client_id,
    Invoice.currency,
    Invoice.balance,
    Invoice.due_date,
    Invoice.status,
)


class SqlRecordStore:
    """Implements `ImportStore` (and so `PaymentStore`) on one connection."""

    def __init__(self, engine: Engine) -> None:
        self.connection: Connection = engine.connect()
        self.transaction = self.connection.begin()

    def client(self, external_id: str) -> ClientRef | None:
        """The client, locked until commit: balances of one client change one
        payment at a time, so two payments cannot both spend the same balance."""
        row = self.connection.execute(
            select(Client.id, Client.external_id, Client.currency)
            .where(Client.external_id == external_id)
            .with_for_update()
        ).first()
        return None if row is None else ClientRef(*row)

    def payment(self, reference: str) -> StoredPayment | None:
        row = self.connection.execute(
            select(
                Payment.id,
                Payment.client_id,
                Payment.amount,
                Payment.currency,
                Payment.unallocated,
                Payment.reversed_at,
            ).where(Payment.reference == reference)
        ).first()
        return None if row is None else StoredPayment(*row)

    def invoice(self, number: str) -> InvoiceBalance | None:
        row = self.connection.execute(
            select(*_INVOICE_BALANCE).where(Invoice.number == number)
        ).first()
        return None if row is None else _balance(row._tuple())

    def open_invoices(self, client_id: int) -> list[InvoiceBalance]:
        rows = self.connection.execute(
            select(*_INVOICE_BALANCE)
            .where(
                Invoice.client_id == client_id,
                Invoice.status == InvoiceStatus.OPEN.value,
            )
            .order_by(Invoice.due_date, Invoice.id)
        )
        return [_balance(row._tuple()) for row in rows]

    def add_payment(
        self, payment: PaymentInput, client_id: int, unallocated: Decimal, at: datetime
    ) -> int:
        result = self.connection.execute(
            insert(Payment).returning(Payment.id),
            {
                "client_id": client_id,
                "reference": payment.reference,
                "amount": payment.amount,
                "currency": payment.currency,
                "received_on": payment.received_on,
                "method": payment.method,
                "unallocated": unallocated,
                "created_at": at,
            },
        )
        return int(result.scalar_one())

    def allocate(self, payment_id: int, invoice_id: int, amount: Decimal) -> None:
        self.connection.execute(
            insert(Allocation),
            {"payment_id": payment_id, "invoice_id": invoice_id, "amount": amount},
        )

    def change_balance(self, change: BalanceChange) -> None:
        values: dict[str, object] = {
            "balance": change.balance,
            "status": change.status.value,
            # A payment recorded late must not move the date backwards.
            "last_payment_on": func.coalesce(
                func.max(Invoice.last_payment_on, change.paid_on)
                if self._is_sqlite
                else func.greatest(Invoice.last_payment_on, change.paid_on),
                change.paid_on,
            ),
        }
        if change.stop_rule:
            values["next_action_on"] = None
        self.connection.execute(
            update(Invoice).where(Invoice.id == change.invoice_id).values(values)
        )

    def withdraw_messages(self, invoice_ids: list[int], reason: str) -> list[str]:
        """Pending messages about these invoices whose invoices are all settled.

        A message may cover several invoices of a client; it stays while any of
        them is still open, since it still has something true to say.
        """
        if not invoice_ids:
            return []
        candidates = select(Action.message_id).where(
            Action.invoice_id.in_(invoice_ids), Action.message_id.is_not(None)
        )
        still_open = (
            select(Action.message_id)
            .join(Invoice, Invoice.id == Action.invoice_id)
            .where(
                Action.message_id.in_(candidates),
                Invoice.status == InvoiceStatus.OPEN.value,
            )
        )
        ids = list(
            self.connection.execute(
                select(Message.id).where(
                    Message.id.in_(candidates),
                    Message.id.not_in(still_open),
                    Message.status == MessageStatus.PENDING.value,
                )
            ).scalars()
        )
        if ids:
            self.connection.execute(
                update(Message)
                .where(
                    Message.id.in_(ids), Message.status == MessageStatus.PENDING.value
                )
                .values(status=MessageStatus.DEAD.value, last_error=reason)
            )
        return ids

    def credits(self, client_id: int, currency: str) -> list[Credit]:
        rows = self.connection.execute(
            select(Payment.id, Payment.unallocated, Payment.received_on)
            .where(
                Payment.client_id == client_id,
                Payment.currency == currency,
                # A reversed payment's money went back to the bank.
                Payment.reversed_at.is_(None),
                # The amount is text on SQLite; a float is exact enough to
                # tell above zero from zero.
                cast(Payment.unallocated, Float) > 0,
            )
            .order_by(Payment.received_on, Payment.id)
        )
        return [Credit(*row) for row in rows]

    def set_unallocated(self, payment_id: int, amount: Decimal) -> None:
        self.connection.execute(
            update(Payment).where(Payment.id == payment_id).values(unallocated=amount)
        )

    def lock_client(self, client_id: int) -> None:
        self.connection.execute(
            select(Client.id).where(Client.id == client_id).with_for_update()
        )

    def mark_reversed(self, payment_id: int, at: datetime) -> bool:
        """Only a payment not reversed yet is changed: of two reversals at
        once, the second waits for the first and then changes nothing."""
        result = self.connection.execute(
            update(Payment)
            .where(Payment.id == payment_id, Payment.reversed_at.is_(None))
            .values(reversed_at=at, unallocated=Decimal(0))
        )
        return result.rowcount == 1

    def allocations(self, payment_id: int) -> list[tuple[InvoiceBalance, Decimal]]:
        rows = self.connection.execute(
            select(*_INVOICE_BALANCE, Allocation.amount)
            .join(Allocation, Allocation.invoice_id == Invoice.id)
            .where(Allocation.payment_id == payment_id)
            .order_by(Allocation.id)
        )
        return [(_balance(row._tuple()[:-1]), row.amount) for row in rows]

    def restore_balance(self, change: BalanceRestored) -> None:
        """The new balance; the last payment date is again the latest payment
        still standing that went to the invoice (none when there is none)."""
        latest = (
            select(func.max(Payment.received_on))
            .join(Allocation, Allocation.payment_id == Payment.id)
            .where(
                Allocation.invoice_id == change.invoice_id,
                Payment.reversed_at.is_(None),
            )
            .scalar_subquery()
        )
        values: dict[str, object] = {
            "balance": change.balance,
            "status": change.status.value,
            "last_payment_on": latest,
        }
        if change.resume_on is not None:
            values["next_action_on"] = change.resume_on
        self.connection.execute(
            update(Invoice).where(Invoice.id == change.invoice_id).values(values)
        )

    def audit(self, entry: AuditRecord) -> None:
        self.connection.execute(
            insert(AuditEntry),
            {
                "at": entry.at,
                "actor": entry.actor,
                "action": entry.action,
                "subject": entry.subject[:120],
                "details": entry.details,
            },
        )

    def active_rule_names(self) -> set[str]:
        query = select(RuleVersion.name).where(RuleVersion.active)
        return set(self.connection.execute(query).scalars())

    def save_client(self, fields: ClientFields, at: datetime) -> tuple[int, bool]:
        values = {
            "name": fields.name,
            "country": fields.country,
            "time_zone": fields.time_zone,
            "language": fields.language,
            "currency": fields.currency,
            "segment": fields.segment,
            "rule_name": fields.rule_name,
        }
        found = self.client(fields.external_id)
        if found is not None:
            self.connection.execute(
                update(Client).where(Client.id == found.id).values(values)
            )
            return found.id, False
        result = self.connection.execute(
            insert(Client).returning(Client.id),
            {**values, "external_id": fields.external_id, "created_at": at},
        )
        return int(result.scalar_one()), True

    def contacts(self, client_id: int) -> list[ContactFields]:
        rows = self.connection.execute(
            select(Contact.name, Contact.email, Contact.phone)
            .where(Contact.client_id == client_id)
            .order_by(Contact.id)
        )
        return [ContactFields(*row) for row in rows]

    def add_contact(self, client_id: int, contact: ContactFields) -> None:
        self.connection.execute(
            insert(Contact),
            {
                "client_id": client_id,
                "name": contact.name,
                "email": contact.email,
                "phone": contact.phone,
                "receives_bills": True,
            },
        )

    def latest_contract(self, client_id: int) -> tuple[int, ContractTerms] | None:
        row = self.connection.execute(
            select(
                Contract.id,
                Contract.amount,
                Contract.currency,
                Contract.billing_period_months,
                Contract.prepay_discount_percent,
                Contract.due_day,
                Contract.notice_lead_days,
                Contract.starts_on,
            )
            .where(Contract.client_id == client_id)
            .order_by(Contract.starts_on.desc(), Contract.id.desc())
            .limit(1)
        ).first()
        if row is None:
            return None
        contract_id, *terms = row
        return contract_id, ContractTerms(*terms)

    def add_contract(self, client_id: int, terms: ContractTerms) -> int:
        result = self.connection.execute(
            insert(Contract).returning(Contract.id),
            {
                "client_id": client_id,
                "amount": terms.amount,
                "currency": terms.currency,
                "billing_period_months": terms.billing_period_months,
                "prepay_discount_percent": terms.prepay_discount_percent,
                "due_day": terms.due_day,
                "notice_lead_days": terms.notice_lead_days,
                "starts_on": terms.starts_on,
                "ends_on": None,
            },
        )
        return int(result.scalar_one())

    def add_invoice(self, invoice: NewInvoice) -> int:
        result = self.connection.execute(
            insert(Invoice).returning(Invoice.id),
            {
                "client_id": invoice.client_id,
                "contract_id": invoice.contract_id,
                "number": invoice.number,
                "currency": invoice.currency,
                "amount": invoice.amount,
                "balance": invoice.amount,
                "issue_date": invoice.issue_date,
                "due_date": invoice.due_date,
                "status": InvoiceStatus.OPEN.value,
                "payment_url": invoice.payment_url,
                "next_action_on": invoice.next_action_on,
            },
        )
        return int(result.scalar_one())

    def commit(self) -> None:
        """Make the work so far durable and start the next transaction."""
        self.transaction.commit()
        self.transaction = self.connection.begin()

    def rollback(self) -> None:
        """Drop the work so far and start the next transaction."""
        self.transaction.rollback()
        self.transaction = self.connection.begin()

    def close(self) -> None:
        if self.transaction.is_active:
            self.transaction.rollback()
        self.connection.close()

    @property
    def _is_sqlite(self) -> bool:
        return self.connection.dialect.name == "sqlite"


def _balance(row: tuple[int, str, int, str, Decimal, date, str]) -> InvoiceBalance:
    invoice_id, number, client_id, currency, balance, due_date, status = row
    return InvoiceBalance(
        invoice_id, number, client_id, currency, balance, due_date,
        InvoiceStatus(status),
    )  # fmt: skip
