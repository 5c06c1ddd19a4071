"""Recording a payment: money received, allocated to the client's invoices.

A payment goes to the invoice it names, then to the client's other open
invoices, oldest due date first. An invoice whose balance reaches zero is paid
at once: its rule stops (the run never selects it again) and the messages
still waiting in the outbox for it alone are withdrawn. What is left over stays
on the payment as credit, used when the client's next invoice is recorded.

A payment the bank took back is reversed: every amount it allocated goes back
to its invoice's balance, an invoice it had paid is open again and its rule
resumes on the day of the reversal, and its credit is gone. A reversed payment
stays stored, marked, so that its reference is never recorded again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from duecourse.domain.errors import Conflict, InvalidField, NotFound
from duecourse.domain.states import InvoiceStatus

log = logging.getLogger(__name__)

WITHDRAWN = "withdrawn: settled before delivery"


@dataclass(frozen=True)
class PaymentInput:
    """A payment as the bank or the user reports it; amounts already parsed."""

    reference: str
    client_external_id: str
    amount: Decimal
    currency: str
    received_on: date
    invoice_number: str | None = None
    method: str = "transfer"


@dataclass(frozen=True)
class PaymentRecorded:
    """What recording a payment did; `duplicate` when the reference was known."""

    reference: str
    payment_id: int
    client_id: int
    allocated: tuple[tuple[int, Decimal], ...] = ()
    settled: tuple[int, ...] = ()
    unallocated: Decimal = Decimal(0)
    withdrawn: tuple[str, ...] = ()
    duplicate: bool = False


@dataclass(frozen=True)
class PaymentReversed:
    """What reversing a payment did: the amounts given back to each invoice,
    the invoices open again, and the credit the payment no longer has."""

    reference: str
    payment_id: int
    client_id: int
    restored: tuple[tuple[int, Decimal], ...] = ()
    reopened: tuple[int, ...] = ()
    credit_removed: Decimal = Decimal(0)


@dataclass(frozen=True)
class ClientRef:
    id: int
    external_id: str
    currency: str


@dataclass(frozen=True)
class InvoiceBalance:
    id: int
    number: str
    client_id: int
    currency: str
    balance: Decimal
    due_date: date
    status: InvoiceStatus


@dataclass(frozen=True)
class StoredPayment:
    id: int
    client_id: int
    amount: Decimal
    currency: str
    unallocated: Decimal = Decimal(0)
    reversed_at: datetime | None = None


@dataclass(frozen=True)
class Credit:
    """What is left of an earlier payment, waiting for the client's next invoice."""

    payment_id: int
    unallocated: Decimal
    received_on: date


@dataclass(frozen=True)
class BalanceChange:
    """A new balance; `stop_rule` clears the invoice's next action date."""

    invoice_id: int
    balance: Decimal
    status: InvoiceStatus
    paid_on: date
    stop_rule: bool


@dataclass(frozen=True)
class BalanceRestored:
    """A balance raised again by a reversal; `resume_on` restarts the rule of an
    invoice that was paid (None leaves its next action date as it is)."""

    invoice_id: int
    balance: Decimal
    status: InvoiceStatus
    resume_on: date | None


@dataclass(frozen=True)
class AuditRecord:
    at: datetime
    actor: str
    action: str
    subject: str
    details: dict[str, object]


class PaymentStore(Protocol):
    """One unit of work over clients, invoices, payments and the outbox."""

    def client(self, external_id: str) -> ClientRef | None: ...

    def payment(self, reference: str) -> StoredPayment | None: ...

    def invoice(self, number: str) -> InvoiceBalance | None: ...

    def open_invoices(self, client_id: int) -> list[InvoiceBalance]:
        """The client's open invoices, oldest due date first."""
        ...

    def add_payment(
        self, payment: PaymentInput, client_id: int, unallocated: Decimal, at: datetime
    ) -> int: ...

    def allocate(self, payment_id: int, invoice_id: int, amount: Decimal) -> None: ...

    def change_balance(self, change: BalanceChange) -> None: ...

    def withdraw_messages(self, invoice_ids: list[int], reason: str) -> list[str]:
        """Mark dead the pending messages whose invoices are all settled; their ids."""
        ...

    def credits(self, client_id: int, currency: str) -> list[Credit]:
        """The client's payments with money left over, oldest first."""
        ...

    def set_unallocated(self, payment_id: int, amount: Decimal) -> None: ...

    def lock_client(self, client_id: int) -> None:
        """Hold the client until commit, as `client` does."""
        ...

    def mark_reversed(self, payment_id: int, at: datetime) -> bool:
        """Set the payment's reversal time and clear its credit; False when it
        was reversed already."""
        ...

    def allocations(self, payment_id: int) -> list[tuple[InvoiceBalance, Decimal]]:
        """The invoices the payment went to, each with the amount it got."""
        ...

    def restore_balance(self, change: BalanceRestored) -> None: ...

    def audit(self, entry: AuditRecord) -> None: ...

    def commit(self) -> None: ...


