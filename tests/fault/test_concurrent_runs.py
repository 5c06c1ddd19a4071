"""Two runs, or two dispatchers, started at once on PostgreSQL do the work once.

The scale-out design runs the same services on several workers over one
PostgreSQL database; the unique action key and the guarded outbox claim are
what keep two of them from recording or delivering anything twice.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine

from tests.fault.conftest import (
    AS_OF,
    Cli,
    count_actions,
    expected_run,
    load_book,
    message_statuses,
    queued,
    recorded_run,
    run_in_process,
    sent,
)
from tests.support.smtp import SmtpTestServer

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

SEED = 20260618
CLIENTS = 800  # two batches of the run
RUN = ("run", "--as-of", AS_OF.isoformat(), "--no-send")


def test_two_runs_at_once_record_each_action_once(
    postgres_engine: Engine, postgres_url: str, cli_for: Callable[[str], Cli]
) -> None:
    load_book(postgres_engine, CLIENTS, SEED)
    expected = expected_run(postgres_engine)
    cli = cli_for(postgres_url)

    first, second = cli.start(*RUN), cli.start(*RUN)
    outputs = [process.communicate(timeout=120) for process in (first, second)]

    assert [first.returncode, second.returncode] == [0, 0], outputs[0][1][-2000:]
    summaries = [out for out, _err in outputs]
    recorded = recorded_run(postgres_engine)
    assert recorded.actions == expected.actions
    assert count_actions(postgres_engine) == len(expected.actions)
    assert recorded.emails == expected.emails
    assert len(message_statuses(postgres_engine)) == expected.emails.total()
    # Each reports only what it recorded itself: together, one run's worth.
    assert sum(queued(s) for s in summaries) == expected.emails.total()
    assert all(" 0 client(s)" not in s for s in summaries), "the runs did not overlap"


def test_two_dispatchers_at_once_deliver_each_message_once(
    postgres_engine: Engine,
    postgres_url: str,
    cli_for: Callable[[str], Cli],
    slow_smtp_server: SmtpTestServer,
) -> None:
    load_book(postgres_engine, CLIENTS // 4, SEED)
    run_in_process(postgres_engine)
    outbox = message_statuses(postgres_engine)
    cli = cli_for(postgres_url)

    dispatchers = [cli.start("dispatch", smtp_url=slow_smtp_server.url) for _ in "ab"]
    outputs = [process.communicate(timeout=120) for process in dispatchers]

    assert [d.returncode for d in dispatchers] == [0, 0], outputs[0][1][-2000:]
    arrived = slow_smtp_server.times_each_id_arrived()
    assert set(arrived) == set(outbox)
    assert set(arrived.values()) == {1}
    assert set(message_statuses(postgres_engine).values()) == {"sent"}
    counts = [sent(out) for out, _err in outputs]
    assert sum(counts) == len(outbox)
    assert min(counts) > 0, f"one dispatcher did all the work: {counts}"
