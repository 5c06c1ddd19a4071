"""`/api/v1/rules`: collection rule versions; applying one needs `admin`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from duecourse.adapters.db.rule_store import SqlRuleStore
from duecourse.entrypoints.web.api.common import (
    MAX_ID,
    PROBLEMS,
    WRITE_PROBLEMS,
    Admin,
    After,
    IdempotencyKey,
    Limit,
    Reader,
    actor_of,
    api_of,
    found,
    idempotent,
    now_of,
    page_of,
)
from duecourse.entrypoints.web.api.models import PRINTABLE, Page, RuleIn, RuleOut
from duecourse.services.rules import apply_rule

router = APIRouter(prefix="/rules", tags=["rules"], responses=PROBLEMS)


@router.get("", response_model=Page[RuleOut])
def list_rules(
    request: Request,
    key: Reader,
    limit: Limit = 50,
    after: After = None,
    name: Annotated[str | None, Query(max_length=120, pattern=PRINTABLE)] = None,
    active: bool | None = None,
) -> Any:
    filters = {"name": name, "active": active}
    records = api_of(request).reader.page("rules", filters, after, limit)
    return page_of(records, limit, dict)


@router.get("/{rule_id}", response_model=RuleOut)
def get_rule(
    request: Request, key: Reader, rule_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> Any:
    """One rule version, with its source."""
    reader = api_of(request).reader
    record = dict(found(reader.one("rules", "id", rule_id), f"rule version {rule_id}"))
    record["source"] = reader.rule_source(rule_id)
    return record


@router.post(
    "",
    response_model=RuleOut,
    status_code=201,
    responses={
        **WRITE_PROBLEMS,
        200: {"model": RuleOut, "description": "Same as the active version"},
    },
)
def apply(
    request: Request, key: Admin, body: RuleIn, idempotency_key: IdempotencyKey
) -> JSONResponse:
    """Apply a rule file as its rule's next version (see docs/rules.md).

    A file identical to the active version stores nothing and answers 200.
    """

    def work() -> tuple[int, dict[str, Any]]:
        api = api_of(request)
        store = SqlRuleStore(api.container.engine)
        try:
            version, created = apply_rule(
                store,
                api.container.templates,
                body.source,
                "request",
                actor_of(key),
                now_of(request),
                api.container.check_penalty,
            )
        finally:
            store.close()
        record = dict(found(api.reader.one("rules", "id", version.id), "rule"))
        record["source"] = body.source
        return (201 if created else 200), RuleOut.model_validate(record).model_dump(
            mode="json"
        )

    return idempotent(request, key, idempotency_key, body, work)