def record_payment(
    store: PaymentStore, payment: PaymentInput, actor: str, now: datetime
) -> PaymentRecorded:
    """Record one payment in its own transaction; see the module docstring.

    Recording a reference already stored changes nothing and says so, so a
    retried request or a re-read bank statement cannot count money twice.
    """
    recorded = apply_payment(store, payment, now)
    if recorded.duplicate:
        return recorded

    store.audit(
        AuditRecord(
            at=now,
            actor=actor,
            action="payment recorded",
            subject=f"payment {recorded.payment_id}",
            details={
                "client_id": recorded.client_id,
                "amount": str(payment.amount),
                "currency": payment.currency,
                "invoice_ids": [invoice_id for invoice_id, _ in recorded.allocated],
                "unallocated": str(recorded.unallocated),
            },
        )
    )
    store.commit()

    log.info(
        "payment recorded payment_id=%d client_id=%d invoices=%d settled=%d "
        "withdrawn=%d",
        recorded.payment_id,
        recorded.client_id,
        len(recorded.allocated),
        len(recorded.settled),
        len(recorded.withdrawn),
    )
    return recorded


def apply_payment(
    store: PaymentStore, payment: PaymentInput, now: datetime
) -> PaymentRecorded:
    """Allocate a payment inside the caller's unit of work; does not commit.

    Raises `InvalidField` naming the payment's field at fault, so an import can
    report it against the column of the same name.
    """
    client = store.client(payment.client_external_id)
    if client is None:
        raise InvalidField(
            "client_external_id",
            f"no client {payment.client_external_id!r}",
            "import the client first or correct the id",
        )
    known = store.payment(payment.reference)
    if known is not None:
        return _repeat(known, payment, client)
    if payment.amount <= 0:
        raise InvalidField("amount", f"{payment.amount} is not positive")
    if payment.currency != client.currency:
        raise InvalidField(
            "currency",
            f"the payment is in {payment.currency} but client "
            f"{client.external_id} is billed in {client.currency}",
            f"record it in {client.currency}, converted as the bank credited it",
        )

    targets = _targets(store, payment, client)
    shares, left = split(payment.amount, [invoice.balance for invoice in targets])
    payment_id = store.add_payment(payment, client.id, left, now)

    allocated: list[tuple[int, Decimal]] = []
    for invoice, share in zip(targets, shares, strict=True):
        if share > 0:
            store.allocate(payment_id, invoice.id, share)
            allocated.append((invoice.id, share))
    settled = settle(store, targets, shares, payment.received_on)

    # Left over money stays on the payment as credit; `apply_credit` uses it
    # when the client's next invoice is recorded.
    return PaymentRecorded(
        reference=payment.reference,
        payment_id=payment_id,
        client_id=client.id,
        allocated=tuple(allocated),
        settled=tuple(settled),
        unallocated=left,
        withdrawn=tuple(store.withdraw_messages(settled, WITHDRAWN)),
    )


def apply_credit(
    store: PaymentStore, client_id: int, invoice: InvoiceBalance
) -> Decimal:
    """Use the client's credit, oldest payment first, on a newly recorded invoice.

    Returns the invoice's balance afterwards; zero means it is paid already and
    its rule never starts.
    """
    remaining = invoice.balance
    latest: date | None = None
    for credit in store.credits(client_id, invoice.currency):
        take = min(credit.unallocated, remaining)
        if take <= 0:
            break
        store.allocate(credit.payment_id, invoice.id, take)
        store.set_unallocated(credit.payment_id, credit.unallocated - take)
        remaining -= take
        latest = (
            credit.received_on if latest is None else max(latest, credit.received_on)
        )

    if latest is not None:
        settle(store, [invoice], [invoice.balance - remaining], latest)
    return remaining


def reverse_payment(
    store: PaymentStore, reference: str, reason: str, actor: str, now: datetime
) -> PaymentReversed:
    """Undo a payment the bank took back, in its own transaction.

    See the module docstring. Raises `NotFound` for an unknown reference and
    `Conflict` for a payment reversed already.
    """
    reversed_ = undo_payment(store, reference, reason, actor, now)
    store.commit()

    log.info(
        "payment reversed payment_id=%d client_id=%d invoices=%d reopened=%d",
        reversed_.payment_id,
        reversed_.client_id,
        len(reversed_.restored),
        len(reversed_.reopened),
    )
    return reversed_


