"""SWIFT MT940 customer statements, as Dutch, German and other banks export them.

Format facts that shape this reader:

- a field starts a line with `:TAG:`; every following line that does not is a
  continuation of it (banks wrap at 65 characters, even inside a word);
- a statement is `:20:` reference, `:25:` account, `:28C:` sequence,
  `:60F:`/`:60M:` opening balance, any number of `:61:` bookings each
  optionally followed by its `:86:` narrative, and `:62F:`/`:62M:` closing
  balance. `:64:`, `:65:` (available balances) and a trailing `:86:` after the
  closing balance are information only;
- a balance is mark (C/D), `YYMMDD`, currency and an amount with a decimal
  comma (`C140219EUR662,23`);
- `:61:` is `YYMMDD` value date, optional `MMDD` entry (booking) date, mark C,
  D, RC (reversal of a credit, so money out) or RD (reversal of a debit, so
  money in), optional funds code, amount, `N`+3 type code, customer
  reference up to 16 characters, optional `//` bank reference, and a next
  line of supplementary details;
- a file may hold several statements, and may be wrapped in SWIFT blocks
  (`{1:...}{2:...}{4:` ... `-}`) or start with a `:940:` line.

The `:86:` narrative is read by `_narrative` below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from duecourse.domain.errors import InvalidField
from duecourse.domain.money import Money, parse_currency
from duecourse.domain.statements import (
    InvalidStatement,
    Statement,
    StatementEntry,
    make_entry_id,
    number_repeated_ids,
)

FORMAT = "MT940"
_FIELD = re.compile(r"^:(\d\d[A-Z]?):(.*)$")
_BALANCE = re.compile(r"^([CD])(\d{6})([A-Z]{3})(\d[\d,]*)$")
_BOOKING = re.compile(
    r"^(?P<value>\d{6})(?P<entry>\d{4})?(?P<mark>RC|RD|C|D)(?P<funds>[A-Z])?"
    r"(?P<amount>\d[\d,]*)(?P<type>[NSF][A-Z0-9]{3})(?P<customer>.*?)"
    r"(?://(?P<bank>.*))?$"
)
_NARRATIVE_KEY = re.compile(
    r"/(EREF|PREF|MARF|CSID|CNTP|REMI|RTRN|ORDP|BENM|NAME|ADDR|ISDT|TRCD|PURP"
    r"|ULTC|ULTD|ULTB|EXCH|CHGS|SVCL|IBAN|BIC|ID|RREF)/"
)
# Placeholders some banks write in the customer reference instead of a value;
# ING writes EREF or PREF to say "the reference is in :86:".
_NO_REFERENCE = {"NONREF", "NOTPROVIDED", "EREF", "PREF", "MARF"}
# SWIFT envelope lines ({1:...}{2:...}{4: and -}{5:...}) and Rabobank's
# :940: first line.
_ENVELOPE = re.compile(r"^(\{[1-5]:.*|-\}.*|:940:)$")
_LINE_WIDTH = 65


@dataclass
class _Field:
    tag: str
    line: int
    lines: list[str] = field(default_factory=list)

    @property
    def joined(self) -> str:
        return "".join(self.lines)


def parse_mt940(text: str, source: str) -> tuple[Statement, ...]:
    """Every statement in an MT940 file, in file order."""
    fields = _fields(text, source)
    groups: list[list[_Field]] = []
    for item in fields:
        if item.tag == "20":
            groups.append([])
        if not groups:
            raise InvalidStatement(
                source,
                FORMAT,
                f"line {item.line}",
                f":{item.tag}: comes before any :20: statement reference",
            )
        groups[-1].append(item)
    if not groups:
        raise InvalidStatement(
            source, FORMAT, "line 1", "there is no :20: field", "is this MT940?"
        )
    return tuple(_statement(group, source) for group in groups)


def _fields(text: str, source: str) -> list[_Field]:
    fields: list[_Field] = []
    wrapped = False
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip()
        if not line.strip() or _ENVELOPE.match(line.strip()):
            wrapped = (wrapped or "{4:" in line) and not line.startswith("-}")
            continue
        start = _FIELD.match(line)
        if line == "-" and fields and fields[-1].tag not in ("61", "86"):
            continue  # the end mark some banks write after each statement
        if start is not None:
            fields.append(_Field(start[1], number, [start[2]]))
        elif fields:
            fields[-1].lines.append(line)
        else:
            raise InvalidStatement(
                source, FORMAT, f"line {number}", f"{line[:30]!r} is not a :TAG: field"
            )
    if wrapped:
        raise InvalidStatement(
            source,
            FORMAT,
            "the end of the file",
            "the SWIFT block {4: is never closed by -} (cut short?)",
            "export the statement again",
        )
    return fields


def _statement(fields: list[_Field], source: str) -> Statement:
    first = fields[0]
    reference = first.joined.strip()
    where = f":20:{reference} (line {first.line})"
    by_tag: dict[str, _Field] = {}
    for item in fields:
        by_tag.setdefault(item.tag, item)
    for needed in ("25", "60F|60M", "62F|62M"):
        if not any(tag in by_tag for tag in needed.split("|")):
            raise InvalidStatement(
                source,
                FORMAT,
                where,
                f"the statement has no :{needed}: field"
                + (" (cut short?)" if needed.startswith("62") else ""),
            )

    opening = _balance(by_tag.get("60F") or by_tag["60M"], source)
    closing = _balance(by_tag.get("62F") or by_tag["62M"], source)
    account = _account(by_tag["25"].joined.strip(), opening.currency)
    sequence = by_tag["28C"].joined.strip() if "28C" in by_tag else ""
    entries = []
    for n, item in enumerate(fields):
        if item.tag == "61":
            after = fields[n + 1] if n + 1 < len(fields) else None
            narrative = after if after is not None and after.tag == "86" else None
            entries.append(_entry(item, narrative, account, opening, source))

    return Statement(
        statement_id=f"{reference}/{sequence}" if sequence else reference,
        account=account,
        currency=opening.currency,
        opening_balance=opening,
        closing_balance=closing,
        entries=number_repeated_ids(entries),
    )


def _account(value: str, currency: str) -> str:
    # ING and Rabobank append the currency to the account (…4908765EUR).
    if value.endswith(currency) and len(value) > len(currency):
        value = value[: -len(currency)]
    return value.strip()


def _balance(item: _Field, source: str) -> Money:
    value = item.joined.strip()
    match = _BALANCE.match(value)
    if match is None:
        raise InvalidStatement(
            source,
            FORMAT,
            f":{item.tag}: on line {item.line}",
            f"{value!r} is not a balance like C240131EUR1234,56",
        )
    _day(match[2], item, source)
    amount = _decimal(match[4], item, source)
    money = Money(amount, _currency(match[3], item, source))
    return money if match[1] == "C" else -money


def _entry(
    item: _Field, narrative: _Field | None, account: str, opening: Money, source: str
) -> StatementEntry:
    where = f":61: on line {item.line}"
    match = _BOOKING.match(item.lines[0].strip())
    if match is None:
        raise InvalidStatement(
            source,
            FORMAT,
            where,
            f"{item.lines[0].strip()!r} does not read as "
            "value date, mark (C, D, RC, RD), amount and N-type code",
        )
    value_date = _day(match["value"], item, source)
    booking_date = _entry_date(match["entry"], value_date)
    amount = Money(_decimal(match["amount"], item, source), opening.currency)
    if match["mark"] in ("D", "RC"):
        amount = -amount

    bank = (match["bank"] or "").strip()
    rest = [line.strip() for line in item.lines[1:]]
    # A short bank reference wrapped onto the next line continues there.
    if bank and rest and not rest[0].startswith("/") and len(bank + rest[0]) <= 16:
        bank += rest.pop(0)
    details = _narrative(narrative.lines if narrative is not None else [])
    customer = match["customer"].strip()
    reference = details.reference
    if reference is None and customer.upper() not in _NO_REFERENCE:
        reference = customer or None

    text = details.text or "".join(rest)
    fingerprint = f"{reference or ''}|{details.name or ''}|{text}"
    return StatementEntry(
        entry_id=make_entry_id(
            account, booking_date, amount, fingerprint, bank or None
        ),
        account_id=account,
        booking_date=booking_date,
        value_date=value_date,
        amount=amount,
        reference=reference,
        remittance_text=text,
        counterparty_name=details.name,
        is_reversal=match["mark"] in ("RC", "RD"),
        return_reason=details.return_reason,
    )


def _entry_date(mmdd: str | None, value_date: date) -> date:
    """The booking date; its year is the value date's, or the next or previous."""
    if mmdd is None:
        return value_date
    month, day = int(mmdd[:2]), int(mmdd[2:])
    candidates = []
    for year in (value_date.year - 1, value_date.year, value_date.year + 1):
        try:
            candidates.append(date(year, month, day))
        except ValueError:
            continue
    if not candidates:
        return value_date
    return min(candidates, key=lambda day_: abs((day_ - value_date).days))


