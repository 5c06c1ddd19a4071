"""Stage dates fall on business days of the client's country."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from duecourse.domain.calendar import (
    is_business_day,
    roll_back,
    roll_forward,
    stage_date,
)

days = st.dates(date(2024, 1, 1), date(2030, 12, 31))
countries = st.sampled_from(["BR", "ES", "MX", "US", "GB", "DE", "PT"])


def test_weekends_and_national_holidays_are_not_business_days() -> None:
    assert not is_business_day(date(2026, 3, 21), "BR")  # a Saturday
    assert not is_business_day(date(2026, 4, 21), "BR")  # Tiradentes
    assert not is_business_day(date(2026, 12, 25), "ES")  # Christmas
    assert not is_business_day(date(2026, 7, 3), "US")  # Independence Day, observed
    assert is_business_day(date(2026, 4, 21), "US")


@given(day=days, country=countries)
def test_rolling_finds_the_nearest_business_day_on_the_right_side(
    day: date, country: str
) -> None:
    later = roll_forward(day, country)
    earlier = roll_back(day, country)

    assert is_business_day(later, country) and later >= day
    assert is_business_day(earlier, country) and earlier <= day
    assert all(
        not is_business_day(day + timedelta(days=n), country)
        for n in range((later - day).days)
    )
    assert all(
        not is_business_day(day - timedelta(days=n), country)
        for n in range((day - earlier).days)
    )


@given(due=days, offset=st.integers(-30, 45), country=countries)
def test_a_stage_before_the_due_date_stays_before_it_and_one_after_stays_after(
    due: date, offset: int, country: str
) -> None:
    on = stage_date(due, offset, country)

    assert is_business_day(on, country)
    if offset < 0:
        assert on <= due + timedelta(days=offset)
    else:
        assert on >= due + timedelta(days=offset)
    assert abs((on - (due + timedelta(days=offset))).days) <= 10


def test_a_country_without_holiday_data_still_skips_weekends() -> None:
    assert stage_date(date(2026, 3, 18), 3, "AQ") == date(2026, 3, 23)
