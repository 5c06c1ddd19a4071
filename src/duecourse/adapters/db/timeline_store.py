"""A client's history for the desk's timeline, on SQLAlchemy.

One short read transaction; each source becomes entries in its own
function, so a new kind of event is one more function.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, Engine, select

from duecourse.adapters.db.desk_tables import CallOutcomeRecord, Dispute
from duecourse.adapters.db.models import (
    AuditEntry,
    CallTask,
    Invoice,
    Message,
    Notice,
    Payment,
)
from duecourse.adapters.db.negotiation_tables import Agreement, Promise, User
from duecourse.domain.calls import CallOutcome
from duecourse.domain.states import MessageStatus
from duecourse.services.timeline import TimelineEntry, start_of

PORTAL_ACTIONS = ("portal visited", "statement downloaded")

Source = Callable[[Connection, int], list[TimelineEntry]]


class SqlTimelineStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def history(self, client_id: int) -> list[TimelineEntry]:
        with self._engine.connect() as connection:
            return [
                entry for source in SOURCES for entry in source(connection, client_id)
            ]


def _messages(connection: Connection, client_id: int) -> list[TimelineEntry]:
    entries = []
    rows = connection.execute(select(Message).where(Message.client_id == client_id))
    for m in rows:
        what = f"{m.channel} {m.template}"
        to = m.recipients.replace(",", ", ")
        entries.append(TimelineEntry(m.created_at, "message", f"{what} queued", to))
        if m.status == MessageStatus.SENT and m.sent_at is not None:
            entries.append(TimelineEntry(m.sent_at, "delivery", f"{what} delivered"))
        elif m.status == MessageStatus.DEAD:
            # The outbox keeps no time of the last failure; its last planned
            # attempt is the closest moment it has.
            entries.append(
                TimelineEntry(
                    m.next_attempt_at,
                    "bounce",
                    f"{what} dead after {m.attempts} attempt(s)",
                    m.last_error or "",
                )
            )
        elif m.status == MessageStatus.PENDING and m.attempts:
            entries.append(
                TimelineEntry(
                    m.next_attempt_at, "delivery", f"{what} to be retried",
                    m.last_error or "",
                )
            )  # fmt: skip
    return entries


def _payments(connection: Connection, client_id: int) -> list[TimelineEntry]:
    rows = connection.execute(select(Payment).where(Payment.client_id == client_id))
    return [
        TimelineEntry(
            start_of(p.received_on),
            "payment",
            f"payment {p.reference} of {p.amount} {p.currency} received",
            p.method,
        )
        for p in rows
    ]


def _calls(connection: Connection, client_id: int) -> list[TimelineEntry]:
    tasks = connection.execute(select(CallTask).where(CallTask.client_id == client_id))
    entries = [
        TimelineEntry(
            start_of(t.created_on), "call", f"call task {t.id} opened", t.reason
        )
        for t in tasks
    ]
    outcomes = connection.execute(
        select(CallOutcomeRecord, User.name)
        .join(User, User.id == CallOutcomeRecord.user_id)
        .where(CallOutcomeRecord.client_id == client_id)
    )
    for o in outcomes:
        label = CallOutcome(o.outcome).label
        detail = " ".join(
            part
            for part in (
                f"{o.amount} by {o.promised_on}" if o.promised_on else "",
                o.note,
            )
            if part
        )
        entries.append(
            TimelineEntry(o.recorded_at, "call", f"call by {o.name}: {label}", detail)
        )
    return entries


def _promises(connection: Connection, client_id: int) -> list[TimelineEntry]:
    rows = connection.execute(select(Promise).where(Promise.client_id == client_id))
    entries = []
    for p in rows:
        entries.append(
            TimelineEntry(
                p.created_at,
                "promise",
                f"promise {p.id}: {p.amount} {p.currency} by {p.promised_on}",
                f"by {p.created_by}",
            )
        )
        if p.resolved_on is not None:
            entries.append(
                TimelineEntry(
                    start_of(p.resolved_on), "promise", f"promise {p.id} {p.status}"
                )
            )
    return entries


def _agreements(connection: Connection, client_id: int) -> list[TimelineEntry]:
    rows = connection.execute(select(Agreement).where(Agreement.client_id == client_id))
    entries = []
    for a in rows:
        terms = f"{a.instalment_count} instalment(s) from {a.first_due}"
        entries.append(
            TimelineEntry(
                a.created_at, "agreement", f"agreement {a.id} proposed", terms
            )
        )
        if a.decided_at is not None:
            entries.append(
                TimelineEntry(a.decided_at, "agreement", f"agreement {a.id} {a.status}")
            )
    return entries


def _disputes(connection: Connection, client_id: int) -> list[TimelineEntry]:
    rows = connection.execute(
        select(Dispute, Invoice.number)
        .join(Invoice, Invoice.id == Dispute.invoice_id)
        .where(Dispute.client_id == client_id)
    )
    return [
        TimelineEntry(d.opened_at, "dispute", f"invoice {d.number} disputed", d.reason)
        for d in rows
    ]


def _notices(connection: Connection, client_id: int) -> list[TimelineEntry]:
    rows = connection.execute(select(Notice).where(Notice.client_id == client_id))
    return [
        TimelineEntry(start_of(n.created_on), "notice", f"notice {n.template} shown")
        for n in rows
    ]


def _visits(connection: Connection, client_id: int) -> list[TimelineEntry]:
    rows = connection.execute(
        select(AuditEntry.at, AuditEntry.action).where(
            AuditEntry.subject == f"client {client_id}",
            AuditEntry.action.in_(PORTAL_ACTIONS),
        )
    )
    return [TimelineEntry(at, "portal", action) for at, action in rows]


SOURCES: tuple[Source, ...] = (
    _messages,
    _payments,
    _calls,
    _promises,
    _agreements,
    _disputes,
    _notices,
    _visits,
)
