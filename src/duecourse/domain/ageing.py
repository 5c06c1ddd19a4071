"""Ageing: how long the overdue part of the book has been waiting.

An open balance falls in one bucket by its days past the due date on the
as-of day: not yet due or due today is current; then 1-30, 31-60, 61-90
and more than 90 days. Totals are kept per currency, never added across.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from enum import StrEnum

from duecourse.domain.money import Money


class Bucket(StrEnum):
    """An ageing bucket, by days past the due date; in display order."""

    CURRENT = "current"
    DAYS_1_30 = "1-30"
    DAYS_31_60 = "31-60"
    DAYS_61_90 = "61-90"
    DAYS_OVER_90 = "90+"


_UPPER_BOUNDS = (
    (0, Bucket.CURRENT),
    (30, Bucket.DAYS_1_30),
    (60, Bucket.DAYS_31_60),
    (90, Bucket.DAYS_61_90),
)


def bucket_of(days_overdue: int) -> Bucket:
    """The bucket of a balance `days_overdue` days past its due date."""
    for upper, bucket in _UPPER_BOUNDS:
        if days_overdue <= upper:
            return bucket
    return Bucket.DAYS_OVER_90


def age_balances(
    balances: Iterable[tuple[date, Money]], as_of: date
) -> dict[str, dict[Bucket, Decimal]]:
    """Open balances by currency and bucket, every bucket present, zero if empty.

    `balances` are (due date, open balance) pairs; currencies in sorted order.
    """
    book: dict[str, dict[Bucket, Decimal]] = {}
    for due_date, balance in balances:
        row = book.setdefault(balance.currency, dict.fromkeys(Bucket, Decimal(0)))
        bucket = bucket_of((as_of - due_date).days)
        row[bucket] += balance.amount
    return {currency: book[currency] for currency in sorted(book)}
