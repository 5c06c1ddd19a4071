"""Building a benchmark book: duecourse's schema and rule, then bulk rows.

The schema comes from duecourse's own migrations and the default rule is
applied through its own service, so the book is what an installation holds;
only the billing records are bulk-loaded, without the ORM.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from rows import (
    CLIENT_COLUMNS,
    CONTACT_COLUMNS,
    CONTRACT_COLUMNS,
    INVOICE_COLUMNS,
    client_rows,
    contact_rows,
    contract_rows,
    invoice_rows,
)
from shape import BookShape, default_rule_text
from stores import Books

from duecourse.adapters.db.engine import make_engine, migrate
from duecourse.adapters.db.rule_store import SqlRuleStore
from duecourse.adapters.email.render import MessageTemplates
from duecourse.adapters.penalty_terms import penalty_check
from duecourse.services.rules import apply_rule

CREATED_AT = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class BuiltBook:
    name: str
    shape: BookShape
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def build_book(books: Books, name: str, shape: BookShape) -> BuiltBook:
    """Create `name` in `books` holding a book of `shape`."""
    built = BuiltBook(name, shape)
    started = time.perf_counter()
    books.create(name)
    version_id = _schema_and_rule(books.url(name))
    _lap(built, "schema", started)

    stamp = _timestamp(books.kind)
    tables = (
        ("clients", CLIENT_COLUMNS, client_rows(shape, stamp)),
        ("contacts", CONTACT_COLUMNS, contact_rows(shape)),
        ("contracts", CONTRACT_COLUMNS, contract_rows(shape)),
        ("invoices", INVOICE_COLUMNS, invoice_rows(shape, version_id)),
    )
    for table, columns, chunks in tables:
        started = time.perf_counter()
        built.rows[table] = books.load(name, table, columns, chunks)
        _lap(built, table, started)

    started = time.perf_counter()
    books.finish(name)
    _lap(built, "finish", started)
    return built


def _schema_and_rule(url: str) -> int:
    engine = make_engine(url)
    try:
        migrate(engine)
        store = SqlRuleStore(engine)
        try:
            record, _created = apply_rule(
                store,
                MessageTemplates(),
                default_rule_text(),
                "default.toml",
                "bench",
                CREATED_AT,
                penalty_check,
            )
        finally:
            store.close()
    finally:
        engine.dispose()
    return record.id


def _timestamp(kind: str) -> str:
    text = CREATED_AT.strftime("%Y-%m-%d %H:%M:%S.%f")
    return f"{text}+00" if kind == "postgresql" else text


def _lap(built: BuiltBook, step: str, started: float) -> None:
    built.seconds[step] = round(time.perf_counter() - started, 2)
