"""`/api/v1/invoices`: list with filters, read by number, create."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from duecourse.adapters.db.api_queries import Record
from duecourse.adapters.db.records import SqlRecordStore
from duecourse.domain.states import InvoiceStatus
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
from duecourse.entrypoints.web.api.models import PRINTABLE, InvoiceIn, InvoiceOut, Page
from duecourse.services.imports import ImportKind
from duecourse.services.intake import take_one

router = APIRouter(prefix="/invoices", tags=["invoices"], responses=PROBLEMS)
Number = Annotated[str, Path(max_length=60, pattern=PRINTABLE)]


@router.get("", response_model=Page[InvoiceOut])
def list_invoices(
    request: Request,
    key: Reader,
    limit: Limit = 50,
    after: After = None,
    client: Filter = None,
    status: InvoiceStatus | None = None,
    due_before: Annotated[date | None, Query(description="Due strictly before")] = None,
    due_after: Annotated[date | None, Query(description="Due strictly after")] = None,
) -> Any:
    filters = {
        "client": client,
        "status": status and status.value,
        "due_before": due_before,
        "due_after": due_after,
    }
    records = api_of(request).reader.page("invoices", filters, after, limit)
    return page_of(records, limit, shape)


@router.get("/{number}", response_model=InvoiceOut)
def get_invoice(request: Request, key: Reader, number: Number) -> Any:
    record = api_of(request).reader.one("invoices", "number", number)
    return shape(found(record, f"invoice {number!r}"))


@router.post("", response_model=InvoiceOut, status_code=201, responses=WRITE_PROBLEMS)
def create_invoice(
    request: Request, key: Writer, body: InvoiceIn, idempotency_key: IdempotencyKey
) -> JSONResponse:
    """Record an invoice, open and due for a look today, as an import does.

    The client's credit (money left over from earlier payments) is used at
    once; the number must be new.
    """

    def work() -> tuple[int, dict[str, Any]]:
        api = api_of(request)
        store = SqlRecordStore(api.container.engine)
        cells = {
            "number": body.number,
            "client_external_id": body.client,
            "amount": body.amount,
            "currency": body.currency,
            "issue_date": body.issue_date.isoformat(),
            "due_date": body.due_date.isoformat(),
            "payment_url": body.payment_url,
        }
        try:
            take_one(
                ImportKind.INVOICES,
                cells,
                store,
                actor_of(key),
                today_of(request),
                now_of(request),
                {"client_external_id": "client"},
            )
        finally:
            store.close()
        record = found(api.reader.one("invoices", "number", body.number), "invoice")
        return 201, shape(record)

    return idempotent(request, key, idempotency_key, body, work)


def shape(record: Record) -> dict[str, Any]:
    shaped = dict(record)
    shaped["amount"] = money(record["amount"], record["currency"])
    shaped["balance"] = money(record["balance"], record["currency"])
    return shaped
