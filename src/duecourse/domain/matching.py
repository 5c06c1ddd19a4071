"""Matching a bank statement entry to the invoices it pays.

The order of the rules, first that applies wins:

1. Money paid out (a debit) is not a payment: NOT_A_PAYMENT. Money of ours
   that came back (a credit marked as a reversal or carrying a return reason)
   is not a client's payment either: NOT_A_PAYMENT.
2. A debit marked as a reversal, or carrying a return reason, takes back a
   credit: REVERSAL, naming the earlier credit it reverses when exactly one
   fits. Reconciliation undoes that credit's payment; a reversal whose credit
   or payment is not found goes to the queue.
3. MATCHED_BY_REFERENCE: the entry names open invoices. The whole reference
   is an invoice number, or an ISO 11649 creditor reference (`RF..`) whose
   body is one, or an invoice number appears in the reference or text as a
   whole word: case, spaces, dashes and other punctuation do not matter, but
   `INV-1` is never found inside `INV-12`.
4. MATCHED_BY_CLIENT_AND_AMOUNT: exactly one client is identified (a payer
   seen before on a payment of that client, the client's exact name as the
   payer, or its external id written in the text) and either it has exactly
   one open invoice, or its oldest open invoices add up to the amount, or
   exactly one of its open invoices has the amount as balance.
5. Otherwise UNMATCHED, with the reason, for a person to resolve.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from duecourse.domain.statements import StatementEntry

# An invoice number made only of digits and shorter than this is looked for
# only as the whole reference: in free text it would match amounts and dates.
MIN_DIGITS_IN_TEXT = 5
_RUN = re.compile(r"[A-Z]+|[0-9]+")
_CREDITOR_REFERENCE = re.compile(r"^RF(\d\d)([A-Z0-9]{1,21})$")


class MatchOutcome(StrEnum):
    """What an entry turned out to be."""

    MATCHED_BY_REFERENCE = "matched_by_reference"
    """Its reference or text names open invoices."""
    MATCHED_BY_CLIENT_AND_AMOUNT = "matched_by_client_and_amount"
    """One client identified, and its open invoices fit the amount."""
    UNMATCHED = "unmatched"
    """A credit nobody can place without a person."""
    REVERSAL = "reversal"
    """A credit taken back; the payment it recorded must be undone by hand."""
    NOT_A_PAYMENT = "not_a_payment"
    """A debit, or money of ours coming back: not the clients' business."""


class EntryStatus(StrEnum):
    """Where a stored statement entry stands.

    MATCHED: a payment was recorded for it when imported. UNMATCHED: it waits
    in the queue. IGNORED: not a payment, or a person said to leave it.
    RESOLVED: a person placed it and a payment was recorded. Only UNMATCHED
    moves, to RESOLVED or IGNORED; the others are final.
    """

    MATCHED = "matched"
    UNMATCHED = "unmatched"
    IGNORED = "ignored"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class OpenInvoice:
    """An invoice that can still be paid; `client` is the external id."""

    number: str
    client: str
    balance: Decimal
    currency: str
    due_date: date


@dataclass(frozen=True)
class ClientIdentity:
    """What identifies a client on a bank entry.

    `payer_ids` are normalised payers (see `payer_key`) seen on entries that
    paid this client before.
    """

    external_id: str
    name: str
    payer_ids: frozenset[str] = frozenset()


@dataclass(frozen=True)
class EarlierCredit:
    """A credit imported before, that a reversal may take back."""

    entry_id: str
    account_id: str
    booking_date: date
    amount: Decimal
    currency: str
    reference: str | None
    counterparty: str | None
    payment_id: int | None


@dataclass(frozen=True)
class Match:
    """The decision for one entry.

    `invoices` are numbers, oldest due date first; `client` is an external id;
    `reverses` is the entry id of the credit a reversal takes back.
    """

    outcome: MatchOutcome
    reason: str
    client: str | None = None
    invoices: tuple[str, ...] = ()
    reverses: str | None = None

    @property
    def is_payment(self) -> bool:
        return self.outcome in (
            MatchOutcome.MATCHED_BY_REFERENCE,
            MatchOutcome.MATCHED_BY_CLIENT_AND_AMOUNT,
        )


