"""What the JSON API lists and reads, page by page, newest id last.

Every listing is keyset-paginated on the record's id: a page holds the
first `limit` records with an id above `after`, so a page costs the same
wherever it is in the book, and records added meanwhile are not skipped.
Filters are equality on a column, or a strict bound on a date.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, select
from sqlalchemy.orm import InstrumentedAttribute

from duecourse.adapters.db.models import (
    Action,
    CallTask,
    Client,
    Contract,
    Invoice,
    Payment,
    RuleVersion,
)
from duecourse.adapters.db.negotiation_tables import Promise, PromiseInvoice

Record = dict[str, Any]
Compare = Callable[[Any, Any], ColumnElement[bool]]


@dataclass(frozen=True)
class Listing:
    """One resource: its query, its id column, and its filters."""

    query: Select[Any]
    id_column: InstrumentedAttribute[int]
    filters: Mapping[str, tuple[Any, Compare]] = field(default_factory=dict)


_EQ: Compare = operator.eq
_LT: Compare = operator.lt
_GT: Compare = operator.gt

LISTINGS: dict[str, Listing] = {
    "clients": Listing(
        select(
            Client.id,
            Client.external_id,
            Client.name,
            Client.country,
            Client.time_zone,
            Client.language,
            Client.currency,
            Client.segment,
            Client.rule_name,
            Client.created_at,
        ),
        Client.id,
        {
            "external_id": (Client.external_id, _EQ),
            "segment": (Client.segment, _EQ),
            "currency": (Client.currency, _EQ),
        },
    ),
    "contracts": Listing(
        select(
            Contract.id,
            Client.external_id.label("client"),
            Contract.amount,
            Contract.currency,
            Contract.billing_period_months,
            Contract.prepay_discount_percent,
            Contract.due_day,
            Contract.notice_lead_days,
            Contract.starts_on,
            Contract.ends_on,
        ).join(Client, Client.id == Contract.client_id),
        Contract.id,
        {"client": (Client.external_id, _EQ)},
    ),
    "invoices": Listing(
        select(
            Invoice.id,
            Invoice.number,
            Client.external_id.label("client"),
            Invoice.contract_id,
            Invoice.currency,
            Invoice.amount,
            Invoice.balance,
            Invoice.issue_date,
            Invoice.due_date,
            Invoice.status,
            Invoice.payment_url,
            Invoice.next_action_on,
            Invoice.paused_until,
        ).join(Client, Client.id == Invoice.client_id),
        Invoice.id,
        {
            "number": (Invoice.number, _EQ),
            "client": (Client.external_id, _EQ),
            "status": (Invoice.status, _EQ),
            "due_before": (Invoice.due_date, _LT),
            "due_after": (Invoice.due_date, _GT),
        },
    ),
    "payments": Listing(
        select(
            Payment.id,
            Payment.reference,
            Client.external_id.label("client"),
            Payment.amount,
            Payment.currency,
            Payment.received_on,
            Payment.method,
            Payment.unallocated,
            Payment.created_at,
        ).join(Client, Client.id == Payment.client_id),
        Payment.id,
        {
            "reference": (Payment.reference, _EQ),
            "client": (Client.external_id, _EQ),
            "received_before": (Payment.received_on, _LT),
            "received_after": (Payment.received_on, _GT),
        },
    ),
    "rules": Listing(
        select(
            RuleVersion.id,
            RuleVersion.name,
            RuleVersion.version,
            RuleVersion.active,
            RuleVersion.digest,
            RuleVersion.created_at,
            RuleVersion.created_by,
        ),
        RuleVersion.id,
        {"name": (RuleVersion.name, _EQ), "active": (RuleVersion.active, _EQ)},
    ),
    "actions": Listing(
        select(
            Action.id,
            Invoice.number.label("invoice"),
            Client.external_id.label("client"),
            Action.rule_version_id,
            Action.stage_key,
            Action.channel,
            Action.status,
            Action.reason,
            Action.scheduled_on,
            Action.taken_on,
            Action.message_id,
        )
        .join(Invoice, Invoice.id == Action.invoice_id)
        .join(Client, Client.id == Invoice.client_id),
        Action.id,
        {
            "invoice": (Invoice.number, _EQ),
            "client": (Client.external_id, _EQ),
            "channel": (Action.channel, _EQ),
            "status": (Action.status, _EQ),
            "taken_before": (Action.taken_on, _LT),
            "taken_after": (Action.taken_on, _GT),
        },
    ),
    "call_tasks": Listing(
        select(
            CallTask.id,
            Client.external_id.label("client"),
            CallTask.stage_key,
            CallTask.script,
            CallTask.reason,
            CallTask.balance,
            CallTask.currency,
            CallTask.status,
            CallTask.created_on,
        ).join(Client, Client.id == CallTask.client_id),
        CallTask.id,
        {"client": (Client.external_id, _EQ), "status": (CallTask.status, _EQ)},
    ),
    "promises": Listing(
        select(
            Promise.id,
            Client.external_id.label("client"),
            Promise.amount,
            Promise.currency,
            Promise.promised_on,
            Promise.grace_days,
            Promise.status,
            Promise.created_by,
            Promise.created_at,
            Promise.resolved_on,
        ).join(Client, Client.id == Promise.client_id),
        Promise.id,
        {"client": (Client.external_id, _EQ), "status": (Promise.status, _EQ)},
    ),
}


class SqlApiReader:
    """Pages and single records of the resources in `LISTINGS`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def page(
        self,
        resource: str,
        filters: Mapping[str, object],
        after: int | None,
        limit: int,
    ) -> list[Record]:
        """Up to `limit` records with an id above `after`; None filters are off."""
        listing = LISTINGS[resource]
        query = listing.query.order_by(listing.id_column).limit(limit)
        if after is not None:
            query = query.where(listing.id_column > after)
        for name, value in filters.items():
            if value is not None:
                column, compare = listing.filters[name]
                query = query.where(compare(column, value))

        with self.engine.connect() as connection:
            records = [dict(row._mapping) for row in connection.execute(query)]
            if resource == "promises":
                _add_promised_invoices(connection, records)
        return records

    def one(self, resource: str, key: str, value: str | int) -> Record | None:
        """The record whose filter `key` (or id) equals `value`."""
        if key == "id":
            found = self._by_id(resource, int(value))
        else:
            found = self.page(resource, {key: value}, None, 1)
        return found[0] if found else None

    def rule_source(self, rule_id: int) -> str | None:
        query = select(RuleVersion.source).where(RuleVersion.id == rule_id)
        with self.engine.connect() as connection:
            return connection.execute(query).scalar_one_or_none()

    def _by_id(self, resource: str, record_id: int) -> list[Record]:
        listing = LISTINGS[resource]
        query = listing.query.where(listing.id_column == record_id)
        with self.engine.connect() as connection:
            records = [dict(row._mapping) for row in connection.execute(query)]
            if resource == "promises":
                _add_promised_invoices(connection, records)
        return records


def _add_promised_invoices(connection: Any, records: Sequence[dict[str, Any]]) -> None:
    ids = [record["id"] for record in records]
    if not ids:
        return
    rows = connection.execute(
        select(PromiseInvoice.promise_id, Invoice.number)
        .join(Invoice, Invoice.id == PromiseInvoice.invoice_id)
        .where(PromiseInvoice.promise_id.in_(ids))
        .order_by(Invoice.number)
    )
    numbers: dict[int, list[str]] = {}
    for promise_id, number in rows:
        numbers.setdefault(promise_id, []).append(number)
    for record in records:
        record["invoices"] = numbers.get(record["id"], [])
