"""The shipped penalty presets: their data, and worked examples under each."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from duecourse.adapters.penalty_presets import (
    load_preset,
    preset_from_toml,
    preset_names,
)
from duecourse.domain.errors import InvalidField
from duecourse.domain.interest import FixingDay, Refixing
from duecourse.domain.money import Money
from duecourse.domain.penalties import PenaltyMode, PenaltyPolicy, penalty_to_date
from duecourse.domain.penalty_settings import penalty_policy_from_mapping


def preset(name: str) -> PenaltyPolicy:
    policy = load_preset(name)
    assert policy is not None
    return policy


def test_the_four_presets_ship_and_load() -> None:
    assert preset_names() == [
        "br-consumer",
        "eu-late-payment",
        "free-form",
        "uk-late-payment",
    ]
    for name in preset_names():
        policy = preset(name)
        assert policy.name == name
        assert policy.source


def test_an_unknown_or_unsafe_name_finds_no_preset() -> None:
    assert load_preset("fr-late-payment") is None
    assert load_preset("../rules/default") is None
    assert load_preset("") is None


def test_a_rule_table_resolves_presets_through_the_adapter() -> None:
    policy = penalty_policy_from_mapping(
        {"preset": "uk-late-payment", "mode": "disclosed"}, presets=load_preset
    )

    assert policy.name == "uk-late-payment"
    assert policy.mode is PenaltyMode.DISCLOSED


# --- worked examples --------------------------------------------------------


def test_br_consumer_fine_and_interest() -> None:
    # BRL 1000.00 due 2026-01-10, paid 2026-02-09: fine 2% = 20.00,
    # interest 1000 x 1% / 30 x 30 days = 10.00, total 30.00.
    result = penalty_to_date(
        preset("br-consumer"),
        Money.of("1000.00", "BRL"),
        date(2026, 1, 10),
        date(2026, 2, 9),
    )

    assert result.late_fee == Money.of("20.00", "BRL")
    assert result.interest == Money.of("10.00", "BRL")
    assert result.total == Money.of("30.00", "BRL")
    assert result.owed and not result.provisional


def test_eu_interest_takes_each_half_years_reference() -> None:
    # EUR 10,000.00 due 2023-05-31, paid 2023-08-31.
    # 1 Jun - 30 Jun: 30 days at 2.50 (MRO on 1 Jan 2023) + 8 = 10.50%; the
    #   ECB raised MRO to 4.00 on 21 Jun, which waits for the next half-year.
    # 1 Jul - 31 Aug: 62 days at 4.00 (MRO on 1 Jul 2023) + 8 = 12.00%.
    # 10000 x (10.50 x 30 + 12.00 x 62) / 100 / 365 = 10000 x 1059 / 36500
    #   = 290.1369... -> 290.14, plus EUR 40 compensation = 330.14.
    result = penalty_to_date(
        preset("eu-late-payment"),
        Money.of("10000.00", "EUR"),
        date(2023, 5, 31),
        date(2023, 8, 31),
    )

    assert result.days_late == 92
    assert result.interest == Money.of("290.14", "EUR")
    assert result.late_fee == Money.of("40.00", "EUR")
    assert result.total == Money.of("330.14", "EUR")


def test_uk_interest_keeps_the_reference_of_the_day_it_started() -> None:
    # GBP 5,000.00 due 2023-06-15, paid 2023-08-14; interest runs from 16 Jun.
    # Reference: Bank Rate on 31 Dec 2022 = 3.50, so 11.50% for the whole
    #   debt, although Bank Rate rose on 22 Jun and 3 Aug and a new half-year
    #   began on 1 Jul (SI 2002/1675 fixes it from the start).
    # 16 Jun - 14 Aug = 15 + 31 + 14 = 60 days.
    # 5000 x 11.50 x 60 / 100 / 365 = 94.5205... -> 94.52, plus GBP 70
    #   compensation (debt from 1,000 to 9,999.99) = 164.52.
    result = penalty_to_date(
        preset("uk-late-payment"),
        Money.of("5000.00", "GBP"),
        date(2023, 6, 15),
        date(2023, 8, 14),
    )

    assert result.days_late == 60
    assert result.interest == Money.of("94.52", "GBP")
    assert result.late_fee == Money.of("70.00", "GBP")
    assert result.total == Money.of("164.52", "GBP")


def test_uk_compensation_by_debt_size() -> None:
    policy = preset("uk-late-payment")
    due, late = date(2025, 3, 1), date(2025, 3, 2)

    def fee(amount: str) -> Money:
        return penalty_to_date(policy, Money.of(amount, "GBP"), due, late).late_fee

    assert fee("999.99") == Money.of("40", "GBP")
    assert fee("1000") == Money.of("70", "GBP")
    assert fee("10000") == Money.of("100", "GBP")


# --- the data against published half-year tables ----------------------------

EU_HALF_YEARS = {
    date(2022, 1, 1): "0.00",
    date(2022, 7, 1): "0.00",
    date(2023, 1, 1): "2.50",
    date(2023, 7, 1): "4.00",
    date(2024, 1, 1): "4.50",
    date(2024, 7, 1): "4.25",
    date(2025, 1, 1): "3.15",
    date(2025, 7, 1): "2.15",
    date(2026, 1, 1): "2.15",
}

UK_HALF_YEARS = {
    date(2022, 1, 1): "0.25",
    date(2022, 7, 1): "1.25",
    date(2023, 1, 1): "3.50",
    date(2023, 7, 1): "5.00",
    date(2024, 1, 1): "5.25",
    date(2024, 7, 1): "5.25",
    date(2025, 1, 1): "4.75",
    date(2025, 7, 1): "4.25",
    date(2026, 1, 1): "3.75",
}


@pytest.mark.parametrize(
    ("name", "table", "fixing_day", "refixing"),
    [
        (
            "eu-late-payment",
            EU_HALF_YEARS,
            FixingDay.FIRST_DAY_OF_HALF_YEAR,
            Refixing.EVERY_HALF_YEAR,
        ),
        (
            "uk-late-payment",
            UK_HALF_YEARS,
            FixingDay.LAST_DAY_BEFORE_HALF_YEAR,
            Refixing.ONCE,
        ),
    ],
)
def test_the_reference_for_each_half_year_matches_the_published_table(
    name: str, table: dict[date, str], fixing_day: FixingDay, refixing: Refixing
) -> None:
    interest = preset(name).interest
    assert interest is not None and interest.reference is not None
    reference = interest.reference

    assert reference.fixing_day is fixing_day
    assert reference.refixing is refixing
    for half_year, percent in table.items():
        assert reference.percent_for(half_year, half_year) == Decimal(percent)
        assert interest.percent_on(half_year, half_year) == Decimal(percent) + 8


def test_a_half_year_fixed_after_the_data_was_checked_is_provisional() -> None:
    eu, uk = preset("eu-late-payment"), preset("uk-late-payment")

    eu_old = penalty_to_date(
        eu, Money.of("100", "EUR"), date(2026, 1, 31), date(2026, 3, 1)
    )
    eu_new = penalty_to_date(
        eu, Money.of("100", "EUR"), date(2026, 6, 15), date(2026, 7, 15)
    )
    uk_new = penalty_to_date(
        uk, Money.of("100", "GBP"), date(2026, 7, 1), date(2026, 7, 31)
    )

    assert not eu_old.provisional
    assert eu_new.provisional
    assert uk_new.provisional


# --- reading a preset file --------------------------------------------------

MINIMAL = """
name = "mine"
source = "my contracts"
currency = "EUR"