def undo_payment(
    store: PaymentStore, reference: str, reason: str, actor: str, now: datetime
) -> PaymentReversed:
    """Reverse a payment and audit it inside the caller's unit of work; does
    not commit. Nothing is changed when it raises."""
    stored = store.payment(reference)
    if stored is None:
        raise NotFound(f"no payment with reference {reference!r}")
    # Balances of one client change one payment at a time (see `client`);
    # read again once locked, for the credit it has now.
    store.lock_client(stored.client_id)
    stored = store.payment(reference) or stored
    if stored.reversed_at is not None or not store.mark_reversed(stored.id, now):
        raise Conflict(
            f"payment {reference!r} was reversed already; its invoices were "
            "reopened then"
        )

    given_back: dict[int, tuple[InvoiceBalance, Decimal]] = {}
    for invoice, amount in store.allocations(stored.id):
        _, earlier = given_back.get(invoice.id, (invoice, Decimal(0)))
        given_back[invoice.id] = (invoice, earlier + amount)

    reopened = []
    for invoice, amount in given_back.values():
        was_paid = invoice.status is InvoiceStatus.PAID
        store.restore_balance(
            BalanceRestored(
                invoice_id=invoice.id,
                balance=invoice.balance + amount,
                status=InvoiceStatus.OPEN if was_paid else invoice.status,
                # The rule resumes where it stands: the run finds the invoice
                # due today and its catch-up rules decide what is sent.
                resume_on=now.date() if was_paid else None,
            )
        )
        if was_paid:
            reopened.append(invoice.id)

    reversed_ = PaymentReversed(
        reference=reference,
        payment_id=stored.id,
        client_id=stored.client_id,
        restored=tuple((invoice.id, amount) for invoice, amount in given_back.values()),
        reopened=tuple(reopened),
        credit_removed=stored.unallocated,
    )
    store.audit(
        AuditRecord(
            at=now,
            actor=actor,
            action="payment reversed",
            subject=f"payment {stored.id}",
            details={
                "reference": reference,
                "reason": reason,
                "client_id": stored.client_id,
                "invoices": {
                    str(invoice_id): str(amount)
                    for invoice_id, amount in reversed_.restored
                },
                "reopened": list(reopened),
                "credit_removed": str(stored.unallocated),
            },
        )
    )
    return reversed_


def split(amount: Decimal, balances: list[Decimal]) -> tuple[list[Decimal], Decimal]:
    """Share an amount over balances in order; the shares and what is left."""
    shares = []
    left = amount
    for balance in balances:
        share = min(left, max(balance, Decimal(0)))
        shares.append(share)
        left -= share
    return shares, left


def settle(
    store: PaymentStore,
    invoices: list[InvoiceBalance],
    shares: list[Decimal],
    paid_on: date,
) -> list[int]:
    """Lower each invoice's balance by its share; the ids of those now paid."""
    paid = []
    for invoice, share in zip(invoices, shares, strict=True):
        if share <= 0:
            continue
        balance = invoice.balance - share
        status = InvoiceStatus.PAID if balance == 0 else InvoiceStatus.OPEN
        store.change_balance(
            BalanceChange(
                invoice_id=invoice.id,
                balance=balance,
                status=status,
                paid_on=paid_on,
                stop_rule=status is InvoiceStatus.PAID,
            )
        )
        if status is InvoiceStatus.PAID:
            paid.append(invoice.id)
    return paid


def _targets(
    store: PaymentStore, payment: PaymentInput, client: ClientRef
) -> list[InvoiceBalance]:
    """The named invoice first, then the client's other open invoices.

    The rest of a payment that overpays its named invoice goes to what else the
    client owes before it becomes credit: holding their money while the rule
    chases another invoice would be wrong.
    """
    others = store.open_invoices(client.id)
    if not payment.invoice_number:
        return others
    named = store.invoice(payment.invoice_number)
    if named is None or named.client_id != client.id:
        raise InvalidField(
            "invoice_number",
            f"client {client.external_id} has no invoice {payment.invoice_number!r}",
            "correct the number or leave it blank to pay the oldest invoices",
        )
    if named.status is not InvoiceStatus.OPEN:
        raise InvalidField(
            "invoice_number",
            f"invoice {named.number} is {named.status.value}",
            "leave the number blank to pay the client's open invoices",
        )
    return [named, *(invoice for invoice in others if invoice.id != named.id)]


def _repeat(
    known: StoredPayment, payment: PaymentInput, client: ClientRef
) -> PaymentRecorded:
    """A reference seen before: the same payment again, or a clash to report."""
    if (known.client_id, known.amount, known.currency) != (
        client.id,
        payment.amount,
        payment.currency,
    ):
        raise InvalidField(
            "reference",
            f"{payment.reference!r} was already recorded for another client or amount",
            "use the bank's own reference for each payment",
        )
    return PaymentRecorded(
        reference=payment.reference,
        payment_id=known.id,
        client_id=known.client_id,
        duplicate=True,
    )
