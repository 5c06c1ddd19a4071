"""The planner: which stages of a rule are due for a client's invoices today.

Pure: it takes what the run loaded and the as-of date and returns decisions.
Every stage ends as exactly one action, done or skipped with a reason, so a
stage is never silently lost; the run's unique key makes it never doubled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from duecourse.domain.calendar import stage_date
from duecourse.domain.money import Money
from duecourse.domain.rules import CollectionRule, Limits, Stage
from duecourse.domain.states import ActionStatus, CatchUp, Channel

CONTACT_CHANNELS = frozenset({Channel.EMAIL, Channel.CALL})
"""Channels that count against the weekly cap and wait for quiet hours."""

CAP_WINDOW_DAYS = 7


@dataclass(frozen=True)
class InvoiceCase:
    """What the planner needs to know about one open invoice."""

    invoice_id: int
    due_date: date
    balance: Money
    rule: CollectionRule
    taken: frozenset[str]
    lead_days: int | None = None
    paid_since_contact: bool = False
    paused_until: date | None = None


@dataclass(frozen=True)
class ClientCase:
    """A client with its invoices due for a look today."""

    client_id: int
    country: str
    segment: str | None
    invoices: tuple[InvoiceCase, ...]
    contacts_this_week: tuple[date, ...] = ()
    late_streak: int = 0


@dataclass(frozen=True)
class Decision:
    """One stage for one invoice, as it will be recorded."""

    invoice_id: int
    stage: Stage
    scheduled_on: date
    status: ActionStatus
    reason: str = ""


@dataclass(frozen=True)
class ClientPlan:
    """The decisions for a client today and, per invoice, when to look again."""

    client_id: int
    decisions: tuple[Decision, ...]
    next_look: dict[int, date | None]

    def done(self, channel: Channel) -> list[Decision]:
        return [
            d
            for d in self.decisions
            if d.status is ActionStatus.DONE and d.stage.channel is channel
        ]


def plan_client(case: ClientCase, as_of: date) -> ClientPlan:
    """Decide every stage due on or before `as_of` for the client's invoices.

    The weekly cap applies to the client as a whole: when it is reached, the
    contact stages wait (they are not recorded) and the invoice is looked at
    again when the oldest contact leaves the 7-day window.
    """
    decisions: list[Decision] = []
    next_look: dict[int, date | None] = {}
    for invoice in case.invoices:
        due, upcoming = _plan_invoice(invoice, case, as_of)
        decisions.extend(due)
        next_look[invoice.invoice_id] = upcoming

    capped_until = _cap_reached_until(case, as_of)
    if capped_until is not None:
        waiting = [d for d in decisions if _waits_for_cap(d)]
        decisions = [d for d in decisions if not _waits_for_cap(d)]
        for decision in waiting:
            look = next_look[decision.invoice_id]
            next_look[decision.invoice_id] = (
                capped_until if look is None else min(look, capped_until)
            )
    return ClientPlan(case.client_id, tuple(decisions), next_look)


def _plan_invoice(
    invoice: InvoiceCase, case: ClientCase, as_of: date
) -> tuple[list[Decision], date | None]:
    if invoice.balance.amount <= 0:
        return [], None
    if invoice.paused_until is not None and as_of <= invoice.paused_until:
        return [], invoice.paused_until + timedelta(days=1)

    decisions: list[Decision] = []
    upcoming: date | None = None
    for stage in invoice.rule.stages:
        if stage.key in invoice.taken:
            continue
        offset = stage.offset_for(invoice.lead_days)
        on = stage_date(invoice.due_date, offset, case.country)
        if on > as_of:
            upcoming = on if upcoming is None else min(upcoming, on)
            continue
        status, reason = _judge(stage, on, offset, invoice, case, as_of)
        decisions.append(Decision(invoice.invoice_id, stage, on, status, reason))
    return _supersede(decisions), upcoming


def _judge(
    stage: Stage,
    on: date,
    offset: int,
    invoice: InvoiceCase,
    case: ClientCase,
    as_of: date,
) -> tuple[ActionStatus, str]:
    conditions = stage.conditions
    if conditions.min_balance is not None and (
        invoice.balance.amount < conditions.min_balance
    ):
        return ActionStatus.SKIPPED, f"balance below {conditions.min_balance}"
    if conditions.segments and case.segment not in conditions.segments:
        return ActionStatus.SKIPPED, "client segment not targeted"
    if conditions.no_response and invoice.paid_since_contact:
        return ActionStatus.SKIPPED, "client responded with a payment"
    if conditions.late_streak is not None and (
        case.late_streak < conditions.late_streak
    ):
        return ActionStatus.SKIPPED, f"paid late {case.late_streak} time(s) in a row"
    if on < as_of:
        if offset < 0 and as_of > invoice.due_date:
            return ActionStatus.SKIPPED, f"missed on {on}; due date already passed"
        if stage.catch_up is CatchUp.SKIP:
            return ActionStatus.SKIPPED, f"missed on {on}; rule says skip"
    return ActionStatus.DONE, ""


def _supersede(decisions: list[Decision]) -> list[Decision]:
    """Keep one stage per channel when several fall due together.

    Before the due date the earliest wins: a bill sent late already says what
    the reminder would. From the due date on the latest wins: after an outage
    the client gets the current overdue notice, not every notice it missed.
    Webhooks are exempt: each event must reach the client's product.
    """
    winners: dict[tuple[Channel, bool], Decision] = {}
    for decision in decisions:
        channel = decision.stage.channel
        if decision.status is not ActionStatus.DONE or channel is Channel.WEBHOOK:
            continue
        before_due = decision.stage.offset_days < 0
        slot: tuple[Channel, bool] = (channel, before_due)
        if slot not in winners or not before_due:
            winners[slot] = decision

    kept: list[Decision] = []
    for decision in decisions:
        slot = (decision.stage.channel, decision.stage.offset_days < 0)
        winner = winners.get(slot)
        if winner is None or winner is decision:
            kept.append(decision)
        else:
            reason = f"superseded by {winner.stage.key}"
            kept.append(replace(decision, status=ActionStatus.SKIPPED, reason=reason))
    return kept


def _waits_for_cap(decision: Decision) -> bool:
    return (
        decision.status is ActionStatus.DONE
        and decision.stage.channel in CONTACT_CHANNELS
    )


def _cap_reached_until(case: ClientCase, as_of: date) -> date | None:
    """The day a contact frees up, when the client's weekly cap is reached."""
    cap = min((i.rule.limits.max_contacts_per_week for i in case.invoices), default=0)
    window_start = as_of - timedelta(days=CAP_WINDOW_DAYS - 1)
    recent = sorted(d for d in case.contacts_this_week if d >= window_start)
    if cap == 0 or len(recent) < cap:
        return None
    return recent[len(recent) - cap] + timedelta(days=CAP_WINDOW_DAYS)


