"""Commands of the web app: `serve`, `users set-password`, `notice-keys`."""

from __future__ import annotations

import click

from duecourse.bootstrap import Container, utc_now


def _container() -> Container:
    obj = click.get_current_context().obj
    assert isinstance(obj, Container)
    return obj


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
def serve(host: str, port: int) -> None:
    """Serve the web app: the desk, the portal and the notice endpoint."""
    import uvicorn

    from duecourse.entrypoints.web.app import create_app

    app = create_app(_container())
    click.echo(f"duecourse web app on http://{host}:{port}; press Ctrl-C to stop")
    uvicorn.run(app, host=host, port=port, log_level="info")


@click.command(name="set-password")
@click.argument("email")
@click.password_option(help="The new password; asked for when not given.")
def set_password(email: str, password: str) -> None:
    """Give a desk user a new password, which ends their open sessions."""
    from duecourse.adapters.db.login_store import SqlLoginStore
    from duecourse.entrypoints.web.auth import Argon2Passwords
    from duecourse.services import access

    store = SqlLoginStore(_container().engine)
    user = access.set_password(
        store, Argon2Passwords(), email, password, "cli", utc_now()
    )
    click.echo(f"{user.email} ({user.role}) has a new password")


@click.command(name="notice-keys")
def notice_keys() -> None:
    """Print what a host product needs to sign notice requests."""
    from duecourse.entrypoints.web.context import load_web_settings

    web = load_web_settings(_container().settings)
    click.echo(f"publishable key (data-key): {web.notice_key}")
    click.echo(f"notice secret (keep on your server): {web.notice_secret}")
    click.echo("data-signature = hex(HMAC-SHA256(notice secret, client external id))")
    origins = (
        ", ".join(sorted(web.notice_origins)) or "none: set DUECOURSE_NOTICE_ORIGINS"
    )
    click.echo(f"allowed origins: {origins}")


def register(cli: click.Group) -> None:
    """Add these commands; `set-password` joins the `users` group if it exists."""
    cli.add_command(serve)
    cli.add_command(notice_keys)
    users = cli.commands.get("users")
    if not isinstance(users, click.Group):
        users = click.Group("users", help="Desk users.")
        cli.add_command(users)
    users.add_command(set_password)
