"""The shape of a benchmark book: how many clients, invoices and due invoices.

Every client has the same number of invoices. The due invoices belong to a
fixed number of due clients, all of whose invoices are due, spread evenly
over the client ids; so a large book and a book ten times smaller carry
exactly the same due work (clients, invoices, emails) and differ only in size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources

from duecourse.domain.calendar import is_business_day, stage_date
from duecourse.domain.rules import parse_rule


@dataclass(frozen=True)
class Country:
    code: str
    time_zone: str
    language: str
    currency: str
    share: int
    """Clients in this country out of every 20."""


COUNTRIES = (
    Country("BR", "America/Sao_Paulo", "pt_BR", "BRL", 10),
    Country("US", "America/New_York", "en", "USD", 4),
    Country("MX", "America/Mexico_City", "es", "MXN", 3),
    Country("ES", "Europe/Madrid", "es", "EUR", 3),
)
LEAD_DAYS = 10
"""Every contract asks for the bill 10 days before the due date."""

FUTURE_SPREAD_DAYS = 60
"""Invoices not due today are due over the next two months."""


@dataclass(frozen=True)
class BookShape:
    clients: int
    invoices: int
    due_invoices: int
    as_of: date

    @property
    def invoices_per_client(self) -> int:
        return self.invoices // self.clients

    @property
    def due_clients(self) -> int:
        return math.ceil(self.due_invoices / self.invoices_per_client)

    @property
    def due_date(self) -> date:
        """The due date of every due invoice: its bill falls on the as-of date."""
        return self.as_of + timedelta(days=LEAD_DAYS)

    def smaller(self, factor: int) -> BookShape:
        """A book `factor` times smaller with the same due work."""
        return BookShape(
            self.clients // factor,
            self.invoices // factor,
            self.due_invoices,
            self.as_of,
        )

    def check(self) -> None:
        if self.invoices % self.clients:
            raise SystemExit("--invoices must be a multiple of --clients")
        if self.due_clients > self.clients:
            raise SystemExit(
                f"{self.due_invoices} due invoices need {self.due_clients} due "
                f"clients, but the book has only {self.clients}"
            )


def country_of(client_index: int) -> Country:
    slot = client_index % 20
    for country in COUNTRIES:
        if slot < country.share:
            return country
        slot -= country.share
    raise AssertionError("country shares must add up to 20")


def is_due_client(client_index: int, shape: BookShape) -> bool:
    """Whether the client's invoices are due: every `stride`-th client."""
    stride = shape.clients // shape.due_clients
    return client_index % stride == 0 and client_index // stride < shape.due_clients


def pick_as_of(start: date) -> date:
    """The first day from `start` on which only the bill is due for every country.

    The bill (offset -10, from the client's lead days) must land exactly on the
    as-of date, and no other stage of the default rule on or before it, so the
    run records exactly one action per due invoice.
    """
    day = start
    for _ in range(366):
        if all(_only_bill_due(day, c.code) for c in COUNTRIES):
            return day
        day += timedelta(days=1)
    raise SystemExit(f"no suitable as-of date within a year of {start}")


def default_rule_text() -> str:
    return (resources.files("duecourse") / "rules" / "default.toml").read_text()


def _only_bill_due(as_of: date, country: str) -> bool:
    if not is_business_day(as_of, country):
        return False
    rule = parse_rule(default_rule_text(), "default.toml", lambda *_: True)
    due = as_of + timedelta(days=LEAD_DAYS)
    days = [stage_date(due, s.offset_for(LEAD_DAYS), country) for s in rule.stages]
    return sorted(days)[0] == as_of and sorted(days)[1] > as_of
