"""A client's account, read for the portal and the notice banner, on SQLAlchemy.

Each call is its own short transaction: these are reads made while a client
waits, except the visit, which is one audit row.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from duecourse.adapters.db.models import (
    Allocation,
    AuditEntry,
    Client,
    Invoice,
    Notice,
    Payment,
    RuleVersion,
)
from duecourse.domain.states import InvoiceStatus
from duecourse.services.account import (
    AccountClient,
    AccountRecords,
    InvoiceLine,
    NoticeHead,
    PaymentLine,
)
from duecourse.services.ports import RuleRecord

_NOTICE_HEAD = (
    select(Client.id, Client.language, Notice.id, Notice.template)
    .outerjoin(Notice, (Notice.client_id == Client.id) & Notice.active)
    .order_by(Notice.id.desc())
    .limit(1)
)


class SqlAccountStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def load(self, client_id: int, open_only: bool = False) -> AccountRecords | None:
        with Session(self._engine) as session:
            client = session.get(Client, client_id)
            if client is None:
                return None
            statuses = [InvoiceStatus.OPEN.value]
            if not open_only:
                statuses.append(InvoiceStatus.PAID.value)
            invoices = session.scalars(
                select(Invoice)
                .where(Invoice.client_id == client_id, Invoice.status.in_(statuses))
                .order_by(Invoice.due_date, Invoice.number)
            ).all()
            payments = () if open_only else self._payments(session, client_id)
            rules = session.scalars(select(RuleVersion).order_by(RuleVersion.id))
            return AccountRecords(
                client=_client(client),
                open_invoices=tuple(
                    _invoice(i) for i in invoices if i.status == InvoiceStatus.OPEN
                ),
                paid_invoices=tuple(
                    _invoice(i) for i in invoices if i.status == InvoiceStatus.PAID
                ),
                payments=payments,
                rules=tuple(
                    RuleRecord(r.id, r.name, r.version, r.active, r.source)
                    for r in rules
                ),
            )

    def active_notice(self, external_id: str) -> NoticeHead | None:
        query = _NOTICE_HEAD.where(Client.external_id == external_id)
        with self._engine.connect() as connection:
            row = connection.execute(query).first()
        if row is None:
            return None
        client_id, language, notice_id, template = row
        return NoticeHead(client_id, language, notice_id, template)

    def record_visit(self, client_id: int, what: str, now: datetime) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                insert(AuditEntry),
                {
                    "at": now,
                    "actor": f"client {client_id}",
                    "action": what,
                    "subject": f"client {client_id}",
                    "details": {"client_id": client_id},
                },
            )

    def _payments(self, session: Session, client_id: int) -> tuple[PaymentLine, ...]:
        rows = session.execute(
            select(Payment, Invoice.number)
            .outerjoin(Allocation, Allocation.payment_id == Payment.id)
            .outerjoin(Invoice, Invoice.id == Allocation.invoice_id)
            .where(Payment.client_id == client_id)
            .order_by(Payment.received_on.desc(), Payment.id.desc(), Invoice.number)
        ).all()
        lines: dict[int, tuple[Payment, list[str]]] = {}
        for payment, number in rows:
            _, numbers = lines.setdefault(payment.id, (payment, []))
            if number is not None:
                numbers.append(number)
        return tuple(_payment(p, numbers) for p, numbers in lines.values())


def _client(row: Client) -> AccountClient:
    return AccountClient(
        id=row.id,
        external_id=row.external_id,
        name=row.name,
        language=row.language,
        currency=row.currency,
        country=row.country,
        segment=row.segment,
        rule_name=row.rule_name,
    )


def _invoice(row: Invoice) -> InvoiceLine:
    return InvoiceLine(
        number=row.number,
        currency=row.currency,
        amount=row.amount,
        balance=row.balance,
        issue_date=row.issue_date,
        due_date=row.due_date,
        status=row.status,
        payment_url=row.payment_url,
        rule_version_id=row.rule_version_id,
    )


def _payment(row: Payment, numbers: list[str]) -> PaymentLine:
    return PaymentLine(
        reference=row.reference,
        received_on=row.received_on,
        amount=row.amount,
        currency=row.currency,
        method=row.method,
        invoices=tuple(numbers),
    )