[interest]
basis = "annual"

[[interest.period]]
valid_from = 2020-01-01
percent = "5"
"""


def test_a_minimal_preset_file_reads() -> None:
    policy = preset_from_toml(MINIMAL, "mine")

    assert policy.interest is not None
    assert policy.interest.rate.percent_on(date(2026, 1, 1)) == Decimal(5)
    assert policy.interest.reference is None


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (
            ('percent = "5"', "percent = 5.0"),
            "mine.interest.period[0].percent",
            'quote the number: percent = "5.0"',
        ),
        (
            ("valid_from = 2020-01-01", 'valid_from = "2020-01-01"'),
            "mine.interest.period[0].valid_from",
            "write it unquoted",
        ),
        (
            ('basis = "annual"', 'basis = "weekly"'),
            "mine.interest.basis",
            "use one of: monthly, annual",
        ),
        (('source = "my contracts"', ""), "mine.source", "is missing"),
        (
            ('currency = "EUR"', 'currency = "EURO"'),
            "mine.currency",
            "is not a currency code",
        ),
        (("[interest]", "[interest"), "mine", "is not valid TOML"),
    ],
)
def test_a_bad_preset_file_names_the_field(
    change: tuple[str, str], field: str, words: str
) -> None:
    text = MINIMAL.replace(*change)

    with pytest.raises(InvalidField) as raised:
        preset_from_toml(text, "mine")

    assert raised.value.field == field
    assert words in str(raised.value)


def test_rate_rows_must_be_in_date_order() -> None:
    text = MINIMAL + '\n[[interest.period]]\nvalid_from = 2019-01-01\npercent = "4"\n'

    with pytest.raises(InvalidField, match="keep the rows in date order") as raised:
        preset_from_toml(text, "mine")

    assert raised.value.field == "mine.interest.period[1].valid_from"


def test_a_published_rate_may_be_negative() -> None:
    text = MINIMAL + (
        '\n[interest.reference]\nname = "bank"\n'
        'fixing_day = "first-day-of-half-year"\nrefixing = "every-half-year"\n'
        '[[interest.reference.rate]]\nvalid_from = 2019-01-01\npercent = "-0.50"\n'
    )

    policy = preset_from_toml(text, "mine")

    assert policy.interest is not None and policy.interest.reference is not None
    assert policy.interest.reference.percent_for(
        date(2026, 1, 1), date(2026, 1, 1)
    ) == Decimal("-0.50")
