"""Reading a spreadsheet saved as CSV: its header, its rows and their cells.

Reading never stops at the first problem: a bad cell records where it is
(the row as a spreadsheet counts it, the header being row 1), the column, the
reason and the fix, so a user can mend a whole file in one go.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache

from babel.numbers import list_currencies

from duecourse.domain.errors import InvalidField, InvalidImport
from duecourse.domain.money import minor_units, parse_amount, parse_currency


@dataclass(frozen=True)
class RowProblem:
    row: int
    column: str
    reason: str
    fix: str = ""

    def __str__(self) -> str:
        text = f"row {self.row}, column {self.column}: {self.reason}"
        return f"{text}; {self.fix}" if self.fix else text


class Row:
    """One data row; reading a bad cell records a problem and gives None."""

    def __init__(self, number: int, cells: dict[str, str], problems: list[RowProblem]):
        self.number = number
        self.cells = cells
        self.problems = problems
        self.failures = 0

    def fail(self, column: str, reason: str, fix: str = "") -> None:
        self.problems.append(RowProblem(self.number, column, reason, fix))
        self.failures += 1

    def text(self, column: str, required: bool = True, limit: int = 200) -> str | None:
        value = self.cells.get(column, "").strip()
        if not value:
            if required:
                self.fail(column, "is empty", "fill it in")
            return None
        if len(value) > limit:
            self.fail(column, f"is longer than {limit} characters", "shorten it")
            return None
        return value

    def amount(
        self,
        column: str,
        currency: str | None,
        required: bool = True,
        positive: bool = True,
    ) -> Decimal | None:
        value = self.text(column, required, limit=40)
        if value is None:
            return None
        try:
            amount = parse_amount(value, column)
        except InvalidField as problem:
            self.fail(column, problem.problem, problem.fix)
            return None
        places = -int(amount.as_tuple().exponent)
        if amount < 0 or (positive and amount == 0):
            self.fail(column, f"{value} is not more than zero")
        elif currency is not None and places > minor_units(currency):
            self.fail(
                column,
                f"{value} has more decimals than {currency} has",
                f"round it to {minor_units(currency)} decimal places",
            )
        else:
            return amount
        return None

    def day(self, column: str, required: bool = True) -> date | None:
        value = self.text(column, required, limit=10)
        if value is None:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(column, f"{value!r} is not a date", "write it like 2025-03-31")
            return None

    def whole(
        self, column: str, allowed: range | tuple[int, ...], required: bool = True
    ) -> int | None:
        value = self.text(column, required, limit=6)
        if value is None:
            return None
        if not value.isdigit() or int(value) not in allowed:
            shown = (
                f"{allowed[0]} to {allowed[-1]}"
                if isinstance(allowed, range)
                else (", ".join(map(str, allowed)))
            )
            self.fail(column, f"{value!r} is not allowed", f"use {shown}")
            return None
        return int(value)

    def currency(self, column: str = "currency") -> str | None:
        value = self.text(column, limit=3)
        if value is None:
            return None
        try:
            code = parse_currency(value, column)
        except InvalidField as problem:
            self.fail(column, problem.problem, problem.fix)
            return None
        if code not in currencies():
            self.fail(column, f"{code} is not an ISO 4217 currency", "use EUR, BRL...")
            return None
        return code


@dataclass(frozen=True)
class Columns:
    """The columns a kind of file must and may have."""

    kind: str
    required: tuple[str, ...]
    optional: tuple[str, ...]


def read_rows(
    text: str | bytes,
    source: str,
    columns: Columns,
    problems: list[RowProblem],
) -> list[Row]:
    """The data rows, after checking the header; empty rows are left out.

    The delimiter is whichever of comma and semicolon the header uses most:
    spreadsheets set to a decimal comma save with semicolons.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidImport(
                source, ["the file is not UTF-8 text; save it as CSV UTF-8"]
            ) from None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise InvalidImport(source, ["the file is empty; the first row is the header"])
    first = text.splitlines()[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","

    try:
        lines = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as problem:
        raise InvalidImport(source, [f"the file is not CSV: {problem}"]) from None
    header = [name.strip().lower() for name in lines[0]]
    check_header(columns, header, source)

    rows = []
    for number, cells in enumerate(lines[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        row = Row(number, dict(zip(header, cells, strict=False)), problems)
        if len(cells) > len(header):
            row.fail(
                header[-1],
                f"the row has {len(cells)} cells but the header {len(header)}",
                f"quote values that contain {delimiter!r}",
            )
        rows.append(row)
    return rows


def check_header(columns: Columns, header: list[str], source: str) -> None:
    known = columns.required + columns.optional
    problems = [
        RowProblem(1, name, "is missing from the header", f"add a {name} column")
        for name in columns.required
        if name not in header
    ]
    for name in header:
        if name not in known:
            problems.append(
                RowProblem(
                    1,
                    name or "(blank)",
                    f"is not a column of {columns.kind} files",
                    f"rename or remove it; the columns are {', '.join(known)}",
                )
            )
        elif header.count(name) > 1:
            problems.append(RowProblem(1, name, "appears twice", "keep one"))
    if problems:
        raise InvalidImport(source, list(dict.fromkeys(map(str, problems))))


@cache
def currencies() -> frozenset[str]:
    return frozenset(list_currencies())
