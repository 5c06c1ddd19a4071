"""What the fault tests share: a large book, the real CLI, and what to expect.

The book is written in bulk with SQLAlchemy Core so that a few thousand
invoices take a moment. The CLI runs as a real `duecourse` process, so that a
test can kill it with SIGKILL. The reference is a dry run of the same book:
it writes and rolls back in one transaction, so it records exactly what an
undisturbed run would, and the faults are judged against it.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, insert, select, text

from duecourse.adapters.db.engine import make_engine
from duecourse.adapters.db.models import (
    Action,
    Base,
    Client,
    Contact,
    Invoice,
    Message,
)
from duecourse.adapters.db.rule_store import SqlRuleStore
from duecourse.adapters.db.run_store import SqlRunStore
from duecourse.adapters.email.render import MessageTemplates
from duecourse.adapters.links import SignedLinks
from duecourse.adapters.penalty_terms import penalty_check, penalty_quote, penalty_terms
from duecourse.services.compose import Composer, Rows
from duecourse.services.ports import ClientRecord
from duecourse.services.rules import apply_rule
from duecourse.services.run import run_collection
from tests.support.smtp import SmtpTestServer, running_smtp_server

DEFAULT_RULE = Path(__file__).resolve().parents[2] / "src/duecourse/rules/default.toml"
AS_OF = date(2026, 6, 17)  # a Wednesday, in the past: messages may go at once
SECRET = "fault-secret-key"
CLI = Path(sys.executable).with_name("duecourse")

Pair = tuple[int, str]


@dataclass(frozen=True)
class Expected:
    """What a run of the book as of AS_OF records: actions and message groups."""

    actions: frozenset[tuple[int, str, str]]
    emails: Counter[frozenset[Pair]]

    @property
    def pairs(self) -> set[Pair]:
        return {(invoice, stage) for invoice, stage, _ in self.actions}


def midday_zone(now: datetime) -> str:
    """A time zone where it is about noon now, far from the rule's quiet hours."""
    shift = max(-12, min(14, 12 - now.hour))
    if shift == 0:
        return "Etc/GMT"
    # POSIX signs: Etc/GMT-3 is three hours ahead of UTC.
    return f"Etc/GMT{-shift:+d}"


def load_book(engine: Engine, clients: int, seed: int) -> int:
    """Clients in Brazil with one to three invoices each, due around AS_OF;
    returns the number of invoices. Every invoice is due for a look."""
    rng = random.Random(seed)
    created = datetime.now(UTC)
    zone = midday_zone(created)
    _apply_default_rule(engine, created)
    with engine.begin() as connection:
        connection.execute(
            insert(Client),
            [
                {
                    "id": n,
                    "external_id": f"client-{n}",
                    "name": f"Client {n}",
                    "country": "BR",
                    "time_zone": zone,
                    "language": "pt_BR",
                    "currency": "BRL",
                    "segment": None,
                    "rule_name": None,
                    "created_at": created,
                }
                for n in range(1, clients + 1)
            ],
        )
        connection.execute(
            insert(Contact),
            [
                {
                    "client_id": n,
                    "name": f"Contact {n}",
                    "email": f"billing-{n}@client.example",
                    "phone": None,
                    "receives_bills": True,
                }
                for n in range(1, clients + 1)
            ],
        )
        rows = []
        for n in range(1, clients + 1):
            for k in range(rng.randint(1, 3)):
                # Up to 25 days late: every stage but the suspension is in play.
                due = AS_OF + timedelta(days=rng.randint(-25, 12))
                amount = Decimal(rng.randint(3000, 300000)) / 100
                rows.append(
                    {
                        "client_id": n,
                        "contract_id": None,
                        "number": f"INV-{n}-{k}",
                        "currency": "BRL",
                        "amount": amount,
                        "balance": amount,
                        "issue_date": due - timedelta(days=30),
                        "due_date": due,
                        "status": "open",
                        "payment_url": None,
                        "rule_version_id": None,
                        "next_action_on": due - timedelta(days=30),
                        "paused_until": None,
                        "first_contact_on": None,
                        "last_payment_on": None,
                    }
                )
        connection.execute(insert(Invoice), rows)
    _advance_postgres_sequences(engine)
    return len(rows)


def _apply_default_rule(engine: Engine, now: datetime) -> None:
    store = SqlRuleStore(engine)
    try:
        apply_rule(
            store,
            MessageTemplates(),
            DEFAULT_RULE.read_text(encoding="utf-8"),
            "default.toml",
            "fault test",
            now,
            penalty_check,
        )
    finally:
        store.close()


