"""The book's rows as plain tuples of text and integers, in chunks.

Values are already in the form both loaders accept (ISO dates, decimal text,
1 for true), so neither SQLite's executemany nor PostgreSQL's COPY converts
anything per value.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from shape import FUTURE_SPREAD_DAYS, LEAD_DAYS, BookShape, country_of, is_due_client

Row = tuple[str | int | None, ...]

CHUNK = 50_000

CLIENT_COLUMNS = (
    "id",
    "external_id",
    "name",
    "country",
    "time_zone",
    "language",
    "currency",
    "segment",
    "rule_name",
    "created_at",
)
CONTACT_COLUMNS = ("id", "client_id", "name", "email", "phone", "receives_bills")
CONTRACT_COLUMNS = (
    "id",
    "client_id",
    "amount",
    "currency",
    "billing_period_months",
    "prepay_discount_percent",
    "due_day",
    "notice_lead_days",
    "starts_on",
    "ends_on",
)
INVOICE_COLUMNS = (
    "id",
    "client_id",
    "contract_id",
    "number",
    "currency",
    "amount",
    "balance",
    "issue_date",
    "due_date",
    "status",
    "payment_url",
    "rule_version_id",
    "next_action_on",
    "paused_until",
    "first_contact_on",
    "last_payment_on",
)
SEGMENTS = ("smb", "smb", "smb", "enterprise")


def client_rows(shape: BookShape, created_at: str) -> Iterator[list[Row]]:
    """Clients, with ids from 1; each one's contact and contract share its id."""
    chunk: list[Row] = []
    for index in range(shape.clients):
        country = country_of(index)
        chunk.append(
            (
                index + 1,
                f"C{index + 1:07d}",
                f"Client {index + 1}",
                country.code,
                country.time_zone,
                country.language,
                country.currency,
                SEGMENTS[index % len(SEGMENTS)],
                None,
                created_at,
            )
        )
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def contact_rows(shape: BookShape) -> Iterator[list[Row]]:
    for start in range(0, shape.clients, CHUNK):
        yield [
            (i, i, f"Billing {i}", f"billing{i}@example.com", None, 1)
            for i in range(start + 1, min(start + CHUNK, shape.clients) + 1)
        ]


def contract_rows(shape: BookShape) -> Iterator[list[Row]]:
    starts_on = (shape.as_of - timedelta(days=365)).isoformat()
    for start in range(0, shape.clients, CHUNK):
        yield [
            (
                i,
                i,
                _amount(i),
                country_of(i - 1).currency,
                1,
                "0",
                (i % 28) + 1,
                LEAD_DAYS,
                starts_on,
                None,
            )
            for i in range(start + 1, min(start + CHUNK, shape.clients) + 1)
        ]


def invoice_rows(shape: BookShape, rule_version_id: int) -> Iterator[list[Row]]:
    """Every client's invoices; the due clients' invoices are billed today."""
    per_client = shape.invoices_per_client
    due_left = shape.due_invoices
    due_date = shape.due_date.isoformat()
    as_of = shape.as_of.isoformat()
    future = [shape.due_date + timedelta(days=1 + d) for d in range(FUTURE_SPREAD_DAYS)]
    chunk: list[Row] = []
    invoice_id = 0
    for index in range(shape.clients):
        client_id = index + 1
        currency = country_of(index).currency
        due_here = min(per_client, due_left) if is_due_client(index, shape) else 0
        due_left -= due_here
        for n in range(per_client):
            invoice_id += 1
            if n < due_here:
                due, look = due_date, as_of
            else:
                day = future[invoice_id % FUTURE_SPREAD_DAYS]
                due = day.isoformat()
                look = (day - timedelta(days=LEAD_DAYS)).isoformat()
            amount = _amount(invoice_id)
            chunk.append(
                (
                    invoice_id,
                    client_id,
                    client_id,
                    f"INV-{invoice_id:08d}",
                    currency,
                    amount,
                    amount,
                    as_of,
                    due,
                    "open",
                    None,
                    rule_version_id,
                    look,
                    None,
                    None,
                    None,
                )
            )
            if len(chunk) == CHUNK:
                yield chunk
                chunk = []
    if chunk:
        yield chunk
    if due_left:
        raise AssertionError(f"{due_left} due invoices were not placed")


def _amount(seed: int) -> str:
    return f"{100 + (seed * 37) % 1900}.{seed % 100:02d}"
