"""Promises: their states, when they are kept or broken, and the standing."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from duecourse.domain.errors import Conflict, InvalidField
from duecourse.domain.promises import (
    ALLOWED_MOVES,
    PromiseStatus,
    Standing,
    check_promise,
    judge_promise,
    move_promise,
    pause_ends,
)

DAY = date(2026, 3, 20)
PAIRS = [(a, b) for a in PromiseStatus for b in PromiseStatus]


@pytest.mark.parametrize(
    "target", [PromiseStatus.KEPT, PromiseStatus.BROKEN, PromiseStatus.CANCELLED]
)
def test_an_open_promise_may_be_kept_broken_or_cancelled(
    target: PromiseStatus,
) -> None:
    assert move_promise(PromiseStatus.OPEN, target) is target


@pytest.mark.parametrize(
    ("current", "target"),
    [(a, b) for a, b in PAIRS if b not in ALLOWED_MOVES[a]],
)
def test_every_other_move_is_refused_naming_the_state(
    current: PromiseStatus, target: PromiseStatus
) -> None:
    with pytest.raises(Conflict, match=f"is {current.value} cannot become"):
        move_promise(current, target)


def test_a_final_state_says_it_is_final() -> None:
    with pytest.raises(Conflict, match="none, it is final"):
        move_promise(PromiseStatus.KEPT, PromiseStatus.OPEN)


def test_the_pause_ends_after_the_grace() -> None:
    assert pause_ends(DAY, 3) == date(2026, 3, 23)
    with pytest.raises(InvalidField, match="grace_days"):
        pause_ends(DAY, -1)


def test_a_promise_must_be_positive_and_not_in_the_past() -> None:
    with pytest.raises(InvalidField, match="amount"):
        check_promise(Decimal(0), DAY, DAY)
    with pytest.raises(InvalidField, match="promised_on"):
        check_promise(Decimal(10), DAY - timedelta(days=1), DAY)
    check_promise(Decimal(10), DAY, DAY)


def test_money_in_full_keeps_a_promise_even_on_the_last_day_of_grace() -> None:
    end = pause_ends(DAY, 3)
    verdict = judge_promise(Decimal(100), Decimal(100), False, end, end)
    assert verdict is PromiseStatus.KEPT


def test_every_covered_invoice_settled_keeps_a_promise() -> None:
    verdict = judge_promise(Decimal(100), Decimal(0), True, DAY, DAY)
    assert verdict is PromiseStatus.KEPT


def test_a_promise_is_broken_only_from_the_day_after_the_grace() -> None:
    end = pause_ends(DAY, 3)
    partial = Decimal(40)
    assert judge_promise(Decimal(100), partial, False, end, end) is (PromiseStatus.OPEN)
    after = end + timedelta(days=1)
    assert judge_promise(Decimal(100), partial, False, end, after) is (
        PromiseStatus.BROKEN
    )


@given(
    amount=st.decimals(min_value=1, max_value=10_000, places=2),
    paid=st.decimals(min_value=0, max_value=10_000, places=2),
    days=st.integers(min_value=-10, max_value=10),
)
def test_a_promise_paid_in_full_is_never_broken(
    amount: Decimal, paid: Decimal, days: int
) -> None:
    verdict = judge_promise(amount, paid, False, DAY, DAY + timedelta(days=days))
    if paid >= amount:
        assert verdict is PromiseStatus.KEPT
    else:
        assert verdict is not PromiseStatus.KEPT


def test_each_broken_promise_raises_priority_and_the_second_escalates() -> None:
    fresh = Standing()
    once = fresh.after_broken_promise()
    twice = once.after_broken_promise()
    thrice = twice.after_broken_promise()

    assert (once.priority, once.broken_promises, once.escalated) == (1, 1, False)
    assert not once.escalates_from(fresh)
    assert (twice.priority, twice.broken_promises, twice.escalated) == (2, 2, True)
    assert twice.escalates_from(once)
    assert not thrice.escalates_from(twice)
