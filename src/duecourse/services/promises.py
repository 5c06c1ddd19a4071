"""Promises to pay: taking one, and seeing each one kept or broken.

A promise pauses the rule for the invoices it covers until the promised date
plus a grace; the run skips a paused invoice and looks at it again the day
after. `review_promises`, called before each daily run, settles every open
promise: kept once the money arrived, broken once the grace passed unpaid.
A broken promise resumes the rule where it stands (its catch-up rules
apply), raises the client's priority, and the second one sends the client to
a manager through a call task.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Protocol

from duecourse.domain.errors import InvalidField
from duecourse.domain.money import parse_currency
from duecourse.domain.promises import (
    DEFAULT_GRACE_DAYS,
    ESCALATION_REASON,
    PromiseStatus,
    Standing,
    check_promise,
    judge_promise,
    move_promise,
    pause_ends,
)
from duecourse.domain.states import InvoiceStatus
from duecourse.services.payments import AuditRecord, ClientRef, InvoiceBalance

log = logging.getLogger(__name__)

ESCALATION_STAGE = "broken_promises"
ESCALATION_SCRIPT = "manager_call"


@dataclass(frozen=True)
class CoveredNow:
    """An invoice a promise covers: its balance then and now."""

    invoice_id: int
    balance_then: Decimal
    balance_now: Decimal
    status: InvoiceStatus


@dataclass(frozen=True)
class OpenPromise:
    id: int
    client_id: int
    amount: Decimal
    currency: str
    promised_on: date
    grace_days: int
    covered: tuple[CoveredNow, ...]

    @property
    def paid_since(self) -> Decimal:
        """What the covered invoices were paid down since the promise."""
        return sum(
            (max(c.balance_then - c.balance_now, Decimal(0)) for c in self.covered),
            Decimal(0),
        )

    @property
    def all_settled(self) -> bool:
        return all(c.status is InvoiceStatus.PAID for c in self.covered)

    @property
    def still_open(self) -> list[int]:
        return [c.invoice_id for c in self.covered if c.status is InvoiceStatus.OPEN]


@dataclass(frozen=True)
class NewPromise:
    client_id: int
    amount: Decimal
    currency: str
    promised_on: date
    grace_days: int
    covered: tuple[InvoiceBalance, ...]
    created_by: str
    created_at: datetime


class PromiseStore(Protocol):
    """One unit of work over clients, invoices, promises and standings."""

    def client(self, external_id: str) -> ClientRef | None: ...

    def open_invoices(self, client_id: int) -> list[InvoiceBalance]:
        """The client's open invoices, oldest due date first."""
        ...

    def open_promises(self, client_id: int | None = None) -> list[OpenPromise]:
        """Open promises, of one client or of every client, oldest first."""
        ...

    def add_promise(self, promise: NewPromise) -> int: ...

    def set_promise_status(
        self, promise_id: int, status: PromiseStatus, resolved_on: date
    ) -> None: ...

    def pause_invoices(
        self, invoice_ids: Sequence[int], until: date | None, next_action_on: date
    ) -> None:
        """Set the open invoices' pause (None lifts it) and next action date."""
        ...

    def standing(self, client_id: int) -> Standing: ...

    def save_standing(self, client_id: int, standing: Standing) -> None: ...

    def add_call_task(
        self,
        client_id: int,
        stage_key: str,
        script: str,
        reason: str,
        balance: Decimal,
        currency: str,
        created_on: date,
    ) -> None: ...

    def audit(self, entry: AuditRecord) -> None: ...

    def commit(self) -> None: ...


@dataclass(frozen=True)
class PromiseMade:
    promise_id: int
    invoice_ids: tuple[int, ...]
    paused_until: date
    superseded: tuple[int, ...] = ()


@dataclass
class PromiseReview:
    """What a review settled: promise ids kept and broken, clients escalated."""

    kept: list[int] = field(default_factory=list)
    broken: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)


def make_promise(
    store: PromiseStore,
    client_external_id: str,
    amount: Decimal,
    promised_on: date,
    invoice_numbers: Sequence[str] | None,
    actor: str,
    now: datetime,
    *,
    grace_days: int = DEFAULT_GRACE_DAYS,
    as_of: date | None = None,
) -> PromiseMade:
    """Record a promise and pause the rule for the invoices it covers.

    No numbers means every open invoice of the client. The rule is paused
    until the promised date plus the grace, and the run looks again the day
    after. An open promise over any of the same invoices is superseded: it is
    cancelled and its other invoices go back to the rule today.
    """
    today = as_of or now.date()
    check_promise(amount, promised_on, today)
    until = pause_ends(promised_on, grace_days)
    client = find_client(store, client_external_id)
    covered = covered_invoices(store, client, invoice_numbers)

    ids = [invoice.id for invoice in covered]
    superseded = cancel_promises_over(store, ids, actor, today, now)
    promise_id = store.add_promise(
        NewPromise(
            client_id=client.id,
            amount=amount,
            currency=parse_currency(client.currency),
            promised_on=promised_on,
            grace_days=grace_days,
            covered=tuple(covered),
            created_by=actor,
            created_at=now,
        )
    )
    store.pause_invoices(ids, until, until + timedelta(days=1))

    store.audit(
        AuditRecord(
            at=now,
            actor=actor,
            action="promise made",
            subject=f"promise {promise_id}",
            details={
                "client_id": client.id,
                "amount": str(amount),
                "currency": client.currency,
                "promised_on": promised_on.isoformat(),
                "grace_days": grace_days,
                "invoice_ids": ids,
                "superseded": superseded,
            },
        )
    )
    store.commit()
    log.info(
        "promise made promise_id=%d client_id=%d invoices=%d paused_until=%s",
        promise_id,
        client.id,
        len(ids),
        until,
    )
    return PromiseMade(promise_id, tuple(ids), until, tuple(superseded))


