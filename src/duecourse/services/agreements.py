"""Agreements: proposing, approving and following a renegotiated balance.

Terms within the proposing user's autonomy margin take effect at once; terms
beyond it wait for a manager (or an admin) whose own margin covers them.
Taking effect means the covered invoices are voided (their balance kept for
history) and replaced by one invoice per instalment, which the rule follows
like any other. `review_agreements`, called before each daily run, completes
an agreement whose instalments are all paid and, when its policy says so,
cancels one whose instalment is unpaid too long after its due date: the
originals come back with their balance less what the instalments paid.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from duecourse.domain.agreements import (
    AgreementStatus,
    AgreementTerms,
    Margin,
    MissPolicy,
    NotPermitted,
    Role,
    deferral_days,
    instalment_schedule,
    move_agreement,
    needs_approval,
    restore_balances,
)
from duecourse.domain.errors import Conflict, InvalidField, NotFound
from duecourse.domain.money import Money
from duecourse.domain.states import InvoiceStatus
from duecourse.services.payments import AuditRecord, InvoiceBalance
from duecourse.services.promises import (
    PromiseStore,
    cancel_promises_over,
    covered_invoices,
    find_client,
)

log = logging.getLogger(__name__)

WITHDRAWN = "withdrawn: replaced by an agreement"


@dataclass(frozen=True)
class UserRecord:
    id: int
    email: str
    name: str
    role: Role
    active: bool
    margin: Margin


@dataclass(frozen=True)
class NewUser:
    """A user to add; None margin fields keep the role's default."""

    email: str
    name: str
    role: Role
    max_discount_percent: Decimal | None = None
    may_waive_penalties: bool | None = None
    max_instalments: int | None = None
    max_deferral_days: int | None = None


@dataclass(frozen=True)
class AgreementRecord:
    """A stored agreement; `invoice_ids` are the originals, oldest due first."""

    id: int
    client_id: int
    status: AgreementStatus
    currency: str
    terms: AgreementTerms
    requested_by: int
    approved_by: int | None
    reasons: tuple[str, ...]
    invoice_ids: tuple[int, ...]
    balances_then: tuple[Decimal | None, ...]
    agreed_total: Decimal | None = None


@dataclass(frozen=True)
class InstalmentRecord:
    seq: int
    invoice_id: int
    number: str
    amount: Decimal
    balance: Decimal
    due_date: date
    status: InvoiceStatus


@dataclass(frozen=True)
class Activation:
    """The sums an agreement took effect with, stored on it for history."""

    covered_balance: Decimal
    penalties_included: Decimal
    penalties_waived: Decimal
    agreed_total: Decimal
    balances_then: tuple[tuple[int, Decimal], ...]


class AgreementStore(PromiseStore, Protocol):
    """One unit of work over users, agreements, promises and invoices."""

    def user(self, user_id: int) -> UserRecord | None: ...

    def user_by_email(self, email: str) -> UserRecord | None: ...

    def add_user(self, user: NewUser, now: datetime) -> int: ...

    def invoices(self, invoice_ids: Sequence[int]) -> list[InvoiceBalance]:
        """These invoices, oldest due date first."""
        ...

    def penalties_to_date(self, invoice_ids: Sequence[int], as_of: date) -> Decimal:
        """The penalties owed on these invoices on `as_of`, under their rules."""
        ...

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
    ) -> int: ...

    def agreement(self, agreement_id: int) -> AgreementRecord | None: ...

    def agreements(
        self, statuses: Sequence[AgreementStatus] = ()
    ) -> list[AgreementRecord]:
        """Agreements in these statuses (all when empty), oldest first."""
        ...

    def activate(
        self,
        agreement_id: int,
        activation: Activation,
        approved_by: int | None,
        decided_at: datetime | None,
    ) -> None: ...

    def set_agreement_status(
        self,
        agreement_id: int,
        status: AgreementStatus,
        *,
        decided_by: int | None = None,
        decided_at: datetime | None = None,
        closed_on: date | None = None,
        reason: str | None = None,
    ) -> None: ...

    def void_invoices(self, invoice_ids: Sequence[int]) -> None:
        """Void these invoices, keeping their balance; the rule stops."""
        ...

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
        """A new open invoice like the original, due the instalment's date."""
        ...

    def instalments(self, agreement_id: int) -> list[InstalmentRecord]: ...

    def restore_invoice(
        self, invoice_id: int, balance: Decimal, next_action_on: date | None
    ) -> None:
        """Reopen an original with this balance (paid when it is zero)."""
        ...

    def withdraw_messages(self, invoice_ids: list[int], reason: str) -> list[str]: ...


