"""Statement entries, imports and reinstatements on SQLAlchemy Core.

The store extends the billing records store, so that payments of an import
are written on the same connection, in the same transaction, as its entries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, insert, select, update

from duecourse.adapters.db.models import Action, Client, Invoice, Message, Payment
from duecourse.adapters.db.outbox_store import queue_webhook
from duecourse.adapters.db.records import SqlRecordStore
from duecourse.adapters.db.statement_tables import StatementEntryRow, StatementImport
from duecourse.domain.errors import NotFound
from duecourse.domain.matching import (
    ClientIdentity,
    EarlierCredit,
    EntryStatus,
    OpenInvoice,
    normal_name,
)
from duecourse.domain.statements import StatementEntry
from duecourse.domain.states import (
    ActionStatus,
    Channel,
    InvoiceStatus,
    MessageStatus,
)
from duecourse.services.reconciliation import (
    REINSTATE,
    ImportCounts,
    ImportRecord,
    StoredEntry,
    Suspension,
)

SUSPEND = "suspend"
_STORED_ENTRY = (
    StatementEntryRow.entry_id,
    StatementEntryRow.booking_date,
    StatementEntryRow.amount,
    StatementEntryRow.currency,
    StatementEntryRow.reference,
    StatementEntryRow.text,
    StatementEntryRow.counterparty,
    StatementEntryRow.is_reversal,
    StatementEntryRow.status,
    StatementEntryRow.reason,
    StatementEntryRow.payment_id,
    StatementEntryRow.resolved_by,
)


class SqlStatementStore(SqlRecordStore):
    """Implements `StatementStore` on one connection and one transaction."""

    def known_entry_ids(self, entry_ids: Sequence[str]) -> set[str]:
        known: set[str] = set()
        # In slices: a database limits how many values one IN list may hold.
        for start in range(0, len(entry_ids), 500):
            query = select(StatementEntryRow.entry_id).where(
                StatementEntryRow.entry_id.in_(entry_ids[start : start + 500])
            )
            known.update(self.connection.execute(query).scalars())
        return known

    def matchable_invoices(self) -> list[OpenInvoice]:
        rows = self.connection.execute(
            select(
                Invoice.number,
                Client.external_id,
                Invoice.balance,
                Invoice.currency,
                Invoice.due_date,
            )
            .join(Client, Client.id == Invoice.client_id)
            .where(Invoice.status == InvoiceStatus.OPEN.value)
            .order_by(Invoice.due_date, Invoice.id)
        )
        return [OpenInvoice(*row) for row in rows]

    def client_identities(self) -> list[ClientIdentity]:
        payers: dict[int, set[str]] = defaultdict(set)
        rows = self.connection.execute(
            select(Payment.client_id, StatementEntryRow.counterparty)
            .join(Payment, Payment.id == StatementEntryRow.payment_id)
            .where(StatementEntryRow.counterparty.is_not(None))
            .distinct()
        )
        for client_id, counterparty in rows:
            key = normal_name(counterparty)
            if key is not None:
                payers[client_id].add(key)

        clients = self.connection.execute(
            select(Client.id, Client.external_id, Client.name).order_by(Client.id)
        )
        return [
            ClientIdentity(external_id, name, frozenset(payers[client_id]))
            for client_id, external_id, name in clients
        ]

    def external_id(self, client_id: int) -> str:
        found = self.connection.execute(
            select(Client.external_id).where(Client.id == client_id)
        ).scalar()
        if found is None:
            raise NotFound(f"no client with id {client_id}")
        return str(found)

    def earlier_credits(
        self, account: str, amount: Decimal, currency: str
    ) -> list[EarlierCredit]:
        rows = self.connection.execute(
            select(
                StatementEntryRow.entry_id,
                StatementEntryRow.account,
                StatementEntryRow.booking_date,
                StatementEntryRow.amount,
                StatementEntryRow.currency,
                StatementEntryRow.reference,
                StatementEntryRow.counterparty,
                StatementEntryRow.payment_id,
            ).where(
                StatementEntryRow.account == account,
                StatementEntryRow.currency == currency,
                StatementEntryRow.is_reversal.is_(False),
            )
        )
        # Amounts are text on SQLite: compared here, exactly, as Decimals.
        credits = [EarlierCredit(*row) for row in rows]
        return [credit for credit in credits if credit.amount == amount]

    def add_import(self, record: ImportRecord) -> int:
        result = self.connection.execute(
            insert(StatementImport).returning(StatementImport.id),
            {
                "source": record.source[:300],
                "format": record.statement_format[:12],
                "account": record.account,
                "statement_id": record.statement_id[:200],
                "imported_at": record.imported_at,
                "actor": record.actor,
                "entries": 0,
                "skipped": 0,
                "matched": 0,
                "queued": 0,
                "ignored": 0,
            },
        )
        return int(result.scalar_one())

    def set_import_counts(self, import_id: int, counts: ImportCounts) -> None:
        self.connection.execute(
            update(StatementImport)
            .where(StatementImport.id == import_id)
            .values(asdict(counts))
        )

    def add_entry(
        self,
        import_id: int,
        entry: StatementEntry,
        status: EntryStatus,
        reason: str,
        payment_id: int | None,
    ) -> None:
        self.connection.execute(
            insert(StatementEntryRow),
            {
                "entry_id": entry.entry_id,
                "import_id": import_id,
                "account": entry.account_id,
                "booking_date": entry.booking_date,
                "amount": entry.amount.amount,
                "currency": entry.amount.currency,
                "reference": _cut(entry.reference, 200),
                "text": entry.remittance_text,
                "counterparty": _cut(entry.counterparty_name, 200),
                "is_reversal": entry.is_reversal,
                "return_reason": _cut(entry.return_reason, 40),
                "status": status.value,
                "reason": reason[:300],
                "payment_id": payment_id,
                "resolved_by": None,
            },
        )

    def stored_entry(self, entry_id: str) -> StoredEntry | None:
        row = self.connection.execute(
            select(*_STORED_ENTRY)
            .where(StatementEntryRow.entry_id == entry_id)
            .with_for_update()
        ).first()
        return None if row is None else _stored(row)

    def queue(self) -> list[StoredEntry]:
        rows = self.connection.execute(
            select(*_STORED_ENTRY)
            .where(StatementEntryRow.status == EntryStatus.UNMATCHED.value)
            .order_by(StatementEntryRow.booking_date, StatementEntryRow.id)
        )
        return [_stored(row) for row in rows]

    def close_entry(
        self,
        entry_id: str,
        status: EntryStatus,
        reason: str,
        payment_id: int | None,
        resolved_by: str,
    ) -> None:
        self.connection.execute(
            update(StatementEntryRow)
            .where(StatementEntryRow.entry_id == entry_id)
            .values(
                status=status.value,
                reason=reason[:300],
                payment_id=payment_id,
                resolved_by=resolved_by[:120],
            )
        )

    def suspension(self, client_id: int) -> Suspension | None:
        """The latest suspend webhook not dead, and the days late it took.

        A suspend message withdrawn before delivery (dead) never reached the
        client's product, so there is nothing to reinstate.
        """
        rows = self.connection.execute(
            select(
                Message.id, Message.created_at, Action.scheduled_on, Invoice.due_date
            )
            .join(Action, Action.message_id == Message.id)
            .join(Invoice, Invoice.id == Action.invoice_id)
            .where(
                Message.client_id == client_id,
                Message.channel == Channel.WEBHOOK.value,
                Message.template == SUSPEND,
                Message.status != MessageStatus.DEAD.value,
                Action.status == ActionStatus.DONE.value,
            )
            .order_by(Message.created_at.desc(), Message.id)
        ).all()
        if not rows:
            return None
        latest, at = rows[0][0], rows[0][1]
        after_days = min(
            (scheduled - due).days
            for found, _, scheduled, due in rows
            if found == latest
        )
        # Reinstatements name the suspension they end; a client has few.
        contexts = self.connection.execute(
            select(Message.context).where(
                Message.client_id == client_id,
                Message.channel == Channel.WEBHOOK.value,
                Message.template == REINSTATE,
            )
        ).scalars()
        reinstated = any(context.get("suspension") == latest for context in contexts)
        return Suspension(latest, at, max(after_days, 0), reinstated)

    def add_webhook(
        self,
        message_id: str,
        client_id: int,
        event: str,
        context: dict[str, object],
        now: datetime,
    ) -> None:
        queue_webhook(self.connection, message_id, client_id, event, context, now)


def _cut(text: str | None, length: int) -> str | None:
    return None if text is None else text[:length]


def _stored(row: Row[Any]) -> StoredEntry:
    return StoredEntry(
        entry_id=row.entry_id,
        booking_date=row.booking_date,
        amount=row.amount,
        currency=row.currency,
        reference=row.reference,
        text=row.text,
        counterparty=row.counterparty,
        is_reversal=bool(row.is_reversal),
        status=EntryStatus(row.status),
        reason=row.reason,
        payment_id=row.payment_id,
        resolved_by=row.resolved_by,
    )
