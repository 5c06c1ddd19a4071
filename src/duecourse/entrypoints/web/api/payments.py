"""`/api/v1/payments`: list, read by reference, record."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse

from duecourse.adapters.db.api_queries import Record
from duecourse.adapters.db.api_store import SqlEventStore
from duecourse.adapters.db.records import SqlRecordStore
from duecourse.domain.errors import InvalidField
from duecourse.entrypoints.web.api.common import (
    PROBLEMS,
    WRITE_PROBLEMS,
    After,
    Filter,
    IdempotencyKey,
    Limit,
    Reader,
    Writer,
    actor_of,
    api_of,
    found,
    idempotent,
    money,
    now_of,
    page_of,
    today_of,
)
from duecourse.entrypoints.web.api.models import PRINTABLE, Page, PaymentIn, PaymentOut
from duecourse.services.intake import record_one_payment
from duecourse.services.payments import PaymentInput

router = APIRouter(prefix="/payments", tags=["payments"], responses=PROBLEMS)
Reference = Annotated[str, Path(max_length=120, pattern=PRINTABLE)]
FIELDS = {"client_external_id": "client", "invoice_number": "invoice"}


@router.get("", response_model=Page[PaymentOut])
def list_payments(
    request: Request,
    key: Reader,
    limit: Limit = 50,
    after: After = None,
    client: Filter = None,
    received_before: date | None = None,
    received_after: date | None = None,
) -> Any:
    filters = {
        "client": client,
        "received_before": received_before,
        "received_after": received_after,
    }
    records = api_of(request).reader.page("payments", filters, after, limit)
    return page_of(records, limit, shape)


@router.get("/{reference}", response_model=PaymentOut)
def get_payment(request: Request, key: Reader, reference: Reference) -> Any:
    record = api_of(request).reader.one("payments", "reference", reference)
    return shape(found(record, f"payment {reference!r}"))


@router.post(
    "",
    response_model=PaymentOut,
    status_code=201,
    responses={
        **WRITE_PROBLEMS,
        200: {"model": PaymentOut, "description": "The reference was recorded"},
    },
)
def create_payment(
    request: Request, key: Writer, body: PaymentIn, idempotency_key: IdempotencyKey
) -> JSONResponse:
    """Record a payment as `duecourse pay` does, and queue `payment.recorded`.

    It goes to the named invoice, then to the client's oldest open invoices;
    what is left stays as credit. A reference already recorded (same client
    and amount) changes nothing and answers 200.
    """

    def work() -> tuple[int, dict[str, Any]]:
        api = api_of(request)
        payment = PaymentInput(
            reference=body.reference,
            client_external_id=body.client,
            amount=Decimal(body.amount),
            currency=body.currency,
            received_on=body.received_on,
            invoice_number=body.invoice,
            method=body.method,
        )
        store = SqlRecordStore(api.container.engine)
        events = SqlEventStore(api.container.engine)
        try:
            recorded = record_one_payment(
                store,
                events,
                payment,
                actor_of(key),
                today_of(request),
                now_of(request),
            )
        except InvalidField as problem:
            field = FIELDS.get(problem.field, problem.field)
            raise InvalidField(field, problem.problem, problem.fix) from None
        finally:
            store.close()
            events.close()
        record = found(api.reader.one("payments", "id", recorded.payment_id), "payment")
        return (200 if recorded.duplicate else 201), shape(record)

    return idempotent(request, key, idempotency_key, body, work)


def shape(record: Record) -> dict[str, Any]:
    shaped = dict(record)
    shaped["amount"] = money(record["amount"], record["currency"])
    shaped["unallocated"] = money(record["unallocated"], record["currency"])
    return shaped
