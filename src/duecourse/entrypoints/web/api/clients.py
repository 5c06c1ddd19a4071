"""`/api/v1/clients`: list, read, and create or update by external id."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse

from duecourse.adapters.db.api_queries import Record
from duecourse.adapters.db.records import SqlRecordStore
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
    now_of,
    page_of,
    today_of,
)
from duecourse.entrypoints.web.api.models import PRINTABLE, ClientIn, ClientOut, Page
from duecourse.services.imports import ImportKind
from duecourse.services.intake import take_one

router = APIRouter(prefix="/clients", tags=["clients"], responses=PROBLEMS)
ExternalId = Annotated[str, Path(max_length=80, pattern=PRINTABLE)]

# The import's column for each field of the request, where they differ.
COLUMNS = {
    "contact.name": "contact_name",
    "contact.email": "contact_email",
    "contact.phone": "contact_phone",
    "contract.amount": "contract_amount",
    "contract.billing_period_months": "billing_period_months",
    "contract.prepay_discount_percent": "prepay_discount_percent",
    "contract.due_day": "due_day",
    "contract.notice_lead_days": "notice_lead_days",
    "contract.starts_on": "contract_starts_on",
}
FIELDS = {column: field for field, column in COLUMNS.items()}


@router.get("", response_model=Page[ClientOut])
def list_clients(
    request: Request,
    key: Reader,
    limit: Limit = 50,
    after: After = None,
    external_id: Filter = None,
    segment: Filter = None,
    currency: Filter = None,
) -> Any:
    filters = {"external_id": external_id, "segment": segment, "currency": currency}
    records = api_of(request).reader.page("clients", filters, after, limit)
    return page_of(records, limit, shape)


@router.get("/{external_id}", response_model=ClientOut)
def get_client(request: Request, key: Reader, external_id: ExternalId) -> Any:
    record = api_of(request).reader.one("clients", "external_id", external_id)
    return shape(found(record, f"client {external_id!r}"))


@router.post(
    "",
    response_model=ClientOut,
    status_code=201,
    responses={**WRITE_PROBLEMS, 200: {"model": ClientOut, "description": "Updated"}},
)
def save_client(
    request: Request, key: Writer, body: ClientIn, idempotency_key: IdempotencyKey
) -> JSONResponse:
    """Create a client, or update the one with this `external_id`.

    The fields are checked as a row of a clients import (docs/imports.md);
    a contract different from the latest one is added.
    """

    def work() -> tuple[int, dict[str, Any]]:
        api = api_of(request)
        store = SqlRecordStore(api.container.engine)
        try:
            result = take_one(
                ImportKind.CLIENTS,
                cells(body),
                store,
                actor_of(key),
                today_of(request),
                now_of(request),
                FIELDS,
            )
        finally:
            store.close()
        record = api.reader.one("clients", "external_id", body.external_id)
        return (201 if result.created else 200), shape(found(record, "client"))

    return idempotent(request, key, idempotency_key, body, work)


def cells(body: ClientIn) -> dict[str, str | None]:
    values: dict[str, str | None] = {
        "external_id": body.external_id,
        "name": body.name,
        "country": body.country,
        "time_zone": body.time_zone,
        "language": body.language,
        "currency": body.currency,
        "segment": body.segment,
        "rule": body.rule,
    }
    if body.contact is not None:
        values |= {
            "contact_name": body.contact.name,
            "contact_email": body.contact.email,
            "contact_phone": body.contact.phone,
        }
    if body.contract is not None:
        terms = body.contract
        values |= {
            "contract_amount": terms.amount,
            "billing_period_months": str(terms.billing_period_months),
            "prepay_discount_percent": terms.prepay_discount_percent,
            "due_day": str(terms.due_day),
            "notice_lead_days": str(terms.notice_lead_days),
            "contract_starts_on": terms.starts_on.isoformat()
            if terms.starts_on
            else None,
        }
    return values


def shape(record: Record) -> dict[str, Any]:
    shaped = dict(record)
    shaped["rule"] = shaped.pop("rule_name")
    return shaped
