"""OFX bank and credit-card statements: 1.x (SGML) and 2.x (XML).

Format facts that shape this reader:

- 1.x files open with `KEY:VALUE` header lines and are SGML: a leaf element
  such as `<TRNAMT>-12.50` is never closed, only aggregates are (`</STMTTRN>`).
  2.x files open with `<?xml ...?><?OFX ...?>` and close every element. One
  tolerant reader takes both: a tag followed by text is a leaf, a closing tag
  may close it or not, and an aggregate's closing tag ends anything still open
  inside it. A file that ends with an aggregate still open is cut short;
- a statement is `STMTRS` (bank) or `CCSTMTRS` (credit card): `CURDEF` is the
  currency, `BANKACCTFROM/ACCTID` or `CCACCTFROM/ACCTID` the account,
  `LEDGERBAL/BALAMT` the closing balance; OFX carries no opening balance;
- each `STMTTRN` has a signed `TRNAMT` (positive is money in), `DTPOSTED`
  (`YYYYMMDD` then an optional time and zone, of which only the day is used),
  `FITID` (the bank's unique id for the transaction), `NAME` and `MEMO`;
  a `CURRENCY` aggregate inside it means its amount is in that currency.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from xml.sax.saxutils import unescape

from duecourse.domain.errors import InvalidField
from duecourse.domain.money import Money, parse_currency
from duecourse.domain.statements import (
    InvalidStatement,
    Statement,
    StatementEntry,
    make_entry_id,
    number_repeated_ids,
)

FORMAT = "OFX"
_TOKEN = re.compile(
    r"<!\[CDATA\[(?P<cdata>.*?)\]\]>"
    r"|<!--.*?-->"
    r"|<(?P<close>/?)(?P<tag>[A-Za-z0-9_.]+)\s*>"
    r"|(?P<text>[^<]+)"
    r"|(?P<junk><)",
    re.DOTALL,
)
_START = re.compile(r"<OFX\s*>", re.IGNORECASE)
_DAY = re.compile(r"^(\d{4})(\d{2})(\d{2})")
_ENTITIES = {"&quot;": '"', "&apos;": "'", "&nbsp;": " "}


@dataclass
class _Node:
    """An OFX element: a leaf has text, an aggregate has children."""

    tag: str
    line: int
    text: str = ""
    children: list[_Node] = field(default_factory=list)

    def first(self, *tags: str) -> _Node | None:
        """The first child with one of these tags, else the first descendant."""
        for tag in tags:
            for child in self.children:
                if child.tag == tag:
                    return child
        for tag in tags:
            for child in self.children:
                found = child.first(tag)
                if found is not None:
                    return found
        return None

    def every(self, tag: str) -> list[_Node]:
        """Every descendant with this tag, in document order."""
        found: list[_Node] = []
        for child in self.children:
            found += [child] if child.tag == tag else child.every(tag)
        return found

    def value(self, *tags: str) -> str:
        node = self.first(*tags)
        return node.text if node is not None else ""


def parse_ofx(text: str, source: str) -> tuple[Statement, ...]:
    """Every bank and credit-card statement in an OFX file, in file order."""
    root = _read_tree(text, source)
    statements = root.every("STMTRS") + root.every("CCSTMTRS")
    if not statements:
        raise InvalidStatement(
            source,
            FORMAT,
            "<OFX>",
            "there is no STMTRS or CCSTMTRS statement",
            "export a bank or credit-card statement",
        )
    statements.sort(key=lambda node: node.line)
    return tuple(_statement(node, source) for node in statements)


def _read_tree(text: str, source: str) -> _Node:
    start = _START.search(text)
    if start is None:
        raise InvalidStatement(source, FORMAT, "the start", "there is no <OFX> element")
    newlines = [m.start() for m in re.finditer("\n", text)]

    def line_of(position: int) -> int:
        return bisect.bisect_left(newlines, position) + 1

    root = _Node("#document", 0)
    stack = [root]
    just_closed: _Node | None = None  # a leaf whose 2.x closing tag may follow
    for match in _TOKEN.finditer(text, start.start()):
        line = line_of(match.start())
        if match["junk"] is not None:
            raise InvalidStatement(
                source,
                FORMAT,
                f"line {line}",
                "a '<' opens no complete tag (is the file cut short?)",
            )
        if match["text"] is not None and not match["text"].strip():
            continue
        leaf_text = match["cdata"] if match["cdata"] is not None else match["text"]
        if leaf_text is not None:
            node = stack[-1]
            if len(stack) == 1 or node.children:
                raise InvalidStatement(
                    source,
                    FORMAT,
                    f"line {line}",
                    f"text {leaf_text.strip()[:30]!r} stands outside any leaf element",
                )
            node.text += leaf_text if match["cdata"] is not None else _clean(leaf_text)
            just_closed = stack.pop()
            continue
        if match["tag"] is None:
            continue  # a comment
        tag = match["tag"].upper()
        if not match["close"]:
            node = _Node(tag, line)
            stack[-1].children.append(node)
            stack.append(node)
            just_closed = None
        elif just_closed is not None and just_closed.tag == tag:
            just_closed = None
        elif tag in (node.tag for node in stack[1:]):
            # Closing an aggregate also ends SGML leaves left empty inside it.
            while stack.pop().tag != tag:
                pass
            just_closed = None
        else:
            raise InvalidStatement(
                source, FORMAT, f"line {line}", f"</{tag}> closes no open element"
            )
    if len(stack) > 1:
        inner = stack[-1]
        raise InvalidStatement(
            source,
            FORMAT,
            f"<{inner.tag}> opened on line {inner.line}",
            "the file ends before it is closed (cut short?)",
            "export the statement again; nothing from it was read",
        )
    return root


def _clean(text: str) -> str:
    return unescape(text.strip(), _ENTITIES)


def _statement(node: _Node, source: str) -> Statement:
    where = f"<{node.tag}> on line {node.line}"
    account = node.value("ACCTID").strip()
    if not account:
        raise InvalidStatement(source, FORMAT, where, "there is no ACCTID")
    currency = _currency(node.value("CURDEF") or node.value("CURSYM"), source, where)

    entries = [
        _entry(transaction, account, currency, source)
        for transaction in node.every("STMTTRN")
    ]
    ledger = node.first("LEDGERBAL")
    closing = None
    if ledger is not None and ledger.value("BALAMT"):
        closing = Money(_amount(ledger.first("BALAMT"), source), currency)

    lists = node.every("BANKTRANLIST")
    starts = sorted(
        _days(lst.value("DTSTART")) for lst in lists if lst.value("DTSTART")
    )
    ends = sorted(_days(lst.value("DTEND")) for lst in lists if lst.value("DTEND"))
    period = f":{starts[0]}-{ends[-1]}" if starts and ends else ""
    return Statement(
        statement_id=f"{account}{period}",
        account=account,
        currency=currency,
        opening_balance=None,
        closing_balance=closing,
        entries=number_repeated_ids(entries),
    )


def _entry(node: _Node, account: str, currency: str, source: str) -> StatementEntry:
    where = f"<STMTTRN> on line {node.line}"
    foreign = node.first("CURRENCY")
    if foreign is not None and foreign.value("CURSYM"):
        currency = _currency(foreign.value("CURSYM"), source, where)
    amount = Money(_amount(node.first("TRNAMT"), source, where), currency)
    posted = _date(node.first("DTPOSTED"), source, where)
    if posted is None:
        raise InvalidStatement(source, FORMAT, where, "DTPOSTED is missing or empty")
    value_date = _date(node.first("DTAVAIL", "VALUEDATE"), source, where)

    name = node.value("NAME").strip() or None
    memo = node.value("MEMO").strip()
    reference = node.value("REFNUM").strip() or None
    fitid = node.value("FITID").strip() or None
    fingerprint = f"{reference or ''}|{name or ''}|{memo}"
    return StatementEntry(
        entry_id=make_entry_id(account, posted, amount, fingerprint, fitid),
        account_id=account,
        booking_date=posted,
        value_date=value_date,
        amount=amount,
        reference=reference,
        remittance_text=memo,
        counterparty_name=name,
    )


def _amount(node: _Node | None, source: str, where: str = "") -> Decimal:
    where = f"<{node.tag}> on line {node.line}" if node is not None else where
    text = node.text.strip() if node is not None else ""
    # Some European banks write the decimal comma even in OFX.
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite():
        raise InvalidStatement(source, FORMAT, where, f"{text!r} is not an amount")
    return amount


def _date(node: _Node | None, source: str, where: str) -> date | None:
    if node is None or not node.text.strip():
        return None
    match = _DAY.match(node.text.strip())
    try:
        if match is None:
            raise ValueError
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise InvalidStatement(
            source,
            FORMAT,
            f"<{node.tag}> on line {node.line}",
            f"{node.text.strip()!r} is not a date like 20240131",
        ) from None


def _days(value: str) -> str:
    return value.strip()[:8]


def _currency(value: str, source: str, where: str) -> str:
    try:
        return parse_currency(value, "CURDEF")
    except InvalidField as error:
        raise InvalidStatement(source, FORMAT, where, str(error)) from None