def _advance_postgres_sequences(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as connection:
        connection.execute(
            text("SELECT setval('clients_id_seq', (SELECT max(id) FROM clients))")
        )


def expected_run(engine: Engine) -> Expected:
    """A dry run of the book as of AS_OF: what one undisturbed run records."""
    actions: set[tuple[int, str, str]] = set()
    emails: Counter[frozenset[Pair]] = Counter()

    def observe(_clients: list[ClientRecord], rows: Rows, recorded: set[Pair]) -> None:
        for action in rows.actions:
            if (action.invoice_id, action.stage_key) in recorded:
                actions.add((action.invoice_id, action.stage_key, action.status))
        for message in rows.messages:
            if recorded.intersection(message.covers):
                emails[frozenset(recorded.intersection(message.covers))] += 1

    links = SignedLinks(SECRET, "http://127.0.0.1:8000", 30)
    run_collection(
        lambda: SqlRunStore(engine),
        Composer(links, penalty_quote, penalty_terms),
        AS_OF,
        datetime.now(UTC),
        dry_run=True,
        observe=observe,
    )
    return Expected(frozenset(actions), emails)


def run_in_process(engine: Engine) -> None:
    """The run as of AS_OF, queued for delivery now, as the CLI would do it."""
    links = SignedLinks(SECRET, "http://127.0.0.1:8000", 30)
    composer = Composer(links, penalty_quote, penalty_terms)
    run_collection(lambda: SqlRunStore(engine), composer, AS_OF, datetime.now(UTC))


def recorded_run(engine: Engine) -> Expected:
    """What the database holds, in the same shape as `expected_run`."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                Action.invoice_id, Action.stage_key, Action.status, Action.message_id
            )
        ).all()
    emails: dict[str, set[Pair]] = {}
    for invoice, stage, _status, message_id in rows:
        if message_id is not None:
            emails.setdefault(message_id, set()).add((invoice, stage))
    return Expected(
        frozenset((invoice, stage, status) for invoice, stage, status, _ in rows),
        Counter(frozenset(covers) for covers in emails.values()),
    )


def count_actions(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count(Action.id))).scalar_one())


def message_statuses(engine: Engine) -> dict[str, str]:
    with engine.connect() as connection:
        rows = connection.execute(select(Message.id, Message.status))
        return {message_id: status for message_id, status in rows}


# --- the real CLI ---------------------------------------------------------


@dataclass(frozen=True)
class Cli:
    """Starts `duecourse` as its own process, on one database."""

    database_url: str
    folder: Path

    def start(self, *args: str, smtp_url: str | None = None) -> subprocess.Popen[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DUECOURSE_")}
        env["DUECOURSE_DATABASE_URL"] = self.database_url
        env["DUECOURSE_SECRET_KEY"] = SECRET
        if smtp_url is not None:
            env["DUECOURSE_SMTP_URL"] = smtp_url
        return subprocess.Popen(
            [str(CLI), *args],
            cwd=self.folder,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run_to_end(self, *args: str, smtp_url: str | None = None) -> str:
        """Run a command to completion; its standard output."""
        process = self.start(*args, smtp_url=smtp_url)
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err[-2000:]
        return out


def kill(process: subprocess.Popen[str]) -> bool:
    """SIGKILL, no goodbye; whether it was still running when killed."""
    running = process.poll() is None
    process.kill()
    process.communicate(timeout=30)
    return running


def wait_until(condition: Callable[[], bool], limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "the condition never came true"
        time.sleep(0.01)


def queued(summary: str) -> int:
    """The messages a run's summary line says it queued."""
    found = re.search(r"(\d+) message\(s\) queued", summary)
    assert found, summary
    return int(found.group(1))


def sent(summary: str) -> int:
    """The deliveries a dispatcher's summary line reports."""
    found = re.search(r"\bsent (\d+)", summary)
    return int(found.group(1)) if found else 0


@pytest.fixture
def cli_for(tmp_path: Path) -> Callable[[str], Cli]:
    def make(database_url: str) -> Cli:
        return Cli(database_url, tmp_path)

    return make


@pytest.fixture
def slow_smtp_server() -> Iterator[SmtpTestServer]:
    """An SMTP server that takes a few milliseconds per message, so that a
    delivery of hundreds lasts long enough to be interrupted."""
    with running_smtp_server(delay=0.004) as server:
        yield server


@pytest.fixture
def postgres_engine(postgres_url: str) -> Iterator[Engine]:
    """The session's PostgreSQL database, empty before and after the test."""
    engine = make_engine(postgres_url)
    _empty(engine)
    yield engine
    _empty(engine)
    engine.dispose()


def _empty(engine: Engine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
