"""`/api/v1/call_tasks`: work for collectors, read only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from duecourse.adapters.db.api_queries import Record
from duecourse.entrypoints.web.api.common import (
    MAX_ID,
    PROBLEMS,
    After,
    Filter,
    Limit,
    Reader,
    api_of,
    found,
    money,
    page_of,
)
from duecourse.entrypoints.web.api.models import PRINTABLE, CallTaskOut, Page

router = APIRouter(prefix="/call_tasks", tags=["call tasks"], responses=PROBLEMS)


@router.get("", response_model=Page[CallTaskOut])
def list_call_tasks(
    request: Request,
    key: Reader,
    limit: Limit = 50,
    after: After = None,
    client: Filter = None,
    status: Annotated[str | None, Query(max_length=12, pattern=PRINTABLE)] = None,
) -> Any:
    filters = {"client": client, "status": status}
    records = api_of(request).reader.page("call_tasks", filters, after, limit)
    return page_of(records, limit, shape)


@router.get("/{task_id}", response_model=CallTaskOut)
def get_call_task(
    request: Request, key: Reader, task_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> Any:
    record = api_of(request).reader.one("call_tasks", "id", task_id)
    return shape(found(record, f"call task {task_id}"))


def shape(record: Record) -> dict[str, Any]:
    shaped = dict(record)
    shaped["balance"] = money(record["balance"], record["currency"])
    return shaped