def match_entry(
    entry: StatementEntry,
    invoices: Sequence[OpenInvoice],
    clients: Sequence[ClientIdentity],
    earlier: Sequence[EarlierCredit] = (),
) -> Match:
    """Decide what an entry is, by the rules of the module docstring."""
    if takes_back_credit(entry):
        return _reversal(entry, earlier)
    if entry.amount.amount == 0:
        return Match(MatchOutcome.NOT_A_PAYMENT, "a booking of zero")
    if entry.amount.amount < 0:
        return Match(MatchOutcome.NOT_A_PAYMENT, "a debit: money paid out")
    if entry.is_reversal or entry.return_reason is not None:
        code = f" ({entry.return_reason})" if entry.return_reason else ""
        return Match(
            MatchOutcome.NOT_A_PAYMENT,
            f"money of ours returned{code}, not a client's payment",
        )

    by_reference = _by_reference(entry, invoices)
    if by_reference is not None:
        return by_reference
    return _by_client_and_amount(entry, invoices, clients)


def takes_back_credit(entry: StatementEntry) -> bool:
    """True for a debit that reverses or returns money that came in before."""
    returned = entry.is_reversal or entry.return_reason is not None
    return returned and entry.amount.amount < 0


def find_reversed(
    entry: StatementEntry, earlier: Sequence[EarlierCredit]
) -> EarlierCredit | None:
    """The one earlier credit a reversal takes back, or None when not exactly one.

    It is on the same account, for the same amount and currency, booked on or
    before the reversal, and shares its reference or, lacking one, its payer.
    """
    amount = -entry.amount.amount
    fits = [
        credit
        for credit in earlier
        if credit.account_id == entry.account_id
        and credit.amount == amount
        and credit.currency == entry.amount.currency
        and credit.booking_date <= entry.booking_date
        and _same_origin(entry, credit)
    ]
    return fits[0] if len(fits) == 1 else None


def payer_key(entry: StatementEntry) -> str | None:
    """The payer of an entry, normalised, to recognise it on later entries.

    The parsers give the payer's name, not its account: the name is the key.
    When they give the payer's IBAN, that is the better key and belongs here.
    """
    return normal_name(entry.counterparty_name)


def normal_name(name: str | None) -> str | None:
    """A name in capitals, its words separated by single spaces, no punctuation."""
    if not name:
        return None
    return " ".join(_RUN.findall(name.upper())) or None


def invoice_key(number: str) -> tuple[str, ...]:
    """An invoice number as runs of letters and digits: `inv-0012` is INV, 0012."""
    return tuple(_RUN.findall(number.upper()))


def numbers_in(text: str, numbers: Iterable[str]) -> set[str]:
    """The given numbers that appear as whole words in a text.

    Separators between the runs of letters and digits are free (`INV 12`,
    `inv-12` and `INV12` all name INV-12); a run is never cut, so `INV-1`
    does not name INV-12, nor INV-12 `INV-1 2`.
    """
    by_key: dict[tuple[str, ...], list[str]] = {}
    for number in numbers:
        key = invoice_key(number)
        short = len(key) == 1 and key[0].isdigit() and len(key[0]) < MIN_DIGITS_IN_TEXT
        if key and not short:
            by_key.setdefault(key, []).append(number)
    if not by_key:
        return set()

    upper = text.upper()
    spans = list(_RUN.finditer(upper))
    runs = [span.group() for span in spans]
    starts = [
        n == 0 or _word_starts(upper, spans[n - 1], spans[n]) for n in range(len(spans))
    ]
    starts.append(True)
    longest = max(len(key) for key in by_key)
    found: set[str] = set()
    for start in (n for n in range(len(runs)) if starts[n]):
        for size in range(1, min(longest, len(runs) - start) + 1):
            if starts[start + size]:
                found.update(by_key.get(tuple(runs[start : start + size]), ()))
    return found


def _word_starts(text: str, before: re.Match[str], run: re.Match[str]) -> bool:
    """Whether a run starts a word: `1A`, `2INV` and `1.5` are each one word."""
    gap = text[before.end() : run.start()]
    if not gap:
        return False
    decimal = gap in (".", ",") and before.group().isdigit() and run.group().isdigit()
    return not decimal


def creditor_reference_body(reference: str) -> str | None:
    """The body of a valid ISO 11649 creditor reference (RF + check + body)."""
    compact = "".join(_RUN.findall(reference.upper()))
    found = _CREDITOR_REFERENCE.match(compact)
    if found is None:
        return None
    rearranged = found.group(2) + "RF" + found.group(1)
    digits = "".join(str(int(char, 36)) for char in rearranged)
    return found.group(2) if int(digits) % 97 == 1 else None


