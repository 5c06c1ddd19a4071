"""`/api/v1/promises`: promises to pay; taking one pauses the rule."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse

from duecourse.adapters.db.api_queries import Record
from duecourse.adapters.db.negotiation_store import SqlNegotiationStore
from duecourse.domain.promises import DEFAULT_GRACE_DAYS, PromiseStatus
from duecourse.entrypoints.web.api.common import (
    MAX_ID,
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
from duecourse.entrypoints.web.api.models import Page, PromiseIn, PromiseOut
from duecourse.services.promises import make_promise

router = APIRouter(prefix="/promises", tags=["promises"], responses=PROBLEMS)


@router.get("", response_model=Page[PromiseOut])
def list_promises(
    request: Request,
    key: Reader,
    limit: Limit = 50,
    after: After = None,
    client: Filter = None,
    status: PromiseStatus | None = None,
) -> Any:
    filters = {"client": client, "status": status and status.value}
    records = api_of(request).reader.page("promises", filters, after, limit)
    return page_of(records, limit, shape)


@router.get("/{promise_id}", response_model=PromiseOut)
def get_promise(
    request: Request, key: Reader, promise_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> Any:
    record = api_of(request).reader.one("promises", "id", promise_id)
    return shape(found(record, f"promise {promise_id}"))


@router.post("", response_model=PromiseOut, status_code=201, responses=WRITE_PROBLEMS)
def create_promise(
    request: Request, key: Writer, body: PromiseIn, idempotency_key: IdempotencyKey
) -> JSONResponse:
    """Record a promise; see docs/negotiation.md for pauses and supersession."""

    def work() -> tuple[int, dict[str, Any]]:
        api = api_of(request)
        store = SqlNegotiationStore(api.container.engine)
        try:
            made = make_promise(
                store,
                body.client,
                Decimal(body.amount),
                body.promised_on,
                body.invoices,
                actor_of(key),
                now_of(request),
                grace_days=(
                    DEFAULT_GRACE_DAYS if body.grace_days is None else body.grace_days
                ),
                as_of=today_of(request),
            )
        finally:
            store.close()
        record = api.reader.one("promises", "id", made.promise_id)
        return 201, shape(found(record, "promise"))

    return idempotent(request, key, idempotency_key, body, work)


def shape(record: Record) -> dict[str, Any]:
    shaped = dict(record)
    shaped["amount"] = money(record["amount"], record["currency"])
    return shaped
