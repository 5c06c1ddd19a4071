"""`duecourse users`, `promises` and `agreements`: the desk's negotiation, typed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import click

from duecourse.adapters.db.negotiation_store import SqlNegotiationStore
from duecourse.bootstrap import Container, today, utc_now
from duecourse.domain.agreements import (
    DEFAULT_CANCEL_AFTER_DAYS,
    AgreementStatus,
    AgreementTerms,
    MissPolicy,
    Role,
    parse_role,
)
from duecourse.domain.errors import NotFound
from duecourse.domain.money import parse_amount
from duecourse.domain.promises import DEFAULT_GRACE_DAYS
from duecourse.entrypoints.schedule import announce_broken_promises
from duecourse.services import agreements as agreement_service
from duecourse.services.promises import make_promise, review_promises

DATE = click.DateTime(formats=["%Y-%m-%d"])


@contextmanager
def _store() -> Iterator[SqlNegotiationStore]:
    app = click.get_current_context().find_object(Container)
    assert app is not None, "the duecourse group builds the container"
    store = SqlNegotiationStore(app.engine)
    try:
        yield store
    finally:
        store.close()


def _user_id(store: SqlNegotiationStore, email: str) -> int:
    user = store.user_by_email(email)
    if user is None:
        raise NotFound(f"no user {email}; add one with `duecourse users add`")
    return user.id


def _day(value: Any) -> date:
    return value.date() if value is not None else today()


@click.group()
def users() -> None:
    """Users of the desk and their autonomy margins."""


@users.command(name="add")
@click.argument("email")
@click.option("--name", required=True)
@click.option(
    "--role",
    required=True,
    type=click.Choice([r.value for r in Role]),
    help="Sets the default margin.",
)
@click.option("--max-discount", default=None, help="Percent, overrides the role's.")
@click.option("--may-waive/--may-not-waive", default=None, help="Waive penalties.")
@click.option("--max-instalments", type=click.IntRange(0), default=None)
@click.option("--max-deferral-days", type=click.IntRange(0), default=None)
def users_add(
    email: str,
    name: str,
    role: str,
    max_discount: str | None,
    may_waive: bool | None,
    max_instalments: int | None,
    max_deferral_days: int | None,
) -> None:
    """Add a user; web logins set a password later."""
    user = agreement_service.NewUser(
        email=email,
        name=name,
        role=parse_role(role),
        max_discount_percent=(
            None if max_discount is None else parse_amount(max_discount, "discount")
        ),
        may_waive_penalties=may_waive,
        max_instalments=max_instalments,
        max_deferral_days=max_deferral_days,
    )
    with _store() as store:
        user_id = agreement_service.add_user(store, user, "cli", utc_now())
    click.echo(f"user {user_id} {email} added as {role}")


@click.group()
def promises() -> None:
    """Promises to pay: each pauses the rule until its date plus a grace."""


@promises.command(name="add")
@click.argument("client")
@click.argument("amount")
@click.argument("promised_on", metavar="DATE", type=DATE)
@click.option("--invoice", "numbers", multiple=True, help="Repeat; all open if none.")
@click.option("--grace", type=click.IntRange(0), default=DEFAULT_GRACE_DAYS)
@click.option("--actor", default="cli", help="Who took the promise, for the audit.")
def promises_add(
    client: str,
    amount: str,
    promised_on: Any,
    numbers: tuple[str, ...],
    grace: int,
    actor: str,
) -> None:
    """Record CLIENT's promise to pay AMOUNT by DATE (YYYY-MM-DD)."""
    with _store() as store:
        made = make_promise(
            store,
            client,
            parse_amount(amount),
            promised_on.date(),
            list(numbers) or None,
            actor,
            utc_now(),
            grace_days=grace,
        )
    click.echo(
        f"promise {made.promise_id}: {len(made.invoice_ids)} invoice(s) paused "
        f"until {made.paused_until}"
    )


@promises.command(name="review")
@click.option("--as-of", type=DATE, default=None)
def promises_review(as_of: Any) -> None:
    """Mark promises kept or broken; run it before the daily run."""
    with _store() as store:
        review = review_promises(store, _day(as_of), utc_now())
    app = click.get_current_context().find_object(Container)
    assert app is not None, "the duecourse group builds the container"
    announce_broken_promises(app, review.broken)
    click.echo(
        f"promises kept {len(review.kept)}, broken {len(review.broken)}, "
        f"client(s) escalated {len(review.escalated)}"
    )


