"""Reconciling a bank statement: payments recorded, the rest queued for a person.

An import is one transaction. Entries whose id is already stored are skipped,
so the same statement imported twice records nothing twice. Each new entry is
matched (see `duecourse.domain.matching`): a matched credit becomes a payment
through the payments service, with the entry id as its reference; a debit is
stored as ignored; anything else waits in the queue with its reason.

Reversals: a debit that takes back an earlier credit whose payment is stored
undoes that payment through the payments service (its invoices get the money
back, a paid one is open again and its rule resumes, its credit is gone), in
the same transaction, and is stored as matched, naming the payment. A
reversal whose credit or payment is not found, or whose payment was reversed
already, is queued for a person as before.

Reinstatement: a client was suspended when a `suspend` webhook was sent for
one of its invoices (its message is not dead). When a payment leaves that
client no open invoice overdue by the suspend stage's days or more (the days
from the due date to the day its suspend action was scheduled), a
`reinstate` webhook goes to the outbox in the same transaction, once per
suspension.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Protocol

from duecourse.domain.errors import Conflict, InvalidField, NotFound
from duecourse.domain.matching import (
    ClientIdentity,
    EarlierCredit,
    EntryStatus,
    Match,
    MatchOutcome,
    OpenInvoice,
    match_entry,
    payer_key,
    takes_back_credit,
)
from duecourse.domain.statements import Statement, StatementEntry
from duecourse.services.payments import (
    AuditRecord,
    PaymentInput,
    PaymentRecorded,
    PaymentReversed,
    PaymentStore,
    apply_payment,
    undo_payment,
)

log = logging.getLogger(__name__)

REINSTATE = "reinstate"
# Payment references are at most 120 characters; longer entry ids are cut and
# given a digest of the whole id, which stays unique and stable.
_REFERENCE_LENGTH = 120


@dataclass(frozen=True)
class ImportRecord:
    """One statement import, as the log of imports keeps it."""

    source: str
    statement_format: str
    account: str
    statement_id: str
    imported_at: datetime
    actor: str


@dataclass(frozen=True)
class ImportCounts:
    entries: int
    skipped: int
    matched: int
    queued: int
    ignored: int


@dataclass(frozen=True)
class StoredEntry:
    """A statement entry as stored, with what became of it."""

    entry_id: str
    booking_date: date
    amount: Decimal
    currency: str
    reference: str | None
    text: str
    counterparty: str | None
    is_reversal: bool
    status: EntryStatus
    reason: str
    payment_id: int | None
    resolved_by: str | None


@dataclass(frozen=True)
class Suspension:
    """The client's latest suspension: its suspend message, when, after how
    many days late, and whether a reinstatement naming it was queued."""

    message_id: str
    suspended_at: datetime
    after_days: int
    reinstated: bool


@dataclass(frozen=True)
class ReconciliationSummary:
    """What one import did; `import_id` is None when every entry was known."""

    import_id: int | None
    entries: int
    skipped: int
    matched: int
    queued: int
    ignored: int
    settled: int
    reinstated: tuple[str, ...] = ()

    def line(self) -> str:
        text = (
            f"{self.entries} entries: {self.matched} matched, {self.queued} "
            f"queued, {self.ignored} ignored, {self.skipped} already imported; "
            f"{self.settled} invoice(s) settled"
        )
        if self.reinstated:
            text += f"; reinstatement sent for {', '.join(self.reinstated)}"
        return text


class StatementStore(PaymentStore, Protocol):
    """One unit of work over payments, statement entries and the outbox."""

    def known_entry_ids(self, entry_ids: Sequence[str]) -> set[str]: ...

    def matchable_invoices(self) -> list[OpenInvoice]:
        """Every open invoice, with its client's external id."""
        ...

    def client_identities(self) -> list[ClientIdentity]:
        """Every client, with the payers seen on its earlier payments."""
        ...

    def external_id(self, client_id: int) -> str: ...

    def earlier_credits(
        self, account: str, amount: Decimal, currency: str
    ) -> list[EarlierCredit]:
        """Stored credits on the account for this amount, a reversal's candidates."""
        ...

    def add_import(self, record: ImportRecord) -> int: ...

    def set_import_counts(self, import_id: int, counts: ImportCounts) -> None: ...

    def add_entry(
        self,
        import_id: int,
        entry: StatementEntry,
        status: EntryStatus,
        reason: str,
        payment_id: int | None,
    ) -> None: ...

    def stored_entry(self, entry_id: str) -> StoredEntry | None:
        """The entry, locked until commit so that two people cannot both work it."""
        ...

    def queue(self) -> list[StoredEntry]:
        """The unmatched entries, oldest booking first."""
        ...

    def close_entry(
        self,
        entry_id: str,
        status: EntryStatus,
        reason: str,
        payment_id: int | None,
        resolved_by: str,
    ) -> None: ...

    def suspension(self, client_id: int) -> Suspension | None: ...

    def add_webhook(
        self,
        message_id: str,
        client_id: int,
        event: str,
        context: dict[str, object],
        now: datetime,
    ) -> None: ...


