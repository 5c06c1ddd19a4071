"""The `duecourse` command: parse, call a service, print."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click

from duecourse.bootstrap import Container, build, utc_now
from duecourse.domain.errors import DuecourseError
from duecourse.services import rules as rule_service
from duecourse.services.dispatch import dispatch
from duecourse.services.rulebook import RuleBook
from duecourse.services.run import run_collection

F = TypeVar("F", bound=Callable[..., Any])


def main() -> None:
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
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
    return value.date() if value is not None else date.today()


@cli.command()
@as_of_option
@click.option("--dry-run", is_flag=True, help="Show what would be done; store nothing.")
@click.option("--no-send", is_flag=True, help="Queue messages but do not deliver them.")
@click.option("--shard", default=None, help="Run only shard I of N, written I/N.")
def run(as_of: Any, dry_run: bool, no_send: bool, shard: str | None) -> None:
    """Carry out every stage due on or before the as-of day."""
    app = container()
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
        raise click.BadParameter("write it as I/N, like 0/4", param_hint="--shard")
    if not 0 <= index < count:
        raise click.BadParameter("I must be between 0 and N-1", param_hint="--shard")
    return index, count


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
