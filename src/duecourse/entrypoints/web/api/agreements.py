"""`/api/v1/agreements`: renegotiated balances, proposed on behalf of a desk user.

A proposal carries `proposed_by`, the email of the desk user the integration
acts for: within that user's autonomy margin the agreement is active at once
(its instalment invoices replace the covered ones); beyond it, it is pending
with a reason per limit exceeded, until a manager or admin (`decided_by`)
approves or rejects it. See services/agreements.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Engine, select
from sqlalchemy.orm import aliased

from duecourse.adapters.db.api_queries import Record
from duecourse.adapters.db.models import Client, Invoice
from duecourse.adapters.db.negotiation_store import SqlNegotiationStore
from duecourse.adapters.db.negotiation_tables import (
    Agreement,
    AgreementInstalment,
    AgreementInvoice,
    User,
)
from duecourse.domain.agreements import AgreementStatus, AgreementTerms, NotPermitted
from duecourse.domain.errors import InvalidField
from duecourse.entrypoints.web.api.agreement_models import (
    AgreementIn,
    AgreementOut,
    ApproveIn,
    RejectIn,
)
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
    api_of,
    decimal_text,
    found,
    idempotent,
    money,
    now_of,
    page_of,
    today_of,
)
from duecourse.entrypoints.web.api.models import Page
from duecourse.entrypoints.web.api.problems import problem
from duecourse.services.agreements import (
    AgreementStore,
    UserRecord,
    approve,
    propose_agreement,
    reject,
)
from duecourse.services.api_keys import ApiKeyRecord
from duecourse.services.intake import FieldError

router = APIRouter(prefix="/agreements", tags=["agreements"], responses=PROBLEMS)

AgreementId = Annotated[int, Path(ge=1, le=MAX_ID)]
# The names the domain gives its fields, and the request's own.
FIELDS = {
    "invoice": "invoices",
    "interval": "interval_days",
    "discount": "discount_percent",
}


@router.get("", response_model=Page[AgreementOut])
def list_agreements(
    request: Request,
    key: Reader,
    limit: Limit = 50,
    after: After = None,
    client: Filter = None,
    status: AgreementStatus | None = None,
) -> Any:
    engine = api_of(request).container.engine
    records = agreements(engine, client, status, after, limit)
    return page_of(records, limit, shape)


@router.get("/{agreement_id}", response_model=AgreementOut)
def get_agreement(request: Request, key: Reader, agreement_id: AgreementId) -> Any:
    record = one_agreement(api_of(request).container.engine, agreement_id)
    return shape(found(record, f"agreement {agreement_id}"))


@router.post("", response_model=AgreementOut, status_code=201, responses=WRITE_PROBLEMS)
def create_agreement(
    request: Request, key: Writer, body: AgreementIn, idempotency_key: IdempotencyKey
) -> JSONResponse:
    """Propose terms; 201 with status `active` within the proposer's margin,
    `pending` with `reasons` beyond it. A viewer or an inactive user is 403."""

    def work(store: AgreementStore) -> int:
        proposer = desk_user(store, "proposed_by", body.proposed_by)
        with api_names():
            terms = AgreementTerms(
                instalments=body.instalments,
                first_due=body.first_due,
                interval_days=body.interval_days,
                discount_percent=Decimal(body.discount_percent),
                waive_penalties=body.waive_penalties,
            )
            outcome = propose_agreement(
                store,
                body.client,
                body.invoices,
                terms,
                proposer.id,
                now_of(request),
                as_of=today_of(request),
            )
        return outcome.agreement_id

    return answer(request, key, idempotency_key, body, "proposed_by", 201, work)


@router.post(
    "/{agreement_id}/approve", response_model=AgreementOut, responses=WRITE_PROBLEMS
)
def approve_agreement(
    request: Request,
    key: Writer,
    agreement_id: AgreementId,
    body: ApproveIn,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """A manager or admin approves a pending agreement, which takes effect.

    A collector, or terms beyond the approver's own margin, is 403; an
    agreement that is not pending is 409.
    """

    def work(store: AgreementStore) -> int:
        approver = desk_user(store, "decided_by", body.decided_by)
        with api_names():
            approve(
                store,
                agreement_id,
                approver.id,
                now_of(request),
                as_of=today_of(request),
            )
        return agreement_id

    return answer(request, key, idempotency_key, body, "decided_by", 200, work)


@router.post(
    "/{agreement_id}/reject", response_model=AgreementOut, responses=WRITE_PROBLEMS
)
def reject_agreement(
    request: Request,
    key: Writer,
    agreement_id: AgreementId,
    body: RejectIn,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    """A manager or admin declines a pending agreement; the invoices stay."""

    def work(store: AgreementStore) -> int:
        approver = desk_user(store, "decided_by", body.decided_by)
        reject(store, agreement_id, approver.id, now_of(request), body.reason)
        return agreement_id

    return answer(request, key, idempotency_key, body, "decided_by", 200, work)


def answer(
    request: Request,
    key: ApiKeyRecord,
    idempotency_key: str,
    body: BaseModel,
    user_field: str,
    status: int,
    change: Callable[[AgreementStore], int],
) -> JSONResponse:
    """Run `change` once per idempotency key and answer the agreement.

    What the desk user's role does not allow is a 403 naming `user_field`.
    """

    def work() -> tuple[int, dict[str, Any]]:
        engine = api_of(request).container.engine
        store = SqlNegotiationStore(engine)
        try:
            agreement_id = change(store)
        finally:
            store.close()
        record = found(one_agreement(engine, agreement_id), "agreement")
        # Through the model, so a POST answers the same text as a GET.
        return status, AgreementOut.model_validate(shape(record)).model_dump(
            mode="json"
        )

    try:
        return idempotent(request, key, idempotency_key, body, work)
    except NotPermitted as refused:
        return problem(403, str(refused), [FieldError(user_field, str(refused))])


def desk_user(store: AgreementStore, field: str, email: str) -> UserRecord:
    user = store.user_by_email(email)
    if user is None:
        raise InvalidField(
            field, f"no desk user {email!r}", "use the email of a user of the desk"
        )
    return user


@contextmanager
def api_names() -> Iterator[None]:
    """Re-raise the domain's `InvalidField` under the request's field name."""
    try:
        yield
    except InvalidField as error:
        if error.field not in FIELDS:
            raise
        raise InvalidField(FIELDS[error.field], error.problem, error.fix) from None


# Reads: a keyset page of agreements, with their invoices and instalments.

Proposer = aliased(User)
Decider = aliased(User)
AGREEMENTS = (
    select(
        Agreement.id,
        Client.external_id.label("client"),
        Agreement.status,
        Agreement.currency,
        Agreement.instalment_count.label("instalments"),
        Agreement.first_due,
        Agreement.interval_days,
        Agreement.discount_percent,
        Agreement.waive_penalties,
        Agreement.on_miss,
        Agreement.cancel_after_days,
        Proposer.email.label("proposed_by"),
        Decider.email.label("decided_by"),
        Agreement.approval_reasons.label("reasons"),
        Agreement.covered_balance,
        Agreement.penalties_included,
        Agreement.penalties_waived,
        Agreement.agreed_total,
        Agreement.created_at,
        Agreement.decided_at,
        Agreement.closed_on,
        Agreement.close_reason,
    )
    .join(Client, Client.id == Agreement.client_id)
    .join(Proposer, Proposer.id == Agreement.requested_by)
    .outerjoin(Decider, Decider.id == Agreement.approved_by)
)


def agreements(
    engine: Engine,
    client: str | None,
    status: AgreementStatus | None,
    after: int | None,
    limit: int,
) -> list[Record]:
    """Up to `limit` agreements with an id above `after`, oldest first."""
    query = AGREEMENTS.order_by(Agreement.id).limit(limit)
    if after is not None:
        query = query.where(Agreement.id > after)
    if client is not None:
        query = query.where(Client.external_id == client)
    if status is not None:
        query = query.where(Agreement.status == status.value)
    return _read(engine, query)


def one_agreement(engine: Engine, agreement_id: int) -> Record | None:
    found = _read(engine, AGREEMENTS.where(Agreement.id == agreement_id))
    return found[0] if found else None


def _read(engine: Engine, query: Any) -> list[Record]:
    with engine.connect() as connection:
        records = [dict(row._mapping) for row in connection.execute(query)]
        ids = [record["id"] for record in records]
        if not ids:
            return records
        covered = connection.execute(
            select(AgreementInvoice.agreement_id, Invoice.number)
            .join(Invoice, Invoice.id == AgreementInvoice.invoice_id)
            .where(AgreementInvoice.agreement_id.in_(ids))
            .order_by(Invoice.due_date, Invoice.id)
        )
        schedule = connection.execute(
            select(
                AgreementInstalment.agreement_id,
                AgreementInstalment.seq,
                Invoice.number.label("invoice"),
                Invoice.amount,
                Invoice.balance,
                Invoice.currency,
                Invoice.due_date,
                Invoice.status,
            )
            .join(Invoice, Invoice.id == AgreementInstalment.invoice_id)
            .where(AgreementInstalment.agreement_id.in_(ids))
            .order_by(AgreementInstalment.agreement_id, AgreementInstalment.seq)
        )
        numbers = _grouped((row.agreement_id, row.number) for row in covered)
        instalments = _grouped(
            (row.agreement_id, dict(row._mapping)) for row in schedule
        )
    for record in records:
        record["invoices"] = numbers.get(record["id"], [])
        record["schedule"] = instalments.get(record["id"], [])
    return records


def _grouped(pairs: Iterable[tuple[int, Any]]) -> dict[int, list[Any]]:
    groups: dict[int, list[Any]] = {}
    for agreement_id, value in pairs:
        groups.setdefault(agreement_id, []).append(value)
    return groups


def shape(record: Record) -> dict[str, Any]:
    currency = record["currency"]
    shaped = dict(record)
    shaped["discount_percent"] = decimal_text(record["discount_percent"])
    shaped["reasons"] = list(record["reasons"] or [])
    for name in (
        "covered_balance",
        "penalties_included",
        "penalties_waived",
        "agreed_total",
    ):
        shaped[name] = _money_or_none(record[name], currency)
    shaped["schedule"] = [_instalment(row) for row in record["schedule"]]
    return shaped


def _instalment(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "seq": row["seq"],
        "invoice": row["invoice"],
        "amount": money(row["amount"], row["currency"]),
        "balance": money(row["balance"], row["currency"]),
        "due_date": row["due_date"],
        "status": row["status"],
    }


def _money_or_none(amount: Decimal | None, currency: str) -> str | None:
    return None if amount is None else money(amount, currency)
