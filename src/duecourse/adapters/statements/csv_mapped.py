"""Bank exports in CSV, read through a column mapping given by the caller.

CSV exports differ per bank in every respect, so nothing is guessed but the
delimiter: the caller says which column holds the date, the signed amount and
optionally the reference, counterparty name and text; the date format; and
whether amounts use a decimal comma (`1.234,56`) or point (`1,234.56`).
Columns are named by header (`"Amount"`) or by position from 0.

A CSV carries no balances, so the statement has none; its id is a hash of
the file's bytes, stable when the same file is read again.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from duecourse.domain.errors import InvalidField
from duecourse.domain.money import Money, parse_currency
from duecourse.domain.statements import (
    InvalidStatement,
    Statement,
    StatementEntry,
    make_entry_id,
    number_repeated_ids,
)

FORMAT = "CSV"
Column = str | int
_DELIMITERS = (";", "\t", ",", "|")
_AMOUNT = re.compile(r"^[+-]?\d+(\.\d+)?$")


@dataclass(frozen=True)
class CsvMapping:
    """Where each value sits in a bank's CSV export, and how it is written.

    `account` and `currency` describe the account the file belongs to, since
    most exports leave them out. `delimiter` is found from the header line
    when not given.
    """

    account: str
    currency: str
    date: Column
    amount: Column
    reference: Column | None = None
    name: Column | None = None
    text: Column | None = None
    value_date: Column | None = None
    bank_reference: Column | None = None
    date_format: str = "%Y-%m-%d"
    decimal_comma: bool = False
    delimiter: str | None = None
    has_header: bool = True
    encoding: str = "utf-8-sig"


def parse_csv(data: bytes, source: str, mapping: CsvMapping) -> tuple[Statement, ...]:
    """The one statement a mapped CSV file holds."""
    try:
        currency = parse_currency(mapping.currency)
        text = data.decode(mapping.encoding)
    except (InvalidField, UnicodeDecodeError, LookupError) as error:
        raise InvalidStatement(source, FORMAT, "the mapping", str(error)) from None
    if not mapping.account.strip():
        raise InvalidStatement(source, FORMAT, "the mapping", "account is empty")

    rows = _rows(text, source, mapping)
    header = rows.pop(0)[1] if mapping.has_header and rows else []
    positions = _positions(header, source, mapping)
    entries = [
        _entry(number, row, positions, mapping, currency, source)
        for number, row in rows
        if any(cell.strip() for cell in row)
    ]

    digest = hashlib.sha256(data).hexdigest()[:16]
    return (
        Statement(
            statement_id=f"csv:{digest}",
            account=mapping.account.strip(),
            currency=currency,
            opening_balance=None,
            closing_balance=None,
            entries=number_repeated_ids(entries),
        ),
    )


def _rows(text: str, source: str, mapping: CsvMapping) -> list[tuple[int, list[str]]]:
    first_line = text.split("\n", 1)[0]
    delimiter = mapping.delimiter or next(
        (d for d in _DELIMITERS if d in first_line), ","
    )
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows = []
    try:
        for row in reader:
            rows.append((reader.line_num, row))
    except csv.Error as error:
        raise InvalidStatement(
            source,
            FORMAT,
            f"line {reader.line_num}",
            f"the CSV is broken ({error})",
            "check for an unclosed quote; was the file cut short?",
        ) from None
    if not rows:
        raise InvalidStatement(source, FORMAT, "line 1", "the file is empty")
    return rows


def _positions(header: list[str], source: str, mapping: CsvMapping) -> dict[str, int]:
    """The column index of every mapped value, checked against the header."""
    names = [cell.strip() for cell in header]
    wanted = {
        "date": mapping.date,
        "amount": mapping.amount,
        "reference": mapping.reference,
        "name": mapping.name,
        "text": mapping.text,
        "value_date": mapping.value_date,
        "bank_reference": mapping.bank_reference,
    }
    positions = {}
    for key, column in wanted.items():
        if column is None:
            continue
        if isinstance(column, int):
            positions[key] = column
        elif column.strip() in names:
            positions[key] = names.index(column.strip())
        else:
            raise InvalidStatement(
                source,
                FORMAT,
                "line 1",
                f"there is no column {column!r} for {key}",
                f"the header has {', '.join(repr(n) for n in names) or 'nothing'}",
            )
    return positions


def _entry(
    number: int,
    row: list[str],
    positions: dict[str, int],
    mapping: CsvMapping,
    currency: str,
    source: str,
) -> StatementEntry:
    def cell(key: str) -> str:
        if key not in positions:
            return ""
        if positions[key] >= len(row):
            raise InvalidStatement(
                source,
                FORMAT,
                f"line {number}",
                f"the row has {len(row)} columns, "
                f"so no column {positions[key]} for {key}",
            )
        return row[positions[key]].strip()

    booking_date = _date(cell("date"), "date", number, mapping, source)
    value_date = _date(cell("value_date"), "value_date", number, mapping, source)
    if booking_date is None:
        raise InvalidStatement(source, FORMAT, f"line {number}", "the date is empty")
    amount = Money(_amount(cell("amount"), number, mapping, source), currency)

    reference, name, text = (
        cell("reference") or None,
        cell("name") or None,
        cell("text"),
    )
    fingerprint = f"{reference or ''}|{name or ''}|{text}"
    account = mapping.account.strip()
    return StatementEntry(
        entry_id=make_entry_id(
            account, booking_date, amount, fingerprint, cell("bank_reference") or None
        ),
        account_id=account,
        booking_date=booking_date,
        value_date=value_date,
        amount=amount,
        reference=reference,
        remittance_text=text,
        counterparty_name=name,
    )


def _date(
    value: str, key: str, number: int, mapping: CsvMapping, source: str
) -> date | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, mapping.date_format).date()  # noqa: DTZ007
    except ValueError:
        raise InvalidStatement(
            source,
            FORMAT,
            f"line {number}, column {key}",
            f"{value!r} is not a date in the format {mapping.date_format}",
        ) from None


def _amount(value: str, number: int, mapping: CsvMapping, source: str) -> Decimal:
    """A signed amount; thousands separators, spaces and a trailing minus allowed."""
    text = re.sub(r"[\s\u00a0']", "", value)
    if text.endswith("-"):
        # German exports write the sign last: 12,50-
        text = "-" + text[:-1]
    grouping, decimal = (".", ",") if mapping.decimal_comma else (",", ".")
    text = text.replace(grouping, "").replace(decimal, ".")
    try:
        if not _AMOUNT.match(text):
            raise InvalidOperation
        return Decimal(text)
    except InvalidOperation:
        style = "1.234,56" if mapping.decimal_comma else "1,234.56"
        raise InvalidStatement(
            source,
            FORMAT,
            f"line {number}, column amount",
            f"{value!r} is not an amount written like {style}",
            "check decimal_comma in the mapping",
        ) from None
