"""Agreements: states, instalment schedules, margins by role, restored balances."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from duecourse.domain.agreements import (
    ALLOWED_MOVES,
    ROLE_MARGINS,
    AgreementStatus,
    AgreementTerms,
    Margin,
    Role,
    deferral_days,
    instalment_schedule,
    margin_for,
    move_agreement,
    needs_approval,
    parse_role,
    restore_balances,
)
from duecourse.domain.errors import Conflict, InvalidField
from duecourse.domain.money import Money

FIRST = date(2026, 4, 1)
PAIRS = [(a, b) for a in AgreementStatus for b in AgreementStatus]
ALLOWED = [
    (AgreementStatus.PENDING_APPROVAL, AgreementStatus.ACTIVE),
    (AgreementStatus.PENDING_APPROVAL, AgreementStatus.REJECTED),
    (AgreementStatus.ACTIVE, AgreementStatus.COMPLETED),
    (AgreementStatus.ACTIVE, AgreementStatus.CANCELLED),
]


def terms(**changes: object) -> AgreementTerms:
    values: dict[str, object] = {"instalments": 3, "first_due": FIRST}
    values.update(changes)
    return AgreementTerms(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(("current", "target"), ALLOWED)
def test_the_allowed_moves(current: AgreementStatus, target: AgreementStatus) -> None:
    assert move_agreement(current, target) is target


@pytest.mark.parametrize(
    ("current", "target"), [pair for pair in PAIRS if pair not in ALLOWED]
)
def test_every_other_move_is_refused_naming_the_state_and_the_allowed(
    current: AgreementStatus, target: AgreementStatus
) -> None:
    allowed = ", ".join(sorted(s.value for s in ALLOWED_MOVES[current]))
    with pytest.raises(Conflict, match=f"is {current.value} cannot become") as error:
        move_agreement(current, target)
    assert (allowed or "none, it is final") in str(error.value)


def test_three_instalments_split_a_balance_and_the_last_takes_the_remainder() -> None:
    schedule = instalment_schedule(Money.of("100.00", "BRL"), terms())

    assert [i.amount.amount for i in schedule] == [
        Decimal("33.33"),
        Decimal("33.33"),
        Decimal("33.34"),
    ]
    assert [i.due_date for i in schedule] == [
        date(2026, 4, 1),
        date(2026, 5, 1),
        date(2026, 5, 31),
    ]


def test_a_discount_is_taken_before_the_split_and_rounded_once() -> None:
    schedule = instalment_schedule(
        Money.of("1000.05", "BRL"), terms(discount_percent=Decimal("5"))
    )
    # 1000.05 * 0.95 = 950.0475 -> 950.05 half up
    assert sum(i.amount.amount for i in schedule) == Decimal("950.05")


def test_a_balance_too_small_for_the_count_is_refused() -> None:
    with pytest.raises(InvalidField, match="fewer instalments"):
        instalment_schedule(Money.of("0.02", "BRL"), terms())


def test_terms_are_checked_when_made() -> None:
    with pytest.raises(InvalidField, match="instalments"):
        terms(instalments=0)
    with pytest.raises(InvalidField, match="discount"):
        terms(discount_percent=Decimal(100))
    with pytest.raises(InvalidField, match="interval"):
        terms(interval_days=0)


@given(
    cents=st.integers(min_value=1, max_value=10**10),
    count=st.integers(min_value=1, max_value=60),
    discount=st.decimals(min_value=0, max_value=99, places=2),
    currency=st.sampled_from(["BRL", "EUR", "JPY", "KWD"]),
)
def test_instalments_sum_to_the_agreed_total_exactly(
    cents: int, count: int, discount: Decimal, currency: str
) -> None:
    balance = Money(Decimal(cents).scaleb(-2), currency)
    agreed = (balance * (1 - discount / 100)).rounded()
    chosen = terms(instalments=count, discount_percent=discount)
    unit = Decimal(1).scaleb(-{"JPY": 0, "KWD": 3}.get(currency, 2))
    if agreed.amount < unit * count:
        with pytest.raises(InvalidField):
            instalment_schedule(balance, chosen)
        return

    schedule = instalment_schedule(balance, chosen)

    assert len(schedule) == count
    assert sum(i.amount.amount for i in schedule) == agreed.amount
    assert all(i.amount.amount > 0 for i in schedule)
    assert all(i.amount == i.amount.rounded() for i in schedule)
    assert [i.seq for i in schedule] == list(range(1, count + 1))


def test_each_role_has_its_margin() -> None:
    assert ROLE_MARGINS[Role.ADMIN] == Margin(None, True, None, None)
    assert ROLE_MARGINS[Role.MANAGER] == Margin(Decimal(20), True, 12, 90)
    assert ROLE_MARGINS[Role.COLLECTOR] == Margin(Decimal(5), False, 3, 15)
    assert ROLE_MARGINS[Role.VIEWER] == Margin(Decimal(0), False, 0, 0)


def test_only_managers_and_admins_approve_and_viewers_do_not_negotiate() -> None:
    assert [r for r in Role if r.approves] == [Role.ADMIN, Role.MANAGER]
    assert [r for r in Role if not r.negotiates] == [Role.VIEWER]


def test_a_user_override_replaces_only_what_it_names() -> None:
    margin = margin_for(Role.COLLECTOR, max_discount_percent=Decimal(8))
    assert margin == Margin(Decimal(8), False, 3, 15)
    assert margin_for(Role.COLLECTOR, may_waive_penalties=True).may_waive_penalties


def test_roles_are_read_from_text() -> None:
    assert parse_role(" Manager ") is Role.MANAGER
    with pytest.raises(InvalidField, match="use admin, manager"):
        parse_role("boss")


GENEROUS = terms(instalments=6, discount_percent=Decimal(10), waive_penalties=True)


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.ADMIN, []),
        (Role.MANAGER, []),
        (
            Role.COLLECTOR,
            [
                "a discount of 10% exceeds the margin of 5%",
                "waiving penalties is beyond the margin",
                "6 instalments exceed the margin of 3",
                "a deferral of 30 days exceeds the margin of 15 days",
            ],
        ),
        (
            Role.VIEWER,
            [
                "a discount of 10% exceeds the margin of 0%",
                "waiving penalties is beyond the margin",
                "6 instalments exceed the margin of 0",
                "a deferral of 30 days exceeds the margin of 0 days",
            ],
        ),
    ],
)
def test_needs_approval_names_each_limit_exceeded_per_role(
    role: Role, expected: list[str]
) -> None:
    assert needs_approval(GENEROUS, ROLE_MARGINS[role], 30) == expected


def test_terms_at_the_limits_of_a_margin_are_within_it() -> None:
    edge = terms(instalments=3, discount_percent=Decimal(5))
    assert needs_approval(edge, ROLE_MARGINS[Role.COLLECTOR], 15) == []
    assert needs_approval(edge, ROLE_MARGINS[Role.COLLECTOR], 16) == [
        "a deferral of 16 days exceeds the margin of 15 days"
    ]


def test_a_manager_margin_has_limits_too() -> None:
    big = terms(instalments=13, discount_percent=Decimal(25))
    assert needs_approval(big, ROLE_MARGINS[Role.MANAGER], 91) == [
        "a discount of 25% exceeds the margin of 20%",
        "13 instalments exceed the margin of 12",
        "a deferral of 91 days exceeds the margin of 90 days",
    ]


def test_deferral_counts_from_the_due_date_or_today_if_later() -> None:
    chosen = terms(instalments=1, first_due=date(2026, 4, 10))
    assert deferral_days(chosen, date(2026, 4, 1), date(2026, 3, 1)) == 9
    assert deferral_days(chosen, date(2026, 2, 1), date(2026, 4, 3)) == 7
    assert deferral_days(chosen, date(2026, 5, 1), date(2026, 3, 1)) == 0


def test_a_cancelled_agreement_restores_balances_less_what_was_paid() -> None:
    originals = [(1, Decimal("600.00")), (2, Decimal("400.00"))]
    assert restore_balances(originals, Decimal("700.00")) == [
        (1, Decimal("0.00")),
        (2, Decimal("300.00")),
    ]
    assert restore_balances(originals, Decimal(0)) == originals


@given(
    balances=st.lists(st.decimals(min_value=0, max_value=10_000, places=2), max_size=6),
    paid=st.decimals(min_value=0, max_value=60_000, places=2),
)
def test_restored_balances_never_go_negative_and_account_for_the_payment(
    balances: list[Decimal], paid: Decimal
) -> None:
    originals = list(enumerate(balances))
    restored = restore_balances(originals, paid)
    assert all(balance >= 0 for _, balance in restored)
    taken = sum(balances, Decimal(0)) - sum((b for _, b in restored), Decimal(0))
    assert taken == min(paid, sum(balances, Decimal(0)))