@dataclass(frozen=True)
class _Narrative:
    text: str
    name: str | None
    reference: str | None
    return_reason: str | None


def _narrative(lines: list[str]) -> _Narrative:
    """Read `:86:` as structured `/KEY/value` codes when it has them, else text.

    Structured narratives (ING, Rabobank, the Dutch and SEPA conventions) are
    joined without separators, since banks wrap them mid-word; free text keeps
    a space between lines that were not cut at the full line width.
    """
    joined = "".join(line.strip() for line in lines)
    keys = list(_NARRATIVE_KEY.finditer(joined))
    if not joined.startswith("/") or not keys:
        text = ""
        for n, line in enumerate(lines):
            full = len(line) + (4 if n == 0 else 0) >= _LINE_WIDTH
            text += line.strip() + ("" if full else " ")
        return _Narrative(text.strip(), None, None, None)

    values: dict[str, str] = {}
    for n, key in enumerate(keys):
        end = keys[n + 1].start() if n + 1 < len(keys) else len(joined)
        values.setdefault(key[1], joined[key.end() : end].rstrip("/"))
    remittance = values.get("REMI", "")
    structured = re.match(r"^STRD/[A-Z]*/(.+)$", remittance)
    reference = structured[1] if structured else None
    if reference is None and values.get("EREF", "NOTPROVIDED") != "NOTPROVIDED":
        reference = values["EREF"]
    text = re.sub(r"^(USTD|STRD/[A-Z]*)/+", "", remittance) if remittance else ""
    counterparty = values.get("CNTP", "").split("/")
    name = values.get("NAME") or (counterparty[2] if len(counterparty) > 2 else "")
    reason = values.get("RTRN", "").split("/")[0] or None
    return _Narrative(text.strip("/ "), name.strip() or None, reference, reason)


def _day(yymmdd: str, item: _Field, source: str) -> date:
    # SWIFT years are two digits; statements are from this century.
    try:
        return date(2000 + int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:6]))
    except ValueError:
        raise InvalidStatement(
            source,
            FORMAT,
            f":{item.tag}: on line {item.line}",
            f"{yymmdd!r} is not a date in YYMMDD",
        ) from None


def _decimal(value: str, item: _Field, source: str) -> Decimal:
    # SWIFT amounts always use the decimal comma, and may end with it ("400,").
    if value.count(",") != 1:
        raise InvalidStatement(
            source,
            FORMAT,
            f":{item.tag}: on line {item.line}",
            f"{value!r} is not an amount with one decimal comma, like 1234,56",
        )
    return Decimal(value.replace(",", ".").rstrip(".") or "0")


def _currency(code: str, item: _Field, source: str) -> str:
    try:
        return parse_currency(code)
    except InvalidField as error:
        raise InvalidStatement(
            source, FORMAT, f":{item.tag}: on line {item.line}", str(error)
        ) from None
