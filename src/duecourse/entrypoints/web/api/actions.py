"""`/api/v1/actions`: the stages carried out or skipped, read only."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request

from duecourse.domain.states import ActionStatus, Channel
from duecourse.entrypoints.web.api.common import (
    MAX_ID,
    PROBLEMS,
    After,
    Filter,
    Limit,
    Reader,
    api_of,
    found,
    page_of,
)
from duecourse.entrypoints.web.api.models import ActionOut, Page

router = APIRouter(prefix="/actions", tags=["actions"], responses=PROBLEMS)


@router.get("", response_model=Page[ActionOut])
def list_actions(
    request: Request,
    key: Reader,
    limit: Limit = 50,
    after: After = None,
    invoice: Filter = None,
    client: Filter = None,
    channel: Channel | None = None,
    status: ActionStatus | None = None,
    taken_before: date | None = None,
    taken_after: date | None = None,
) -> Any:
    filters = {
        "invoice": invoice,
        "client": client,
        "channel": channel and channel.value,
        "status": status and status.value,
        "taken_before": taken_before,
        "taken_after": taken_after,
    }
    records = api_of(request).reader.page("actions", filters, after, limit)
    return page_of(records, limit, dict)


@router.get("/{action_id}", response_model=ActionOut)
def get_action(
    request: Request, key: Reader, action_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> Any:
    return found(api_of(request).reader.one("actions", "id", action_id), "action")
