"""The daily run's unit of work on SQLAlchemy Core.

Core rather than the ORM: the run touches tens of thousands of rows and its
cost must follow the work due, so rows are read and written in batches.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    bindparam,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from duecourse.adapters.db.models import (
    Action,
    CallTask,
    Client,
    Contact,
    Contract,
    Invoice,
    Message,
    Notice,
    RuleVersion,
)
from duecourse.domain.billing import LATE_STREAK_LIMIT, PaidInvoice, late_streak
from duecourse.domain.cadence import CAP_WINDOW_DAYS
from duecourse.domain.states import Channel, InvoiceStatus, MessageStatus
from duecourse.services.ports import (
    ActionRow,
    CallTaskRow,
    ClientRecord,
    ContractRecord,
    InvoiceRecord,
    InvoiceUpdate,
    MessageRow,
    NoticeRow,
    RuleRecord,
)

invoices = cast(Table, Invoice.__table__)
actions = cast(Table, Action.__table__)
message_table = cast(Table, Message.__table__)
call_table = cast(Table, CallTask.__table__)
notice_table = cast(Table, Notice.__table__)


class SqlRunStore:
    """The run's transactions on one connection; `close` drops uncommitted work."""

    def __init__(self, engine: Engine, held: bool = False) -> None:
        """A `held` store never commits and outlives `close`: a simulation runs
        many days in it and then `discard`s everything."""
        self.connection: Connection = engine.connect()
        self.transaction = self.connection.begin()
        self.held = held
        self._due_ids: dict[tuple[date, tuple[int, int] | None], list[int]] = {}

    def rule_versions(self) -> list[RuleRecord]:
        rows = self.connection.execute(
            select(
                RuleVersion.id,
                RuleVersion.name,
                RuleVersion.version,
                RuleVersion.active,
                RuleVersion.source,
            )
        )
        return [RuleRecord(*row) for row in rows]

    def count_due_clients(self, as_of: date, shard: tuple[int, int] | None) -> int:
        query = select(func.count(func.distinct(Invoice.client_id))).where(
            *_due(as_of, shard)
        )
        return int(self.connection.execute(query).scalar_one())

    def due_client_ids(
        self, as_of: date, after: int, limit: int, shard: tuple[int, int] | None
    ) -> list[int]:
        """The next due clients after `after`, from one read of the due index.

        Paging with ORDER BY client_id LIMIT makes SQLite walk the whole
        client index of the book for every batch; reading the due ids once,
        through the index on the next action date, keeps the cost with the
        work due. Clients that fall due during the run wait for the next one.
        """
        key = (as_of, shard)
        if key not in self._due_ids:
            query = select(Invoice.client_id).where(*_due(as_of, shard)).distinct()
            self._due_ids[key] = sorted(self.connection.execute(query).scalars())
        due = self._due_ids[key]
        start = bisect.bisect_right(due, after)
        return due[start : start + limit]

    def load_clients(self, client_ids: list[int], as_of: date) -> list[ClientRecord]:
        """The clients with their due invoices, history and contacts, in a few
        queries whatever the number of clients."""
        due = self._due_invoices(client_ids, as_of)
        taken = self._taken(due)
        contacts = self._contacts(client_ids)
        recent = self._recent_contacts(client_ids, as_of)
        streaks = self._late_streaks(client_ids)
        in_force = self._contracts_in_force(client_ids, as_of)
        records = []
        for row in self.connection.execute(
            select(Client).where(Client.id.in_(client_ids)).order_by(Client.id)
        ):
            names, emails = contacts.get(row.id, ([], []))
            records.append(
                ClientRecord(
                    id=row.id,
                    external_id=row.external_id,
                    name=row.name,
                    country=row.country,
                    time_zone=row.time_zone,
                    language=row.language,
                    segment=row.segment,
                    rule_name=row.rule_name,
                    emails=tuple(emails),
                    contact_name=names[0] if names else "",
                    invoices=tuple(due.get(row.id, [])),
                    taken={i.id: taken.get(i.id, frozenset()) for i in due[row.id]},
                    contacts_this_week=tuple(recent.get(row.id, [])),
                    late_streak=streaks.get(row.id, 0),
                    contract=in_force.get(row.id),
                )
            )
        return records

    def _due_invoices(
        self, client_ids: list[int], as_of: date
    ) -> dict[int, list[InvoiceRecord]]:
        query = (
            select(
                Invoice.client_id,
                Invoice.id,
                Invoice.number,
                Invoice.currency,
                Invoice.amount,
                Invoice.balance,
                Invoice.issue_date,
                Invoice.due_date,
                Invoice.rule_version_id,
                Contract.notice_lead_days,
                Invoice.paused_until,
                Invoice.first_contact_on,
                Invoice.last_payment_on,
                Invoice.payment_url,
                Invoice.period_start,
                Invoice.period_end,
                Invoice.discount_percent,
            )
            .outerjoin(Contract, Contract.id == Invoice.contract_id)
            .where(
                Invoice.client_id.in_(client_ids),
                Invoice.status == InvoiceStatus.OPEN.value,
                Invoice.next_action_on <= as_of,
            )
            .order_by(Invoice.client_id, Invoice.due_date, Invoice.id)
        )
        found: dict[int, list[InvoiceRecord]] = defaultdict(list)
        for row in self.connection.execute(query):
            client_id, *fields = row
            fields[3] = str(fields[3])
            fields[4] = str(fields[4])
            if fields[-1] is not None:
                fields[-1] = str(fields[-1])
            found[client_id].append(InvoiceRecord(*fields))
        return found

    def _taken(
        self, due: dict[int, list[InvoiceRecord]]
    ) -> dict[int, frozenset[tuple[int, str]]]:
        ids = [invoice.id for group in due.values() for invoice in group]
        taken: dict[int, set[tuple[int, str]]] = defaultdict(set)
        for chunk in _chunks(ids, 900):
            query = select(
                Action.invoice_id, Action.rule_version_id, Action.stage_key
            ).where(Action.invoice_id.in_(chunk))
            for invoice_id, version_id, key in self.connection.execute(query):
                taken[invoice_id].add((version_id, key))
        return {k: frozenset(v) for k, v in taken.items()}

    def _contacts(
        self, client_ids: list[int]
    ) -> dict[int, tuple[list[str], list[str]]]:
        query = (
            select(Contact.client_id, Contact.name, Contact.email)
            .where(Contact.client_id.in_(client_ids), Contact.receives_bills)
            .order_by(Contact.client_id, Contact.id)
        )
        found: dict[int, tuple[list[str], list[str]]] = {}
        for client_id, name, email in self.connection.execute(query):
            names, emails = found.setdefault(client_id, ([], []))
            names.append(name)
            if email:
                emails.append(email)
        return found

    def _recent_contacts(
        self, client_ids: list[int], as_of: date
    ) -> dict[int, list[date]]:
        since = as_of - timedelta(days=CAP_WINDOW_DAYS - 1)
        found: dict[int, list[date]] = defaultdict(list)
        emails = select(Message.client_id, Message.run_on).where(
            Message.client_id.in_(client_ids),
            Message.channel == Channel.EMAIL.value,
            Message.run_on >= since,
            Message.run_on <= as_of,
        )
        calls = select(CallTask.client_id, CallTask.created_on).where(
            CallTask.client_id.in_(client_ids),
            CallTask.created_on >= since,
            CallTask.created_on <= as_of,
        )
        for query in (emails, calls):
            for client_id, day in self.connection.execute(query):
                found[client_id].append(day)
        return found

    def _late_streaks(self, client_ids: list[int]) -> dict[int, int]:
        """Each client's late streak, from its last paid invoices only."""
        recent = (
            select(
                Invoice.client_id,
                Invoice.due_date,
                Invoice.last_payment_on,
                func.row_number()
                .over(
                    partition_by=Invoice.client_id,
                    order_by=(Invoice.due_date.desc(), Invoice.id.desc()),
                )
                .label("place"),
            )
            .where(
                Invoice.client_id.in_(client_ids),
                Invoice.status == InvoiceStatus.PAID.value,
            )
            .subquery()
        )
        query = (
            select(recent.c.client_id, recent.c.due_date, recent.c.last_payment_on)
            .where(recent.c.place <= LATE_STREAK_LIMIT)
            .order_by(recent.c.client_id, recent.c.place)
        )
        paid: dict[int, list[PaidInvoice]] = defaultdict(list)
        for client_id, due_date, paid_on in self.connection.execute(query):
            paid[client_id].append(PaidInvoice(due_date, paid_on))
        return {client_id: late_streak(found) for client_id, found in paid.items()}

    def _contracts_in_force(
        self, client_ids: list[int], as_of: date
    ) -> dict[int, ContractRecord]:
        """Each client's latest contract not ended by `as_of`."""
        query = (
            select(
                Contract.client_id,
                Contract.id,
                Contract.amount,
                Contract.currency,
                Contract.billing_period_months,
            )
            .where(
                Contract.client_id.in_(client_ids),
                Contract.starts_on <= as_of,
                or_(Contract.ends_on.is_(None), Contract.ends_on >= as_of),
            )
            .order_by(Contract.client_id, Contract.starts_on, Contract.id)
        )
        found: dict[int, ContractRecord] = {}
        for row in self.connection.execute(query):
            found[row.client_id] = ContractRecord(
                row.id, str(row.amount), row.currency, row.billing_period_months
            )
        return found

    def record_actions(
        self,
        messages: list[MessageRow],
        actions: list[ActionRow],
        call_tasks: list[CallTaskRow],
        notices: list[NoticeRow],
    ) -> set[tuple[int, str]]:
        if not actions:
            return set()
        recorded = self._insert_actions(actions)
        now = datetime.now(UTC)

        kept = [m for m in messages if recorded.intersection(m.covers)]
        if kept:
            self.connection.execute(
                message_table.insert(), [_message(m, now) for m in kept]
            )
        tasks = [t for t in call_tasks if recorded.intersection(t.covers)]
        if tasks:
            self.connection.execute(
                call_table.insert(),
                [
                    {
                        "client_id": t.client_id,
                        "stage_key": t.stage_key,
                        "script": t.script,
                        "reason": t.reason,
                        "balance": Decimal(t.balance),
                        "currency": t.currency,
                        "status": "open",
                        "created_on": t.created_on,
                    }
                    for t in tasks
                ],
            )
        shown = [n for n in notices if recorded.intersection(n.covers)]
        if shown:
            self.connection.execute(
                notice_table.insert(),
                [
                    {
                        "client_id": n.client_id,
                        "stage_key": n.stage_key,
                        "template": n.template,
                        "active": True,
                        "created_on": n.created_on,
                    }
                    for n in shown
                ],
            )
        return recorded

    def _insert_actions(self, rows: list[ActionRow]) -> set[tuple[int, str]]:
        """Insert, leaving alone any (invoice, version, stage) already recorded."""
        columns = {
            "invoice_id": [a.invoice_id for a in rows],
            "rule_version_id": [a.rule_version_id for a in rows],
            "stage_key": [a.stage_key for a in rows],
            "channel": [a.channel.value for a in rows],
            "status": [a.status for a in rows],
            "reason": [a.reason[:200] for a in rows],
            "scheduled_on": [a.scheduled_on for a in rows],
            "taken_on": [a.taken_on for a in rows],
            "message_id": [a.message_id for a in rows],
        }
        if self.connection.dialect.name == "postgresql":
            result = self.connection.execute(_INSERT_ACTIONS_PG, columns)
        else:
            statement = (
                sqlite_insert(actions)
                .on_conflict_do_nothing(index_elements=_ACTION_KEY)
                .returning(actions.c.invoice_id, actions.c.stage_key)
            )
            values = [
                dict(zip(columns, row, strict=True))
                for row in zip(*columns.values(), strict=True)
            ]
            result = self.connection.execute(statement, values)
        return {(row.invoice_id, row.stage_key) for row in result}

    def update_invoices(self, updates: list[InvoiceUpdate]) -> None:
        if not updates:
            return
        if self.connection.dialect.name == "postgresql":
            self.connection.execute(
                _UPDATE_INVOICES_PG,
                {
                    "ids": [u.invoice_id for u in updates],
                    "next_on": [u.next_action_on for u in updates],
                    "versions": [u.rule_version_id for u in updates],
                    "contact_on": [u.first_contact_on for u in updates],
                },
            )
            return
        statement = (
            update(invoices)
            .where(invoices.c.id == bindparam("target"))
            .values(
                next_action_on=bindparam("next_on"),
                rule_version_id=bindparam("version"),
                first_contact_on=func.coalesce(
                    invoices.c.first_contact_on, bindparam("contact_on")
                ),
            )
        )
        self.connection.execute(
            statement,
            [
                {
                    "target": u.invoice_id,
                    "next_on": u.next_action_on,
                    "version": u.rule_version_id,
                    "contact_on": u.first_contact_on,
                }
                for u in updates
            ],
        )

    def commit(self) -> None:
        """Make the work so far durable and start the next transaction."""
        if self.held:
            return
        self.transaction.commit()
        self.transaction = self.connection.begin()

    def close(self) -> None:
        if not self.held:
            self.discard()

    def discard(self) -> None:
        """Drop everything not committed and release the connection."""
        if self.transaction.is_active:
            self.transaction.rollback()
        self.connection.close()


