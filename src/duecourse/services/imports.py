"""Importing clients, invoices and payments from CSV files, all or nothing.

Every row is checked and every problem collected, each named by its row (as a
spreadsheet counts them: the header is row 1), its column, the reason and the
fix. A file with any problem stores nothing; a clean file is stored in one
transaction with one audit entry. The columns are described in docs/imports.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from functools import cache
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale

from duecourse.domain.errors import InvalidField, InvalidImport
from duecourse.domain.states import InvoiceStatus
from duecourse.services.csv_rows import Columns, Row, RowProblem, read_rows
from duecourse.services.payments import (
    AuditRecord,
    ClientRef,
    InvoiceBalance,
    PaymentInput,
    PaymentStore,
    apply_credit,
    apply_payment,
)

log = logging.getLogger(__name__)

LANGUAGES = {"en": "en", "pt_br": "pt_BR", "es": "es"}
BILLING_PERIODS = (1, 6, 12)
# Babel's territories include regions and groupings that are not countries.
_NOT_COUNTRIES = {"EU", "EZ", "QO", "UN", "ZZ"}


class ImportKind(StrEnum):
    """What a file holds; each kind has its own columns."""

    CLIENTS = "clients"
    INVOICES = "invoices"
    PAYMENTS = "payments"


REQUIRED = {
    ImportKind.CLIENTS: (
        "external_id", "name", "country", "time_zone", "language", "currency",
    ),
    ImportKind.INVOICES: (
        "number", "client_external_id", "amount", "currency", "issue_date",
        "due_date",
    ),
    ImportKind.PAYMENTS: (
        "reference", "client_external_id", "amount", "currency", "received_on",
    ),
}  # fmt: skip
OPTIONAL = {
    ImportKind.CLIENTS: (
        "segment", "rule", "contact_name", "contact_email", "contact_phone",
        "contract_amount", "billing_period_months", "prepay_discount_percent",
        "due_day", "notice_lead_days", "contract_starts_on",
    ),
    ImportKind.INVOICES: ("payment_url",),
    ImportKind.PAYMENTS: ("invoice_number", "method"),
}  # fmt: skip


@dataclass
class ImportResult:
    """What a clean file stored."""

    kind: ImportKind
    source: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    contacts: int = 0
    contracts: int = 0
    settled: int = 0

    def line(self) -> str:
        return (
            f"{self.source}: {self.rows} row(s) of {self.kind.value}; "
            f"{self.created} created, {self.updated} updated, {self.skipped} "
            f"already recorded; {self.contacts} contact(s), {self.contracts} "
            f"contract(s) added; {self.settled} invoice(s) settled"
        )


@dataclass(frozen=True)
class ClientFields:
    external_id: str
    name: str
    country: str
    time_zone: str
    language: str
    currency: str
    segment: str | None
    rule_name: str | None


@dataclass(frozen=True)
class ContactFields:
    name: str
    email: str | None
    phone: str | None


@dataclass(frozen=True)
class ContractTerms:
    amount: Decimal
    currency: str
    billing_period_months: int
    prepay_discount_percent: Decimal
    due_day: int
    notice_lead_days: int
    starts_on: date


@dataclass(frozen=True)
class NewInvoice:
    client_id: int
    contract_id: int | None
    number: str
    currency: str
    amount: Decimal
    issue_date: date
    due_date: date
    payment_url: str | None
    next_action_on: date


class ImportStore(PaymentStore, Protocol):
    """The unit of work of an import: what payments need, and the billing records."""

    def active_rule_names(self) -> set[str]: ...

    def save_client(self, fields: ClientFields, at: datetime) -> tuple[int, bool]:
        """Insert or update the client by external id; its id and whether new."""
        ...

    def contacts(self, client_id: int) -> list[ContactFields]: ...

    def add_contact(self, client_id: int, contact: ContactFields) -> None: ...

    def latest_contract(self, client_id: int) -> tuple[int, ContractTerms] | None: ...

    def add_contract(self, client_id: int, terms: ContractTerms) -> int: ...

    def add_invoice(self, invoice: NewInvoice) -> int: ...

    def rollback(self) -> None: ...

    def close(self) -> None: ...


Importer = Callable[[list[Row], ImportStore, date, datetime, ImportResult], None]


def import_csv(
    kind: ImportKind | str,
    text: str | bytes,
    source: str,
    store: ImportStore,
    actor: str,
    today: date,
    *,
    now: datetime | None = None,
) -> ImportResult:
    """Store a CSV file of clients, invoices or payments, or nothing at all.

    Raises `InvalidImport` listing every problem found; the store is then left
    as it was. Payments go through the same code as `record_payment`.
    """
    kind = _kind(kind)
    at = now or datetime.now(UTC)
    problems: list[RowProblem] = []
    columns = Columns(kind.value, REQUIRED[kind], OPTIONAL[kind])
    rows = read_rows(text, source, columns, problems)
    result = ImportResult(kind, source, rows=len(rows))

    try:
        _IMPORTERS[kind](rows, store, today, at, result)
    except BaseException:
        store.rollback()
        raise
    if problems:
        store.rollback()
        problems.sort(key=lambda problem: problem.row)
        raise InvalidImport(
            source,
            [str(problem) for problem in problems],
            [InvalidField(p.column, p.reason, p.fix) for p in problems],
        )

    counts = {k: v for k, v in vars(result).items() if isinstance(v, int)}
    details: dict[str, object] = {"kind": kind.value, "source": source, **counts}
    store.audit(AuditRecord(at, actor, f"{kind.value} imported", source, details))
    store.commit()
    log.info(
        "import finished kind=%s rows=%d created=%d updated=%d skipped=%d",
        kind.value, result.rows, result.created, result.updated, result.skipped,
    )  # fmt: skip
    return result


def _kind(kind: ImportKind | str) -> ImportKind:
    try:
        return ImportKind(kind)
    except ValueError:
        names = ", ".join(k.value for k in ImportKind)
        raise InvalidField(
            "kind", f"{kind!r} is not a kind of file", f"use {names}"
        ) from None


def _import_clients(
    rows: list[Row], store: ImportStore, today: date, at: datetime, result: ImportResult
) -> None:
    """Rows sharing an external id add contacts; the first describes the client.

    A client already stored is updated, except its currency: its invoices and
    payments are in that currency.
    """
    rules = store.active_rule_names()
    groups: dict[str, list[Row]] = {}
    for row in rows:
        identifier = row.cells.get("external_id", "").strip()
        if identifier:
            groups.setdefault(identifier, []).append(row)
        else:
            row.fail("external_id", "is empty", "fill it in")

    for external_id, group in groups.items():
        first = group[0]
        fields = _client_fields(first, rules)
        terms = _contract(group, fields.currency if fields else None, today)
        contacts = [c for c in map(_contact, group) if c is not None]
        for row in group[1:]:
            _same_client(first, row)
        if fields is None:
            continue

        stored = store.client(external_id)
        if stored is not None and stored.currency != fields.currency:
            first.fail(
                "currency",
                f"client {external_id} is billed in {stored.currency}",
                "a client's currency cannot change; create a new client",
            )
            continue
        client_id, created = store.save_client(fields, at)
        result.created += created
        result.updated += not created

        known = {
            (c.name.lower(), (c.email or "").lower()) for c in store.contacts(client_id)
        }
        for contact in contacts:
            key = (contact.name.lower(), (contact.email or "").lower())
            if key not in known:
                store.add_contact(client_id, contact)
                known.add(key)
                result.contacts += 1
        latest = store.latest_contract(client_id)
        if terms is not None and (latest is None or latest[1] != terms):
            store.add_contract(client_id, terms)
            result.contracts += 1


def _client_fields(row: Row, rules: set[str]) -> ClientFields | None:
    external_id = row.text("external_id", limit=80)
    name = row.text("name")
    country = row.text("country", limit=10)
    if country is not None and country.upper() not in _countries():
        row.fail(
            "country", f"{country!r} is not a country code", "use ISO 3166, like BR"
        )
        country = None
    time_zone = row.text("time_zone", limit=64)
    if time_zone is not None and not _is_zone(time_zone):
        row.fail(
            "time_zone", f"{time_zone!r} is not a time zone", "use America/Sao_Paulo"
        )
        time_zone = None
    language = row.text("language", limit=10)
    if language is not None and language.lower().replace("-", "_") not in LANGUAGES:
        row.fail("language", f"{language!r} is not offered", "use en, pt_BR or es")
        language = None
    currency = row.currency()
    segment = row.text("segment", required=False, limit=40)
    rule = row.text("rule", required=False, limit=120)
    if rule is not None and rule not in rules:
        row.fail("rule", f"no active rule {rule!r}", "apply it first or leave it blank")
        rule = None

    if (
        external_id is None
        or name is None
        or country is None
        or time_zone is None
        or language is None
        or currency is None
    ):
        return None
    return ClientFields(
        external_id=external_id,
        name=name,
        country=country.upper(),
        time_zone=time_zone,
        language=LANGUAGES[language.lower().replace("-", "_")],
        currency=currency,
        segment=segment,
        rule_name=rule,
    )


def _same_client(first: Row, row: Row) -> None:
    """A later row of the same client repeats its columns or leaves them blank."""
    for column in (*REQUIRED[ImportKind.CLIENTS][1:], "segment", "rule"):
        value = row.cells.get(column, "").strip()
        if value and value != first.cells.get(column, "").strip():
            row.fail(
                column,
                f"differs from row {first.number} of the same client",
                "repeat the same value or leave it blank",
            )


def _contact(row: Row) -> ContactFields | None:
    name = row.text("contact_name", required=False)
    email = row.text("contact_email", required=False, limit=254)
    phone = row.text("contact_phone", required=False, limit=40)
    if email is not None and ("@" not in email or "." not in email.split("@")[-1]):
        row.fail("contact_email", f"{email!r} is not an email address")
        return None
    if name is None:
        if email or phone:
            row.fail("contact_name", "is empty", "name the person to write to")
        return None
    return ContactFields(name, email, phone)


def _contract(
    group: list[Row], currency: str | None, today: date
) -> ContractTerms | None:
    """The contract a client's rows describe, if one of them gives an amount."""
    given = [row for row in group if row.cells.get("contract_amount", "").strip()]
    for row in given[1:]:
        row.fail("contract_amount", "a second contract for the same client", "keep one")
    if not given:
        return None
    row = given[0]
    amount = row.amount("contract_amount", currency)
    period = row.whole("billing_period_months", BILLING_PERIODS)
    discount = row.amount("prepay_discount_percent", None, False, positive=False)
    if discount is not None and discount >= 100:
        row.fail("prepay_discount_percent", "must be under 100", "write 5 for 5%")
    due_day = row.whole("due_day", range(1, 32))
    lead = row.whole("notice_lead_days", range(0, 61))
    starts_on = row.day("contract_starts_on", required=False) or today
    if amount is None or period is None or due_day is None or lead is None:
        return None
    if currency is None:
        return None
    return ContractTerms(
        amount, currency, period, discount or Decimal(0), due_day, lead, starts_on
    )