def import_statement(
    store: StatementStore,
    statement: Statement,
    source: str,
    actor: str,
    now: datetime,
    *,
    statement_format: str = "",
) -> ReconciliationSummary:
    """Import a statement in one transaction; see the module docstring."""
    known = store.known_entry_ids([entry.entry_id for entry in statement.entries])
    new = [entry for entry in statement.entries if entry.entry_id not in known]
    if not new:
        log.info("statement already imported source=%s", source)
        return ReconciliationSummary(
            None, len(statement.entries), len(known), 0, 0, 0, 0
        )

    import_id = store.add_import(
        ImportRecord(
            source,
            statement_format,
            statement.account,
            statement.statement_id,
            now,
            actor,
        )
    )
    book = _Book(store.matchable_invoices(), store.client_identities())
    matched = queued = ignored = settled = 0
    paid_clients: set[int] = set()
    for entry in new:
        status, reason, recorded, reversed_ = _reconcile(store, book, entry, actor, now)
        payment_id = None if recorded is None else recorded.payment_id
        if reversed_ is not None:
            payment_id = reversed_.payment_id
            book.refresh(store, reversed_.client_id)
        store.add_entry(import_id, entry, status, reason, payment_id)
        if recorded is not None:
            paid_clients.add(recorded.client_id)
            settled += len(recorded.settled)
            book.paid(store, recorded, entry)
        matched += status is EntryStatus.MATCHED
        queued += status is EntryStatus.UNMATCHED
        ignored += status is EntryStatus.IGNORED

    reinstated = tuple(
        store.external_id(client_id)
        for client_id in sorted(paid_clients)
        if _reinstate_if_due(store, client_id, now)
    )
    counts = ImportCounts(len(statement.entries), len(known), matched, queued, ignored)
    store.set_import_counts(import_id, counts)
    store.audit(
        AuditRecord(
            at=now,
            actor=actor,
            action="statement imported",
            subject=f"statement import {import_id}",
            details={"source": source, **asdict(counts), "settled": settled},
        )
    )
    store.commit()

    log.info(
        "statement imported import_id=%d entries=%d matched=%d queued=%d "
        "ignored=%d skipped=%d reinstated=%d",
        import_id,
        counts.entries,
        matched,
        queued,
        ignored,
        len(known),
        len(reinstated),
    )
    return ReconciliationSummary(
        import_id,
        counts.entries,
        len(known),
        matched,
        queued,
        ignored,
        settled,
        reinstated,
    )


def queue(store: StatementStore) -> list[StoredEntry]:
    """The entries waiting for a person, oldest booking first."""
    return store.queue()


