"""Interest over time: rate schedules, reference rates and simple accrual.

A rate schedule is a list of percents, each in force from its `valid_from` day
until the next one takes over. Statutory late-payment interest follows a
central bank's rate, but not day by day: the law picks the rate in force on a
fixing day of each half-year (1 January / 1 July in the EU directive,
31 December / 30 June in the UK act) and says whether the debt keeps that
rate for good or takes each new half-year's rate. Interest is simple and
accrues day by day at the percent in force that day.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import Enum
from itertools import pairwise

from duecourse.domain.errors import DuecourseError

_HUNDRED = Decimal(100)


class RateNotKnown(DuecourseError):
    """A rate was asked for a day before its schedule begins."""


@dataclass(frozen=True)
class RateStep:
    """A percent that takes effect on `valid_from`.

    `verify` marks a figure not yet checked against its official source; a
    penalty computed with it is provisional.
    """

    valid_from: date
    percent: Decimal
    verify: bool = False


@dataclass(frozen=True)
class RateSchedule:
    """Percents by the day they take effect; each holds until the next one.

    `checked_until` is the last day the data was compared with its source.
    Past that day the last known percent still applies, because a rate stays
    in force until it is changed, but a penalty that relies on it is
    provisional: the source may have moved since.
    """

    name: str
    steps: tuple[RateStep, ...]
    checked_until: date | None = None

    def __post_init__(self) -> None:
        if not self.steps:
            raise ValueError(f"rate schedule {self.name!r} has no steps")
        days = [step.valid_from for step in self.steps]
        if any(later <= earlier for earlier, later in pairwise(days)):
            raise ValueError(f"rate schedule {self.name!r} is not in date order")

    def step_on(self, day: date) -> RateStep:
        """The step in force on `day`."""
        days = [step.valid_from for step in self.steps]
        index = bisect.bisect_right(days, day) - 1
        if index < 0:
            raise RateNotKnown(
                f"{self.name} has no rate in force on {day.isoformat()}; its data "
                f"starts on {days[0].isoformat()}, add the earlier rates to it"
            )
        return self.steps[index]

    def percent_on(self, day: date) -> Decimal:
        return self.step_on(day).percent

    def is_provisional_on(self, day: date) -> bool:
        """Whether the percent for `day` rests on unchecked or stale data."""
        stale = self.checked_until is not None and day > self.checked_until
        return stale or self.step_on(day).verify

    def changes_after(self, first: date, last: date) -> list[date]:
        """Days in (first, last] on which a new percent takes effect."""
        return [s.valid_from for s in self.steps if first < s.valid_from <= last]


class FixingDay(Enum):
    """Which day's rate fixes the reference for a half-year."""

    FIRST_DAY_OF_HALF_YEAR = "first-day-of-half-year"
    """The rate in force on 1 January or 1 July (EU directive 2011/7)."""

    LAST_DAY_BEFORE_HALF_YEAR = "last-day-before-half-year"
    """The rate in force on 31 December or 30 June just before (UK act)."""


class Refixing(Enum):
    """Whether a late debt keeps its first reference or follows each half-year."""

    EVERY_HALF_YEAR = "every-half-year"
    """Each half-year of lateness accrues at that half-year's reference."""

    ONCE = "once"
    """The half-year in which interest starts to run fixes the rate for good."""


def half_year_start(day: date) -> date:
    """1 January or 1 July of the half-year that holds `day`."""
    return date(day.year, 1 if day.month <= 6 else 7, 1)


def half_year_starts_after(first: date, last: date) -> list[date]:
    """Every 1 January and 1 July in (first, last]."""
    starts: list[date] = []
    start = half_year_start(first)
    while True:
        start = _next_half_year(start)
        if start > last:
            return starts
        starts.append(start)


def _next_half_year(start: date) -> date:
    if start.month == 1:
        return date(start.year, 7, 1)
    return date(start.year + 1, 1, 1)