def _by_reference(
    entry: StatementEntry, invoices: Sequence[OpenInvoice]
) -> Match | None:
    named = _named_in_reference(entry.reference, invoices)
    if not named:
        text = f"{entry.reference or ''} {entry.remittance_text}"
        numbers = numbers_in(text, (invoice.number for invoice in invoices))
        named = [invoice for invoice in invoices if invoice.number in numbers]
    if not named:
        return None

    clients = sorted({invoice.client for invoice in named})
    listed = ", ".join(sorted(invoice.number for invoice in named))
    if len(clients) > 1:
        return Match(
            MatchOutcome.UNMATCHED,
            f"names invoices {listed} of several clients ({', '.join(clients)})",
        )
    wrong = [i for i in named if i.currency != entry.amount.currency]
    if wrong:
        return Match(
            MatchOutcome.UNMATCHED,
            f"names invoice {wrong[0].number} billed in {wrong[0].currency}, "
            f"but the entry is in {entry.amount.currency}",
            client=clients[0],
        )
    ordered = sorted(named, key=lambda invoice: (invoice.due_date, invoice.number))
    return Match(
        MatchOutcome.MATCHED_BY_REFERENCE,
        f"reference names {listed}",
        client=clients[0],
        invoices=tuple(invoice.number for invoice in ordered),
    )


def _named_in_reference(
    reference: str | None, invoices: Sequence[OpenInvoice]
) -> list[OpenInvoice]:
    """Open invoices the reference names whole, or through a creditor reference."""
    if not reference:
        return []
    wanted = {"".join(invoice_key(reference))}
    body = creditor_reference_body(reference)
    if body is not None:
        wanted.add(body)
    return [i for i in invoices if "".join(invoice_key(i.number)) in wanted]


def _by_client_and_amount(
    entry: StatementEntry,
    invoices: Sequence[OpenInvoice],
    clients: Sequence[ClientIdentity],
) -> Match:
    identified = sorted(_identify(entry, clients))
    if not identified:
        return Match(MatchOutcome.UNMATCHED, "no invoice number and no known payer")
    if len(identified) > 1:
        return Match(
            MatchOutcome.UNMATCHED,
            f"the payer fits several clients ({', '.join(identified)})",
        )

    (client,) = identified
    amount = entry.amount.amount
    own = sorted(
        (
            invoice
            for invoice in invoices
            if invoice.client == client and invoice.currency == entry.amount.currency
        ),
        key=lambda invoice: (invoice.due_date, invoice.number),
    )
    chosen = _fitting(own, amount)
    if chosen is None:
        return Match(
            MatchOutcome.UNMATCHED,
            f"client {client} identified, but none of its {len(own)} open "
            f"invoice(s) in {entry.amount.currency} fits {amount}",
            client=client,
        )
    return Match(
        MatchOutcome.MATCHED_BY_CLIENT_AND_AMOUNT,
        f"client {client} by payer, amount fits {', '.join(chosen)}",
        client=client,
        invoices=chosen,
    )


def _identify(entry: StatementEntry, clients: Sequence[ClientIdentity]) -> set[str]:
    payer = payer_key(entry)
    text = f"{entry.reference or ''} {entry.remittance_text}"
    named = numbers_in(text, (client.external_id for client in clients))
    found = set(named)
    for client in clients:
        if payer is not None and payer in client.payer_ids:
            found.add(client.external_id)
        if payer is not None and payer == normal_name(client.name):
            found.add(client.external_id)
    return found


def _fitting(own: list[OpenInvoice], amount: Decimal) -> tuple[str, ...] | None:
    """The client's invoices an amount pays: the only one, oldest adding up, or
    the one with exactly that balance."""
    if len(own) == 1:
        return (own[0].number,)
    total = Decimal(0)
    for count, invoice in enumerate(own, 1):
        total += invoice.balance
        if total == amount:
            return tuple(i.number for i in own[:count])
        if total > amount:
            break
    exact = [invoice for invoice in own if invoice.balance == amount]
    return (exact[0].number,) if len(exact) == 1 else None


def _reversal(entry: StatementEntry, earlier: Sequence[EarlierCredit]) -> Match:
    original = find_reversed(entry, earlier)
    code = f" ({entry.return_reason})" if entry.return_reason else ""
    if original is None:
        return Match(
            MatchOutcome.REVERSAL,
            f"a reversal{code} of a credit not found among imported entries; "
            "check whether a payment must be undone, then ignore it",
        )
    if original.payment_id is None:
        return Match(
            MatchOutcome.REVERSAL,
            f"reverses entry {original.entry_id}{code}, which recorded no "
            "payment; ignore it, and the entry it reverses",
            reverses=original.entry_id,
        )
    return Match(
        MatchOutcome.REVERSAL,
        f"reverses entry {original.entry_id}{code}, recorded as payment "
        f"{original.payment_id}: undo that payment, then ignore this entry",
        reverses=original.entry_id,
    )


def _same_origin(entry: StatementEntry, credit: EarlierCredit) -> bool:
    if entry.reference and credit.reference:
        return invoice_key(entry.reference) == invoice_key(credit.reference)
    payer = payer_key(entry)
    return payer is not None and payer == normal_name(credit.counterparty)
