"""The call screen, and ending a call with one outcome.

A collector sees the client's open charges with penalties to date, the whole
history, and the stage's call script. The call ends in one step: the
outcome is recorded with the task, and a promise, a new date or an agreement
goes through the same services the CLI uses, in the same unit of work.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from duecourse.domain.agreements import AgreementStatus, AgreementTerms, Margin
from duecourse.domain.calls import CallOutcome
from duecourse.domain.errors import Conflict, DuecourseError, InvalidField
from duecourse.domain.money import Money, parse_amount
from duecourse.domain.states import Channel
from duecourse.services.access import DeskUser
from duecourse.services.account import Account, AccountStore, NoticeTexts, account_of
from duecourse.services.agreements import AgreementStore, propose_agreement
from duecourse.services.compose import PenaltyQuote
from duecourse.services.payments import AuditRecord
from duecourse.services.ports import Links
from duecourse.services.promises import make_promise
from duecourse.services.timeline import TimelineEntry, TimelineStore, timeline_of
from duecourse.services.worklist import WorkItem, WorklistStore, open_task, work_item

log = logging.getLogger(__name__)


class CallStore(AgreementStore, WorklistStore, Protocol):
    """Promises, agreements and call records in one unit of work."""

    def record_outcome(
        self,
        task_id: int,
        client_id: int,
        user_id: int,
        call: CallEnd,
        now: datetime,
    ) -> int: ...

    def link_outcome(
        self, outcome_id: int, promise_id: int | None, agreement_id: int | None
    ) -> None: ...

    def close_task(self, task_id: int) -> None: ...

    def add_disputes(
        self,
        client_id: int,
        invoice_ids: list[int],
        outcome_id: int,
        reason: str,
        user_id: int,
        now: datetime,
    ) -> None: ...


@dataclass(frozen=True)
class CallEnd:
    """What the collector submitted; `call_end` checks it is complete."""

    outcome: CallOutcome
    note: str = ""
    amount: Decimal | None = None
    promised_on: date | None = None
    reason: str = ""
    terms: AgreementTerms | None = None


@dataclass(frozen=True)
class CallResult:
    outcome: CallOutcome
    client_external_id: str
    sentence: str


@dataclass(frozen=True)
class CallScreen:
    item: WorkItem
    account: Account
    history: list[TimelineEntry]
    script: str
    margin: Margin | None


def call_screen(
    store: CallStore,
    history: TimelineStore,
    accounts: AccountStore,
    texts: NoticeTexts,
    quote: PenaltyQuote,
    links: Links,
    task_id: int,
    user: DeskUser,
    as_of: date,
) -> CallScreen:
    """What a collector needs on the phone; the script in the client's language."""
    item = work_item(open_task(store, task_id), as_of)
    account = account_of(accounts, item.task.client_id, as_of, quote, open_only=True)
    record = store.user(user.id)
    script = _script(texts, item, account, links)
    return CallScreen(
        item,
        account,
        timeline_of(history, item.task.client_id),
        script,
        record.margin if record else None,
    )


def call_end(outcome: str, fields: Mapping[str, str]) -> CallEnd:
    """The outcome and the fields it needs, read from a form; `InvalidField`
    names the first one missing or wrong."""
    try:
        chosen = CallOutcome(outcome)
    except ValueError:
        names = ", ".join(o.value for o in CallOutcome)
        raise InvalidField(
            "outcome", f"{outcome!r} is unknown", f"use {names}"
        ) from None
    note = fields.get("note", "").strip()[:2000]

    if chosen is CallOutcome.PROMISE:
        amount = parse_amount(_needed(fields, "amount"))
        return CallEnd(chosen, note, amount, _day(fields, "promised_on"))
    if chosen is CallOutcome.NEW_DATE:
        return CallEnd(chosen, note, promised_on=_day(fields, "promised_on"))
    if chosen is CallOutcome.DISPUTE:
        return CallEnd(chosen, note, reason=_needed(fields, "reason")[:2000])
    if chosen is CallOutcome.AGREEMENT:
        terms = AgreementTerms(
            instalments=_count(fields, "instalments"),
            first_due=_day(fields, "first_due"),
            interval_days=_count(fields, "interval_days", 30),
            discount_percent=parse_amount(fields.get("discount_percent") or "0"),
            waive_penalties=fields.get("waive_penalties") == "on",
        )
        return CallEnd(chosen, note, terms=terms)
    return CallEnd(chosen, note)


