"""Bank statement files read into `Statement` values.

`parse_statement` reads a file or its bytes in one of four formats, found
from the content when not named: `camt053` (ISO 20022 CAMT.053 XML), `ofx`
(OFX 1.x SGML or 2.x XML), `mt940` (SWIFT MT940) or `csv` (needs a
`CsvMapping`). Any fault raises `InvalidStatement` and nothing is returned.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from duecourse.adapters.statements.camt053 import parse_camt053
from duecourse.adapters.statements.csv_mapped import CsvMapping, parse_csv
from duecourse.adapters.statements.mt940 import parse_mt940
from duecourse.adapters.statements.ofx import parse_ofx
from duecourse.domain.statements import InvalidStatement, Statement, join_statements

__all__ = [
    "FORMATS",
    "CsvMapping",
    "InvalidStatement",
    "detect_format",
    "parse_statement",
    "parse_statements",
]

logger = logging.getLogger(__name__)

FORMATS = {"camt053": "CAMT.053", "ofx": "OFX", "mt940": "MT940", "csv": "CSV"}
_CAMT = re.compile(rb"urn:iso:std:iso:20022:tech:xsd:camt\.053\.")
_MT940_START = re.compile(rb"^(\{1:|:940:|:20:)", re.MULTILINE)


def parse_statement(
    path_or_bytes: str | os.PathLike[str] | bytes,
    format: str | None = None,
    csv_mapping: CsvMapping | None = None,
    *,
    source: str | None = None,
) -> Statement:
    """The statement in a file, its parts joined when the file holds several.

    A file may hold consecutive statements of one account (MT940 days, CAMT
    `Stmt` elements); they are joined into one. Statements of another account
    that have no entries (an empty credit-card list next to a bank account in
    OFX) are left out with a warning; if two accounts have entries, use
    `parse_statements`. `source` names bytes in error messages.
    """
    statements, name, statement_format = _parse(
        path_or_bytes, format, csv_mapping, source
    )
    accounts = {s.account for s in statements if s.entries} or {statements[0].account}
    if len(accounts) > 1:
        raise InvalidStatement(
            name,
            FORMATS[statement_format],
            "the whole file",
            f"it holds entries of accounts {', '.join(sorted(accounts))}",
            "read it with parse_statements to get one statement per account",
        )
    (account,) = accounts
    kept = [s for s in statements if s.account == account]
    for skipped in (s for s in statements if s.account != account):
        logger.warning(
            "left out empty statement %s of another account in %s",
            skipped.statement_id,
            name,
        )
    currencies = {s.currency for s in kept}
    if len(currencies) > 1:
        raise InvalidStatement(
            name,
            FORMATS[statement_format],
            "the whole file",
            f"account {account} is given in {', '.join(sorted(currencies))}",
            "read it with parse_statements to get each statement apart",
        )
    return join_statements(kept)


def parse_statements(
    path_or_bytes: str | os.PathLike[str] | bytes,
    format: str | None = None,
    csv_mapping: CsvMapping | None = None,
    *,
    source: str | None = None,
) -> tuple[Statement, ...]:
    """Every statement in a file, in file order, as the bank gave them."""
    return _parse(path_or_bytes, format, csv_mapping, source)[0]


def detect_format(data: bytes) -> str | None:
    """The format a file's content shows, or None when it shows none."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if _CAMT.search(head):
        return "camt053"
    if b"OFXHEADER" in head.upper() or b"<OFX>" in head.upper():
        return "ofx"
    if _MT940_START.search(head) and b":25:" in head:
        return "mt940"
    return None


def _parse(
    path_or_bytes: str | os.PathLike[str] | bytes,
    format: str | None,
    csv_mapping: CsvMapping | None,
    source: str | None,
) -> tuple[tuple[Statement, ...], str, str]:
    data, name = _read(path_or_bytes, source)
    statement_format = _format(data, name, format, csv_mapping)
    if not data.strip():
        raise InvalidStatement(
            name, FORMATS[statement_format], "the start", "the file is empty"
        )

    if statement_format == "camt053":
        statements = parse_camt053(data, name)
    elif statement_format == "ofx":
        statements = parse_ofx(_decode(data), name)
    elif statement_format == "mt940":
        statements = parse_mt940(_decode(data), name)
    else:
        if csv_mapping is None:
            raise InvalidStatement(
                name,
                "CSV",
                "the call",
                "a CSV file needs a column mapping",
                "pass csv_mapping=CsvMapping(...)",
            )
        statements = parse_csv(data, name, csv_mapping)

    for statement in statements:
        gap = statement.balance_gap()
        if gap is not None and not gap.is_zero:
            # Test files do this; from a bank it means bookings are missing.
            logger.warning(
                "statement %s in %s: closing balance differs from opening plus "
                "entries by %s",
                statement.statement_id,
                name,
                gap,
            )
    return statements, name, statement_format


def _read(
    path_or_bytes: str | os.PathLike[str] | bytes, source: str | None
) -> tuple[bytes, str]:
    if isinstance(path_or_bytes, bytes):
        return path_or_bytes, source or "the statement given as bytes"
    path = Path(path_or_bytes)
    try:
        return path.read_bytes(), source or str(path)
    except OSError as error:
        raise InvalidStatement(
            source or str(path),
            "bank",
            "the file",
            f"it cannot be read ({error.strerror})",
        ) from None


def _format(
    data: bytes, name: str, given: str | None, csv_mapping: CsvMapping | None
) -> str:
    if given is not None:
        key = given.lower().replace(".", "").replace("-", "").replace("_", "")
        if key not in FORMATS:
            raise InvalidStatement(
                name,
                given,
                "the call",
                f"{given!r} is not a known format",
                f"use one of {', '.join(FORMATS)}",
            )
        return key
    found = detect_format(data)
    if found is None and csv_mapping is not None:
        return "csv"
    if found is None:
        raise InvalidStatement(
            name,
            "bank",
            "the start",
            "its format is none of CAMT.053, OFX or MT940",
            "pass format=, or a csv_mapping for a CSV export",
        )
    return found


def _decode(data: bytes) -> str:
    # OFX and MT940 headers rarely state their encoding truthfully; UTF-8 is
    # tried first, then Windows-1252, the usual bank default in Europe and US.
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")
