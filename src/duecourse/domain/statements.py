"""Bank statements: the bookings a bank reports on one of our accounts.

A statement is read from a bank's file (CAMT.053, OFX, MT940 or a mapped CSV)
and later matched to invoices. This module holds only the values; the parsers
live in `duecourse.adapters.statements`.

Invariants:

- an entry's amount is signed from our side: positive is money received,
  negative is money paid out (a reversal keeps the sign of its own booking);
- an entry's `entry_id` is stable: reading the same file twice gives the same
  ids, so an import can skip the entries it already holds;
- within one statement no two entries share an id.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from duecourse.domain.errors import DuecourseError
from duecourse.domain.money import Money


class InvalidStatement(DuecourseError):
    """A statement file cannot be read; names the file, format, place and fault.

    Nothing from the file is returned when this is raised.
    """

    def __init__(
        self,
        source: str,
        statement_format: str,
        where: str,
        problem: str,
        fix: str = "",
    ) -> None:
        self.source = source
        self.statement_format = statement_format
        self.where = where
        self.problem = problem
        self.fix = fix
        sentence = (
            f"{source} is not a readable {statement_format} statement: "
            f"at {where}: {problem}"
        )
        if fix:
            sentence += f"; {fix}"
        super().__init__(sentence)


@dataclass(frozen=True)
class StatementEntry:
    """One booking on the account, as the bank reported it.

    `reference` is what the payer gave to identify the payment (a structured
    creditor reference, an end-to-end id or an invoice number), exactly as
    written; `None` when the bank gave none. `return_reason` is the bank's
    code (such as AC06 or MD06) when the booking returns an earlier payment.
    """

    entry_id: str
    account_id: str
    booking_date: date
    value_date: date | None
    amount: Money
    reference: str | None
    remittance_text: str
    counterparty_name: str | None
    is_reversal: bool = False
    return_reason: str | None = None

    @property
    def is_credit(self) -> bool:
        """True when the booking brought money in."""
        return self.amount.amount > 0


@dataclass(frozen=True)
class Statement:
    """The bookings of one account over a period, with balances when given."""

    statement_id: str
    account: str
    currency: str
    opening_balance: Money | None
    closing_balance: Money | None
    entries: tuple[StatementEntry, ...]

    def __post_init__(self) -> None:
        repeated = [
            i for i, n in Counter(e.entry_id for e in self.entries).items() if n > 1
        ]
        if repeated:
            raise ValueError(f"entry ids must be unique in a statement: {repeated}")

    def balance_gap(self) -> Money | None:
        """Closing minus opening minus every entry: zero for a complete statement.

        `None` when a balance is missing or the amounts are in more than one
        currency, because then nothing can be concluded.
        """
        if self.opening_balance is None or self.closing_balance is None:
            return None
        amounts = [self.opening_balance, self.closing_balance]
        amounts += [entry.amount for entry in self.entries]
        if len({money.currency for money in amounts}) > 1:
            return None

        gap = self.closing_balance - self.opening_balance
        for entry in self.entries:
            gap = gap - entry.amount
        return gap


def make_entry_id(
    account: str,
    booking_date: date,
    amount: Money,
    text: str,
    bank_reference: str | None = None,
) -> str:
    """A stable id for deduplication, from the bank's reference when it gave one.

    Without a reference the id is a hash of account, date, signed amount and
    text: the same booking read again gives the same id. Two identical
    bookings in one file are told apart by `number_repeated_ids`.
    """
    day = booking_date.isoformat()
    if bank_reference:
        return f"{account}:{day}:{bank_reference}"

    fingerprint = "|".join([account, day, str(amount.amount), amount.currency, text])
    digest = hashlib.sha256(fingerprint.encode("utf-8")).hexdigest()[:20]
    return f"{account}:{day}:#{digest}"


def number_repeated_ids(
    entries: Iterable[StatementEntry],
) -> tuple[StatementEntry, ...]:
    """Suffix the 2nd, 3rd... entry sharing an id with `~2`, `~3`, in file order.

    Banks do repeat references (ING gives a direct debit and its reversal the
    same entry reference), and two equal card payments on one day hash alike;
    numbering by position keeps the ids unique yet stable on a re-read.
    """
    seen: Counter[str] = Counter()
    numbered = []
    for entry in entries:
        seen[entry.entry_id] += 1
        count = seen[entry.entry_id]
        if count > 1:
            entry = replace(entry, entry_id=f"{entry.entry_id}~{count}")
        numbered.append(entry)
    return tuple(numbered)


def join_statements(parts: Sequence[Statement]) -> Statement:
    """Consecutive statements of one account, as one statement.

    The opening balance is the first part's, the closing balance the last
    part's; the entries keep the file's order.
    """
    if not parts:
        raise ValueError("join_statements needs at least one statement")
    first, last = parts[0], parts[-1]
    if len(parts) == 1:
        return first
    if {(p.account, p.currency) for p in parts} != {(first.account, first.currency)}:
        raise ValueError("only statements of one account and currency can be joined")

    entries = number_repeated_ids(e for part in parts for e in part.entries)
    return Statement(
        statement_id="+".join(part.statement_id for part in parts),
        account=first.account,
        currency=first.currency,
        opening_balance=first.opening_balance,
        closing_balance=last.closing_balance,
        entries=entries,
    )
