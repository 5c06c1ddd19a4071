"""Billing on SQLAlchemy Core: contracts, the invoices of their periods, changes.

Built on the record store, whose payment methods the billing service uses to
spend a client's credit on a new invoice, in the same transaction.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Select, Table, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from duecourse.adapters.db.billing_tables import ContractChange
from duecourse.adapters.db.models import Client, Contract, Invoice
from duecourse.adapters.db.records import SqlRecordStore
from duecourse.domain.errors import Conflict
from duecourse.domain.states import InvoiceStatus
from duecourse.services.billing import (
    BillableContract,
    ContractChangeRecord,
    NewTerms,
    PeriodInvoice,
)

invoices = cast(Table, Invoice.__table__)


class SqlBillingStore(SqlRecordStore):
    """Implements `BillingStore` on one connection and one transaction."""

    def contracts_to_bill(self, after: int, limit: int) -> list[BillableContract]:
        rows = self.connection.execute(
            _billable().where(Contract.id > after).order_by(Contract.id).limit(limit)
        )
        return [BillableContract(*row) for row in rows]

    def contract(self, contract_id: int) -> BillableContract | None:
        locked = select(Contract.id).where(Contract.id == contract_id).with_for_update()
        if self.connection.execute(locked).first() is None:
            return None
        row = self.connection.execute(
            _billable().where(Contract.id == contract_id)
        ).one()
        return BillableContract(*row)

    def add_period_invoice(self, invoice: PeriodInvoice) -> int | None:
        insert_for = pg_insert if not self._is_sqlite else sqlite_insert
        statement = (
            insert_for(invoices)
            .on_conflict_do_nothing(index_elements=["contract_id", "period_start"])
            .returning(invoices.c.id)
        )
        values: dict[str, Any] = {
            "client_id": invoice.client_id,
            "contract_id": invoice.contract_id,
            "number": invoice.number,
            "currency": invoice.currency,
            "amount": invoice.amount,
            "balance": invoice.amount,
            "issue_date": invoice.issue_date,
            "due_date": invoice.due_date,
            "status": InvoiceStatus.OPEN.value,
            "payment_url": None,
            "next_action_on": invoice.next_action_on,
            "period_start": invoice.period_start,
            "period_end": invoice.period_end,
            "discount_percent": invoice.discount_percent,
        }
        try:
            # A savepoint, so that a clash of numbers leaves the batch usable.
            with self.connection.begin_nested():
                found = self.connection.execute(statement, values).first()
        except IntegrityError:
            raise Conflict(
                f"invoice number {invoice.number} is already taken by another "
                f"invoice, so the period from {invoice.period_start} was not "
                "billed; renumber the other invoice"
            ) from None
        return None if found is None else int(found[0])

    def set_terms(self, contract_id: int, terms: NewTerms) -> None:
        self.connection.execute(
            update(Contract)
            .where(Contract.id == contract_id)
            .values(
                billing_period_months=terms.period_months,
                prepay_discount_percent=terms.discount_percent,
                due_day=terms.due_day,
                notice_lead_days=terms.lead_days,
            )
        )

    def record_change(self, change: ContractChangeRecord) -> None:
        self.connection.execute(
            insert(ContractChange),
            {
                "contract_id": change.contract_id,
                "changed_at": change.changed_at,
                "actor": change.actor,
                "applies_from": change.applies_from,
                "changes": {k: dict(v) for k, v in change.changes.items()},
            },
        )


def _billable() -> Select[Any]:
    """Contracts with their client and the end of their last invoiced period,
    leaving out those invoiced up to their end."""
    invoiced_until = (
        select(func.max(Invoice.period_end))
        .where(Invoice.contract_id == Contract.id)
        .scalar_subquery()
    )
    query = select(
        Contract.id,
        Contract.client_id,
        Client.external_id,
        Contract.currency,
        Contract.amount,
        Contract.billing_period_months,
        Contract.prepay_discount_percent,
        Contract.due_day,
        Contract.notice_lead_days,
        Contract.starts_on,
        Contract.ends_on,
        invoiced_until,
    ).join(Client, Client.id == Contract.client_id)
    return query.where(
        or_(
            Contract.ends_on.is_(None),
            invoiced_until.is_(None),
            invoiced_until < Contract.ends_on,
        )
    )