@dataclass(frozen=True)
class AgreementOutcome:
    agreement_id: int
    status: AgreementStatus
    reasons: tuple[str, ...] = ()
    instalment_numbers: tuple[str, ...] = ()


@dataclass
class AgreementReview:
    completed: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    late: list[int] = field(default_factory=list)


def add_user(store: AgreementStore, user: NewUser, actor: str, now: datetime) -> int:
    """Add a user with their role's margin, adjusted by any overrides given.

    A user is added without a password: web logins set it later.
    """
    if "@" not in user.email:
        raise InvalidField("email", f"{user.email!r} is not an email address")
    if store.user_by_email(user.email) is not None:
        raise Conflict(f"a user {user.email} already exists")
    user_id = store.add_user(user, now)
    store.audit(
        AuditRecord(
            at=now,
            actor=actor,
            action="user added",
            subject=f"user {user_id}",
            details={
                "role": user.role.value,
                "max_discount_percent": _text(user.max_discount_percent),
                "may_waive_penalties": user.may_waive_penalties,
                "max_instalments": user.max_instalments,
                "max_deferral_days": user.max_deferral_days,
            },
        )
    )
    store.commit()
    return user_id


def propose_agreement(
    store: AgreementStore,
    client_external_id: str,
    invoice_numbers: Sequence[str] | None,
    terms: AgreementTerms,
    actor_id: int,
    now: datetime,
    *,
    as_of: date | None = None,
) -> AgreementOutcome:
    """Propose terms for a client's invoices (all open ones when none named).

    Within the actor's margin the agreement is ACTIVE at once; beyond it, it
    is PENDING_APPROVAL with a sentence for each limit exceeded.
    """
    today = as_of or now.date()
    actor = _user(store, actor_id)
    if not actor.role.negotiates:
        raise NotPermitted(f"{actor.email} is a {actor.role.value} and only reads")
    client = find_client(store, client_external_id)
    covered = covered_invoices(store, client, invoice_numbers)

    earliest = min(invoice.due_date for invoice in covered)
    reasons = needs_approval(terms, actor.margin, deferral_days(terms, earliest, today))
    status = AgreementStatus.ACTIVE if not reasons else AgreementStatus.PENDING_APPROVAL
    ids = [invoice.id for invoice in covered]
    agreement_id = store.add_agreement(
        client.id, client.currency, terms, status, actor.id, reasons, ids, now
    )
    store.audit(
        AuditRecord(
            at=now,
            actor=actor.email,
            action="agreement proposed",
            subject=f"agreement {agreement_id}",
            details={
                "client_id": client.id,
                "invoice_ids": ids,
                "terms": _terms(terms),
                "reasons": reasons,
            },
        )
    )

    numbers: list[str] = []
    if status is AgreementStatus.ACTIVE:
        record = _agreement(store, agreement_id)
        numbers = _take_effect(store, record, actor, None, today, now)
    store.commit()
    log.info(
        "agreement proposed agreement_id=%d client_id=%d status=%s",
        agreement_id,
        client.id,
        status.value,
    )
    return AgreementOutcome(agreement_id, status, tuple(reasons), tuple(numbers))


def approve(
    store: AgreementStore,
    agreement_id: int,
    approver_id: int,
    now: datetime,
    *,
    as_of: date | None = None,
) -> AgreementOutcome:
    """A manager approves a pending agreement, which takes effect at once.

    Only managers and admins approve, and only terms within their own margin:
    what is beyond a manager's margin goes to an admin.
    """
    today = as_of or now.date()
    approver = _approver(store, approver_id)
    record = _agreement(store, agreement_id)
    move_agreement(record.status, AgreementStatus.ACTIVE)
    originals = store.invoices(record.invoice_ids)
    earliest = min(invoice.due_date for invoice in originals)
    deferral = deferral_days(record.terms, earliest, today)
    beyond = needs_approval(record.terms, approver.margin, deferral)
    if beyond:
        raise NotPermitted(
            f"agreement {agreement_id} is beyond the margin of {approver.email} "
            f"too ({'; '.join(beyond)}); an admin must approve it"
        )

    numbers = _take_effect(store, record, approver, approver.id, today, now)
    store.audit(
        AuditRecord(
            at=now,
            actor=approver.email,
            action="agreement approved",
            subject=f"agreement {agreement_id}",
            details={"client_id": record.client_id, "reasons": list(record.reasons)},
        )
    )
    store.commit()
    log.info("agreement approved agreement_id=%d", agreement_id)
    return AgreementOutcome(
        agreement_id, AgreementStatus.ACTIVE, record.reasons, tuple(numbers)
    )


