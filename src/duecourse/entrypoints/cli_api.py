"""`duecourse api-keys`: create, list and revoke keys of the JSON API."""

from __future__ import annotations

import getpass

import click

from duecourse.adapters.db.api_store import SqlApiKeyStore
from duecourse.bootstrap import Container, utc_now
from duecourse.services.api_keys import create_key, parse_scopes, revoke_key


def _store() -> SqlApiKeyStore:
    app = click.get_current_context().find_object(Container)
    assert app is not None, "the duecourse group builds the container"
    return SqlApiKeyStore(app.engine)


@click.group(name="api-keys")
def api_keys() -> None:
    """Keys for `/api/v1`; each has scopes: read, write, admin."""


@api_keys.command(name="create")
@click.argument("name")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(["read", "write", "admin"]),
    help="Repeat for several: --scope read --scope write.",
)
def create(name: str, scopes: tuple[str, ...]) -> None:
    """Create a key named NAME and print it, once: only its hash is kept."""
    actor = f"cli:{getpass.getuser()}"
    created = create_key(_store(), name, parse_scopes(scopes), actor, utc_now())
    click.echo(created.token)
    click.echo(
        f"key {created.record.prefix} ({', '.join(sorted(created.record.scopes))}); "
        "store it now, it is not shown again",
        err=True,
    )


@api_keys.command(name="list")
def list_keys() -> None:
    """Every key: prefix, name, scopes, and when it was created or revoked."""
    for key in _store().all_keys():
        state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
        scopes = ",".join(sorted(key.scopes))
        click.echo(f"{key.prefix}  {key.name}  {scopes}  {state}")


@api_keys.command(name="revoke")
@click.argument("prefix")
def revoke(prefix: str) -> None:
    """Refuse the key with PREFIX (the part after `dc_`) from now on."""
    revoke_key(_store(), prefix, f"cli:{getpass.getuser()}", utc_now())
    click.echo(f"key {prefix} revoked")
