"""The daily run: every stage due today, recorded once, its messages queued.

The run selects only clients with an invoice whose next action date has come,
in batches of clients. Each batch is one transaction: actions, outbox
messages, call tasks, notices and the invoices' next dates are written
together or not at all, so a run killed at any point and run again records
what was missing and nothing twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfoNotFoundError

from duecourse.domain.cadence import ClientCase, InvoiceCase, plan_client
from duecourse.domain.errors import DuecourseError
from duecourse.domain.money import Money
from duecourse.domain.states import ActionStatus, Channel
from duecourse.services.compose import Composer, Rows
from duecourse.services.ports import (
    ClientRecord,
    Counts,
    InvoiceUpdate,
    RunStore,
)
from duecourse.services.rulebook import RuleBook

log = logging.getLogger(__name__)

BATCH_CLIENTS = 500


@dataclass
class RunSummary:
    """What a run did (or, dry, would do)."""

    as_of: date
    dry_run: bool
    clients: int = 0
    invoices: int = 0
    done: Counts = field(default_factory=Counts)
    skipped: Counts = field(default_factory=Counts)
    messages: int = 0
    call_tasks: int = 0
    notices: int = 0
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        prefix = "dry run, nothing stored: " if self.dry_run else ""
        text = (
            f"{prefix}{self.as_of}: {self.clients} client(s), "
            f"{self.invoices} invoice(s) looked at; done: {self.done}; "
            f"skipped: {self.skipped}; {self.messages} message(s) queued, "
            f"{self.call_tasks} call task(s), {self.notices} notice(s)"
        )
        if self.problems:
            text += f"; {len(self.problems)} client(s) not run"
        return text


Progress = Callable[[int, int], None]
"""Called with (clients done so far, clients due in all)."""

Observer = Callable[[list[ClientRecord], Rows, set[tuple[int, str]]], None]
"""Called with each batch's clients, rows and the (invoice, stage) pairs recorded."""


def run_collection(
    open_store: Callable[[], RunStore],
    composer: Composer,
    as_of: date,
    now: datetime,
    *,
    dry_run: bool = False,
    shard: tuple[int, int] | None = None,
    batch_clients: int = BATCH_CLIENTS,
    progress: Progress | None = None,
    observe: Observer | None = None,
) -> RunSummary:
    """Carry out every stage due on or before `as_of`; see the module docstring.

    A dry run plans and writes inside one transaction, then rolls it back, so
    its counts are exactly what a real run would record.
    """
    started = time.monotonic()
    summary = RunSummary(as_of, dry_run)
    store = open_store()
    try:
        book = RuleBook.from_records(store.rule_versions())
        total = store.count_due_clients(as_of, shard)
        after = 0
        while True:
            ids = store.due_client_ids(as_of, after, batch_clients, shard)
            if not ids:
                break
            clients = store.load_clients(ids, as_of)
            rows, updates = _plan_batch(clients, book, composer, as_of, now, summary)
            recorded = store.record_actions(
                rows.messages, rows.actions, rows.call_tasks, rows.notices
            )
            store.update_invoices(updates)
            if not dry_run:
                store.commit()
            _tally(summary, rows, recorded)
            if observe is not None:
                observe(clients, rows, recorded)
            after = ids[-1]
            if progress is not None:
                progress(summary.clients, total)
    finally:
        store.close()

    log.info(
        "run finished as_of=%s dry_run=%s clients=%d invoices=%d messages=%d "
        "call_tasks=%d seconds=%.1f",
        as_of,
        dry_run,
        summary.clients,
        summary.invoices,
        summary.messages,
        summary.call_tasks,
        time.monotonic() - started,
    )
    return summary


def _plan_batch(
    clients: list[ClientRecord],
    book: RuleBook,
    composer: Composer,
    as_of: date,
    now: datetime,
    summary: RunSummary,
) -> tuple[Rows, list[InvoiceUpdate]]:
    rows = Rows()
    updates: list[InvoiceUpdate] = []
    for client in clients:
        summary.clients += 1
        summary.invoices += len(client.invoices)
        try:
            client_rows, client_updates = _plan_client(
                client, book, composer, as_of, now
            )
        except (DuecourseError, ZoneInfoNotFoundError) as problem:
            # One client's bad data (no rule applies, an unknown time zone...)
            # must not stop everyone else's run. Its invoices stay due, so the
            # next run picks them up once the data is fixed.
            log.warning("client skipped client_id=%d reason=%s", client.id, problem)
            summary.problems.append(f"client {client.external_id}: {problem}")
            continue
        rows.extend(client_rows)
        updates.extend(client_updates)
    return rows, updates


def _plan_client(
    client: ClientRecord,
    book: RuleBook,
    composer: Composer,
    as_of: date,
    now: datetime,
) -> tuple[Rows, list[InvoiceUpdate]]:
    versions = {
        i.id: book.version_for(client, i.rule_version_id) for i in client.invoices
    }
    plan = plan_client(_case(client, book, versions), as_of)
    rows = Rows()
    composer.compose(client, plan, versions, book.versions, as_of, now, rows)

    contacted = bool(plan.done(Channel.EMAIL) or plan.done(Channel.CALL))
    updates = [
        InvoiceUpdate(
            invoice_id=invoice.id,
            next_action_on=plan.next_look.get(invoice.id),
            rule_version_id=versions[invoice.id],
            first_contact_on=as_of if contacted else None,
        )
        for invoice in client.invoices
    ]
    return rows, updates


def _case(client: ClientRecord, book: RuleBook, versions: dict[int, int]) -> ClientCase:
    invoices = []
    for record in client.invoices:
        version = versions[record.id]
        # A stage key names the same step in every version of a rule, so a
        # step done before the invoice moved to a new version is not repeated.
        taken = frozenset(key for (_version, key) in client.taken.get(record.id, ()))
        paid_since_contact = (
            record.first_contact_on is not None
            and record.last_payment_on is not None
            and record.last_payment_on >= record.first_contact_on
        )
        invoices.append(
            InvoiceCase(
                invoice_id=record.id,
                due_date=record.due_date,
                balance=Money(Decimal(record.balance), record.currency),
                rule=book.versions[version],
                taken=taken,
                lead_days=record.lead_days,
                paid_since_contact=paid_since_contact,
                paused_until=record.paused_until,
            )
        )
    return ClientCase(
        client_id=client.id,
        country=client.country,
        segment=client.segment,
        invoices=tuple(invoices),
        contacts_this_week=client.contacts_this_week,
        late_streak=client.late_streak,
    )


def _tally(summary: RunSummary, rows: Rows, recorded: set[tuple[int, str]]) -> None:
    for action in rows.actions:
        if (action.invoice_id, action.stage_key) not in recorded:
            continue
        label = f"{action.stage_key}/{action.channel.value}"
        if action.status == ActionStatus.DONE.value:
            summary.done.add(label)
        else:
            summary.skipped.add(action.stage_key)
    summary.messages += sum(1 for m in rows.messages if recorded.intersection(m.covers))
    summary.call_tasks += sum(
        1 for t in rows.call_tasks if recorded.intersection(t.covers)
    )
    summary.notices += sum(1 for n in rows.notices if recorded.intersection(n.covers))
