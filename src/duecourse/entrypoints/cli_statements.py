"""`duecourse statements`: import bank statements and work the queue."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import click

from duecourse.adapters.db.statement_store import SqlStatementStore
from duecourse.adapters.statements import (
    FORMATS,
    CsvMapping,
    detect_format,
    parse_statement,
)
from duecourse.bootstrap import Container, utc_now
from duecourse.services import reconciliation

_DELIMITERS = {"comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|"}
_FLAGS = {"decimal_comma", "has_header"}
_TEXTS = {"account", "currency", "date_format", "delimiter", "encoding"}


@click.group()
def statements() -> None:
    """Bank statements: import a file, list the queue, resolve or ignore entries."""


@statements.command(name="import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "statement_format",
    type=click.Choice(list(FORMATS)),
    default=None,
    help="The file's format; found from its content when left out.",
)
@click.option(
    "--csv-map",
    default=None,
    help="For a CSV export: account=...,currency=...,date=Date,amount=Amount,"
    "reference=Ref (columns by header or by position from 0).",
)
@click.option("--actor", default="cli", help="Who imports it, for the audit log.")
def import_command(
    path: Path, statement_format: str | None, csv_map: str | None, actor: str
) -> None:
    """Record the payments in a statement file; queue what does not match."""
    mapping = csv_mapping(csv_map) if csv_map else None
    statement = parse_statement(path, statement_format, mapping)
    found = statement_format or detect_format(path.read_bytes()) or "csv"

    store = SqlStatementStore(_container().engine)
    try:
        summary = reconciliation.import_statement(
            store, statement, str(path), actor, utc_now(), statement_format=found
        )
    finally:
        store.close()
    click.echo(summary.line())


@statements.command(name="queue")
def queue_command() -> None:
    """List the entries waiting for a person, oldest first."""
    store = SqlStatementStore(_container().engine)
    try:
        waiting = reconciliation.queue(store)
    finally:
        store.close()
    for entry in waiting:
        payer = entry.counterparty or "-"
        click.echo(
            f"{entry.entry_id}\n    {entry.booking_date}  {entry.amount} "
            f"{entry.currency}  {payer}  ref {entry.reference or '-'}\n"
            f"    {entry.reason}"
        )
    click.echo(f"{len(waiting)} entr{'y' if len(waiting) == 1 else 'ies'} waiting")


@statements.command(name="resolve")
@click.argument("entry_id")
@click.option("--invoice", "invoices", multiple=True, help="An invoice it pays.")
@click.option("--client", default=None, help="The client it pays, by external id.")
@click.option("--actor", default="cli", help="Who resolves it, for the audit log.")
def resolve_command(
    entry_id: str, invoices: tuple[str, ...], client: str | None, actor: str
) -> None:
    """Record a queued entry as a payment of the invoices or client named."""
    store = SqlStatementStore(_container().engine)
    try:
        recorded = reconciliation.resolve(
            store, entry_id, invoices, client, actor=actor, now=utc_now()
        )
    finally:
        store.close()
    click.echo(
        f"payment {recorded.payment_id} recorded: {len(recorded.settled)} "
        f"invoice(s) settled, {recorded.unallocated} left as credit"
    )


@statements.command(name="ignore")
@click.argument("entry_id")
@click.option("--reason", required=True, help="Why it is not a payment to record.")
@click.option("--actor", default="cli", help="Who ignores it, for the audit log.")
def ignore_command(entry_id: str, reason: str, actor: str) -> None:
    """Take an entry off the queue without recording a payment."""
    store = SqlStatementStore(_container().engine)
    try:
        reconciliation.ignore(store, entry_id, reason, actor, utc_now())
    finally:
        store.close()
    click.echo(f"entry {entry_id} ignored")


def csv_mapping(text: str) -> CsvMapping:
    """A `CsvMapping` from `key=value,...`; columns given as digits are positions."""
    known = {field.name for field in fields(CsvMapping)}
    values: dict[str, object] = {}
    for pair in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or key not in known:
            raise click.BadParameter(
                f"{pair!r} is not key=value with a key among "
                f"{', '.join(sorted(known))}",
                param_hint="--csv-map",
            )
        values[key] = _value(key, value.strip())
    missing = [
        key for key in ("account", "currency", "date", "amount") if key not in values
    ]
    if missing:
        raise click.BadParameter(
            f"{', '.join(missing)} missing, as in account=NL01...,currency=EUR,"
            "date=Date,amount=Amount",
            param_hint="--csv-map",
        )
    return CsvMapping(**values)  # type: ignore[arg-type]


def _value(key: str, value: str) -> object:
    if key in _FLAGS:
        return value.lower() in ("1", "true", "yes")
    if key == "delimiter":
        return _DELIMITERS.get(value, value)
    if key in _TEXTS:
        return value
    return int(value) if value.isdigit() else value


def _container() -> Container:
    obj = click.get_current_context().obj
    assert isinstance(obj, Container)
    return obj
