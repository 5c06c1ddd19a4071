"""A client's account as the client sees it: the portal and the notice banner.

Open charges carry their penalty to date, computed on each view from the
invoice's rule, so the amount shown is what is owed today and not what the
last run saw. Penalties are rounded once per charge, with `Money.rounded`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from duecourse.domain.errors import DuecourseError, NotFound
from duecourse.domain.money import Money
from duecourse.domain.rules import CollectionRule
from duecourse.domain.states import Channel
from duecourse.services.compose import PenaltyQuote
from duecourse.services.ports import ClientRecord, Links, RuleRecord
from duecourse.services.rulebook import RuleBook


@dataclass(frozen=True)
class AccountClient:
    id: int
    external_id: str
    name: str
    language: str
    currency: str
    country: str
    segment: str | None
    rule_name: str | None


@dataclass(frozen=True)
class InvoiceLine:
    """An invoice as stored; `status` is an `InvoiceStatus` value."""

    number: str
    currency: str
    amount: Decimal
    balance: Decimal
    issue_date: date
    due_date: date
    status: str
    payment_url: str | None
    rule_version_id: int | None


@dataclass(frozen=True)
class PaymentLine:
    reference: str
    received_on: date
    amount: Decimal
    currency: str
    method: str
    invoices: tuple[str, ...]


@dataclass(frozen=True)
class AccountRecords:
    """What the store loads for one client: invoices, payments, rule versions."""

    client: AccountClient
    open_invoices: tuple[InvoiceLine, ...]
    paid_invoices: tuple[InvoiceLine, ...]
    payments: tuple[PaymentLine, ...]
    rules: tuple[RuleRecord, ...]


@dataclass(frozen=True)
class NoticeHead:
    """The newest active notice of a client, found by its external id."""

    client_id: int
    language: str
    notice_id: int | None
    template: str | None


class AccountStore(Protocol):
    """Reads a client's account and records that the client looked at it."""

    def load(self, client_id: int, open_only: bool = False) -> AccountRecords | None:
        """The client's records; with `open_only`, no paid invoices or payments."""
        ...

    def active_notice(self, external_id: str) -> NoticeHead | None:
        """One indexed query: called on every page view of the client's product."""
        ...

    def record_visit(self, client_id: int, what: str, now: datetime) -> None: ...


class NoticeTexts(Protocol):
    def render_text(
        self, channel: Channel, name: str, language: str, context: Mapping[str, Any]
    ) -> str: ...


@dataclass(frozen=True)
class Charge:
    """An open invoice with its penalty to date; amounts rounded for display."""

    invoice: InvoiceLine
    days_late: int
    late_fee: Decimal
    interest: Decimal
    penalty: Decimal
    total_due: Decimal


@dataclass(frozen=True)
class Account:
    client: AccountClient
    as_of: date
    charges: tuple[Charge, ...]
    paid: tuple[InvoiceLine, ...]
    payments: tuple[PaymentLine, ...]

    @property
    def totals(self) -> tuple[Money, ...]:
        """What is owed today, one amount per currency."""
        sums: dict[str, Decimal] = {}
        for charge in self.charges:
            currency = charge.invoice.currency
            sums[currency] = sums.get(currency, Decimal(0)) + charge.total_due
        return tuple(Money(amount, currency) for currency, amount in sums.items())

    @property
    def payment_url(self) -> str | None:
        """The payment link of the oldest open charge that has one."""
        urls = (c.invoice.payment_url for c in self.charges)
        return next((url for url in urls if url), None)


@dataclass(frozen=True)
class Banner:
    """What the notice endpoint returns for a client with an active notice."""

    severity: str
    text: str
    amount: Money
    payment_url: str | None
    portal_url: str


def account_of(
    store: AccountStore,
    client_id: int,
    as_of: date,
    quote: PenaltyQuote,
    open_only: bool = False,
) -> Account:
    """The client's account today; `NotFound` if the client is gone."""
    records = store.load(client_id, open_only=open_only)
    if records is None:
        raise NotFound(f"no client has the id {client_id}")

    rule_for = _rule_finder(records)
    charges = tuple(
        _charge(line, rule_for(line), as_of, quote)
        for line in sorted(records.open_invoices, key=lambda i: (i.due_date, i.number))
    )
    return Account(
        records.client, as_of, charges, records.paid_invoices, records.payments
    )


def banner_of(
    store: AccountStore,
    head: NoticeHead,
    as_of: date,
    quote: PenaltyQuote,
    texts: NoticeTexts,
    links: Links,
) -> Banner | None:
    """The banner for a client's active notice; None once nothing is owed.

    The text is the notice's template in the client's language, with the same
    context names as the run's messages: `total_due`, `currency`, `invoices`,
    `payment_link`.
    """
    if head.template is None:
        return None
    account = account_of(store, head.client_id, as_of, quote, open_only=True)
    if not account.charges:
        return None

    currency = account.charges[0].invoice.currency
    total = next(m for m in account.totals if m.currency == currency)
    portal_url, _ = links.portal(head.client_id, as_of)
    context = {
        "currency": currency,
        "total_due": str(total.amount),
        "invoices": [
            {"number": c.invoice.number, "due_date": c.invoice.due_date.isoformat()}
            for c in account.charges
            if c.invoice.currency == currency
        ],
        "payment_link": account.payment_url or portal_url,
    }
    text = texts.render_text(Channel.NOTICE, head.template, head.language, context)

    late = any(c.days_late > 0 for c in account.charges)
    return Banner(
        severity="warning" if late else "info",
        text=text.strip(),
        amount=total,
        payment_url=account.payment_url,
        portal_url=portal_url,
    )


def _rule_finder(
    records: AccountRecords,
) -> Callable[[InvoiceLine], CollectionRule | None]:
    """The rule governing each invoice: its own version, else the client's."""
    book = RuleBook.from_records(list(records.rules))
    client = records.client
    as_record = ClientRecord(
        id=client.id,
        external_id=client.external_id,
        name=client.name,
        country=client.country,
        time_zone="UTC",
        language=client.language,
        segment=client.segment,
        rule_name=client.rule_name,
        emails=(),
        contact_name="",
        invoices=(),
        taken={},
        contacts_this_week=(),
    )

    def rule_for(line: InvoiceLine) -> CollectionRule | None:
        try:
            version = book.version_for(as_record, line.rule_version_id)
        except DuecourseError:
            # No rule applies yet: the invoice shows without a penalty.
            return None
        return book.versions.get(version)

    return rule_for


def _charge(
    line: InvoiceLine, rule: CollectionRule | None, as_of: date, quote: PenaltyQuote
) -> Charge:
    balance = Money(line.balance, line.currency)
    quoted = quote(rule, balance, line.due_date, as_of) if rule is not None else None

    def part(name: str) -> Decimal:
        if quoted is None:
            return Decimal(0)
        return Money(Decimal(str(quoted[name])), line.currency).rounded().amount

    # The total is rounded on its own, as in messages, so both agree.
    late_fee, interest, penalty = part("late_fee"), part("interest"), part("total")
    return Charge(
        invoice=line,
        days_late=max((as_of - line.due_date).days, 0),
        late_fee=late_fee,
        interest=interest,
        penalty=penalty,
        total_due=(balance.rounded() + Money(penalty, line.currency)).amount,
    )