def review_promises(store: PromiseStore, as_of: date, now: datetime) -> PromiseReview:
    """Settle every open promise as of a day; call it before each daily run.

    A promise is kept when payments since it reached its amount or settled
    every invoice it covers; the invoices left open go back to the rule. It
    is broken when `as_of` is past its date plus grace: the pause is lifted
    and the rule looks again today, where it stands; the client's priority
    and broken count rise, and at the second broken promise a call task asks
    a manager to call.
    """
    review = PromiseReview()
    for promise in store.open_promises():
        until = pause_ends(promise.promised_on, promise.grace_days)
        verdict = judge_promise(
            promise.amount, promise.paid_since, promise.all_settled, until, as_of
        )
        if verdict is PromiseStatus.OPEN:
            continue
        move_promise(PromiseStatus.OPEN, verdict)
        store.set_promise_status(promise.id, verdict, as_of)
        store.pause_invoices(promise.still_open, None, as_of)
        details: dict[str, object] = {
            "client_id": promise.client_id,
            "paid_since": str(promise.paid_since),
            "amount": str(promise.amount),
        }
        if verdict is PromiseStatus.KEPT:
            review.kept.append(promise.id)
        else:
            review.broken.append(promise.id)
            if _raise_standing(store, promise, as_of):
                review.escalated.append(promise.client_id)
                details["escalated"] = True
        store.audit(
            AuditRecord(
                at=now,
                actor="review",
                action=f"promise {verdict.value}",
                subject=f"promise {promise.id}",
                details=details,
            )
        )
    store.commit()

    log.info(
        "promises reviewed as_of=%s kept=%d broken=%d escalated=%d",
        as_of,
        len(review.kept),
        len(review.broken),
        len(review.escalated),
    )
    return review


def cancel_promises_over(
    store: PromiseStore,
    invoice_ids: Sequence[int],
    actor: str,
    as_of: date,
    now: datetime,
) -> list[int]:
    """Cancel the open promises over any of these invoices; does not commit.

    Their other invoices go back to the rule on `as_of`; the named invoices
    are left for the caller, which is about to pause or replace them.
    """
    taken = set(invoice_ids)
    cancelled = []
    for promise in store.open_promises():
        if not taken.intersection(c.invoice_id for c in promise.covered):
            continue
        move_promise(PromiseStatus.OPEN, PromiseStatus.CANCELLED)
        store.set_promise_status(promise.id, PromiseStatus.CANCELLED, as_of)
        others = [i for i in promise.still_open if i not in taken]
        store.pause_invoices(others, None, as_of)
        store.audit(
            AuditRecord(
                at=now,
                actor=actor,
                action="promise cancelled",
                subject=f"promise {promise.id}",
                details={"client_id": promise.client_id, "superseded_on": list(taken)},
            )
        )
        cancelled.append(promise.id)
    return cancelled


def _raise_standing(store: PromiseStore, promise: OpenPromise, as_of: date) -> bool:
    """One more broken promise for the client; True if it now reaches a manager."""
    before = store.standing(promise.client_id)
    after = before.after_broken_promise()
    store.save_standing(promise.client_id, after)
    if not after.escalates_from(before):
        return False

    open_invoices = store.open_invoices(promise.client_id)
    balance = sum((i.balance for i in open_invoices), Decimal(0))
    store.add_call_task(
        promise.client_id,
        ESCALATION_STAGE,
        ESCALATION_SCRIPT,
        ESCALATION_REASON,
        balance,
        promise.currency,
        as_of,
    )
    log.info("client escalated client_id=%d", promise.client_id)
    return True


def find_client(store: PromiseStore, external_id: str) -> ClientRef:
    client = store.client(external_id)
    if client is None:
        raise InvalidField(
            "client", f"no client {external_id!r}", "check the client's external id"
        )
    return client


def covered_invoices(
    store: PromiseStore, client: ClientRef, numbers: Sequence[str] | None
) -> list[InvoiceBalance]:
    """The client's open invoices named, or all of them; each must be open."""
    open_invoices = store.open_invoices(client.id)
    if not numbers:
        if not open_invoices:
            raise InvalidField(
                "invoice", f"client {client.external_id} has no open invoice"
            )
        return open_invoices
    by_number = {invoice.number: invoice for invoice in open_invoices}
    missing = [n for n in numbers if n not in by_number]
    if missing:
        raise InvalidField(
            "invoice",
            f"client {client.external_id} has no open invoice "
            + ", ".join(repr(n) for n in missing),
            "name open invoices of this client, or none to cover them all",
        )
    return [by_number[n] for n in dict.fromkeys(numbers)]