def _import_invoices(
    rows: list[Row], store: ImportStore, today: date, at: datetime, result: ImportResult
) -> None:
    """New invoices, open and due for a look today; the client's credit is used."""
    seen: dict[str, int] = {}
    for row in rows:
        number = row.text("number", limit=60)
        external_id = row.text("client_external_id", limit=80)
        currency = row.currency()
        amount = row.amount("amount", currency)
        issued = row.day("issue_date")
        due = row.day("due_date")
        url = row.text("payment_url", required=False, limit=500)
        if url is not None and not url.startswith(("https://", "http://")):
            row.fail(
                "payment_url", f"{url!r} is not a web address", "start it with https://"
            )
        if issued and due and due < issued:
            row.fail("due_date", f"{due} is before the issue date {issued}")
        if number in seen:
            row.fail(
                "number", f"{number} is also on row {seen[number]}", "use a new number"
            )
        elif number is not None:
            seen[number] = row.number
            if store.invoice(number) is not None:
                row.fail(
                    "number", f"invoice {number} is already present", "use a new number"
                )
        client = _client_for(row, store, external_id, currency)
        if row.failures or not (client and number and currency and amount):
            continue
        if issued is None or due is None:
            continue

        contract = store.latest_contract(client.id)
        invoice = NewInvoice(
            client.id, contract[0] if contract else None, number, currency, amount,
            issued, due, url, next_action_on=today,
        )  # fmt: skip
        invoice_id = store.add_invoice(invoice)
        result.created += 1
        balance = InvoiceBalance(
            invoice_id, number, client.id, currency, amount, due, InvoiceStatus.OPEN
        )
        result.settled += apply_credit(store, client.id, balance) == 0