def reject(
    store: AgreementStore,
    agreement_id: int,
    approver_id: int,
    now: datetime,
    reason: str = "",
) -> AgreementOutcome:
    """A manager declines a pending agreement; the invoices stay as they are."""
    approver = _approver(store, approver_id)
    record = _agreement(store, agreement_id)
    status = move_agreement(record.status, AgreementStatus.REJECTED)
    store.set_agreement_status(
        agreement_id,
        status,
        decided_by=approver.id,
        decided_at=now,
        reason=reason[:200] or None,
    )
    store.audit(
        AuditRecord(
            at=now,
            actor=approver.email,
            action="agreement rejected",
            subject=f"agreement {agreement_id}",
            details={"client_id": record.client_id, "reason": reason},
        )
    )
    store.commit()
    return AgreementOutcome(agreement_id, status, record.reasons)


def review_agreements(
    store: AgreementStore, as_of: date, now: datetime
) -> AgreementReview:
    """Follow every active agreement as of a day; call it before each daily run.

    Every instalment paid: COMPLETED. An instalment still unpaid more than
    the policy's `cancel_after_days` after its due date: CANCELLED when the
    policy says cancel (see `cancel_agreement`); with `keep`, it is only
    reported as late and the rule goes on chasing it.
    """
    review = AgreementReview()
    for record in store.agreements([AgreementStatus.ACTIVE]):
        instalments = store.instalments(record.id)
        if all(i.status is InvoiceStatus.PAID for i in instalments):
            status = move_agreement(record.status, AgreementStatus.COMPLETED)
            store.set_agreement_status(record.id, status, closed_on=as_of)
            _audit_close(store, record, status, "every instalment paid", now)
            review.completed.append(record.id)
            continue
        missed = [i for i in instalments if _missed(i, record.terms, as_of)]
        if not missed:
            continue
        if record.terms.on_miss is MissPolicy.KEEP:
            review.late.append(record.id)
            continue
        reason = f"instalment {missed[0].number} unpaid since {missed[0].due_date}"
        cancel_agreement(store, record, instalments, reason, as_of, now)
        review.cancelled.append(record.id)
    store.commit()

    log.info(
        "agreements reviewed as_of=%s completed=%d cancelled=%d late=%d",
        as_of,
        len(review.completed),
        len(review.cancelled),
        len(review.late),
    )
    return review


def cancel_agreement(
    store: AgreementStore,
    record: AgreementRecord,
    instalments: Sequence[InstalmentRecord],
    reason: str,
    as_of: date,
    now: datetime,
) -> None:
    """Cancel an active agreement and restore the balance it replaced.

    The unpaid instalments are voided; the originals reopen with their balance
    at activation less everything the instalments paid, oldest first; the
    discount goes with the agreement. The rule looks at them again on `as_of`.
    Does not commit.
    """
    status = move_agreement(record.status, AgreementStatus.CANCELLED)
    paid = sum((i.amount - i.balance for i in instalments), Decimal(0))
    unpaid = [i.invoice_id for i in instalments if i.status is InvoiceStatus.OPEN]
    store.void_invoices(unpaid)
    store.withdraw_messages(unpaid, "withdrawn: the agreement was cancelled")

    originals = [
        (invoice_id, balance or Decimal(0))
        for invoice_id, balance in zip(
            record.invoice_ids, record.balances_then, strict=True
        )
    ]
    restored = restore_balances(originals, paid)
    for invoice_id, balance in restored:
        store.restore_invoice(invoice_id, balance, as_of if balance > 0 else None)
    store.set_agreement_status(record.id, status, closed_on=as_of, reason=reason)
    _audit_close(store, record, status, reason, now, paid=paid, restored=restored)


