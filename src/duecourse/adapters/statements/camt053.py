"""ISO 20022 CAMT.053 (BankToCustomerStatement), versions 001.02 to 001.08.

Format facts that shape this reader:

- the version is the root namespace, `urn:iso:std:iso:20022:tech:xsd:
  camt.053.001.NN`; the elements used here keep their names across 02-08,
  except that 08 wraps status in `Sts/Cd` and parties in `Pty`;
- a message holds one or more `Stmt`, each with `Ntry` bookings; an entry's
  `Amt` is unsigned and `CdtDbtInd` (CRDT or DBIT) gives the direction of that
  booking, also when `RvslInd` marks it as a reversal;
- one entry can carry several `TxDtls` (a batch): each becomes its own
  statement entry, with its own amount (`TxDtls/Amt` from 04, `AmtDtls/TxAmt`
  before) as long as those amounts add up to the booking;
- balances are typed: OPBD (or PRCD, the previous closing) opens, CLBD closes.

The XML is read with defusedxml, which refuses entity and DTD tricks.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from duecourse.domain.errors import InvalidField
from duecourse.domain.money import Money, parse_currency
from duecourse.domain.statements import (
    InvalidStatement,
    Statement,
    StatementEntry,
    make_entry_id,
    number_repeated_ids,
)

logger = logging.getLogger(__name__)

FORMAT = "CAMT.053"
_NAMESPACE = re.compile(r"^\{urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.(\d\d)\}")
_SUPPORTED_VERSIONS = range(2, 9)
_AMOUNT = re.compile(r"^\d+(\.\d+)?$")
# The payer's placeholder when it had no end-to-end id of its own.
_NO_REFERENCE = "NOTPROVIDED"


class _Reader:
    """Walks one CAMT.053 document; knows its namespace and names its places."""

    def __init__(self, source: str, namespace: str) -> None:
        self.source = source
        self.ns = namespace

    def fail(self, where: str, problem: str, fix: str = "") -> InvalidStatement:
        return InvalidStatement(self.source, FORMAT, where, problem, fix)

    def all(self, node: Element, path: str) -> list[Element]:
        return node.findall(self._qualified(path))

    def one(self, node: Element, path: str) -> Element | None:
        return node.find(self._qualified(path))

    def text(self, node: Element, *paths: str) -> str | None:
        """The stripped text of the first path present and not empty."""
        for path in paths:
            found = self.one(node, path)
            if found is not None and found.text and found.text.strip():
                return found.text.strip()
        return None

    def required(self, node: Element, path: str, where: str) -> str:
        value = self.text(node, path)
        if value is None:
            raise self.fail(where, f"the element {path} is missing or empty")
        return value

    def _qualified(self, path: str) -> str:
        return "/".join(f"{{{self.ns}}}{step}" for step in path.split("/"))

    def money(self, amount: Element | None, where: str) -> Money:
        if amount is None or not amount.text or not _AMOUNT.match(amount.text.strip()):
            shown = None if amount is None else amount.text
            raise self.fail(where, f"{shown!r} is not an amount like 1234.50")
        try:
            currency = parse_currency(amount.get("Ccy", ""), "Ccy")
        except InvalidField as error:
            raise self.fail(where, str(error)) from None
        return Money(Decimal(amount.text.strip()), currency)

    def signed(self, node: Element, money: Money, where: str) -> Money:
        indicator = self.text(node, "CdtDbtInd")
        if indicator not in ("CRDT", "DBIT"):
            raise self.fail(where, f"CdtDbtInd is {indicator!r}, not CRDT or DBIT")
        return money if indicator == "CRDT" else -money

    def day(self, node: Element, path: str, where: str) -> date | None:
        """A `Dt` or `DtTm` under path, as the calendar day the bank wrote."""
        value = self.text(node, f"{path}/Dt", f"{path}/DtTm")
        if value is None:
            return None
        try:
            # The date as written, in the bank's zone: no conversion to UTC.
            return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
        except ValueError:
            raise self.fail(f"{where}/{path}", f"{value!r} is not a date") from None


def parse_camt053(data: bytes, source: str) -> tuple[Statement, ...]:
    """Every statement in a CAMT.053 message, in file order."""
    document = _load(data, source)
    version = _NAMESPACE.match(document.tag)
    if version is None or not document.tag.endswith("}Document"):
        raise InvalidStatement(
            source,
            FORMAT,
            "the root element",
            f"{document.tag} is not a camt.053 Document",
            "export the statement as ISO 20022 camt.053",
        )
    if int(version.group(1)) not in _SUPPORTED_VERSIONS:
        raise InvalidStatement(
            source,
            FORMAT,
            "the root element",
            f"version 001.{version.group(1)} is not supported",
            "export camt.053.001.02 to camt.053.001.08",
        )

    reader = _Reader(source, document.tag[1 : document.tag.index("}")])
    statements = reader.all(document, "BkToCstmrStmt/Stmt")
    if not statements:
        raise reader.fail("BkToCstmrStmt", "the message holds no Stmt element")
    return tuple(
        _statement(reader, node, f"Stmt[{n}]") for n, node in enumerate(statements, 1)
    )


def _load(data: bytes, source: str) -> Element:
    try:
        root: Element = fromstring(data)
    except ParseError as error:
        line, column = error.position
        # expat appends the position to its message; it is given apart here.
        reason = str(error).split(": line ")[0]
        raise InvalidStatement(
            source,
            FORMAT,
            f"line {line}, column {column}",
            f"the XML is broken or cut short ({reason})",
            "export the statement again; nothing from it was read",
        ) from None
    except DefusedXmlException as error:
        raise InvalidStatement(
            source, FORMAT, "the XML prolog", f"unsafe XML was refused ({error})"
        ) from None
    return root


def _statement(reader: _Reader, node: Element, where: str) -> Statement:
    statement_id = reader.required(node, "Id", where)
    where = f"Stmt {statement_id!r}"
    account = reader.text(node, "Acct/Id/IBAN", "Acct/Id/Othr/Id")
    if account is None:
        raise reader.fail(f"{where}/Acct", "the account has no IBAN or Othr/Id")

    opening = _balance(reader, node, ("OPBD", "PRCD"), where)
    closing = _balance(reader, node, ("CLBD",), where)
    entries: list[StatementEntry] = []
    for n, entry in enumerate(reader.all(node, "Ntry"), 1):
        entries += _entries(reader, entry, account, f"{where}/Ntry[{n}]")

    currency = reader.text(node, "Acct/Ccy")
    for balance in (opening, closing):
        if currency is None and balance is not None:
            currency = balance.currency
    if currency is None and entries:
        currency = entries[0].amount.currency
    if currency is None:
        raise reader.fail(f"{where}/Acct", "no currency in Acct/Ccy, Bal or Ntry")

    return Statement(
        statement_id=statement_id,
        account=account,
        currency=currency,
        opening_balance=opening,
        closing_balance=closing,
        entries=number_repeated_ids(entries),
    )


def _balance(
    reader: _Reader, node: Element, codes: tuple[str, ...], where: str
) -> Money | None:
    by_code = {}
    for n, balance in enumerate(reader.all(node, "Bal"), 1):
        code = reader.text(balance, "Tp/CdOrPrtry/Cd")
        if code in codes:
            here = f"{where}/Bal[{n}]"
            by_code[code] = reader.signed(
                balance, reader.money(reader.one(balance, "Amt"), here), here
            )
    return next((by_code[code] for code in codes if code in by_code), None)


@dataclass(frozen=True)
class _Booking:
    """What one `Ntry` says for all of its transactions."""

    account: str
    booking_date: date
    value_date: date | None
    is_reversal: bool
    bank_reference: str | None
    note: str
    batch_id: str | None


def _entries(
    reader: _Reader, node: Element, account: str, where: str
) -> list[StatementEntry]:
    status = reader.text(node, "Sts", "Sts/Cd")
    if status is not None and status != "BOOK":
        # Pending or information-only lines are not money on the account yet.
        logger.warning("skipped a %s (not booked) entry at %s", status, where)
        return []

    booked = reader.signed(node, reader.money(reader.one(node, "Amt"), where), where)
    booking_date = reader.day(node, "BookgDt", where)
    if booking_date is None:
        raise reader.fail(where, "the entry has no booking date (BookgDt)")
    booking = _Booking(
        account=account,
        booking_date=booking_date,
        value_date=reader.day(node, "ValDt", where),
        is_reversal=reader.text(node, "RvslInd") in ("true", "1"),
        bank_reference=_bank_reference(reader, node),
        note=reader.text(node, "AddtlNtryInf") or "",
        batch_id=reader.text(node, "NtryDtls/Btch/PmtInfId"),
    )

    details = reader.all(node, "NtryDtls/TxDtls")
    if len(details) <= 1:
        return [_entry(reader, booking, booked, details[0] if details else None, 0)]
    amounts = [_transaction_amount(reader, tx, booked, where) for tx in details]
    if not _adds_up(booked, amounts):
        # The booking is what moved on the account; without amounts that add up
        # to it, splitting would invent figures, so the entry stays whole.
        logger.warning("kept batch %s whole: its TxDtls amounts do not add up", where)
        return [_entry(reader, booking, booked, None, 0)]
    return [
        _entry(reader, booking, amount, tx, n)
        for n, (tx, amount) in enumerate(zip(details, amounts, strict=True), 1)
        if amount is not None
    ]


def _bank_reference(reader: _Reader, node: Element) -> str | None:
    # Both are kept: ING repeats NtryRef on a reversal and AcctSvcrRef on a
    # return, but not the two together.
    parts = [reader.text(node, "NtryRef"), reader.text(node, "AcctSvcrRef")]
    if not any(parts):
        parts = [reader.text(node, "NtryDtls/TxDtls/Refs/AcctSvcrRef")]
    return "/".join(part for part in parts if part) or None


def _transaction_amount(
    reader: _Reader, tx: Element, booked: Money, where: str
) -> Money | None:
    element = reader.one(tx, "Amt")
    if element is None:
        element = reader.one(tx, "AmtDtls/TxAmt/Amt")
    if element is None:
        return None
    money = reader.money(element, f"{where}/TxDtls")
    if reader.text(tx, "CdtDbtInd") is None:
        return money if booked.amount >= 0 else -money
    return reader.signed(tx, money, f"{where}/TxDtls")


def _adds_up(booked: Money, amounts: list[Money | None]) -> bool:
    known = [amount for amount in amounts if amount is not None]
    if len(known) != len(amounts):
        return False
    if any(amount.currency != booked.currency for amount in known):
        return False
    return sum((amount.amount for amount in known), Decimal(0)) == booked.amount


def _entry(
    reader: _Reader, booking: _Booking, amount: Money, tx: Element | None, index: int
) -> StatementEntry:
    """A statement entry for one transaction; index is 0 for a whole booking."""
    reference, text, name, reason = booking.batch_id, booking.note, None, None
    if tx is not None:
        reference = _reference(reader, tx)
        ustrd = [e.text.strip() for e in reader.all(tx, "RmtInf/Ustrd") if e.text]
        text = (
            " ".join(line for line in ustrd if line)
            or reader.text(tx, "AddtlTxInf", "RmtInf/Strd/AddtlRmtInf")
            or booking.note
        )
        name = _counterparty(reader, tx, amount, booking.is_reversal)
        reason = reader.text(tx, "RtrInf/Rsn/Cd", "RtrInf/Rsn/Prtry")

    bank_reference = booking.bank_reference
    if bank_reference is not None:
        bank_reference += "/reversal" if booking.is_reversal else ""
        bank_reference += f"/{index}" if index else ""
    fingerprint = f"{reference or ''}|{name or ''}|{text}|{index}"
    return StatementEntry(
        entry_id=make_entry_id(
            booking.account, booking.booking_date, amount, fingerprint, bank_reference
        ),
        account_id=booking.account,
        booking_date=booking.booking_date,
        value_date=booking.value_date,
        amount=amount,
        reference=reference,
        remittance_text=text,
        counterparty_name=name,
        is_reversal=booking.is_reversal,
        return_reason=reason,
    )


def _reference(reader: _Reader, tx: Element) -> str | None:
    """The payer's reference: creditor reference, invoice number, end-to-end id."""
    structured = reader.text(
        tx, "RmtInf/Strd/CdtrRefInf/Ref", "RmtInf/Strd/RfrdDocInf/Nb"
    )
    if structured is not None:
        return structured
    end_to_end = reader.text(tx, "Refs/EndToEndId")
    return None if end_to_end == _NO_REFERENCE else end_to_end


def _counterparty(
    reader: _Reader, tx: Element, amount: Money, is_reversal: bool
) -> str | None:
    # The parties describe the original payment: for money that came in
    # (or the reversal of money that went out) the other side is the debtor.
    came_in = (amount.amount > 0) != is_reversal
    sides = ("Dbtr", "Cdtr") if came_in else ("Cdtr", "Dbtr")
    paths = [f"RltdPties/{side}/{n}" for side in sides for n in ("Nm", "Pty/Nm")]
    return reader.text(tx, *paths)
