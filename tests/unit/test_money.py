"""Money is exact: Decimal amounts, one currency, rounding once, half up."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from duecourse.domain.errors import CurrencyMismatch, InvalidField
from duecourse.domain.money import Money, minor_units, parse_amount, parse_currency

amounts = st.decimals(
    min_value=Decimal("-1000000"),
    max_value=Decimal("1000000"),
    places=4,
    allow_nan=False,
    allow_infinity=False,
)


@given(a=amounts, b=amounts)
def test_adding_then_subtracting_gives_back_the_amount_exactly(
    a: Decimal, b: Decimal
) -> None:
    x, y = Money(a, "BRL"), Money(b, "BRL")

    assert (x + y) - y == x


@given(a=amounts)
def test_rounding_lands_on_the_minor_unit_and_moves_at_most_half_of_it(
    a: Decimal,
) -> None:
    rounded = Money(a, "EUR").rounded()

    assert rounded.amount == rounded.amount.quantize(Decimal("0.01"))
    assert abs(rounded.amount - a) <= Decimal("0.005")
    assert rounded.rounded() == rounded


def test_half_a_cent_rounds_away_from_zero() -> None:
    assert Money(Decimal("2.345"), "EUR").rounded().amount == Decimal("2.35")
    assert Money(Decimal("-2.345"), "EUR").rounded().amount == Decimal("-2.35")
    assert Money(Decimal("2.344"), "EUR").rounded().amount == Decimal("2.34")


def test_currencies_without_cents_round_to_whole_units() -> None:
    assert minor_units("JPY") == 0
    assert Money(Decimal("1234.5"), "JPY").rounded().amount == Decimal("1235")


def test_amounts_in_two_currencies_never_mix() -> None:
    with pytest.raises(CurrencyMismatch):
        Money(Decimal(1), "BRL") + Money(Decimal(1), "EUR")
    with pytest.raises(CurrencyMismatch):
        _ = Money(Decimal(1), "BRL") < Money(Decimal(2), "EUR")


@pytest.mark.parametrize(
    ("written", "expected"),
    [("1234.50", "1234.50"), ("1234,50", "1234.50"), (" 7 ", "7"), (12, "12")],
)
def test_amounts_are_read_as_people_write_them(
    written: str | int, expected: str
) -> None:
    assert parse_amount(written) == Decimal(expected)


@pytest.mark.parametrize("written", ["abc", "1.2.3", "NaN", "Infinity", ""])
def test_a_bad_amount_names_the_field_and_the_fix(written: str) -> None:
    with pytest.raises(InvalidField) as problem:
        parse_amount(written, "amount")

    assert problem.value.field == "amount"


def test_a_float_is_refused_because_money_is_never_binary() -> None:
    with pytest.raises(InvalidField, match="float"):
        parse_amount(0.1)  # type: ignore[arg-type]


def test_currency_codes_are_checked_and_upper_cased() -> None:
    assert parse_currency("brl") == "BRL"
    with pytest.raises(InvalidField, match="ISO 4217"):
        parse_currency("R$")
