"""`/api/v1/contracts`: read only; a contract comes with its client (POST
`/clients` with `contract`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request

from duecourse.adapters.db.api_queries import Record
from duecourse.entrypoints.web.api.common import (
    MAX_ID,
    PROBLEMS,
    After,
    Filter,
    Limit,
    Reader,
    api_of,
    decimal_text,
    found,
    money,
    page_of,
)
from duecourse.entrypoints.web.api.models import ContractOut, Page

router = APIRouter(prefix="/contracts", tags=["contracts"], responses=PROBLEMS)


@router.get("", response_model=Page[ContractOut])
def list_contracts(
    request: Request,
    key: Reader,
    limit: Limit = 50,
    after: After = None,
    client: Filter = None,
) -> Any:
    records = api_of(request).reader.page("contracts", {"client": client}, after, limit)
    return page_of(records, limit, shape)


@router.get("/{contract_id}", response_model=ContractOut)
def get_contract(
    request: Request, key: Reader, contract_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> Any:
    record = api_of(request).reader.one("contracts", "id", contract_id)
    return shape(found(record, f"contract {contract_id}"))


def shape(record: Record) -> dict[str, Any]:
    shaped = dict(record)
    shaped["amount"] = money(record["amount"], record["currency"])
    shaped["prepay_discount_percent"] = decimal_text(record["prepay_discount_percent"])
    return shaped
