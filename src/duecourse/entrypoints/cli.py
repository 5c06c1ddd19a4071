"""The `duecourse` command: parse, call a service, print."""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import click

from duecourse.bootstrap import Container, build, today, utc_now
from duecourse.domain.errors import DuecourseError
from duecourse.domain.money import parse_amount, parse_currency
from duecourse.entrypoints.schedule import (
    review_commitments,
)
from duecourse.services import rules as rule_service
from duecourse.services.dispatch import dispatch
from duecourse.services.events import payment_recorded
from duecourse.services.imports import ImportKind, import_csv
from duecourse.services.payments import PaymentInput, record_payment, reverse_payment
from duecourse.services.rulebook import RuleBook
from duecourse.services.run import run_collection
from duecourse.services.simulate import simulate

F = TypeVar("F", bound=Callable[..., Any])


def main() -> None:
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    # Migrations run at every start; their chatter is not news to an operator.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # What start-up loaded lives as long as the process: keep the garbage
    # collector from scanning it again and again while a run allocates.
    gc.freeze()
    try:
        cli(standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except DuecourseError as error:
        # The one place where domain errors become what a terminal user sees.
        click.secho(f"error: {error}", fg="red", err=True)
        sys.exit(2)


@click.group()
@click.pass_context
def cli(context: click.Context) -> None:
    """duecourse: runs your collection rule around every due date."""
    context.obj = build()


def container() -> Container:
    obj = click.get_current_context().obj
    assert isinstance(obj, Container)
    return obj


def as_of_option(function: F) -> F:
    return click.option(
        "--as-of",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        default=None,
        help="The day to run for (YYYY-MM-DD); today by default.",
    )(function)


def _day(value: Any) -> date:
    return value.date() if value is not None else today()


@cli.command()
@as_of_option
@click.option("--dry-run", is_flag=True, help="Show what would be done; store nothing.")
@click.option("--no-send", is_flag=True, help="Queue messages but do not deliver them.")
@click.option("--shard", default=None, help="Run only shard I of N, written I/N.")
def run(as_of: Any, dry_run: bool, no_send: bool, shard: str | None) -> None:
    """Carry out every stage due on or before the as-of day."""
    app = container()
    if not dry_run:
        review_commitments(app, _day(as_of))
    with _progress() as progress:
        summary = run_collection(
            app.run_store,
            app.composer,
            _day(as_of),
            utc_now(),
            dry_run=dry_run,
            shard=_shard(shard),
            progress=progress,
        )
    click.echo(summary.line())
    if not dry_run and not no_send:
        click.echo(dispatch(app.outbox(), app.senders, utc_now).line())


@cli.command(name="dispatch")
def dispatch_command() -> None:
    """Deliver the messages waiting in the outbox."""
    app = container()
    click.echo(dispatch(app.outbox(), app.senders, utc_now).line())


@contextmanager
def _progress() -> Iterator[Callable[[int, int], None] | None]:
    if not sys.stdout.isatty():
        yield None
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task("clients", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


def _shard(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise click.BadParameter(
            "write it as I/N, like 0/4", param_hint="--shard"
        ) from None
    if not 0 <= index < count:
        raise click.BadParameter("I must be between 0 and N-1", param_hint="--shard")
    return index, count


@cli.command(name="simulate")
@click.option(
    "--from",
    "start",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="First day to simulate (YYYY-MM-DD); today by default.",
)
@click.option("--days", type=click.IntRange(1, 366), default=30, show_default=True)
@click.option("--client", default=None, help="Only this client's external id.")
def simulate_command(start: Any, days: int, client: str | None) -> None:
    """Show, day by day, what each client would receive; nothing is stored."""
    app = container()
    # Each simulated day is a run; their log lines would drown the timeline.
    logging.getLogger("duecourse.services.run").setLevel(logging.WARNING)
    timeline = simulate(
        lambda: app.run_store(held=True), app.composer, _day(start), days, client
    )
    for day in timeline:
        for contact in day.contacts:
            invoices = ", ".join(contact.invoices)
            click.echo(
                f"{day.day}  {contact.client:<16} {contact.channel:<8} "
                f"{contact.what:<18} {invoices}"
            )
    total = sum(len(day.contacts) for day in timeline)
    click.echo(
        f"{total} contact(s) over {days} day(s) from {_day(start)}; "
        "nothing was stored or sent"
    )


@cli.command(name="import")
@click.argument("kind", type=click.Choice([k.value for k in ImportKind]))
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--actor", default="cli", help="Who imports it, for the audit log.")
def import_command(kind: str, path: Path, actor: str) -> None:
    """Import a CSV file of clients, invoices or payments, whole or not at all."""
    store = container().record_store()
    try:
        result = import_csv(kind, path.read_bytes(), path.name, store, actor, today())
    finally:
        store.close()
    click.echo(result.line())


@cli.command(name="pay")
@click.argument("client")
@click.argument("amount")
@click.option("--currency", required=True, help="ISO 4217 code, like BRL.")
@click.option("--reference", required=True, help="The bank's or the receipt's id.")
@click.option("--invoice", default=None, help="The invoice number it pays.")
@click.option(
    "--on",
    "received_on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The day it was received; today by default.",
)
@click.option("--actor", default="cli", help="Who records it, for the audit log.")
def pay(
    client: str,
    amount: str,
    currency: str,
    reference: str,
    invoice: str | None,
    received_on: Any,
    actor: str,
) -> None:
    """Record a payment by hand; it stops the rule for what it settles."""
    store = container().record_store()
    payment = PaymentInput(
        reference=reference,
        client_external_id=client,
        amount=parse_amount(amount),
        currency=parse_currency(currency),
        received_on=_day(received_on),
        invoice_number=invoice,
    )
    try:
        recorded = record_payment(store, payment, actor, utc_now())
    finally:
        store.close()
    events = container().event_store()
    try:
        payment_recorded(events, payment, recorded, utc_now())
    finally:
        events.close()
    if recorded.duplicate:
        click.echo(f"payment {reference} was already recorded; nothing changed")
        return
    allocated = sum((amount for _invoice, amount in recorded.allocated), Decimal(0))
    click.echo(
        f"payment {reference} recorded: {allocated} allocated to "
        f"{len(recorded.allocated)} invoice(s), {len(recorded.settled)} settled, "
        f"{recorded.unallocated} kept as credit"
    )


@cli.command(name="reverse-payment")
@click.argument("reference")
@click.option("--reason", required=True, help="Why, for the audit log.")
@click.option("--actor", default="cli", help="Who reverses it, for the audit log.")
def reverse_payment_command(reference: str, reason: str, actor: str) -> None:
    """Undo a payment the bank took back: its invoices reopen and the rule
    resumes where it stands."""
    store = container().record_store()
    try:
        reversed_ = reverse_payment(store, reference, reason, actor, utc_now())
    finally:
        store.close()
    click.echo(
        f"payment {reference} reversed: {len(reversed_.restored)} invoice(s) "
        f"given their amount back, {len(reversed_.reopened)} reopened, "
        f"{reversed_.credit_removed} of credit removed"
    )


@cli.group()
def rules() -> None:
    """Collection rules: apply a file, list versions."""


@rules.command(name="apply")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--actor", default="cli", help="Who applies it, for the audit log.")
def rules_apply(path: Path, actor: str) -> None:
    """Validate a rule file and store it as the rule's next version."""
    app = container()
    store = app.rule_store()
    try:
        record, created = rule_service.apply_rule(
            store,
            app.templates,
            path.read_text(encoding="utf-8"),
            str(path),
            actor,
            utc_now(),
            app.check_penalty,
        )
    finally:
        store.close()
    if created:
        click.echo(f"rule {record.name} version {record.version} is now active")
    else:
        click.echo(f"rule {record.name} version {record.version} is unchanged")


@rules.command(name="list")
def rules_list() -> None:
    """List every rule version and its stages."""
    store = container().rule_store()
    try:
        records = store.all_versions()
    finally:
        store.close()
    book = RuleBook.from_records(records)
    for record in records:
        flag = "active" if record.active else "      "
        click.echo(f"{record.name} v{record.version} {flag}")
        for line in rule_service.describe(book.versions[record.id]):
            click.echo(f"    {line}")


# Commands of other parts of the product, each in a module of its own.
from duecourse.entrypoints.cli_statements import statements  # noqa: E402

cli.add_command(statements)

from duecourse.entrypoints.cli_negotiation import (  # noqa: E402
    agreements,
    promises,
    users,
)

cli.add_command(users)
cli.add_command(promises)
cli.add_command(agreements)

from duecourse.entrypoints.cli_billing import bill, contracts  # noqa: E402

cli.add_command(bill)
cli.add_command(contracts)

from duecourse.entrypoints.cli_web import register as register_web  # noqa: E402

register_web(cli)

from duecourse.entrypoints.cli_workers import (  # noqa: E402
    beat,
    run_distributed,
    worker,
)

cli.add_command(run_distributed)
cli.add_command(worker)
cli.add_command(beat)

from duecourse.entrypoints.cli_api import api_keys  # noqa: E402

cli.add_command(api_keys)

from duecourse.entrypoints.cli_start import start  # noqa: E402

cli.add_command(start)