def delivery_opens(
    as_of: date, now: datetime, time_zone: str, limits: Limits
) -> datetime:
    """The first moment, on or after `as_of` in the client's zone, outside quiet hours.

    A run for a past or present day may send at once if the clock is outside
    quiet hours; a message is never held to a day later than needed.
    """
    zone = ZoneInfo(time_zone)
    local_now = now.astimezone(zone)
    start = datetime.combine(as_of, time(0, 0), zone)
    moment = max(local_now, start)
    return _outside_quiet_hours(moment, limits).astimezone(now.tzinfo)


def _outside_quiet_hours(moment: datetime, limits: Limits) -> datetime:
    quiet_start, quiet_end = limits.quiet_start, limits.quiet_end
    clock = moment.timetz().replace(tzinfo=None)
    if quiet_start == quiet_end:
        return moment
    if quiet_start > quiet_end:  # quiet hours cross midnight, the usual case
        if clock >= quiet_start:
            next_day = moment.date() + timedelta(days=1)
            return datetime.combine(next_day, quiet_end, moment.tzinfo)
        if clock < quiet_end:
            return datetime.combine(moment.date(), quiet_end, moment.tzinfo)
        return moment
    if quiet_start <= clock < quiet_end:
        return datetime.combine(moment.date(), quiet_end, moment.tzinfo)
    return moment


def most_severe(decisions: Sequence[Decision]) -> Decision:
    """The decision whose stage is furthest along; it gives a consolidated email its
    template, since the client must read the most urgent thing first."""
    return max(decisions, key=lambda d: (d.stage.offset_days, d.stage.key))
