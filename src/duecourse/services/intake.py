"""Clients, invoices and payments sent one at a time, as the JSON API does.

A client or an invoice goes through the very checks of a CSV import
(`services.imports`): the request's fields are the import's columns, written
as a one-row file. So an API client and an uploaded file can never be held
to different rules. A payment goes through `record_payment`, then queues the
`payment.recorded` webhook.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from duecourse.domain.errors import DuecourseError, InvalidField, InvalidImport
from duecourse.domain.money import minor_units
from duecourse.services.events import EventStore, payment_recorded
from duecourse.services.imports import ImportKind, ImportResult, ImportStore, import_csv
from duecourse.services.payments import (
    PaymentInput,
    PaymentRecorded,
    PaymentStore,
    record_payment,
)

SOURCE = "api request"


@dataclass(frozen=True)
class FieldError:
    field: str
    detail: str


class InvalidFields(DuecourseError):
    """A request has bad fields; lists each with what is wrong."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        names = ", ".join(dict.fromkeys(error.field for error in errors))
        super().__init__(f"the request has problems in {names}")


def take_one(
    kind: ImportKind,
    fields: Mapping[str, str | None],
    store: ImportStore,
    actor: str,
    today: date,
    now: datetime,
    names: Mapping[str, str] | None = None,
) -> ImportResult:
    """Store one client or invoice as a one-row import; commits or stores nothing.

    Raises `InvalidFields` naming each field at fault: by the caller's name
    for its column in `names`, else by the column's.
    """
    given = {name: value for name, value in fields.items() if value is not None}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(given.keys())
    writer.writerow(given.values())

    try:
        return import_csv(kind, buffer.getvalue(), SOURCE, store, actor, today, now=now)
    except InvalidImport as failure:
        renamed = names or {}
        errors = [
            FieldError(renamed.get(f.field, f.field), _detail(f))
            for f in failure.fields
        ] or [FieldError("body", problem) for problem in failure.problems]
        raise InvalidFields(errors) from None


def record_one_payment(
    store: PaymentStore,
    events: EventStore,
    payment: PaymentInput,
    actor: str,
    today: date,
    now: datetime,
) -> PaymentRecorded:
    """Record a payment as `record_payment` does, then queue its webhook.

    The webhook is queued in a second transaction, just after the payment's.
    A crash between the two loses the event (the payment stays recorded);
    `record_payment` queueing it before its own commit would close the gap.
    """
    places = minor_units(payment.currency)
    if -int(payment.amount.as_tuple().exponent) > places:
        raise InvalidField(
            "amount",
            f"{payment.amount} has more decimals than {payment.currency} has",
            f"round it to {places} decimal places",
        )
    if payment.received_on > today:
        raise InvalidField("received_on", f"{payment.received_on} is after today")

    recorded = record_payment(store, payment, actor, now)
    payment_recorded(events, payment, recorded, now)
    return recorded


def _detail(problem: InvalidField) -> str:
    return f"{problem.problem}; {problem.fix}" if problem.fix else problem.problem
