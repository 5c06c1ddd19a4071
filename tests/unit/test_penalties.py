"""Penalties: late fee, interest, grace, modes and caps, and reading [penalty]."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from duecourse.domain.errors import CurrencyMismatch, InvalidField
from duecourse.domain.interest import (
    FixingDay,
    InterestTerms,
    RateBasis,
    RateNotKnown,
    RateSchedule,
    RateStep,
    ReferenceRate,
    Refixing,
)
from duecourse.domain.money import Money
from duecourse.domain.penalties import (
    CompensationTier,
    PenaltyMode,
    PenaltyPolicy,
    penalty_to_date,
)
from duecourse.domain.penalty_settings import penalty_policy_from_mapping


def flat(percent: str, basis: RateBasis = RateBasis.MONTHLY) -> InterestTerms:
    return InterestTerms(
        basis, RateSchedule("test", (RateStep(date.min, Decimal(percent)),))
    )


BR_LIKE = PenaltyPolicy(
    name="br-like", late_fee_percent=Decimal(2), interest=flat("1"), currency="BRL"
)


def brl(amount: str) -> Money:
    return Money.of(amount, "BRL")


# --- worked examples --------------------------------------------------------


def test_a_fine_and_a_month_of_interest_under_brazilian_terms() -> None:
    # BRL 1000.00 due 2026-01-10, paid 2026-02-09: 30 days late.
    # fine 2% of 1000 = 20.00; interest 1000 x 1% / 30 x 30 days = 10.00.
    result = penalty_to_date(
        BR_LIKE, brl("1000.00"), date(2026, 1, 10), date(2026, 2, 9)
    )

    assert result.days_late == 30
    assert result.late_fee == brl("20.00")
    assert result.interest == brl("10.00")
    assert result.total == brl("30.00")
    assert result.owed


def test_interest_counts_from_the_day_after_the_due_date() -> None:
    due = date(2026, 3, 1)

    on_due_date = penalty_to_date(BR_LIKE, brl("3000"), due, due)
    one_day_late = penalty_to_date(BR_LIKE, brl("3000"), due, due + timedelta(days=1))

    assert on_due_date.total == brl("0")
    assert not on_due_date.owed
    # 3000 x 1% / 30 = 1.00 for the one day, plus the 60.00 fine.
    assert one_day_late.interest == brl("1.00")
    assert one_day_late.late_fee == brl("60.00")


def test_rounding_happens_once_half_up() -> None:
    # 1234.57 x 1% / 30 x 7 = 2.880663... -> 2.88; fine 24.6914 -> 24.69.
    result = penalty_to_date(
        BR_LIKE, brl("1234.57"), date(2026, 1, 1), date(2026, 1, 8)
    )

    assert result.interest == brl("2.88")
    assert result.late_fee == brl("24.69")
    assert result.total == brl("27.57")


def test_an_annual_rate_accrues_a_365th_a_day() -> None:
    policy = PenaltyPolicy(interest=flat("36.5", RateBasis.ANNUAL))

    # 1000 x 36.5% / 365 = 1.00 a day, 10 days.
    result = penalty_to_date(
        policy, Money.of("1000", "USD"), date(2024, 2, 20), date(2024, 3, 1)
    )

    assert result.days_late == 10  # 2024 is a leap year: 21..29 Feb, 1 Mar
    assert result.interest == Money.of("10.00", "USD")


def test_the_reference_is_fixed_per_half_year_and_can_be_refixed() -> None:
    # Margin 8 over a reference that is 1.00 on 1 Jan and 3.00 on 1 Jul and
    # changes on 1 Mar in between (ignored: only fixing days count).
    bank = RateSchedule(
        "bank",
        (
            RateStep(date(2020, 1, 1), Decimal("1.00")),
            RateStep(date(2030, 3, 1), Decimal("2.00")),
            RateStep(date(2030, 6, 15), Decimal("3.00")),
        ),
    )
    margin = RateSchedule("margin", (RateStep(date(2020, 1, 1), Decimal(8)),))
    every = InterestTerms(
        RateBasis.ANNUAL,
        margin,
        ReferenceRate(bank, FixingDay.FIRST_DAY_OF_HALF_YEAR, Refixing.EVERY_HALF_YEAR),
    )
    once = InterestTerms(
        RateBasis.ANNUAL,
        margin,
        ReferenceRate(bank, FixingDay.FIRST_DAY_OF_HALF_YEAR, Refixing.ONCE),
    )
    due, paid = date(2030, 5, 31), date(2030, 7, 30)
    principal = Money.of("36500", "EUR")

    refixed = penalty_to_date(PenaltyPolicy(interest=every), principal, due, paid)
    kept = penalty_to_date(PenaltyPolicy(interest=once), principal, due, paid)

    # June: 30 days at 8 + 1 = 9%; July 1..30: 30 days at 8 + 3 = 11%.
    # 36500 x (9 x 30 + 11 x 30) / 36500 = 600.00
    assert refixed.interest == Money.of("600.00", "EUR")
    # Fixed once from the half-year interest started in: 60 days at 9%.
    assert kept.interest == Money.of("540.00", "EUR")


def test_fixed_compensation_follows_the_size_of_the_debt() -> None:
    tiers = (
        CompensationTier(Decimal(0), Decimal(40)),
        CompensationTier(Decimal(1000), Decimal(70)),
        CompensationTier(Decimal(10000), Decimal(100)),
    )
    policy = PenaltyPolicy(compensation=tiers, currency="GBP")
    due, late = date(2026, 1, 1), date(2026, 1, 2)

    def fee(amount: str) -> Money:
        return penalty_to_date(policy, Money.of(amount, "GBP"), due, late).late_fee

    assert fee("999.99") == Money.of("40", "GBP")
    assert fee("1000.00") == Money.of("70", "GBP")
    assert fee("9999.99") == Money.of("70", "GBP")
    assert fee("10000.00") == Money.of("100", "GBP")


# --- grace and modes --------------------------------------------------------


def test_charged_with_grace_owes_nothing_within_and_frees_the_grace_days() -> None:
    policy = PenaltyPolicy(
        grace_days=5, late_fee_percent=Decimal(2), interest=flat("3")
    )
    due = date(2026, 1, 10)

    within = penalty_to_date(policy, brl("1000"), due, date(2026, 1, 15))
    after = penalty_to_date(policy, brl("1000"), due, date(2026, 1, 17))

    assert within.total == brl("0") and not within.owed
    assert within.days_late == 5
    # Day 7 late: interest for days 6 and 7 only, 1000 x 3% / 30 x 2 = 2.00.
    assert after.interest == brl("2.00")
    assert after.total == brl("22.00")
    assert after.owed


def test_waived_in_grace_charges_from_the_due_date_once_the_grace_is_missed() -> None:
    policy = PenaltyPolicy(
        grace_days=5,
        late_fee_percent=Decimal(2),
        interest=flat("3"),
        mode=PenaltyMode.WAIVED_IN_GRACE,
    )
    due = date(2026, 1, 10)

    within = penalty_to_date(policy, brl("1000"), due, date(2026, 1, 15))
    after = penalty_to_date(policy, brl("1000"), due, date(2026, 1, 17))

    assert within.total == brl("0") and not within.owed
    # All 7 days: 1000 x 3% / 30 x 7 = 7.00, plus the 20.00 fee.
    assert after.interest == brl("7.00")
    assert after.total == brl("27.00")
    assert after.owed


def test_a_disclosed_penalty_is_computed_but_never_owed() -> None:
    policy = PenaltyPolicy(late_fee_percent=Decimal(2), mode=PenaltyMode.DISCLOSED)

    result = penalty_to_date(policy, brl("500"), date(2026, 1, 1), date(2026, 2, 1))

    assert result.total == brl("10.00")
    assert not result.owed


def test_the_cap_bounds_fee_and_interest_together() -> None:
    policy = PenaltyPolicy(
        late_fee_percent=Decimal(2),
        interest=flat("1"),
        cap_percent=Decimal("2.5"),
        cap_amount=Decimal(100),
        currency="BRL",
    )

    # A year late: 20.00 fee + 1000 x 1% / 30 x 365 = 121.67 interest,
    # capped at min(100, 2.5% of 1000 = 25.00): the fee, then 5.00 interest.
    result = penalty_to_date(policy, brl("1000"), date(2025, 1, 1), date(2026, 1, 1))

    assert result.late_fee == brl("20.00")
    assert result.interest == brl("5.00")
    assert result.total == brl("25.00")


def test_a_policy_in_one_currency_refuses_an_invoice_in_another() -> None:
    with pytest.raises(CurrencyMismatch, match="br-like penalty policy is in BRL"):
        penalty_to_date(
            BR_LIKE, Money.of("10", "EUR"), date(2026, 1, 1), date(2026, 2, 1)
        )


def test_a_rate_asked_before_its_data_begins_is_an_error() -> None:
    policy = PenaltyPolicy(
        interest=InterestTerms(
            RateBasis.MONTHLY,
            RateSchedule("young rate", (RateStep(date(2026, 1, 1), Decimal(1)),)),
        )
    )

    with pytest.raises(RateNotKnown, match="young rate has no rate in force on 2025"):
        penalty_to_date(policy, brl("10"), date(2025, 12, 1), date(2026, 1, 5))


def test_a_penalty_resting_on_unchecked_data_is_provisional() -> None:
    bank = RateSchedule(
        "bank",
        (RateStep(date(2020, 1, 1), Decimal(1)),),
        checked_until=date(2026, 3, 31),
    )
    reference = ReferenceRate(
        bank, FixingDay.FIRST_DAY_OF_HALF_YEAR, Refixing.EVERY_HALF_YEAR
    )
    margin = RateSchedule("margin", (RateStep(date(2020, 1, 1), Decimal(8)),))
    policy = PenaltyPolicy(interest=InterestTerms(RateBasis.ANNUAL, margin, reference))
    due = date(2026, 6, 1)

    assert not penalty_to_date(policy, brl("100"), due, date(2026, 6, 30)).provisional
    assert penalty_to_date(policy, brl("100"), due, date(2026, 7, 1)).provisional


# --- properties -------------------------------------------------------------

days = st.dates(min_value=date(2001, 1, 1), max_value=date(2035, 12, 31))
percents = st.decimals(min_value=0, max_value=30, places=2)
signed_percents = st.decimals(min_value=-1, max_value=15, places=2)
principals = st.decimals(min_value=0, max_value=10_000_000, places=2)


@st.composite
def schedules(draw: st.DrawFn, values: st.SearchStrategy[Decimal]) -> RateSchedule:
    starts = draw(st.lists(days, min_size=0, max_size=6, unique=True))
    steps = [RateStep(date(2000, 1, 1), draw(values))]
    steps += [RateStep(day, draw(values)) for day in sorted(starts)]
    return RateSchedule("drawn", tuple(steps))


@st.composite
def interest_terms(draw: st.DrawFn) -> InterestTerms:
    basis = draw(st.sampled_from(RateBasis))
    reference = None
    if draw(st.booleans()):
        reference = ReferenceRate(
            draw(schedules(signed_percents)),
            draw(st.sampled_from(FixingDay)),
            draw(st.sampled_from(Refixing)),
        )
    return InterestTerms(basis, draw(schedules(percents)), reference)


@st.composite
def policies(draw: st.DrawFn) -> PenaltyPolicy:
    tiers = sorted(draw(st.sets(principals, max_size=3)))
    return PenaltyPolicy(
        grace_days=draw(st.integers(min_value=0, max_value=15)),
        late_fee_percent=draw(percents),
        compensation=tuple(CompensationTier(t, draw(percents)) for t in tiers),
        interest=draw(st.none() | interest_terms()),
        cap_percent=draw(st.none() | percents),
        cap_amount=draw(st.none() | principals),
        mode=draw(st.sampled_from(PenaltyMode)),
        currency="EUR",
    )


@settings(max_examples=200)
@given(policies(), principals, days, days, days)
def test_the_penalty_never_decreases_as_time_passes(
    policy: PenaltyPolicy, amount: Decimal, due: date, one: date, other: date
) -> None:
    earlier, later = sorted((one, other))
    principal = Money(amount, "EUR")

    before = penalty_to_date(policy, principal, due, earlier)
    after = penalty_to_date(policy, principal, due, later)

    assert before.total <= after.total
    assert before.interest <= after.interest


@settings(max_examples=200)
@given(policies(), principals, days, days)
def test_the_penalty_is_never_negative_stays_under_the_cap_and_keeps_the_currency(
    policy: PenaltyPolicy, amount: Decimal, due: date, as_of: date
) -> None:
    result = penalty_to_date(policy, Money(amount, "EUR"), due, as_of)

    for part in (result.late_fee, result.interest, result.total):
        assert part.currency == "EUR"
        assert part.amount >= 0
    assert result.total == result.late_fee + result.interest
    cap = policy.cap_on(amount)
    if cap is not None:
        assert result.total.amount <= cap


@settings(max_examples=300)
@given(interest_terms(), days, days, days)
def test_splitting_a_period_does_not_change_the_interest(
    terms: InterestTerms, one: date, two: date, three: date
) -> None:
    first, middle, last = sorted((one, two, three))
    interest_starts = first

    whole = terms.accrual(first, last, interest_starts)
    head = terms.accrual(first, middle, interest_starts)
    tail = terms.accrual(middle + timedelta(days=1), last, interest_starts)

    assert whole.percent_days == head.percent_days + tail.percent_days
    assert whole.percent_days >= 0


@given(interest_terms(), days, st.integers(min_value=0, max_value=400))
def test_the_accrual_is_the_sum_of_each_days_percent(
    terms: InterestTerms, first: date, length: int
) -> None:
    last = first + timedelta(days=length)

    by_day = sum(
        (terms.percent_on(first + timedelta(days=n), first) for n in range(length + 1)),
        Decimal(0),
    )

    assert terms.accrual(first, last, first).percent_days == by_day


# --- reading a [penalty] table ----------------------------------------------


def presets(name: str) -> PenaltyPolicy | None:
    return BR_LIKE if name == "br-like" else None


def test_a_free_form_table_builds_a_policy() -> None:
    policy = penalty_policy_from_mapping(
        {
            "grace_days": 3,
            "late_fee_percent": "2",
            "late_fee_fixed": 15,
            "interest_annual_percent": "12,5",
            "cap_percent": "20",
            "mode": "waived_in_grace",
            "currency": "eur",
        }
    )

    assert policy.grace_days == 3
    assert policy.late_fee_percent == Decimal(2)
    assert policy.compensation == (CompensationTier(Decimal(0), Decimal(15)),)
    assert policy.interest is not None
    assert policy.interest.basis is RateBasis.ANNUAL
    assert policy.interest.rate.percent_on(date(2026, 1, 1)) == Decimal("12.5")
    assert policy.mode is PenaltyMode.WAIVED_IN_GRACE
    assert policy.currency == "EUR"


def test_a_preset_is_found_through_the_lookup_and_may_be_adjusted() -> None:
    policy = penalty_policy_from_mapping(
        {"preset": "br-like", "grace_days": 2, "mode": "disclosed"}, presets=presets
    )

    assert policy.name == "br-like"
    assert policy.late_fee_percent == Decimal(2)
    assert policy.grace_days == 2
    assert policy.mode is PenaltyMode.DISCLOSED


def test_the_free_form_preset_is_nothing_preset() -> None:
    policy = penalty_policy_from_mapping({"preset": "free-form", "late_fee_percent": 1})

    assert policy.late_fee_percent == Decimal(1)
    assert policy.interest is None


@pytest.mark.parametrize(
    ("table", "field", "words"),
    [
        (
            {"late_fee_percent": 2.5},
            "penalty.late_fee_percent",
            'quote the number: late_fee_percent = "2.5"',
        ),
        ({"cap_amount": 10.0, "currency": "EUR"}, "penalty.cap_amount", "never floats"),
        ({"late_fee_percent": "abc"}, "penalty.late_fee_percent", "is not an amount"),
        ({"late_fee_percent": "120"}, "penalty.late_fee_percent", "over 100 percent"),
        (
            {"interest_monthly_percent": "-1"},
            "penalty.interest_monthly_percent",
            "negative",
        ),
        ({"grace_days": "5"}, "penalty.grace_days", "write it like grace_days = 5"),
        ({"grace_days": True}, "penalty.grace_days", "not a whole number of days"),
        ({"mode": "sometimes"}, "penalty.mode", "charged, waived-in-grace, disclosed"),
        ({"late_fee_fixed": "25"}, "penalty.currency", 'add currency = "EUR"'),
        ({"currency": "euro"}, "penalty.currency", "is not a currency code"),
        (
            {"interest_monthly_percent": "1", "interest_annual_percent": "12"},
            "penalty.interest_annual_percent",
            "keep one of the two",
        ),
        ({"late_fee": "2"}, "penalty.late_fee", "is not a penalty setting"),
        ({"preset": "br-lik"}, "penalty.preset", "'br-lik' is not a known preset"),
        ({"preset": 3}, "penalty.preset", "is not a preset name"),
        (
            {"preset": "br-like", "interest_monthly_percent": "2"},
            "penalty.interest_monthly_percent",
            "cannot change the terms of the br-like preset",
        ),
    ],
)
def test_a_bad_value_names_its_field_and_the_fix(
    table: dict[str, object], field: str, words: str
) -> None:
    with pytest.raises(InvalidField) as raised:
        penalty_policy_from_mapping(table, presets=presets)

    assert raised.value.field == field
    assert words in str(raised.value)


def test_the_field_prefix_follows_where_the_table_sits() -> None:
    with pytest.raises(InvalidField) as raised:
        penalty_policy_from_mapping({"cap_percent": 1.5}, field="rules.gold.penalty")

    assert raised.value.field == "rules.gold.penalty.cap_percent"
