"""Billing: issuing the invoices contracts owe, and changing a contract's terms.

`issue_invoices` issues one invoice per period owed (see domain/billing.py),
numbered from the client and the period so that the same period always gets
the same number. The database keeps one invoice per (contract, period start),
so a rerun, a crash and rerun, or two runs at once issue nothing twice. A new
invoice is due for a look by the daily run the day it is issued, which sends
the bill; the client's unallocated credit is used on it at once.

`change_terms` changes the terms in force; the change applies from the first
period not yet invoiced and is recorded with who made it and when.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from duecourse.domain.billing import (
    STANDARD_DISCOUNTS,
    BillingPeriod,
    BillingTerms,
    Period,
    check_discount,
    check_due_day,
    check_lead_days,
    owed_periods,
    parse_period,
    percent_text,
    period_amount,
    prepaid_saving,
    schedule,
)
from duecourse.domain.errors import Conflict, InvalidField, NotFound
from duecourse.domain.money import Money
from duecourse.domain.rules import Stage
from duecourse.domain.states import InvoiceStatus
from duecourse.services.payments import (
    AuditRecord,
    InvoiceBalance,
    PaymentStore,
    apply_credit,
)
from duecourse.services.ports import ContractRecord

log = logging.getLogger(__name__)

BATCH_CONTRACTS = 500

# The number is the client's id and the month the period starts, plus the
# contract's id so that two contracts of one client never share a number;
# the client's id is cut so that the whole fits the invoice number column.
NUMBER_LENGTH = 60


@dataclass(frozen=True)
class BillableContract:
    """A contract with its terms in force and how far it is invoiced."""

    id: int
    client_id: int
    client_external_id: str
    currency: str
    monthly_amount: Decimal
    period_months: int
    discount_percent: Decimal
    due_day: int
    lead_days: int
    starts_on: date
    ends_on: date | None
    invoiced_until: date | None
    """The end of the last period invoiced; None before the first invoice."""

    def terms(self) -> BillingTerms:
        return BillingTerms(
            monthly=Money(self.monthly_amount, self.currency),
            period=parse_period(self.period_months),
            discount_percent=self.discount_percent,
            due_day=self.due_day,
            lead_days=self.lead_days,
        )

    def next_start(self) -> date:
        """The start of the first period not yet invoiced."""
        if self.invoiced_until is None:
            return self.starts_on
        return self.invoiced_until + timedelta(days=1)

    def owed(self, as_of: date) -> list[Period]:
        periods = schedule(self.terms(), self.next_start(), self.starts_on.day)
        return owed_periods(periods, as_of, ends_on=self.ends_on)


@dataclass(frozen=True)
class PeriodInvoice:
    """An invoice for one period of a contract, ready to store."""

    client_id: int
    contract_id: int
    number: str
    currency: str
    amount: Decimal
    issue_date: date
    due_date: date
    period_start: date
    period_end: date
    discount_percent: Decimal
    next_action_on: date


@dataclass(frozen=True)
class NewTerms:
    """The terms a contract changes to."""

    period_months: int
    discount_percent: Decimal
    due_day: int
    lead_days: int


@dataclass(frozen=True)
class ContractChangeRecord:
    """A change of terms, kept for the record: who, when, what, from which period."""

    contract_id: int
    changed_at: datetime
    actor: str
    applies_from: date
    changes: Mapping[str, Mapping[str, str]]


@dataclass(frozen=True)
class TermsChanged:
    """What `change_terms` did; empty `changes` when the terms were already so."""

    contract_id: int
    applies_from: date
    changes: Mapping[str, Mapping[str, str]]

    def line(self) -> str:
        if not self.changes:
            return f"contract {self.contract_id}: the terms were already so"
        parts = "; ".join(
            f"{name} {values['from']} -> {values['to']}"
            for name, values in self.changes.items()
        )
        return (
            f"contract {self.contract_id}: {parts}; applies from the period "
            f"starting {self.applies_from}"
        )


@dataclass
class BillingSummary:
    """What one billing run did."""

    as_of: date
    contracts: int = 0
    issued: int = 0
    already_issued: int = 0
    settled_by_credit: int = 0
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        text = (
            f"{self.as_of}: {self.contracts} contract(s) looked at, "
            f"{self.issued} invoice(s) issued, {self.settled_by_credit} paid "
            f"from credit, {self.already_issued} already issued"
        )
        if self.problems:
            text += f"; {len(self.problems)} contract(s) not billed"
        return text


class BillingStore(PaymentStore, Protocol):
    """One unit of work over contracts and their invoices (and credit, to use it)."""

    def contracts_to_bill(self, after: int, limit: int) -> list[BillableContract]:
        """Contracts with an id above `after`, in id order, at most `limit`."""
        ...

    def contract(self, contract_id: int) -> BillableContract | None:
        """The contract, locked until commit so that two changes do not cross."""
        ...

    def add_period_invoice(self, invoice: PeriodInvoice) -> int | None:
        """Store the invoice; None when its period already has one.

        Raises `Conflict` when its number belongs to another invoice, leaving
        the unit of work usable.
        """
        ...

    def set_terms(self, contract_id: int, terms: NewTerms) -> None: ...

    def record_change(self, change: ContractChangeRecord) -> None: ...


def issue_invoices(
    store: BillingStore,
    as_of: date,
    actor: str,
    now: datetime,
    batch_contracts: int = BATCH_CONTRACTS,
) -> BillingSummary:
    """Issue every invoice owed as of `as_of`; see the module docstring.

    Each batch of contracts is one transaction. A contract whose invoice
    cannot be stored is reported and skipped, and the others are billed.
    """
    summary = BillingSummary(as_of)
    after = 0
    while True:
        contracts = store.contracts_to_bill(after, batch_contracts)
        if not contracts:
            break
        for contract in contracts:
            summary.contracts += 1
            _bill(store, contract, as_of, summary)
        store.commit()
        after = contracts[-1].id

    if summary.issued:
        store.audit(
            AuditRecord(
                at=now,
                actor=actor,
                action="invoices issued",
                subject=f"billing {as_of.isoformat()}",
                details={
                    "issued": summary.issued,
                    "settled_by_credit": summary.settled_by_credit,
                },
            )
        )
        store.commit()
    log.info(
        "billing finished as_of=%s contracts=%d issued=%d settled_by_credit=%d "
        "already_issued=%d problems=%d",
        as_of,
        summary.contracts,
        summary.issued,
        summary.settled_by_credit,
        summary.already_issued,
        len(summary.problems),
    )
    return summary


def _bill(
    store: BillingStore,
    contract: BillableContract,
    as_of: date,
    summary: BillingSummary,
) -> None:
    try:
        owed = contract.owed(as_of)
    except InvalidField as problem:
        log.warning("contract skipped contract_id=%d reason=%s", contract.id, problem)
        summary.problems.append(f"contract {contract.id}: {problem}")
        return

    for period in owed:
        invoice = _invoice(contract, period, as_of)
        try:
            invoice_id = store.add_period_invoice(invoice)
        except Conflict as problem:
            # Later periods wait too: billing them would leave a gap.
            log.warning(
                "contract skipped contract_id=%d reason=%s", contract.id, problem
            )
            summary.problems.append(f"contract {contract.id}: {problem}")
            return
        if invoice_id is None:
            summary.already_issued += 1
            continue
        summary.issued += 1
        if _use_credit(store, contract, invoice, invoice_id) == 0:
            summary.settled_by_credit += 1


def _invoice(contract: BillableContract, period: Period, as_of: date) -> PeriodInvoice:
    terms = contract.terms()
    amount = period_amount(terms.monthly, period.months, terms.discount_percent)
    return PeriodInvoice(
        client_id=contract.client_id,
        contract_id=contract.id,
        number=invoice_number(contract.client_external_id, contract.id, period.start),
        currency=contract.currency,
        amount=amount.amount,
        # The dates the contract gives, whatever day the billing ran: the same
        # period always makes the same invoice.
        issue_date=period.issue_date,
        due_date=period.due_date,
        period_start=period.start,
        period_end=period.end,
        discount_percent=terms.discount_percent,
        next_action_on=as_of,
    )


def invoice_number(client_external_id: str, contract_id: int, start: date) -> str:
    """The number of a period's invoice: client, contract, year and month of start.

    A contract's periods start in different months, so the number is unique.
    """
    tail = f"-{contract_id}-{start:%Y%m}"
    return client_external_id[: NUMBER_LENGTH - len(tail)] + tail


def _use_credit(
    store: BillingStore,
    contract: BillableContract,
    invoice: PeriodInvoice,
    invoice_id: int,
) -> Decimal:
    # Locks the client as recording a payment does, so that the same credit
    # cannot be spent twice by a payment, an import and a billing at once.
    store.client(contract.client_external_id)
    balance = InvoiceBalance(
        invoice_id,
        invoice.number,
        contract.client_id,
        invoice.currency,
        invoice.amount,
        invoice.due_date,
        InvoiceStatus.OPEN,
    )
    return apply_credit(store, contract.client_id, balance)


def change_terms(
    store: BillingStore,
    contract_id: int,
    *,
    due_day: int | None = None,
    lead_days: int | None = None,
    period: int | None = None,
    discount_percent: Decimal | None = None,
    actor: str,
    now: datetime,
) -> TermsChanged:
    """Change a contract's terms from its next invoice on, and record the change.

    Invoices already issued keep their dates and amounts. A new period without
    a discount takes the standard discount of that period (5% semiannual, 10%
    annual), since a prepay discount belongs to the period it rewards.
    """
    if all(v is None for v in (due_day, lead_days, period, discount_percent)):
        raise InvalidField(
            "terms", "nothing to change", "give a due day, lead days or a period"
        )
    contract = store.contract(contract_id)
    if contract is None:
        raise NotFound(f"there is no contract {contract_id}")

    new = _new_terms(contract, due_day, lead_days, period, discount_percent)
    changes = _changes(contract, new)
    applies_from = contract.next_start()
    if not changes:
        return TermsChanged(contract_id, applies_from, {})
    store.set_terms(contract_id, new)
    store.record_change(
        ContractChangeRecord(contract_id, now, actor, applies_from, changes)
    )
    store.commit()

    log.info(
        "contract terms changed contract_id=%d fields=%s applies_from=%s",
        contract_id,
        ",".join(changes),
        applies_from,
    )
    return TermsChanged(contract_id, applies_from, changes)


def _new_terms(
    contract: BillableContract,
    due_day: int | None,
    lead_days: int | None,
    period: int | None,
    discount_percent: Decimal | None,
) -> NewTerms:
    months = contract.period_months
    discount = contract.discount_percent
    if period is not None:
        months = parse_period(period).value
        if months != contract.period_months:
            discount = STANDARD_DISCOUNTS[BillingPeriod(months)]
    if discount_percent is not None:
        discount = check_discount(discount_percent)
    return NewTerms(
        period_months=months,
        discount_percent=discount,
        due_day=contract.due_day if due_day is None else check_due_day(due_day),
        lead_days=(
            contract.lead_days if lead_days is None else check_lead_days(lead_days)
        ),
    )


def _changes(contract: BillableContract, new: NewTerms) -> dict[str, dict[str, str]]:
    before: dict[str, Any] = {
        "period_months": contract.period_months,
        "discount_percent": contract.discount_percent,
        "due_day": contract.due_day,
        "lead_days": contract.lead_days,
    }
    after: dict[str, Any] = {
        "period_months": new.period_months,
        "discount_percent": new.discount_percent,
        "due_day": new.due_day,
        "lead_days": new.lead_days,
    }
    return {
        name: {"from": _text(before[name]), "to": _text(after[name])}
        for name in before
        if before[name] != after[name]
    }


def _text(value: object) -> str:
    return percent_text(value) if isinstance(value, Decimal) else str(value)


def prepay_offer(
    contract: ContractRecord | None, stages: Iterable[Stage]
) -> dict[str, Any] | None:
    """The offer to prepay a longer period, for a message whose stages make one.

    Made only to a client whose contract bills a shorter period than offered.
    The saving is what prepaying saves against paying the same months one by
    one, at the stage's discount or the period's standard one.
    """
    offers = [s for s in stages if s.offer_months is not None]
    if contract is None or not offers:
        return None
    stage = max(offers, key=lambda s: s.offer_months or 0)
    months = parse_period(stage.offer_months or 0)
    if contract.period_months >= months:
        return None

    discount = stage.offer_discount_percent
    if discount is None:
        discount = STANDARD_DISCOUNTS[months]
    monthly = Money(Decimal(contract.monthly_amount), contract.currency)
    return {
        "months": months.value,
        "discount_percent": percent_text(discount),
        "amount": str(period_amount(monthly, months, discount).amount),
        "saving": str(prepaid_saving(monthly, months, discount).amount),
        "currency": contract.currency,
    }
