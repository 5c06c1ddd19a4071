"""Scale-out: the daily run and the outbox drain as Celery tasks.

The same services as the embedded mode, run by Celery workers over one
PostgreSQL: the run is split into shards by client id modulo N, one task per
shard, and delivery is a task any worker may take. Tasks are acknowledged
only once done, so a worker that dies mid-shard has its task redelivered to
another; the unique keys of the actions make that rerun record only what was
missing. Celery beat fires the daily run and the drain: no scheduler of our
own.

Configuration, beside the usual `DUECOURSE_*` settings:

- `DUECOURSE_BROKER_URL`: `redis://host:6379/0` or `amqp://user:pw@host:5672//`.
- `DUECOURSE_RESULT_BACKEND`: where shard results wait for `run-distributed`;
  the Redis broker itself, or `rpc://` with RabbitMQ, by default.
- `DUECOURSE_QUEUE`: the queue name, `duecourse` by default.
- `DUECOURSE_SHARDS`: how many shards beat's daily run makes, 8 by default.
- `DUECOURSE_VISIBILITY_TIMEOUT`: seconds before Redis hands an unacknowledged
  task to another worker, 3600 by default; longer than any shard takes.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from celery import Celery, Task, group
from celery.exceptions import TimeoutError as CeleryTimeout
from celery.schedules import crontab
from sqlalchemy.exc import OperationalError

from duecourse.bootstrap import Container, build, today, utc_now
from duecourse.domain.errors import DuecourseError, InvalidField
from duecourse.services.dispatch import dispatch
from duecourse.services.run import RunSummary, run_collection
from duecourse.settings import Settings

log = logging.getLogger(__name__)

RUN_SHARD = "duecourse.run_shard"
DELIVER_OUTBOX = "duecourse.deliver_outbox"
START_DAILY_RUN = "duecourse.start_daily_run"


class RunNotFinished(DuecourseError):
    """A distributed run did not report back in time; its shards may go on."""


@dataclass(frozen=True)
class WorkerSettings:
    broker_url: str
    result_backend: str
    queue: str
    shards: int
    visibility_timeout: int
    run_at: str


def worker_settings(environ: Mapping[str, str] | None = None) -> WorkerSettings:
    """Read the Celery settings; a bad value names its variable."""
    env = os.environ if environ is None else environ
    broker_url = env.get("DUECOURSE_BROKER_URL", "redis://127.0.0.1:6379/0")
    if not broker_url.startswith(("redis://", "rediss://", "amqp://", "amqps://")):
        raise InvalidField(
            "DUECOURSE_BROKER_URL",
            "must be a Redis or RabbitMQ URL",
            "use redis://127.0.0.1:6379/0 or amqp://guest:guest@127.0.0.1:5672//",
        )
    default_backend = broker_url if broker_url.startswith("redis") else "rpc://"
    return WorkerSettings(
        broker_url=broker_url,
        result_backend=env.get("DUECOURSE_RESULT_BACKEND") or default_backend,
        queue=env.get("DUECOURSE_QUEUE") or "duecourse",
        shards=_positive(env, "DUECOURSE_SHARDS", "8"),
        visibility_timeout=_positive(env, "DUECOURSE_VISIBILITY_TIMEOUT", "3600"),
        run_at=_time(env.get("DUECOURSE_RUN_AT", "06:00")),
    )


def _time(run_at: str) -> str:
    hour, _, minute = run_at.partition(":")
    if not (len(hour) == len(minute) == 2 and (hour + minute).isdigit()):
        raise InvalidField("DUECOURSE_RUN_AT", f"{run_at!r} is not a time", "06:00")
    return run_at


def _positive(env: Mapping[str, str], name: str, default: str) -> int:
    value = env.get(name) or default
    if not value.isdigit() or int(value) < 1:
        raise InvalidField(name, f"{value!r} is not a whole number above 0", default)
    return int(value)


def make_app(environ: Mapping[str, str] | None = None) -> Celery:
    """A Celery app for these settings; tasks are sent to it by name."""
    settings = worker_settings(environ)
    hour, minute = (int(part) for part in settings.run_at.split(":"))
    app = Celery("duecourse")
    app.conf.update(
        broker_url=settings.broker_url,
        result_backend=settings.result_backend,
        task_default_queue=settings.queue,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        # A task is acknowledged once done, never on receipt: a worker that
        # dies mid-shard leaves it to be redelivered, and the unique keys
        # make the rerun harmless. Prefetching one keeps shards spread out.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        broker_connection_retry_on_startup=True,
        broker_transport_options=_transport_options(settings),
        result_expires=24 * 3600,
        # DUECOURSE_RUN_AT is the server's local time, as in the embedded mode.
        enable_utc=False,
        beat_schedule={
            "daily-run": {
                "task": START_DAILY_RUN,
                "schedule": crontab(hour=hour, minute=minute),
                "args": (settings.shards,),
            },
            "deliver-outbox": {
                "task": DELIVER_OUTBOX,
                "schedule": 60.0,
                # A drain not started within the minute is replaced by the next.
                "options": {"expires": 55},
            },
        },
    )
    return app


def _transport_options(settings: WorkerSettings) -> dict[str, Any]:
    if not settings.broker_url.startswith("redis"):
        return {}
    # Redis has no acknowledgements: a task taken and not acknowledged within
    # the visibility timeout goes back to the queue at the next sweep for
    # such tasks, which comes often enough for a short timeout to matter.
    timeout = settings.visibility_timeout
    return {
        "visibility_timeout": timeout,
        "unacked_restore_interval": max(1, min(10, timeout // 10)),
        "unacked_restore_throttle": 1,
    }


app = make_app()


@dataclass
class _Built:
    pid: int = 0
    container: Container | None = None


_built = _Built()


def container() -> Container:
    """This process's adapters, built on first use.

    A forked worker process must not use its parent's database connections,
    so a process whose id changed builds its own and lets go of the parent's
    without closing them under the parent's feet.
    """
    if _built.container is not None and _built.pid == os.getpid():
        return _built.container
    inherited = _built.container
    if inherited is not None and "engine" in vars(inherited):
        inherited.engine.dispose(close=False)
    built = build()
    check_shared(built.settings)
    _built.pid, _built.container = os.getpid(), built
    return built


def check_shared(settings: Settings, environ: Mapping[str, str] | None = None) -> None:
    """Refuse settings that only make sense on one machine.

    Workers on several machines must share one database and one secret key:
    a SQLite file is one machine's, and a key made up by each worker would
    sign payment links that the web server cannot verify.
    """
    env = os.environ if environ is None else environ
    if not settings.database_url.startswith("postgresql"):
        raise InvalidField(
            "DUECOURSE_DATABASE_URL",
            "Celery workers need PostgreSQL, not a SQLite file",
            "set it to postgresql+psycopg://user@host/db on every worker",
        )
    if not env.get("DUECOURSE_SECRET_KEY"):
        raise InvalidField(
            "DUECOURSE_SECRET_KEY",
            "is not set, so each worker would sign links with a key of its own",
            "set the web server's key on every worker",
        )


@app.task(
    name=RUN_SHARD,
    bind=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def run_shard(
    self: Task[Any, Any], as_of_iso: str, index: int, count: int
) -> dict[str, Any]:
    """Run shard `index` of `count` for the day; the report of what it recorded."""
    built = container()
    summary = run_collection(
        built.run_store,
        built.composer,
        date.fromisoformat(as_of_iso),
        utc_now(),
        shard=(index, count),
    )
    log.info("shard finished shard=%d/%d %s", index, count, summary.line())
    return shard_report(summary, self.request.hostname or "")


@app.task(name=DELIVER_OUTBOX)
def deliver_outbox() -> dict[str, int]:
    """Deliver every message ready in the outbox; several may run at once."""
    built = container()
    summary = dispatch(built.outbox(), built.senders, utc_now)
    if summary.outcomes.by_label:
        log.info("outbox drained: %s", summary.line())
    return summary.outcomes.by_label


@app.task(name=START_DAILY_RUN)
def start_daily_run(shards: int) -> str:
    """Beat's daily run: today's shards, sent without waiting for them."""
    as_of = today()
    _shards(app, as_of, shards).apply_async()
    log.info("daily run sent as_of=%s shards=%d", as_of, shards)
    return as_of.isoformat()


@dataclass
class DistributedRun:
    """The summed summary of every shard, and which worker ran each."""

    summary: RunSummary
    workers: list[str] = field(default_factory=list)


def fan_out_run(
    as_of: date, shards: int, *, timeout: float = 3600, via: Celery | None = None
) -> DistributedRun:
    """Send one task per shard and wait for them all; their counts summed.

    On timeout the shards still queued or running carry on; running the day
    again is harmless and records only what is still missing.
    """
    results = _shards(via or app, as_of, shards).apply_async()
    try:
        reports: list[dict[str, Any]] = results.get(timeout=timeout)
    except CeleryTimeout:
        raise RunNotFinished(
            f"the run of {as_of} did not finish within {timeout:g} seconds; "
            "its shards go on in the workers, and running it again is harmless"
        ) from None

    total = DistributedRun(RunSummary(as_of, dry_run=False))
    for report in reports:
        _add(total.summary, report)
        total.workers.append(report["worker"])
    return total


def _shards(via: Celery, as_of: date, shards: int) -> group:
    day = as_of.isoformat()
    return group(
        via.signature(RUN_SHARD, args=(day, index, shards)) for index in range(shards)
    )


def shard_report(summary: RunSummary, worker: str) -> dict[str, Any]:
    """A shard's summary as JSON, to travel back through the result backend."""
    return {
        "worker": worker,
        "clients": summary.clients,
        "invoices": summary.invoices,
        "done": summary.done.by_label,
        "skipped": summary.skipped.by_label,
        "messages": summary.messages,
        "call_tasks": summary.call_tasks,
        "notices": summary.notices,
        "problems": summary.problems,
    }


def _add(total: RunSummary, report: Mapping[str, Any]) -> None:
    total.clients += report["clients"]
    total.invoices += report["invoices"]
    total.messages += report["messages"]
    total.call_tasks += report["call_tasks"]
    total.notices += report["notices"]
    total.problems.extend(report["problems"])
    for counts, labels in ((total.done, "done"), (total.skipped, "skipped")):
        for label, amount in report[labels].items():
            counts.add(label, amount)