def resolve(
    store: StatementStore,
    entry_id: str,
    invoices: Sequence[str] = (),
    client: str | None = None,
    *,
    actor: str,
    now: datetime,
) -> PaymentRecorded:
    """Record a queued credit as a payment of the invoices or client a person names.

    With invoice numbers, the payment goes to the oldest of them first, then
    as the payments service allocates (the client's other open invoices, then
    credit); with a client alone, to its open invoices oldest first.
    """
    stored = _queued(store, entry_id, "resolved")
    if stored.amount <= 0 or stored.is_reversal:
        raise Conflict(
            f"entry {entry_id} is not a credit but a debit or reversal; undo the "
            "payment it reverses if any, then ignore it"
        )
    if not invoices and not client:
        raise InvalidField("resolve", "name the invoices or the client it pays")

    client_id, named = _payer_of(store, invoices, client)
    payment = PaymentInput(
        reference=payment_reference(entry_id),
        client_external_id=client or store.external_id(client_id),
        amount=stored.amount,
        currency=stored.currency,
        received_on=stored.booking_date,
        invoice_number=named,
    )
    recorded = apply_payment(store, payment, now)
    what = ", ".join(invoices) if invoices else f"client {payment.client_external_id}"
    store.close_entry(
        entry_id,
        EntryStatus.RESOLVED,
        f"resolved to {what}",
        recorded.payment_id,
        actor,
    )
    _reinstate_if_due(store, recorded.client_id, now)
    store.audit(
        AuditRecord(
            now,
            actor,
            "statement entry resolved",
            f"entry {entry_id}"[:120],
            {"payment_id": recorded.payment_id, "to": what},
        )
    )
    store.commit()

    log.info(
        "statement entry resolved payment_id=%d settled=%d",
        recorded.payment_id,
        len(recorded.settled),
    )
    return recorded


def ignore(
    store: StatementStore, entry_id: str, reason: str, actor: str, now: datetime
) -> None:
    """Take a queued entry off the queue without recording any payment."""
    if not reason.strip():
        raise InvalidField("reason", "is empty", "say why the entry is left alone")
    _queued(store, entry_id, "ignored")

    store.close_entry(entry_id, EntryStatus.IGNORED, reason.strip(), None, actor)
    store.audit(
        AuditRecord(
            now,
            actor,
            "statement entry ignored",
            f"entry {entry_id}"[:120],
            {"reason": reason.strip()},
        )
    )
    store.commit()


def payment_reference(entry_id: str) -> str:
    """The payment reference of an entry: its id, digested when too long."""
    if len(entry_id) <= _REFERENCE_LENGTH:
        return entry_id
    digest = hashlib.sha256(entry_id.encode("utf-8")).hexdigest()[:20]
    return f"{entry_id[: _REFERENCE_LENGTH - 21]}#{digest}"


class _Book:
    """Open invoices and client identities, kept current as payments land."""

    def __init__(
        self, invoices: list[OpenInvoice], clients: list[ClientIdentity]
    ) -> None:
        self.invoices = invoices
        self.clients = {client.external_id: client for client in clients}

    def match(self, entry: StatementEntry, earlier: list[EarlierCredit]) -> Match:
        return match_entry(entry, self.invoices, list(self.clients.values()), earlier)

    def refresh(self, store: StatementStore, client_id: int) -> str:
        """Read the client's open invoices again; its external id."""
        external_id = store.external_id(client_id)
        fresh = [
            OpenInvoice(i.number, external_id, i.balance, i.currency, i.due_date)
            for i in store.open_invoices(client_id)
        ]
        others = [i for i in self.invoices if i.client != external_id]
        self.invoices = others + fresh
        return external_id

    def paid(
        self, store: StatementStore, recorded: PaymentRecorded, entry: StatementEntry
    ) -> None:
        """Refresh the client's balances and learn the payer for later entries."""
        external_id = self.refresh(store, recorded.client_id)

        payer = payer_key(entry)
        known = self.clients.get(external_id)
        if payer is not None and known is not None:
            self.clients[external_id] = ClientIdentity(
                known.external_id, known.name, known.payer_ids | {payer}
            )