def _take_effect(
    store: AgreementStore,
    record: AgreementRecord,
    decider: UserRecord,
    approved_by: int | None,
    as_of: date,
    now: datetime,
) -> list[str]:
    """Replace the covered invoices by the instalments; the new numbers.

    The covered balance is taken as it stands now, with the penalties owed
    to date unless the terms waive them (the waived sum is recorded).
    """
    originals = store.invoices(record.invoice_ids)
    closed = [i.number for i in originals if i.status is not InvoiceStatus.OPEN]
    if closed:
        raise Conflict(
            f"agreement {record.id} covers invoice(s) no longer open: "
            f"{', '.join(closed)}; reject it and propose again"
        )
    principal = sum((i.balance for i in originals), Decimal(0))
    penalties = store.penalties_to_date(record.invoice_ids, as_of)
    waived = penalties if record.terms.waive_penalties else Decimal(0)
    covered = Money(principal + penalties - waived, record.currency)
    schedule = instalment_schedule(covered, record.terms)

    ids = [i.id for i in originals]
    cancel_promises_over(store, ids, decider.email, as_of, now)
    store.void_invoices(ids)
    store.withdraw_messages(ids, WITHDRAWN)
    first = originals[0]
    numbers = []
    for instalment in schedule:
        number = f"{first.number}-A{record.id}-{instalment.seq}"
        store.add_instalment(
            record.id,
            instalment.seq,
            first.id,
            number,
            instalment.amount.amount,
            instalment.due_date,
            as_of,
        )
        numbers.append(number)

    total = sum((i.amount.amount for i in schedule), Decimal(0))
    activation = Activation(
        covered_balance=principal,
        penalties_included=penalties - waived,
        penalties_waived=waived,
        agreed_total=total,
        balances_then=tuple((i.id, i.balance) for i in originals),
    )
    store.activate(record.id, activation, approved_by, now)
    store.audit(
        AuditRecord(
            at=now,
            actor=decider.email,
            action="agreement active",
            subject=f"agreement {record.id}",
            details={
                "client_id": record.client_id,
                "voided_invoice_ids": ids,
                "instalments": numbers,
                "covered_balance": str(principal),
                "penalties_included": str(activation.penalties_included),
                "penalties_waived": str(waived),
                "agreed_total": str(total),
            },
        )
    )
    return numbers


def _missed(instalment: InstalmentRecord, terms: AgreementTerms, as_of: date) -> bool:
    if instalment.status is not InvoiceStatus.OPEN:
        return False
    return (as_of - instalment.due_date).days > terms.cancel_after_days


def _audit_close(
    store: AgreementStore,
    record: AgreementRecord,
    status: AgreementStatus,
    reason: str,
    now: datetime,
    *,
    paid: Decimal | None = None,
    restored: Sequence[tuple[int, Decimal]] = (),
) -> None:
    details: dict[str, object] = {"client_id": record.client_id, "reason": reason}
    if paid is not None:
        details["paid_through_instalments"] = str(paid)
        details["restored"] = {str(i): str(b) for i, b in restored}
    store.audit(
        AuditRecord(
            at=now,
            actor="review",
            action=f"agreement {status.value}",
            subject=f"agreement {record.id}",
            details=details,
        )
    )


def _user(store: AgreementStore, user_id: int) -> UserRecord:
    user = store.user(user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    if not user.active:
        raise NotPermitted(f"user {user.email} is not active")
    return user


def _approver(store: AgreementStore, user_id: int) -> UserRecord:
    user = _user(store, user_id)
    if not user.role.approves:
        raise NotPermitted(
            f"{user.email} is a {user.role.value}; only a manager or an admin "
            "approves agreements"
        )
    return user


def _agreement(store: AgreementStore, agreement_id: int) -> AgreementRecord:
    record = store.agreement(agreement_id)
    if record is None:
        raise NotFound(f"no agreement {agreement_id}; see `agreements list`")
    return record


def _terms(terms: AgreementTerms) -> dict[str, object]:
    return {
        "instalments": terms.instalments,
        "first_due": terms.first_due.isoformat(),
        "interval_days": terms.interval_days,
        "discount_percent": str(terms.discount_percent),
        "waive_penalties": terms.waive_penalties,
        "on_miss": terms.on_miss.value,
        "cancel_after_days": terms.cancel_after_days,
    }


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
