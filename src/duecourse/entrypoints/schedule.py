"""The embedded mode's clock: the daily run and the outbox drain, in-process.

APScheduler fires the jobs; each job is a plain service call, so a process
that was down simply runs the day on its next start, and catch-up does the
rest. Several processes must not schedule the same book: at scale, run
`duecourse run` from one scheduler and deliver with queue workers.
"""

from __future__ import annotations

import logging
from datetime import date

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from duecourse.bootstrap import Container, today, utc_now
from duecourse.services.agreements import review_agreements
from duecourse.services.billing import issue_invoices
from duecourse.services.dispatch import dispatch
from duecourse.services.events import promises_broken
from duecourse.services.promises import review_promises
from duecourse.services.run import run_collection

log = logging.getLogger(__name__)


def run_today(app: Container) -> None:
    as_of = today()
    issue_bills(app, as_of)
    review_commitments(app, as_of)
    summary = run_collection(app.run_store, app.composer, as_of, utc_now())
    log.info("scheduled run done: %s", summary.line())
    deliver(app)


def issue_bills(app: Container, as_of: date) -> None:
    """Issue the invoices contracts owe, so that today's run can bill them."""
    store = app.billing_store()
    try:
        summary = issue_invoices(store, as_of, "scheduler", utc_now())
    finally:
        store.close()
    log.info("billing done: %s", summary.line())


def review_commitments(app: Container, as_of: date) -> None:
    """Settle promises and agreements before the run, so that a broken promise
    resumes the rule today and a missed instalment restores the balance."""
    store = app.negotiation_store()
    try:
        review = review_promises(store, as_of, utc_now())
        review_agreements(store, as_of, utc_now())
    finally:
        store.close()
    announce_broken_promises(app, review.broken)


def announce_broken_promises(app: Container, promise_ids: list[int]) -> None:
    """Queue the `promise.broken` webhook for each promise a review broke."""
    if not promise_ids:
        return
    events = app.event_store()
    try:
        promises_broken(events, promise_ids, utc_now())
    finally:
        events.close()


def deliver(app: Container) -> None:
    summary = dispatch(app.outbox(), app.senders, utc_now)
    if summary.outcomes.by_label:
        log.info("outbox drained: %s", summary.line())


def start_background(app: Container) -> BackgroundScheduler:
    """Start the daily run at the configured time and a drain every minute,
    in a thread beside the web server; returns the running scheduler."""
    hour, minute = (int(part) for part in app.settings.run_at.split(":"))
    scheduler = BackgroundScheduler()
    scheduler.add_job(
        run_today, CronTrigger(hour=hour, minute=minute), args=[app], id="run"
    )
    scheduler.add_job(
        deliver, IntervalTrigger(minutes=1), args=[app], id="deliver", coalesce=True
    )
    scheduler.start()
    return scheduler