def _import_payments(
    rows: list[Row], store: ImportStore, today: date, at: datetime, result: ImportResult
) -> None:
    """Each payment recorded as `record_payment` does; known references skipped."""
    for row in rows:
        reference = row.text("reference", limit=120)
        external_id = row.text("client_external_id", limit=80)
        currency = row.currency()
        amount = row.amount("amount", currency)
        received = row.day("received_on")
        if received is not None and received > today:
            row.fail("received_on", f"{received} is after today", "check the date")
        invoice = row.text("invoice_number", required=False, limit=60)
        method = row.text("method", required=False, limit=40) or "transfer"
        client = _client_for(row, store, external_id, currency)
        if row.failures or not (client and reference and amount and received):
            continue
        if external_id is None or currency is None:
            continue

        payment = PaymentInput(
            reference, external_id, amount, currency, received, invoice, method
        )
        try:
            recorded = apply_payment(store, payment, at)
        except InvalidField as problem:
            row.fail(problem.field, problem.problem, problem.fix)
            continue
        result.created += not recorded.duplicate
        result.skipped += recorded.duplicate
        result.settled += len(recorded.settled)


def _client_for(
    row: Row, store: ImportStore, external_id: str | None, currency: str | None
) -> ClientRef | None:
    """The client a row names, checked to exist and to be billed in its currency."""
    if external_id is None:
        return None
    client = store.client(external_id)
    if client is None:
        row.fail("client_external_id", f"no client {external_id!r}", "import it first")
    elif currency is not None and currency != client.currency:
        row.fail("currency", f"client {external_id} is billed in {client.currency}")
    return client


@cache
def _countries() -> frozenset[str]:
    territories = Locale("en").territories
    codes = (code for code in territories if isinstance(code, str))
    return frozenset(code for code in codes if code.isalpha()) - _NOT_COUNTRIES


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


_IMPORTERS: dict[ImportKind, Importer] = {
    ImportKind.CLIENTS: _import_clients,
    ImportKind.INVOICES: _import_invoices,
    ImportKind.PAYMENTS: _import_payments,
}