@click.group()
def agreements() -> None:
    """Agreements: instalments, new dates, discounts, within a margin."""


@agreements.command(name="propose")
@click.argument("client")
@click.option("--invoice", "numbers", multiple=True, help="Repeat; all open if none.")
@click.option("--instalments", type=click.IntRange(1), default=1, show_default=True)
@click.option("--first", "first_due", type=DATE, required=True, help="First due.")
@click.option("--interval", type=click.IntRange(1), default=30, show_default=True)
@click.option("--discount", default="0", help="Percent off the covered balance.")
@click.option("--waive-penalties", is_flag=True)
@click.option(
    "--on-miss",
    type=click.Choice([p.value for p in MissPolicy]),
    default=MissPolicy.CANCEL.value,
    show_default=True,
)
@click.option(
    "--cancel-after",
    type=click.IntRange(0),
    default=DEFAULT_CANCEL_AFTER_DAYS,
    show_default=True,
    help="Days an instalment may stay unpaid before the policy applies.",
)
@click.option("--as", "actor", required=True, help="The proposing user's email.")
def agreements_propose(
    client: str,
    numbers: tuple[str, ...],
    instalments: int,
    first_due: Any,
    interval: int,
    discount: str,
    waive_penalties: bool,
    on_miss: str,
    cancel_after: int,
    actor: str,
) -> None:
    """Propose an agreement for CLIENT's invoices."""
    terms = AgreementTerms(
        instalments=instalments,
        first_due=first_due.date(),
        interval_days=interval,
        discount_percent=parse_amount(discount, "discount"),
        waive_penalties=waive_penalties,
        on_miss=MissPolicy(on_miss),
        cancel_after_days=cancel_after,
    )
    with _store() as store:
        outcome = agreement_service.propose_agreement(
            store,
            client,
            list(numbers) or None,
            terms,
            _user_id(store, actor),
            utc_now(),
        )
    click.echo(f"agreement {outcome.agreement_id} is {outcome.status.value}")
    for reason in outcome.reasons:
        click.echo(f"  needs a manager: {reason}")
    for number in outcome.instalment_numbers:
        click.echo(f"  instalment {number}")


@agreements.command(name="approve")
@click.argument("agreement_id", type=int)
@click.option("--as", "actor", required=True, help="The approving manager's email.")
def agreements_approve(agreement_id: int, actor: str) -> None:
    """Approve a pending agreement; it takes effect at once."""
    with _store() as store:
        outcome = agreement_service.approve(
            store, agreement_id, _user_id(store, actor), utc_now()
        )
    click.echo(f"agreement {agreement_id} is {outcome.status.value}")
    for number in outcome.instalment_numbers:
        click.echo(f"  instalment {number}")


@agreements.command(name="reject")
@click.argument("agreement_id", type=int)
@click.option("--as", "actor", required=True, help="The deciding manager's email.")
@click.option("--reason", default="")
def agreements_reject(agreement_id: int, actor: str, reason: str) -> None:
    """Reject a pending agreement; the invoices stay as they are."""
    with _store() as store:
        agreement_service.reject(
            store, agreement_id, _user_id(store, actor), utc_now(), reason
        )
    click.echo(f"agreement {agreement_id} is rejected")


@agreements.command(name="list")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice([s.value for s in AgreementStatus]),
)
def agreements_list(statuses: tuple[str, ...]) -> None:
    """List agreements, oldest first."""
    with _store() as store:
        records = store.agreements([AgreementStatus(s) for s in statuses])
    for record in records:
        terms = record.terms
        total = "" if record.agreed_total is None else f" {record.agreed_total}"
        click.echo(
            f"{record.id:>5} client {record.client_id} {record.status.value:<10} "
            f"{terms.instalments}x from {terms.first_due} every "
            f"{terms.interval_days}d, {terms.discount_percent}% off"
            f"{', penalties waived' if terms.waive_penalties else ''}"
            f"{total} {record.currency}"
        )
        for reason in record.reasons:
            click.echo(f"      {reason}")
    if not records:
        click.echo("no agreements")


@agreements.command(name="review")
@click.option("--as-of", type=DATE, default=None)
def agreements_review(as_of: Any) -> None:
    """Complete paid agreements, cancel missed ones; run it before the daily run."""
    with _store() as store:
        review = agreement_service.review_agreements(store, _day(as_of), utc_now())
    click.echo(
        f"agreements completed {len(review.completed)}, cancelled "
        f"{len(review.cancelled)}, late {len(review.late)}"
    )


__all__ = ["agreements", "promises", "users"]
