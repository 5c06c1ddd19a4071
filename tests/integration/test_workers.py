"""The run on real Celery workers: shards spread out, each stage recorded once.

Two worker processes serve a queue of their own on Redis (database 15) or
RabbitMQ, over the session's PostgreSQL database. What they record is
compared with an in-process dry run of the same book.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import Celery
from kombu import Connection, Queue
from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.orm import Session

from duecourse.adapters.db.engine import make_engine
from duecourse.adapters.db.models import (
    Action,
    Client,
    Contact,
    Contract,
    Invoice,
    Message,
)
from duecourse.adapters.db.run_store import SqlRunStore
from duecourse.entrypoints.workers import fan_out_run, make_app
from duecourse.services.compose import Rows
from duecourse.services.ports import ClientRecord
from duecourse.services.run import RunSummary, run_collection
from tests.integration.book import apply_default_rule, composer
from tests.support import service_absent

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

REDIS_URL = "redis://127.0.0.1:6379/15"
RABBIT_URL = "amqp://guest:guest@127.0.0.1:5672//"
AS_OF = date(2026, 3, 18)
CLIENTS = 300
SHARDS = 4
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class Plan:
    """What a single in-process run would record on the book."""

    summary: RunSummary
    pairs: set[tuple[int, str]] = field(default_factory=set)


@dataclass
class Workers:
    """Real `celery worker` processes, each with its log file."""

    folder: Path
    running: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, env: dict[str, str], *names: str) -> None:
        for name in names:
            log = (self.folder / f"{name}.log").open("wb")
            self.running[name] = subprocess.Popen(
                [
                    *(sys.executable, "-m", "celery"),
                    *("-A", "duecourse.entrypoints.workers", "worker"),
                    *("--pool", "solo", "--concurrency", "1", "-n", name),
                    *("--without-mingle", "--without-gossip", "--loglevel", "INFO"),
                ],
                env=env,
                cwd=self.folder,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            log.close()

    def wait_ready(self, via: Celery, deadline: float = 30) -> None:
        """Return once every worker answers a ping, so each can take a shard."""
        until = time.monotonic() + deadline
        while time.monotonic() < until:
            for name, process in self.running.items():
                if process.poll() is not None:
                    pytest.fail(f"worker {name} exited:\n{self.log(name)}")
            replies = via.control.ping(destination=list(self.running), timeout=0.5)
            answered = {name for reply in replies or [] for name in reply}
            if answered >= set(self.running):
                return
        pytest.fail("the workers did not answer a ping within 30 seconds")

    def kill(self, name: str) -> None:
        process = self.running.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def stop(self) -> None:
        for process in self.running.values():
            process.terminate()
        for process in self.running.values():
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        self.running.clear()

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")


@pytest.fixture
def book(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url)
    apply_default_rule(engine)
    _add_clients(engine, CLIENTS)
    yield engine
    engine.dispose()


@pytest.fixture
def queue() -> str:
    """A queue of this test's own, so no other worker takes its tasks."""
    return f"duecourse-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def redis_db() -> str:
    try:
        redis.Redis.from_url(REDIS_URL).flushdb()
    except redis.ConnectionError:
        service_absent(f"no Redis at {REDIS_URL}")
    return REDIS_URL


@pytest.fixture
def rabbit(queue: str) -> Iterator[str]:
    connection = Connection(RABBIT_URL, connect_timeout=2)
    try:
        connection.ensure_connection(max_retries=1)
    except connection.connection_errors:
        service_absent(f"no RabbitMQ at {RABBIT_URL}")
    yield RABBIT_URL
    # Queues on RabbitMQ outlive the test unless deleted.
    Queue(queue).bind(connection.default_channel).delete()
    connection.release()


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    started = Workers(tmp_path)
    yield started
    started.stop()


def worker_env(
    database_url: str, broker_url: str, queue: str, folder: Path, **more: str
) -> dict[str, str]:
    return {
        **os.environ,
        "DUECOURSE_DATABASE_URL": database_url,
        "DUECOURSE_BROKER_URL": broker_url,
        "DUECOURSE_QUEUE": queue,
        "DUECOURSE_SECRET_KEY": "test-secret",
        "DUECOURSE_MAILBOX": str(folder / "mailbox"),
        **more,
    }


def names() -> tuple[str, str]:
    tag = uuid.uuid4().hex[:8]
    return f"w1-{tag}@localhost", f"w2-{tag}@localhost"


def plan(engine: Engine) -> Plan:
    """Dry-run the whole book in this process: the counts a real run records."""
    pairs: set[tuple[int, str]] = set()

    def keep(_clients: list[ClientRecord], _rows: Rows, recorded: Any) -> None:
        pairs.update(recorded)

    summary = run_collection(
        lambda: SqlRunStore(engine),
        composer(),
        AS_OF,
        datetime.now(UTC),
        dry_run=True,
        observe=keep,
    )
    return Plan(summary, pairs)


def recorded(engine: Engine) -> list[tuple[int, str]]:
    with Session(engine) as session:
        rows = session.execute(select(Action.invoice_id, Action.stage_key)).all()
        return [(invoice, stage) for invoice, stage in rows]


def count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def counts(summary: RunSummary) -> dict[str, Any]:
    return {
        "clients": summary.clients,
        "invoices": summary.invoices,
        "done": summary.done.by_label,
        "skipped": summary.skipped.by_label,
        "messages": summary.messages,
        "call_tasks": summary.call_tasks,
        "notices": summary.notices,
    }