def _reconcile(
    store: StatementStore,
    book: _Book,
    entry: StatementEntry,
    actor: str,
    now: datetime,
) -> tuple[EntryStatus, str, PaymentRecorded | None, PaymentReversed | None]:
    """Match one entry and record or reverse its payment; its status, reason,
    the payment recorded and the payment reversed."""
    earlier: list[EarlierCredit] = []
    if takes_back_credit(entry):
        earlier = store.earlier_credits(
            entry.account_id, -entry.amount.amount, entry.amount.currency
        )
    match = book.match(entry, earlier)
    if match.outcome is MatchOutcome.NOT_A_PAYMENT:
        return EntryStatus.IGNORED, match.reason, None, None
    if match.outcome is MatchOutcome.REVERSAL and match.reverses is not None:
        return _reverse(store, match.reverses, match.reason, actor, now)
    if not match.is_payment or match.client is None:
        return EntryStatus.UNMATCHED, match.reason, None, None

    payment = PaymentInput(
        reference=payment_reference(entry.entry_id),
        client_external_id=match.client,
        amount=entry.amount.amount,
        currency=entry.amount.currency,
        received_on=entry.booking_date,
        # Several invoices matched by amount are the oldest: the payments
        # service pays oldest first when no invoice is named.
        invoice_number=(
            match.invoices[0]
            if match.outcome is MatchOutcome.MATCHED_BY_REFERENCE
            or len(match.invoices) == 1
            else None
        ),
    )
    try:
        recorded = apply_payment(store, payment, now)
    except InvalidField as error:
        log.warning("matched entry queued: the payment was refused (%s)", error.field)
        return EntryStatus.UNMATCHED, f"{match.reason}, but {error}", None, None
    return EntryStatus.MATCHED, match.reason, recorded, None


def _reverse(
    store: StatementStore, original: str, queued_reason: str, actor: str, now: datetime
) -> tuple[EntryStatus, str, PaymentRecorded | None, PaymentReversed | None]:
    """Undo the payment of the credit `original` that a reversal takes back;
    queued when that credit recorded no payment or it was reversed already."""
    reason = f"reversal of {original}"
    try:
        reversed_ = undo_payment(store, payment_reference(original), reason, actor, now)
    except NotFound:
        return EntryStatus.UNMATCHED, queued_reason, None, None
    except Conflict:
        log.warning("reversal queued: its payment was reversed already")
        queued = f"{reason}, whose payment was reversed already; ignore this entry"
        return EntryStatus.UNMATCHED, queued, None, None
    return EntryStatus.MATCHED, reason, None, reversed_


def _queued(store: StatementStore, entry_id: str, verb: str) -> StoredEntry:
    stored = store.stored_entry(entry_id)
    if stored is None:
        raise NotFound(
            f"no statement entry {entry_id!r}; see `duecourse statements queue`"
        )
    if stored.status is not EntryStatus.UNMATCHED:
        raise Conflict(
            f"entry {entry_id} is {stored.status.value}; only unmatched entries "
            f"can be {verb}"
        )
    return stored


def _payer_of(
    store: StatementStore, numbers: Sequence[str], client: str | None
) -> tuple[int, str | None]:
    """The client paying, and the invoice to name first (the oldest given)."""
    if not numbers:
        found = store.client(client or "")
        if found is None:
            raise InvalidField("client", f"no client {client!r}")
        return found.id, None

    invoices = []
    for number in numbers:
        invoice = store.invoice(number)
        if invoice is None:
            raise InvalidField("invoice", f"no invoice {number!r}")
        invoices.append(invoice)
    clients = {invoice.client_id for invoice in invoices}
    if len(clients) > 1:
        raise InvalidField("invoice", f"{', '.join(numbers)} belong to several clients")
    oldest = min(invoices, key=lambda invoice: (invoice.due_date, invoice.number))
    return oldest.client_id, oldest.number


def _reinstate_if_due(store: StatementStore, client_id: int, now: datetime) -> bool:
    """Queue the reinstate webhook if the client was suspended and no longer
    owes anything overdue by the suspend stage's days; True when queued."""
    suspension = store.suspension(client_id)
    if suspension is None or suspension.reinstated:
        return False
    as_of = now.date()
    limit = as_of - timedelta(days=suspension.after_days)
    if any(invoice.due_date <= limit for invoice in store.open_invoices(client_id)):
        return False

    external_id = store.external_id(client_id)
    store.add_webhook(
        str(uuid.uuid4()),
        client_id,
        REINSTATE,
        {
            "event": REINSTATE,
            "client": external_id,
            "as_of": as_of.isoformat(),
            "suspension": suspension.message_id,
            "suspended_at": suspension.suspended_at.isoformat(),
        },
        now,
    )
    log.info("reinstatement queued client_id=%d", client_id)
    return True
