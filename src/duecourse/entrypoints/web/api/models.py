"""The JSON shapes of `/api/v1`: money as decimal strings, dates as ISO text.

Request fields that are text refuse control characters and keep to the
lengths the tables hold, so a bad value is a 422 naming the field, never a
database error.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

DECIMAL = r"^[0-9]{1,12}(\.[0-9]{1,4})?$"
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"

Amount = Annotated[
    str,
    Field(
        pattern=DECIMAL,
        description="A decimal amount as a string, like `1234.50`; never a number.",
        examples=["1234.50"],
    ),
]
Currency = Annotated[
    str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217", examples=["BRL"])
]


def text(max_length: int, min_length: int = 1) -> Any:
    return Field(min_length=min_length, max_length=max_length, pattern=PRINTABLE)


Name = Annotated[str, text(200)]
Ident = Annotated[str, text(80)]

T = TypeVar("T")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    """One page of a listing; pass `next` as `after` for the following one."""

    items: list[T]
    next: int | None = Field(
        description="The `after` of the next page; null on the last page."
    )


class ErrorItem(BaseModel):
    field: str
    detail: str


class Problem(BaseModel):
    """RFC 9457 problem details; `errors` names each field at fault."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[ErrorItem] = []


class ContactIn(Strict):
    name: Name
    email: Annotated[str, text(254)] | None = None
    phone: Annotated[str, text(40)] | None = None


class ContractIn(Strict):
    amount: Amount
    billing_period_months: Annotated[int, Field(description="1, 6 or 12")]
    prepay_discount_percent: Amount | None = None
    due_day: Annotated[int, Field(ge=1, le=31)]
    notice_lead_days: Annotated[int, Field(ge=0, le=60)]
    starts_on: date | None = None


class ClientIn(Strict):
    """A client, created or updated by `external_id`; its currency never changes."""

    external_id: Ident
    name: Name
    country: Annotated[str, text(10)] = Field(examples=["BR"])
    time_zone: Annotated[str, text(64)] = Field(examples=["America/Sao_Paulo"])
    language: Annotated[str, text(10)] = Field(examples=["pt_BR"])
    currency: Currency
    segment: Annotated[str, text(40)] | None = None
    rule: Annotated[str, text(120)] | None = None
    contact: ContactIn | None = None
    contract: ContractIn | None = None


class ClientOut(BaseModel):
    id: int
    external_id: str
    name: str
    country: str
    time_zone: str
    language: str
    currency: str
    segment: str | None
    rule: str | None
    created_at: datetime


class ContractOut(BaseModel):
    id: int
    client: str
    amount: Amount
    currency: str
    billing_period_months: int
    prepay_discount_percent: Amount
    due_day: int
    notice_lead_days: int
    starts_on: date
    ends_on: date | None


class InvoiceIn(Strict):
    number: Annotated[str, text(60)]
    client: Ident
    amount: Amount
    currency: Currency
    issue_date: date
    due_date: date
    payment_url: Annotated[str, text(500)] | None = None


class InvoiceOut(BaseModel):
    id: int
    number: str
    client: str
    contract_id: int | None
    currency: str
    amount: Amount
    balance: Amount
    issue_date: date
    due_date: date
    status: str
    payment_url: str | None
    next_action_on: date | None
    paused_until: date | None


class PaymentIn(Strict):
    reference: Annotated[str, text(120)]
    client: Ident
    amount: Amount
    currency: Currency
    received_on: date
    invoice: Annotated[str, text(60)] | None = Field(
        None, description="Pay this invoice first; then the oldest others."
    )
    method: Annotated[str, text(40)] = "transfer"


class PaymentOut(BaseModel):
    id: int
    reference: str
    client: str
    amount: Amount
    currency: str
    received_on: date
    method: str
    unallocated: Amount
    created_at: datetime


class RuleIn(Strict):
    source: Annotated[str, Field(min_length=1, max_length=100_000)] = Field(
        description="The collection rule file, TOML, as in docs/rules.md."
    )


class RuleOut(BaseModel):
    id: int
    name: str
    version: int
    active: bool
    digest: str
    created_at: datetime
    created_by: str
    source: str | None = None


class ActionOut(BaseModel):
    id: int
    invoice: str
    client: str
    rule_version_id: int
    stage_key: str
    channel: str
    status: str
    reason: str
    scheduled_on: date
    taken_on: date
    message_id: str | None


class CallTaskOut(BaseModel):
    id: int
    client: str
    stage_key: str
    script: str
    reason: str
    balance: Amount
    currency: str
    status: str
    created_on: date


class PromiseIn(Strict):
    client: Ident
    amount: Amount
    promised_on: date
    invoices: list[Annotated[str, text(60)]] | None = Field(
        None, max_length=100, description="Invoice numbers; none means all open."
    )
    grace_days: Annotated[int, Field(ge=0, le=30)] | None = None


class PromiseOut(BaseModel):
    id: int
    client: str
    amount: Amount
    currency: str
    promised_on: date
    grace_days: int
    status: str
    created_by: str
    created_at: datetime
    resolved_on: date | None
    invoices: list[str]
