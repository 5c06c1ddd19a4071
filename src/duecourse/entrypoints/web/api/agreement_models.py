"""The JSON shapes of `/api/v1/agreements`, in the style of `models`: money
and percentages as decimal strings, dates as ISO text, desk users by email."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field

from duecourse.entrypoints.web.api.models import Amount, Ident, Strict, text

MAX_INSTALMENTS = 120
MAX_INTERVAL_DAYS = 366
# With at most 120 instalments a year apart, every due date stays a date.
LAST_FIRST_DUE = date(2100, 12, 31)

Email = Annotated[str, text(254)]


class AgreementIn(Strict):
    """Terms proposed on behalf of a desk user, within or beyond their margin."""

    client: Ident
    invoices: list[Annotated[str, text(60)]] | None = Field(
        None, max_length=100, description="Invoice numbers; none means all open."
    )
    instalments: Annotated[int, Field(ge=1, le=MAX_INSTALMENTS)]
    first_due: Annotated[date, Field(le=LAST_FIRST_DUE)]
    interval_days: Annotated[
        int,
        Field(
            ge=0,
            le=MAX_INTERVAL_DAYS,
            description="Days between instalments; 1 or more for 2 or more.",
        ),
    ] = 30
    discount_percent: Amount = Field(
        "0", description="A percent from 0 up to, not including, 100; a string."
    )
    waive_penalties: bool = False
    proposed_by: Email = Field(
        description="The email of the desk user the integration acts for; "
        "their autonomy margin decides whether approval is needed.",
        examples=["ana@example.com"],
    )


class ApproveIn(Strict):
    decided_by: Email = Field(
        description="The email of a manager or admin whose margin covers the terms.",
        examples=["max@example.com"],
    )


class RejectIn(ApproveIn):
    reason: Annotated[str, text(200, min_length=0)] = ""


class InstalmentOut(BaseModel):
    seq: int
    invoice: str
    amount: Amount
    balance: Amount
    due_date: date
    status: str


class AgreementOut(BaseModel):
    id: int
    client: str
    status: str = Field(
        description="pending (awaiting approval), active, rejected, completed, "
        "cancelled"
    )
    currency: str
    invoices: list[str] = Field(description="The invoices the agreement covers.")
    instalments: int
    first_due: date
    interval_days: int
    discount_percent: str
    waive_penalties: bool
    on_miss: str
    cancel_after_days: int
    proposed_by: str
    decided_by: str | None
    reasons: list[str] = Field(
        description="Each limit of the proposer's margin the terms exceed."
    )
    covered_balance: Amount | None
    penalties_included: Amount | None
    penalties_waived: Amount | None
    agreed_total: Amount | None
    schedule: list[InstalmentOut] = Field(
        description="The instalment invoices, once the agreement is active."
    )
    created_at: datetime
    decided_at: datetime | None
    closed_on: date | None
    close_reason: str | None
