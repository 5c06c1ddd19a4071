"""A run or a dispatcher killed with SIGKILL, then run again, loses and doubles nothing.

The run commits one batch of clients at a time, so a kill leaves some batches
recorded and others not; the next run must record exactly what is missing.
The dispatcher holds claims for a lease; a kill leaves them to expire, and the
next dispatcher delivers them again: at least once, under the same id.
"""

from __future__ import annotations

import random
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from sqlalchemy import Engine, select

from duecourse.adapters.db.models import Action, Message
from duecourse.adapters.db.outbox_store import SqlOutboxStore
from duecourse.adapters.email.render import MessageTemplates
from duecourse.adapters.email.smtp import SmtpSender, SmtpServer
from duecourse.domain.states import Channel
from duecourse.services.dispatch import LEASE, dispatch
from tests.fault.conftest import (
    AS_OF,
    Cli,
    count_actions,
    expected_run,
    kill,
    load_book,
    message_statuses,
    recorded_run,
    run_in_process,
    sent,
    wait_until,
)
from tests.support.smtp import SmtpTestServer

pytestmark = pytest.mark.slow

SEED = 20260617
CLIENTS = 1100  # three batches of the run
KILLS = 3
RUN = ("run", "--as-of", AS_OF.isoformat(), "--no-send")


def test_a_run_killed_at_random_points_and_run_again_records_each_action_once(
    engine: Engine, database_url: str, cli_for: Callable[[str], Cli]
) -> None:
    rng = random.Random(SEED)
    invoices = load_book(engine, CLIENTS, SEED)
    expected = expected_run(engine)
    cli = cli_for(database_url)

    seen_after_kills = []
    for attempt in range(KILLS):
        process = cli.start(*RUN)
        if attempt == 0:
            # Land once for sure between two batches: after the first commit.
            first_commit = partial(started_recording, process, engine)
            wait_until(first_commit)
            time.sleep(rng.uniform(0.0, 0.2))
        else:
            time.sleep(rng.uniform(0.5, 3.0))
        kill(process)
        seen_after_kills.append(count_actions(engine))
    cli.run_to_end(*RUN)
    recorded = recorded_run(engine)

    assert invoices > 2000
    assert any(0 < seen < len(expected.actions) for seen in seen_after_kills), (
        f"no kill landed mid-run: {seen_after_kills} of {len(expected.actions)}"
    )
    assert recorded.actions == expected.actions
    assert count_actions(engine) == len(expected.actions)
    assert recorded.emails == expected.emails
    with engine.connect() as connection:
        messages = set(connection.execute(select(Message.id)).scalars())
        done_emails = connection.execute(
            select(Action.message_id).where(
                Action.status == "done", Action.channel == Channel.EMAIL.value
            )
        ).scalars()
        assert set(done_emails) == messages
    assert len(messages) == expected.emails.total()


def started_recording(process: subprocess.Popen[str], engine: Engine) -> bool:
    """The run committed its first batch, or ended before anyone could see it."""
    return process.poll() is not None or count_actions(engine) > 0


def test_a_dispatcher_killed_mid_delivery_leaves_every_message_delivered(
    engine: Engine,
    database_url: str,
    cli_for: Callable[[str], Cli],
    slow_smtp_server: SmtpTestServer,
) -> None:
    rng = random.Random(SEED)
    load_book(engine, CLIENTS // 4, SEED)
    run_in_process(engine)
    cli = cli_for(database_url)
    outbox = message_statuses(engine)
    assert outbox and set(outbox.values()) == {"pending"}

    dispatcher = cli.start("dispatch", smtp_url=slow_smtp_server.url)
    stop_after = rng.randint(len(outbox) // 5, len(outbox) // 2)
    wait_until(lambda: slow_smtp_server.count() >= stop_after)
    assert kill(dispatcher), "the dispatcher finished before it was killed"
    claimed_when_killed = {
        i for i, status in message_statuses(engine).items() if status == "sending"
    }
    time.sleep(0.2)  # a message the server was still taking in is counted
    delivered_before = slow_smtp_server.count()
    slow_smtp_server.handler.delay = 0.0
    after_the_lease = datetime.now(UTC) + LEASE + timedelta(seconds=1)
    sender = SmtpSender(
        SmtpServer.from_url(slow_smtp_server.url),
        "Billing <billing@duecourse.localhost>",
        MessageTemplates(),
        timeout=10,
    )
    drained = dispatch(
        SqlOutboxStore(engine), {Channel.EMAIL: sender}, lambda: after_the_lease
    )

    arrived = slow_smtp_server.times_each_id_arrived()
    twice = {i for i, times in arrived.items() if times > 1}
    assert 0 < delivered_before < len(outbox)
    assert claimed_when_killed, "the kill did not land inside a claim"
    assert set(arrived) == set(outbox)
    assert max(arrived.values()) <= 2
    assert twice <= claimed_when_killed
    assert all(
        r.message_id == f"<{r.outbox_id}@duecourse>"
        for r in slow_smtp_server.received()
    )
    assert set(message_statuses(engine).values()) == {"sent"}
    assert sent(drained.line()) == len(outbox) - delivered_before + len(twice)
