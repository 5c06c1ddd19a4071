"""Business days: which days a client can be contacted, country by country.

Stage dates roll off weekends and public holidays of the client's country: a
stage before the due date moves earlier, so the reminder still arrives in
time; a stage on or after it moves later, so nobody is chased on a holiday.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays as holiday_tables


@lru_cache(maxsize=256)
def _holidays(country: str, year: int) -> frozenset[date]:
    try:
        table = holiday_tables.country_holidays(country, years=year)
    except NotImplementedError:
        return frozenset()
    return frozenset(table.keys())


def is_business_day(day: date, country: str) -> bool:
    """Monday to Friday and not a public holiday of `country` (ISO 3166 alpha-2)."""
    return day.weekday() < 5 and day not in _holidays(country.upper(), day.year)


def roll_forward(day: date, country: str) -> date:
    """The first business day on or after `day`."""
    while not is_business_day(day, country):
        day += timedelta(days=1)
    return day


def roll_back(day: date, country: str) -> date:
    """The last business day on or before `day`."""
    while not is_business_day(day, country):
        day -= timedelta(days=1)
    return day


# The run asks for the same few (due date, offset, country) triples for every
# invoice of a book, so the answers are kept.
@lru_cache(maxsize=65536)
def stage_date(due_date: date, offset_days: int, country: str) -> date:
    """The business day a stage falls on for an invoice due on `due_date`."""
    day = due_date + timedelta(days=offset_days)
    if offset_days < 0:
        return roll_back(day, country)
    return roll_forward(day, country)