def test_the_shards_spread_over_two_workers_and_record_the_plan_once(
    book: Engine, redis_db: str, queue: str, workers: Workers, tmp_path: Path
) -> None:
    env = worker_env(book.url.render_as_string(False), redis_db, queue, tmp_path)
    first, second = names()
    workers.start(env, first, second)
    expected = plan(book)
    via = make_app(env)
    workers.wait_ready(via)

    done = fan_out_run(AS_OF, SHARDS, timeout=40, via=via)
    via.close()

    assert counts(done.summary) == counts(expected.summary)
    assert sorted(set(done.workers)) == sorted([first, second])
    actions = recorded(book)
    assert len(actions) == len(set(actions))
    assert set(actions) == expected.pairs
    assert count(book, Message) == expected.summary.messages


def test_a_shard_of_a_worker_killed_mid_run_is_redone_by_the_other_once(
    book: Engine, redis_db: str, queue: str, workers: Workers, tmp_path: Path
) -> None:
    env = worker_env(
        book.url.render_as_string(False),
        redis_db,
        queue,
        tmp_path,
        DUECOURSE_VISIBILITY_TIMEOUT="3",
    )
    doomed, survivor = names()
    workers.start(env, doomed, survivor)
    expected = plan(book)
    via = make_app(env)
    workers.wait_ready(via)

    # Holding a lock that stops the writing of actions keeps both workers in
    # the middle of a shard, so one can be killed there.
    with book.connect() as holder, ThreadPoolExecutor(1) as pool:
        holder.execute(text("LOCK TABLE actions IN SHARE MODE"))
        running = pool.submit(fan_out_run, AS_OF, SHARDS, timeout=45, via=via)
        _wait_for_lock_waiters(book, 2)
        workers.kill(doomed)
        holder.rollback()
        done = running.result(timeout=50)
    via.close()

    assert set(done.workers) == {survivor}
    actions = recorded(book)
    assert len(actions) == len(set(actions))
    assert set(actions) == expected.pairs
    assert count(book, Message) == expected.summary.messages


def test_the_command_runs_the_shards_over_rabbitmq(
    book: Engine, rabbit: str, queue: str, workers: Workers, tmp_path: Path
) -> None:
    env = worker_env(book.url.render_as_string(False), rabbit, queue, tmp_path)
    first, second = names()
    workers.start(env, first, second)
    expected = plan(book)
    via = make_app(env)
    workers.wait_ready(via)
    via.close()

    command = [
        str(Path(sys.executable).with_name("duecourse")),
        *("run-distributed", "--as-of", AS_OF.isoformat()),
        *("--shards", str(SHARDS), "--timeout", "40", "--no-send"),
    ]
    finished = subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )

    assert finished.returncode == 0, finished.stderr
    summary_line, spread_line = finished.stdout.splitlines()
    assert summary_line == expected.summary.line().removeprefix(
        "dry run, nothing stored: "
    )
    assert first in spread_line
    assert second in spread_line
    actions = recorded(book)
    assert len(actions) == len(set(actions))
    assert set(actions) == expected.pairs


def _wait_for_lock_waiters(engine: Engine, wanted: int) -> None:
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    until = time.monotonic() + 20
    while time.monotonic() < until:
        with engine.connect() as connection:
            if connection.scalar(query) == wanted:
                return
        time.sleep(0.1)
    pytest.fail(f"{wanted} workers did not reach the locked table in 20 seconds")


def _add_clients(engine: Engine, how_many: int) -> None:
    """Clients with one or two invoices each, due on days around AS_OF."""
    with Session(engine) as session:
        client_ids = session.scalars(
            insert(Client).returning(Client.id, sort_by_parameter_order=True),
            [
                {
                    "external_id": f"W{n:04d}",
                    "name": f"Client W{n:04d}",
                    "country": "BR",
                    "time_zone": "America/Sao_Paulo",
                    "language": "pt_BR",
                    "currency": "BRL",
                    "segment": "smb",
                    "rule_name": None,
                    "created_at": NOW,
                }
                for n in range(how_many)
            ],
        ).all()
        session.execute(
            insert(Contact),
            [
                {
                    "client_id": client_id,
                    "name": "Maria",
                    # Some clients have no address: their stages become calls.
                    "email": None if n % 7 == 0 else f"finance{n}@example.com.br",
                    "phone": None,
                    "receives_bills": True,
                }
                for n, client_id in enumerate(client_ids)
            ],
        )
        contract_ids = session.scalars(
            insert(Contract).returning(Contract.id, sort_by_parameter_order=True),
            [
                {
                    "client_id": client_id,
                    "amount": Decimal("1000.00"),
                    "currency": "BRL",
                    "billing_period_months": 1,
                    "prepay_discount_percent": Decimal(0),
                    "due_day": 18,
                    "notice_lead_days": 10,
                    "starts_on": date(2026, 1, 1),
                    "ends_on": None,
                }
                for client_id in client_ids
            ],
        ).all()
        session.execute(
            insert(Invoice),
            [
                {
                    "client_id": client_id,
                    "contract_id": contract_id,
                    "number": f"INV-{n:04d}-{k}",
                    "currency": "BRL",
                    "amount": Decimal("1000.00"),
                    "balance": Decimal("1000.00"),
                    "issue_date": date(2026, 1, 1),
                    "due_date": AS_OF + timedelta(days=10 - (n * 7 + k * 11) % 40),
                    "status": "open",
                    "payment_url": None,
                    "rule_version_id": None,
                    "next_action_on": date(2026, 1, 1),
                    "paused_until": None,
                    "first_contact_on": None,
                    "last_payment_on": None,
                }
                for n, (client_id, contract_id) in enumerate(
                    zip(client_ids, contract_ids, strict=True)
                )
                for k in range(1 + n % 2)
            ],
        )
        session.commit()
