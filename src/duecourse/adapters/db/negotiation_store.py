"""Promises, agreements and users on SQLAlchemy Core.

The store extends the billing records store: the same one connection and
transaction, the same client lock (one client's balances change one unit of
work at a time), invoice reads, message withdrawal and audit log.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Row, insert, select, update

from duecourse.adapters.db.models import CallTask, Invoice, RuleVersion
from duecourse.adapters.db.negotiation_tables import (
    Agreement,
    AgreementInstalment,
    AgreementInvoice,
    ClientStanding,
    Promise,
    PromiseInvoice,
    User,
)
from duecourse.adapters.db.records import SqlRecordStore
from duecourse.adapters.penalty_terms import policy_of
from duecourse.domain.agreements import (
    AgreementStatus,
    AgreementTerms,
    MissPolicy,
    Role,
    margin_for,
)
from duecourse.domain.money import Money
from duecourse.domain.penalties import penalty_to_date
from duecourse.domain.promises import PromiseStatus, Standing
from duecourse.domain.rules import CollectionRule, parse_rule
from duecourse.domain.states import InvoiceStatus
from duecourse.services.agreements import (
    Activation,
    AgreementRecord,
    InstalmentRecord,
    NewUser,
    UserRecord,
)
from duecourse.services.payments import InvoiceBalance
from duecourse.services.promises import CoveredNow, NewPromise, OpenPromise


class SqlNegotiationStore(SqlRecordStore):
    """Implements `PromiseStore` and `AgreementStore` on one connection."""

    # Users

    def user(self, user_id: int) -> UserRecord | None:
        row = self.connection.execute(select(User).where(User.id == user_id)).first()
        return None if row is None else _user(row)

    def user_by_email(self, email: str) -> UserRecord | None:
        query = select(User).where(User.email == email.strip().lower())
        row = self.connection.execute(query).first()
        return None if row is None else _user(row)

    def add_user(self, user: NewUser, now: datetime) -> int:
        result = self.connection.execute(
            insert(User).returning(User.id),
            {
                "email": user.email.strip().lower(),
                "name": user.name,
                "role": user.role.value,
                "password_hash": None,
                "active": True,
                "max_discount_percent": user.max_discount_percent,
                "may_waive_penalties": user.may_waive_penalties,
                "max_instalments": user.max_instalments,
                "max_deferral_days": user.max_deferral_days,
                "created_at": now,
            },
        )
        return int(result.scalar_one())

    # Promises

    def open_promises(self, client_id: int | None = None) -> list[OpenPromise]:
        query = select(Promise).where(Promise.status == PromiseStatus.OPEN.value)
        if client_id is not None:
            query = query.where(Promise.client_id == client_id)
        promises = list(self.connection.execute(query.order_by(Promise.id)))
        if not promises:
            return []

        covered: dict[int, list[CoveredNow]] = defaultdict(list)
        links = (
            select(
                PromiseInvoice.promise_id,
                PromiseInvoice.invoice_id,
                PromiseInvoice.balance_then,
                Invoice.balance,
                Invoice.status,
            )
            .join(Invoice, Invoice.id == PromiseInvoice.invoice_id)
            .where(PromiseInvoice.promise_id.in_([p.id for p in promises]))
            .order_by(Invoice.due_date, Invoice.id)
        )
        for promise_id, invoice_id, then, now, status in self.connection.execute(links):
            covered[promise_id].append(
                CoveredNow(invoice_id, then, now, InvoiceStatus(status))
            )
        return [
            OpenPromise(
                id=p.id,
                client_id=p.client_id,
                amount=p.amount,
                currency=p.currency,
                promised_on=p.promised_on,
                grace_days=p.grace_days,
                covered=tuple(covered[p.id]),
            )
            for p in promises
        ]

    def add_promise(self, promise: NewPromise) -> int:
        result = self.connection.execute(
            insert(Promise).returning(Promise.id),
            {
                "client_id": promise.client_id,
                "amount": promise.amount,
                "currency": promise.currency,
                "promised_on": promise.promised_on,
                "grace_days": promise.grace_days,
                "status": PromiseStatus.OPEN.value,
                "created_by": promise.created_by[:120],
                "created_at": promise.created_at,
                "resolved_on": None,
            },
        )
        promise_id = int(result.scalar_one())
        self.connection.execute(
            insert(PromiseInvoice),
            [
                {
                    "promise_id": promise_id,
                    "invoice_id": invoice.id,
                    "balance_then": invoice.balance,
                }
                for invoice in promise.covered
            ],
        )
        return promise_id

    def set_promise_status(
        self, promise_id: int, status: PromiseStatus, resolved_on: date
    ) -> None:
        self.connection.execute(
            update(Promise)
            .where(Promise.id == promise_id)
            .values(status=status.value, resolved_on=resolved_on)
        )

    def pause_invoices(
        self, invoice_ids: Sequence[int], until: date | None, next_action_on: date
    ) -> None:
        if not invoice_ids:
            return
        self.connection.execute(
            update(Invoice)
            .where(
                Invoice.id.in_(invoice_ids),
                Invoice.status == InvoiceStatus.OPEN.value,
            )
            .values(paused_until=until, next_action_on=next_action_on)
        )

    def standing(self, client_id: int) -> Standing:
        row = self.connection.execute(
            select(
                ClientStanding.priority,
                ClientStanding.broken_promises,
                ClientStanding.escalated,
            ).where(ClientStanding.client_id == client_id)
        ).first()
        return Standing() if row is None else Standing(*row)

    def save_standing(self, client_id: int, standing: Standing) -> None:
        values = {
            "priority": standing.priority,
            "broken_promises": standing.broken_promises,
            "escalated": standing.escalated,
        }
        result = self.connection.execute(
            update(ClientStanding)
            .where(ClientStanding.client_id == client_id)
            .values(values)
        )
        if result.rowcount == 0:
            self.connection.execute(
                insert(ClientStanding), {"client_id": client_id, **values}
            )

    def add_call_task(
        self,
        client_id: int,
        stage_key: str,
        script: str,
        reason: str,
        balance: Decimal,
        currency: str,
        created_on: date,
    ) -> None:
        self.connection.execute(
            insert(CallTask),
            {
                "client_id": client_id,
                "stage_key": stage_key,
                "script": script,
                "reason": reason[:200],
                "balance": balance,
                "currency": currency,
                "status": "open",
                "created_on": created_on,
            },
        )

    # Agreements

    def invoices(self, invoice_ids: Sequence[int]) -> list[InvoiceBalance]:
        rows = self.connection.execute(
            select(
                Invoice.id,
                Invoice.number,
                Invoice.client_id,
                Invoice.currency,
                Invoice.balance,
                Invoice.due_date,
                Invoice.status,
            )
            .where(Invoice.id.in_(invoice_ids))
            .order_by(Invoice.due_date, Invoice.id)
        )
        return [
            InvoiceBalance(
                id=row.id,
                number=row.number,
                client_id=row.client_id,
                currency=row.currency,
                balance=row.balance,
                due_date=row.due_date,
                status=InvoiceStatus(row.status),
            )
            for row in rows
        ]

    def penalties_to_date(self, invoice_ids: Sequence[int], as_of: date) -> Decimal:
        """Owed penalties under each invoice's rule version; an invoice the run
        has not yet given a rule owes none."""
        rows = self.connection.execute(
            select(
                Invoice.balance,
                Invoice.currency,
                Invoice.due_date,
                RuleVersion.id,
                RuleVersion.source,
            )
            .join(RuleVersion, RuleVersion.id == Invoice.rule_version_id)
            .where(Invoice.id.in_(invoice_ids))
        )
        total = Decimal(0)
        for balance, currency, due_date, version_id, source in rows:
            policy = policy_of(_rule(version_id, source))
            if policy is None or as_of <= due_date:
                continue
            penalty = penalty_to_date(policy, Money(balance, currency), due_date, as_of)
            if penalty.owed:
                total += penalty.total.amount
        return total

    def add_agreement(
        self,
        client_id: int,
        currency: str,
        terms: AgreementTerms,
        status: AgreementStatus,
        requested_by: int,
        reasons: Sequence[str],
        invoice_ids: Sequence[int],
        now: datetime,
    ) -> int:
        result = self.connection.execute(
            insert(Agreement).returning(Agreement.id),
            {
                "client_id": client_id,
                "status": status.value,
                "currency": currency,
                "discount_percent": terms.discount_percent,
                "waive_penalties": terms.waive_penalties,
                "instalment_count": terms.instalments,
                "first_due": terms.first_due,
                "interval_days": terms.interval_days,
                "new_due_date": terms.first_due if terms.instalments == 1 else None,
                "on_miss": terms.on_miss.value,
                "cancel_after_days": terms.cancel_after_days,
                "requested_by": requested_by,
                "approved_by": None,
                "approval_reasons": list(reasons),
                "created_at": now,
            },
        )
        agreement_id = int(result.scalar_one())
        self.connection.execute(
            insert(AgreementInvoice),
            [
                {"agreement_id": agreement_id, "invoice_id": i, "balance_then": None}
                for i in invoice_ids
            ],
        )
        return agreement_id

    def agreement(self, agreement_id: int) -> AgreementRecord | None:
        found = self._agreements(Agreement.id == agreement_id)
        return found[0] if found else None

    def agreements(
        self, statuses: Sequence[AgreementStatus] = ()
    ) -> list[AgreementRecord]:
        if not statuses:
            return self._agreements()
        return self._agreements(Agreement.status.in_([s.value for s in statuses]))

    def _agreements(self, *where: Any) -> list[AgreementRecord]:
        rows = list(
            self.connection.execute(select(Agreement).where(*where).order_by("id"))
        )
        if not rows:
            return []
        covered: dict[int, list[tuple[int, Decimal | None]]] = defaultdict(list)
        links = (
            select(
                AgreementInvoice.agreement_id,
                AgreementInvoice.invoice_id,
                AgreementInvoice.balance_then,
            )
            .join(Invoice, Invoice.id == AgreementInvoice.invoice_id)
            .where(AgreementInvoice.agreement_id.in_([r.id for r in rows]))
            .order_by(Invoice.due_date, Invoice.id)
        )
        for agreement_id, invoice_id, balance in self.connection.execute(links):
            covered[agreement_id].append((invoice_id, balance))
        return [_agreement(row, covered[row.id]) for row in rows]

    def activate(
        self,
        agreement_id: int,
        activation: Activation,
        approved_by: int | None,
        decided_at: datetime | None,
    ) -> None:
        self.connection.execute(
            update(Agreement)
            .where(Agreement.id == agreement_id)
            .values(
                status=AgreementStatus.ACTIVE.value,
                approved_by=approved_by,
                decided_at=decided_at,
                covered_balance=activation.covered_balance,
                penalties_included=activation.penalties_included,
                penalties_waived=activation.penalties_waived,
                agreed_total=activation.agreed_total,
            )
        )
        for invoice_id, balance in activation.balances_then:
            self.connection.execute(
                update(AgreementInvoice)
                .where(
                    AgreementInvoice.agreement_id == agreement_id,
                    AgreementInvoice.invoice_id == invoice_id,
                )
                .values(balance_then=balance)
            )

    def set_agreement_status(
        self,
        agreement_id: int,
        status: AgreementStatus,
        *,
        decided_by: int | None = None,
        decided_at: datetime | None = None,
        closed_on: date | None = None,
        reason: str | None = None,
    ) -> None:
        values: dict[str, Any] = {"status": status.value}
        if decided_by is not None:
            values["approved_by"] = decided_by
        if decided_at is not None:
            values["decided_at"] = decided_at
        if closed_on is not None:
            values["closed_on"] = closed_on
        if reason is not None:
            values["close_reason"] = reason[:200]
        self.connection.execute(
            update(Agreement).where(Agreement.id == agreement_id).values(values)
        )

    def void_invoices(self, invoice_ids: Sequence[int]) -> None:
        if not invoice_ids:
            return
        self.connection.execute(
            update(Invoice)
            .where(Invoice.id.in_(invoice_ids))
            .values(
                status=InvoiceStatus.VOID.value, next_action_on=None, paused_until=None
            )
        )

    def add_instalment(
        self,
        agreement_id: int,
        seq: int,
        original_id: int,
        number: str,
        amount: Decimal,
        due_date: date,
        as_of: date,
    ) -> int:
        original = self.connection.execute(
            select(
                Invoice.client_id,
                Invoice.contract_id,
                Invoice.currency,
                Invoice.rule_version_id,
            ).where(Invoice.id == original_id)
        ).one()
        result = self.connection.execute(
            insert(Invoice).returning(Invoice.id),
            {
                "client_id": original.client_id,
                "contract_id": original.contract_id,
                "number": number,
                "currency": original.currency,
                "amount": amount,
                "balance": amount,
                "issue_date": as_of,
                "due_date": due_date,
                "status": InvoiceStatus.OPEN.value,
                "payment_url": None,
                "rule_version_id": original.rule_version_id,
                "next_action_on": as_of,
                "paused_until": None,
                "first_contact_on": None,
                "last_payment_on": None,
            },
        )
        invoice_id = int(result.scalar_one())
        self.connection.execute(
            insert(AgreementInstalment),
            {"agreement_id": agreement_id, "seq": seq, "invoice_id": invoice_id},
        )
        return invoice_id

    def instalments(self, agreement_id: int) -> list[InstalmentRecord]:
        rows = self.connection.execute(
            select(
                AgreementInstalment.seq,
                Invoice.id,
                Invoice.number,
                Invoice.amount,
                Invoice.balance,
                Invoice.due_date,
                Invoice.status,
            )
            .join(Invoice, Invoice.id == AgreementInstalment.invoice_id)
            .where(AgreementInstalment.agreement_id == agreement_id)
            .order_by(AgreementInstalment.seq)
        )
        return [
            InstalmentRecord(
                seq=row.seq,
                invoice_id=row.id,
                number=row.number,
                amount=row.amount,
                balance=row.balance,
                due_date=row.due_date,
                status=InvoiceStatus(row.status),
            )
            for row in rows
        ]

    def restore_invoice(
        self, invoice_id: int, balance: Decimal, next_action_on: date | None
    ) -> None:
        status = InvoiceStatus.OPEN if balance > 0 else InvoiceStatus.PAID
        self.connection.execute(
            update(Invoice)
            .where(Invoice.id == invoice_id)
            .values(
                balance=balance,
                status=status.value,
                next_action_on=next_action_on,
                paused_until=None,
            )
        )


@cache
def _rule(version_id: int, source: str) -> CollectionRule:
    # Stored versions were validated when applied; templates are not checked.
    return parse_rule(source, f"rule version {version_id}", lambda *_: True)


def _user(row: Row[Any]) -> UserRecord:
    role = Role(row.role)
    return UserRecord(
        id=row.id,
        email=row.email,
        name=row.name,
        role=role,
        active=row.active,
        margin=margin_for(
            role,
            row.max_discount_percent,
            row.may_waive_penalties,
            row.max_instalments,
            row.max_deferral_days,
        ),
    )


def _agreement(
    row: Row[Any], covered: list[tuple[int, Decimal | None]]
) -> AgreementRecord:
    terms = AgreementTerms(
        instalments=row.instalment_count,
        first_due=row.first_due,
        interval_days=row.interval_days,
        discount_percent=row.discount_percent,
        waive_penalties=row.waive_penalties,
        on_miss=MissPolicy(row.on_miss),
        cancel_after_days=row.cancel_after_days,
    )
    return AgreementRecord(
        id=row.id,
        client_id=row.client_id,
        status=AgreementStatus(row.status),
        currency=row.currency,
        terms=terms,
        requested_by=row.requested_by,
        approved_by=row.approved_by,
        reasons=tuple(row.approval_reasons),
        invoice_ids=tuple(invoice_id for invoice_id, _ in covered),
        balances_then=tuple(balance for _, balance in covered),
        agreed_total=row.agreed_total,
    )
