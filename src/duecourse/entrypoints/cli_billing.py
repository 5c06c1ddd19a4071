"""The `duecourse bill` and `duecourse contracts` commands: parse, call, print."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import click

from duecourse.bootstrap import Container, today, utc_now
from duecourse.domain.money import parse_amount
from duecourse.services.billing import change_terms, issue_invoices


def _app() -> Container:
    obj = click.get_current_context().obj
    assert isinstance(obj, Container)
    return obj


@click.command()
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The day to bill for (YYYY-MM-DD); today by default.",
)
@click.option("--actor", default="cli", help="Who bills, for the audit log.")
def bill(as_of: datetime | None, actor: str) -> None:
    """Issue the invoices contracts owe as of the day; never one twice."""
    store = _app().billing_store()
    try:
        day = as_of.date() if as_of is not None else today()
        summary = issue_invoices(store, day, actor, utc_now())
    finally:
        store.close()
    click.echo(summary.line())
    for problem in summary.problems:
        click.secho(f"  {problem}", fg="yellow", err=True)


@click.group()
def contracts() -> None:
    """Contracts: change the terms of the next invoices."""


@contracts.command(name="change")
@click.argument("contract_id", type=int)
@click.option("--due-day", type=int, default=None, help="Day of the month, 1 to 31.")
@click.option(
    "--lead-days", type=int, default=None, help="Days before the due date, 0 to 60."
)
@click.option(
    "--period",
    type=click.Choice(["1", "6", "12"]),
    default=None,
    help="Months each invoice covers.",
)
@click.option(
    "--discount",
    default=None,
    help="Prepay discount in percent; with a new period, its standard one by default.",
)
@click.option("--actor", default="cli", help="Who changes it, for the audit log.")
def contracts_change(
    contract_id: int,
    due_day: int | None,
    lead_days: int | None,
    period: str | None,
    discount: str | None,
    actor: str,
) -> None:
    """Change a contract's terms; the change applies from its next invoice."""
    percent: Decimal | None = None
    if discount is not None:
        percent = parse_amount(discount, "--discount")
    store = _app().billing_store()
    try:
        changed = change_terms(
            store,
            contract_id,
            due_day=due_day,
            lead_days=lead_days,
            period=None if period is None else int(period),
            discount_percent=percent,
            actor=actor,
            now=utc_now(),
        )
    finally:
        store.close()
    click.echo(changed.line())
