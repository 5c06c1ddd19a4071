"""What every `/api/v1` route shares: its context, API key checks, idempotency,
pages and money."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from duecourse.adapters.db.api_queries import Record, SqlApiReader
from duecourse.adapters.db.api_store import SqlApiKeyStore, SqlIdempotencyStore
from duecourse.bootstrap import Container
from duecourse.domain.errors import NotFound
from duecourse.domain.money import minor_units
from duecourse.entrypoints.web.api.models import PRINTABLE, Problem
from duecourse.entrypoints.web.context import web_of
from duecourse.services.api_keys import ApiKeyRecord, Scope, authenticate
from duecourse.services.api_keys import require_scope as check_scope
from duecourse.services.idempotency import StoredResponse, run_once

MAX_ID = 2**53
PAGE_LIMIT = 200
PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "content": {"application/problem+json": {}}}
    for code in (401, 403, 404, 422)
}
WRITE_PROBLEMS = {
    **PROBLEMS,
    409: {"model": Problem, "content": {"application/problem+json": {}}},
}

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key: `Authorization: Bearer dc_...`.",
)


@dataclass
class ApiContext:
    container: Container
    reader: SqlApiReader
    keys: SqlApiKeyStore
    idempotency: SqlIdempotencyStore


def api_of(request: Request) -> ApiContext:
    context = request.app.state.api
    assert isinstance(context, ApiContext)
    return context


def require_scope(scope: Scope) -> Callable[..., ApiKeyRecord]:
    """A dependency: the request's API key, if it has `scope`."""

    def api_key(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> ApiKeyRecord:
        token = credentials.credentials if credentials else None
        record = authenticate(api_of(request).keys, token)
        check_scope(record, scope)
        return record

    return api_key


Reader = Annotated[ApiKeyRecord, Depends(require_scope(Scope.READ))]
Writer = Annotated[ApiKeyRecord, Depends(require_scope(Scope.WRITE))]
Admin = Annotated[ApiKeyRecord, Depends(require_scope(Scope.ADMIN))]
Limit = Annotated[int, Query(ge=1, le=PAGE_LIMIT, description="Page size")]
Filter = Annotated[str | None, Query(max_length=80, pattern=PRINTABLE)]
"""A text filter of a listing, such as a client's external id."""
After = Annotated[
    int | None, Query(ge=0, le=MAX_ID, description="The `next` of the last page")
]
IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Required on every POST: a retry with the same key and body "
        "gets the first response again.",
    ),
]


def actor_of(key: ApiKeyRecord) -> str:
    return f"api key {key.prefix} ({key.name})"


def page_of(records: list[Record], limit: int, shape: Callable[[Record], Any]) -> Any:
    items = [shape(record) for record in records]
    last = records[-1]["id"] if len(records) == limit else None
    return {"items": items, "next": last}


def found(record: Record | None, what: str) -> Record:
    if record is None:
        raise NotFound(f"no {what}")
    return record


def money(amount: Decimal, currency: str) -> str:
    """The amount to the currency's minor units: the same text on every database.

    An amount with more decimals than its currency has (a percentage, a
    penalty not yet rounded) keeps them.
    """
    cents = Decimal(1).scaleb(-minor_units(currency))
    rounded = amount.quantize(cents)
    return str(rounded) if rounded == amount else decimal_text(amount)


def decimal_text(value: Decimal) -> str:
    """A decimal without trailing zeros or an exponent: `5`, `2.5`, `10`."""
    return format(value.normalize(), "f")


def today_of(request: Request) -> date:
    return web_of(request).today()


def now_of(request: Request) -> datetime:
    return web_of(request).now()


def idempotent(
    request: Request,
    key: ApiKeyRecord,
    idempotency_key: str,
    body: BaseModel,
    work: Callable[[], tuple[int, Mapping[str, Any]]],
) -> JSONResponse:
    """Run a POST once per key; a replay says so in `Idempotent-Replayed`."""

    def run() -> StoredResponse:
        status, payload = work()
        return StoredResponse(status, jsonable_encoder(payload))

    response, replayed = run_once(
        api_of(request).idempotency,
        key.id,
        idempotency_key,
        f"POST {request.url.path}",
        body.model_dump(mode="json"),
        run,
        now_of(request),
    )
    headers = {"Idempotent-Replayed": "true" if replayed else "false"}
    return JSONResponse(dict(response.body), response.status, headers=headers)
