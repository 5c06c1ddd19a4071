"""The embedded mode's clock: the daily run and the outbox drain, in-process.

APScheduler fires the jobs; each job is a plain service call, so a process
that was down simply runs the day on its next start, and catch-up does the
rest. Several processes must not schedule the same book: at scale, run
`duecourse run` from one scheduler and deliver with queue workers.
"""

from __future__ import annotations

import logging

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from duecourse.bootstrap import Container, today, utc_now
from duecourse.services.dispatch import dispatch
from duecourse.services.run import run_collection

log = logging.getLogger(__name__)


def run_today(app: Container) -> None:
    summary = run_collection(app.run_store, app.composer, today(), utc_now())
    log.info("scheduled run done: %s", summary.line())
    deliver(app)


def deliver(app: Container) -> None:
    summary = dispatch(app.outbox(), app.senders, utc_now)
    if summary.outcomes.by_label:
        log.info("outbox drained: %s", summary.line())


def serve_forever(app: Container) -> None:
    """Block, running the day at the configured time and draining every minute."""
    hour, minute = (int(part) for part in app.settings.run_at.split(":"))
    scheduler = BlockingScheduler()
    scheduler.add_job(
        run_today, CronTrigger(hour=hour, minute=minute), args=[app], id="run"
    )
    scheduler.add_job(
        deliver, IntervalTrigger(minutes=1), args=[app], id="deliver", coalesce=True
    )
    scheduler.start()