@dataclass(frozen=True)
class ReferenceRate:
    """A published rate, fixed per half-year the way a law prescribes."""

    schedule: RateSchedule
    fixing_day: FixingDay
    refixing: Refixing

    def fixing_date(self, day: date, interest_starts: date) -> date:
        """The day whose published rate is the reference for `day`.

        `interest_starts` is the first day interest runs by law (the day after
        the due date); it anchors the fixing when the rate is fixed once.
        """
        anchor = day if self.refixing is Refixing.EVERY_HALF_YEAR else interest_starts
        start = half_year_start(anchor)
        if self.fixing_day is FixingDay.FIRST_DAY_OF_HALF_YEAR:
            return start
        return start - timedelta(days=1)

    def percent_for(self, day: date, interest_starts: date) -> Decimal:
        """The reference percent that applies to interest accrued on `day`."""
        return self.schedule.percent_on(self.fixing_date(day, interest_starts))

    def is_provisional_for(self, day: date, interest_starts: date) -> bool:
        fixing = self.fixing_date(day, interest_starts)
        return self.schedule.is_provisional_on(fixing)

    def changes_after(self, first: date, last: date) -> list[date]:
        """Days in (first, last] on which the reference may change."""
        if self.refixing is Refixing.ONCE:
            return []
        return half_year_starts_after(first, last)


class RateBasis(Enum):
    """How a percent turns into a day's interest (simple, never compounded)."""

    MONTHLY = "monthly"
    """A percent a month, a thirtieth of it a day (Brazilian pro rata die)."""

    ANNUAL = "annual"
    """A percent a year, a 365th of it a day, leap years included."""

    @property
    def days(self) -> int:
        return 30 if self is RateBasis.MONTHLY else 365


@dataclass(frozen=True)
class Accrual:
    """Interest accrued over a run of days, before it becomes money.

    `percent_days` sums, day by day, the percent in force that day. It is an
    exact Decimal (percents times whole days), so the accrual over a period is
    exactly the sum of the accruals over its pieces, whatever rate changes
    fall inside; the one division, by 100 and the basis days, comes after.
    """

    percent_days: Decimal = Decimal(0)
    provisional: bool = False

    def __add__(self, other: Accrual) -> Accrual:
        return Accrual(
            self.percent_days + other.percent_days,
            self.provisional or other.provisional,
        )


@dataclass(frozen=True)
class InterestTerms:
    """Simple interest: the schedule's percent, plus the reference when there is one.

    With a reference, the schedule holds the margin (8 points in the EU and UK
    laws). A day whose total comes out negative accrues nothing: a negative
    reference never makes the creditor owe the client.
    """

    basis: RateBasis
    rate: RateSchedule
    reference: ReferenceRate | None = None

    def percent_on(self, day: date, interest_starts: date) -> Decimal:
        percent = self.rate.percent_on(day)
        if self.reference is not None:
            percent += self.reference.percent_for(day, interest_starts)
        return max(percent, Decimal(0))

    def accrual(self, first: date, last: date, interest_starts: date) -> Accrual:
        """Accrual for the days from `first` to `last`, both included.

        `interest_starts` is the day after the due date; the UK act fixes the
        reference from it, so it must not move when the period is split.
        """
        if last < first:
            return Accrual()
        changes = set(self.rate.changes_after(first, last))
        if self.reference is not None:
            changes.update(self.reference.changes_after(first, last))
        bounds = [first, *sorted(changes), last + timedelta(days=1)]

        total = Accrual()
        for start, end in pairwise(bounds):
            days = (end - start).days
            percent = self.percent_on(start, interest_starts)
            total += Accrual(percent * days, self._provisional(start, interest_starts))
        return total

    def amount(self, principal: Decimal, accrual: Accrual) -> Decimal:
        """The interest on `principal` for an accrual, unrounded."""
        return principal * accrual.percent_days / (_HUNDRED * self.basis.days)

    def _provisional(self, day: date, interest_starts: date) -> bool:
        if self.rate.is_provisional_on(day):
            return True
        if self.reference is None:
            return False
        return self.reference.is_provisional_for(day, interest_starts)
