"""`duecourse start`: the embedded product in one command.

It applies the shipped default rule when no rule is active, loads the demo
book with its desk users on first start, runs today, then keeps the daily
schedule and serves the web app until stopped.
"""

from __future__ import annotations

import secrets
from importlib import resources

import click

from duecourse.bootstrap import Container, today, utc_now
from duecourse.domain.agreements import Role
from duecourse.entrypoints.schedule import run_today, start_background
from duecourse.services import rules as rule_service
from duecourse.services.access import set_password
from duecourse.services.agreements import NewUser, add_user
from duecourse.services.demo import load_demo


def _container() -> Container:
    app = click.get_current_context().find_object(Container)
    assert app is not None, "the duecourse group builds the container"
    return app


@click.command()
@click.option("--no-demo", is_flag=True, help="Do not load the demo book.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def start(no_demo: bool, host: str, port: int) -> None:
    """Start the embedded product: the default rule, the demo, the daily run
    and the web app."""
    app = _container()
    if not _active_rules(app):
        _apply_default_rule(app)
    if not no_demo:
        loaded = load_demo(app.record_store, today())
        for result in loaded:
            click.echo(f"demo book: {result.line()}")
        if loaded:
            _demo_users(app)
    run_today(app)
    settings = app.settings
    where = (settings.smtp_url and "SMTP") or f"the mailbox folder {settings.mailbox}"
    click.echo(
        f"duecourse is running at http://{host}:{port}/desk. Today's run is done; "
        f"messages go to {where}.\nThe run repeats every day at "
        f"{settings.run_at}; press Ctrl-C to stop."
    )
    # The web app is imported here, not at the top: every other command
    # starts faster without it.
    import uvicorn

    from duecourse.entrypoints.web.app import create_app

    scheduler = start_background(app)
    try:
        uvicorn.run(create_app(app), host=host, port=port, log_level="warning")
    finally:
        scheduler.shutdown(wait=False)


DEMO_USERS = (
    ("admin@demo.example", "Ada Admin", Role.ADMIN),
    ("manager@demo.example", "Mario Manager", Role.MANAGER),
    ("collector@demo.example", "Cleo Collector", Role.COLLECTOR),
)


def _demo_users(app: Container) -> None:
    """Desk users for the demo, sharing one password made now and shown once."""
    password = secrets.token_urlsafe(12)
    store = app.negotiation_store()
    try:
        for email, name, role in DEMO_USERS:
            add_user(store, NewUser(email, name, role), "duecourse start", utc_now())
    finally:
        store.close()
    from duecourse.adapters.db.login_store import SqlLoginStore
    from duecourse.entrypoints.web.auth import Argon2Passwords

    logins = SqlLoginStore(app.engine)
    for email, _name, _role in DEMO_USERS:
        set_password(logins, Argon2Passwords(), email, password, "demo", utc_now())
    emails = ", ".join(email for email, _name, _role in DEMO_USERS)
    click.echo(f"demo users: {emails}; password: {password} (shown only now)")


def _active_rules(app: Container) -> list[str]:
    store = app.rule_store()
    try:
        return [r.name for r in store.all_versions() if r.active]
    finally:
        store.close()


def _apply_default_rule(app: Container) -> None:
    source = resources.files("duecourse") / "rules" / "default.toml"
    store = app.rule_store()
    try:
        rule_service.apply_rule(
            store,
            app.templates,
            source.read_text(encoding="utf-8"),
            "default.toml",
            "duecourse start",
            utc_now(),
            app.check_penalty,
        )
    finally:
        store.close()
    click.echo("the default collection rule is active (see `duecourse rules list`)")