def end_call(
    store: CallStore,
    task_id: int,
    user: DeskUser,
    call: CallEnd,
    now: datetime,
    as_of: date,
) -> CallResult:
    """Record how the call ended and do what the outcome says; one commit.

    The outcome row is written first, so that the promise or agreement
    service commits it together with its own work.
    """
    task = open_task(store, task_id)
    if task.assignee_id not in (None, user.id):
        raise Conflict(f"call task {task_id} is {task.assignee_name}'s call")

    if task.assignee_id is None:
        store.assign(task_id, user.id, now)
    outcome_id = store.record_outcome(task_id, task.client_id, user.id, call, now)
    if call.outcome.closes_task:
        store.close_task(task_id)
    store.audit(
        AuditRecord(
            at=now,
            actor=user.email,
            action="call ended",
            subject=f"call task {task_id}",
            details={"client_id": task.client_id, "outcome": call.outcome.value},
        )
    )

    sentence = _carry_out(
        store, task.client_external_id, outcome_id, user, call, now, as_of
    )
    store.commit()
    log.info(
        "call ended task_id=%d user_id=%d outcome=%s", task_id, user.id, call.outcome
    )
    return CallResult(call.outcome, task.client_external_id, sentence)


def _carry_out(
    store: CallStore,
    external_id: str,
    outcome_id: int,
    user: DeskUser,
    call: CallEnd,
    now: datetime,
    as_of: date,
) -> str:
    """Do what the outcome commits the client to; the sentence for the page."""
    if call.outcome in (CallOutcome.PROMISE, CallOutcome.NEW_DATE):
        assert call.promised_on is not None
        amount = call.amount
        if amount is None:
            client = store.client(external_id)
            assert client is not None
            amount = sum(
                (i.balance for i in store.open_invoices(client.id)), Decimal(0)
            )
        made = make_promise(
            store, external_id, amount, call.promised_on, None, user.email, now,
            as_of=as_of,
        )  # fmt: skip
        store.link_outcome(outcome_id, made.promise_id, None)
        return (
            f"Promise of {amount} by {call.promised_on} recorded; the rule is "
            f"paused until {made.paused_until}."
        )
    if call.outcome is CallOutcome.AGREEMENT:
        assert call.terms is not None
        proposed = propose_agreement(
            store, external_id, None, call.terms, user.id, now, as_of=as_of
        )
        store.link_outcome(outcome_id, None, proposed.agreement_id)
        if proposed.status is AgreementStatus.ACTIVE:
            return f"Agreement {proposed.agreement_id} is active."
        return (
            f"Agreement {proposed.agreement_id} waits for a manager: "
            + "; ".join(proposed.reasons)
            + "."
        )
    if call.outcome is CallOutcome.DISPUTE:
        client = store.client(external_id)
        assert client is not None
        ids = [i.id for i in store.open_invoices(client.id)]
        store.add_disputes(client.id, ids, outcome_id, call.reason, user.id, now)
        return f"Dispute recorded on {len(ids)} invoice(s); nothing was paused."
    return f"Call recorded: {call.outcome.label}; the task stays on the worklist."


def _script(texts: NoticeTexts, item: WorkItem, account: Account, links: Links) -> str:
    """The stage's script rendered with the account as it is today."""
    if not account.charges:
        return "Nothing is open: there is nothing to call about."
    currency = account.charges[0].invoice.currency
    charges = [c for c in account.charges if c.invoice.currency == currency]
    penalty = sum((c.penalty for c in charges), Decimal(0))
    total = sum((c.total_due for c in charges), Decimal(0))
    portal, _ = links.portal(account.client.id, account.as_of)
    context: dict[str, Any] = {
        "client": {
            "name": account.client.name,
            "external_id": account.client.external_id,
        },
        "contact_name": "",
        "currency": currency,
        "as_of": account.as_of.isoformat(),
        "invoices": [
            {
                "number": c.invoice.number,
                "balance": str(c.invoice.balance),
                "due_date": c.invoice.due_date.isoformat(),
                "days_late": c.days_late,
                "penalty": {"total": str(c.penalty)} if c.penalty else None,
            }
            for c in charges
        ],
        "total_penalty": str(Money(penalty, currency).rounded().amount),
        "total_due": str(Money(total, currency).rounded().amount),
        "penalty_terms": None,
        "payment_link": account.payment_url or portal,
    }
    language = account.client.language
    try:
        return texts.render_text(Channel.CALL, item.task.script, language, context)
    except DuecourseError as problem:
        # A rule may name a script that was removed since; the call goes on.
        log.warning("call script not rendered task_id=%d", item.task.id)
        return f"The script {item.task.script!r} cannot be shown: {problem}"


def _needed(fields: Mapping[str, str], name: str) -> str:
    value = fields.get(name, "").strip()
    if not value:
        raise InvalidField(name, "is empty", "fill it in for this outcome")
    return value


def _day(fields: Mapping[str, str], name: str) -> date:
    value = _needed(fields, name)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidField(name, f"{value!r} is not a date", "use YYYY-MM-DD") from None


def _count(fields: Mapping[str, str], name: str, default: int | None = None) -> int:
    value = fields.get(name, "").strip()
    if not value and default is not None:
        return default
    try:
        return int(_needed(fields, name))
    except ValueError:
        raise InvalidField(name, f"{value!r} is not a whole number") from None