_ACTION_KEY = ["invoice_id", "rule_version_id", "stage_key"]

# On PostgreSQL a batch goes as one statement over arrays: a multi-row VALUES
# list of thousands of parameters costs more to build and parse than to run.
_INSERT_ACTIONS_PG = text(
    """
    INSERT INTO actions (invoice_id, rule_version_id, stage_key, channel, status,
                         reason, scheduled_on, taken_on, message_id)
    SELECT * FROM unnest(
        CAST(:invoice_id AS integer[]), CAST(:rule_version_id AS integer[]),
        CAST(:stage_key AS varchar[]), CAST(:channel AS varchar[]),
        CAST(:status AS varchar[]), CAST(:reason AS varchar[]),
        CAST(:scheduled_on AS date[]), CAST(:taken_on AS date[]),
        CAST(:message_id AS varchar[]))
    ON CONFLICT (invoice_id, rule_version_id, stage_key) DO NOTHING
    RETURNING invoice_id, stage_key
    """
)
_UPDATE_INVOICES_PG = text(
    """
    UPDATE invoices AS i
    SET next_action_on = u.next_on,
        rule_version_id = u.version,
        first_contact_on = COALESCE(i.first_contact_on, u.contact_on)
    FROM unnest(CAST(:ids AS integer[]), CAST(:next_on AS date[]),
                CAST(:versions AS integer[]), CAST(:contact_on AS date[]))
         AS u(id, next_on, version, contact_on)
    WHERE i.id = u.id
    """
)


def _due(as_of: date, shard: tuple[int, int] | None) -> list[Any]:
    clauses: list[Any] = [
        Invoice.next_action_on <= as_of,
        Invoice.status == InvoiceStatus.OPEN.value,
    ]
    if shard is not None:
        index, count = shard
        clauses.append(Invoice.client_id % count == index)
    return clauses


def _message(row: MessageRow, now: datetime) -> dict[str, Any]:
    dead = row.dead_reason is not None
    return {
        "id": row.id,
        "client_id": row.client_id,
        "channel": row.channel.value,
        "template": row.template,
        "language": row.language,
        "recipients": ",".join(row.recipients),
        "context": dict(row.context),
        "run_on": row.run_on,
        "status": (MessageStatus.DEAD if dead else MessageStatus.PENDING).value,
        "attempts": 0,
        "next_attempt_at": row.not_before,
        "claimed_until": None,
        "last_error": row.dead_reason,
        "sent_at": None,
        "created_at": now,
    }


def _chunks(items: Sequence[int], size: int) -> list[Sequence[int]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
