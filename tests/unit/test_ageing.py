"""Ageing buckets of the open book, and the worklist's risk score."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from duecourse.domain.ageing import Bucket, age_balances, bucket_of
from duecourse.domain.money import Money
from duecourse.domain.worklist import CallReason, RiskFacts, call_reasons, risk_score

AS_OF = date(2026, 3, 1)


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (-5, Bucket.CURRENT),
        (0, Bucket.CURRENT),
        (1, Bucket.DAYS_1_30),
        (30, Bucket.DAYS_1_30),
        (31, Bucket.DAYS_31_60),
        (60, Bucket.DAYS_31_60),
        (61, Bucket.DAYS_61_90),
        (90, Bucket.DAYS_61_90),
        (91, Bucket.DAYS_OVER_90),
    ],
)
def test_each_day_count_falls_in_one_bucket(days: int, bucket: Bucket) -> None:
    assert bucket_of(days) is bucket


def test_balances_are_summed_per_currency_and_never_across() -> None:
    def due(days_ago: int) -> date:
        return AS_OF - timedelta(days=days_ago)

    book = age_balances(
        [
            (due(-3), Money(Decimal("100.00"), "BRL")),
            (due(10), Money(Decimal("50.00"), "BRL")),
            (due(12), Money(Decimal("25.50"), "BRL")),
            (due(120), Money(Decimal("9.99"), "EUR")),
        ],
        AS_OF,
    )

    assert list(book) == ["BRL", "EUR"]
    assert book["BRL"][Bucket.CURRENT] == Decimal("100.00")
    assert book["BRL"][Bucket.DAYS_1_30] == Decimal("75.50")
    assert book["BRL"][Bucket.DAYS_OVER_90] == Decimal(0)
    assert book["EUR"][Bucket.DAYS_OVER_90] == Decimal("9.99")


def test_the_risk_score_weighs_promises_days_notices_and_bounces() -> None:
    facts = RiskFacts(
        broken_promises=1,
        days_overdue=200,
        notices_ignored=7,
        dead_emails=1,
        balance=Decimal("6000"),
    )

    assert risk_score(facts) == 40 + 120 + 50 + 15
    assert call_reasons(facts) == [
        CallReason.BROKEN_PROMISE,
        CallReason.BOUNCED,
        CallReason.NO_ANSWER,
        CallReason.LARGE_BALANCE,
    ]
