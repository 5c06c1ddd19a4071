"""The floor for the run: raw SQL that reads the due rows and writes the actions.

One SELECT of the due invoices with the run's own predicate (open, next action
on or before the as-of date, joined to the contract for the lead days), then
one INSERT of one action row per invoice read (executemany on SQLite, COPY
on PostgreSQL), in one transaction. No planning, no messages and no ORDER BY
(which on SQLite, without statistics, makes the planner walk the whole
client index): what any implementation must at least pay to the database.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from typing import Any

from stores import Books

DUE_ROWS = """
SELECT i.id, i.client_id, i.number, i.currency, i.amount, i.balance,
       i.issue_date, i.due_date, i.rule_version_id, c.notice_lead_days,
       i.paused_until, i.first_contact_on, i.last_payment_on, i.payment_url
FROM invoices AS i LEFT OUTER JOIN contracts AS c ON c.id = i.contract_id
WHERE i.next_action_on <= {mark} AND i.status = 'open'
"""
ACTION_COLUMNS = (
    "invoice_id",
    "rule_version_id",
    "stage_key",
    "channel",
    "status",
    "reason",
    "scheduled_on",
    "taken_on",
    "message_id",
)


@dataclass(frozen=True)
class BaselineResult:
    seconds: float
    selected: int
    inserted: int


def run_baseline(books: Books, name: str, as_of: date) -> BaselineResult:
    """Time the raw SQL on database `name`, connection included."""
    started = time.perf_counter()
    connection = books.connect(name)
    try:
        if books.kind == "sqlite":
            selected = _sqlite(connection, as_of)
        else:
            selected = _postgres(connection, as_of)
        seconds = time.perf_counter() - started
        row = connection.execute("SELECT count(*) FROM actions").fetchone()
    finally:
        connection.close()
    return BaselineResult(seconds, selected, int(row[0]))


def _action(row: tuple[Any, ...], as_of: str) -> tuple[Any, ...]:
    return (row[0], row[8], "bill", "email", "done", "", as_of, as_of, None)


def _sqlite(connection: Any, as_of: date) -> int:
    day = as_of.isoformat()
    connection.execute("BEGIN")
    due = connection.execute(DUE_ROWS.format(mark="?"), (day,)).fetchall()
    insert = (
        f"INSERT INTO actions ({', '.join(ACTION_COLUMNS)}) "
        f"VALUES ({', '.join('?' for _ in ACTION_COLUMNS)})"
    )
    connection.executemany(insert, [_action(row, day) for row in due])
    connection.execute("COMMIT")
    return len(due)


def _postgres(connection: Any, as_of: date) -> int:
    day = as_of.isoformat()
    with connection.cursor() as cursor:
        due = cursor.execute(DUE_ROWS.format(mark="%s"), (as_of,)).fetchall()
        statement = f"COPY actions ({', '.join(ACTION_COLUMNS)}) FROM STDIN"
        with cursor.copy(statement) as copy:
            for row in due:
                copy.write_row(_action(row, day))
    connection.commit()
    return len(due)
