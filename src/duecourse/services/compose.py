"""Turning a client's plan into the rows the run writes.

One email per client per day, whatever the number of invoices: the most
urgent stage gives it its template and every invoice due a contact is listed.
The context is a JSON snapshot, so what a message says is what the run saw.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from duecourse.domain.billing import percent_text
from duecourse.domain.cadence import ClientPlan, Decision, delivery_opens, most_severe
from duecourse.domain.money import Money
from duecourse.domain.rules import CollectionRule
from duecourse.domain.states import Channel
from duecourse.services.billing import prepay_offer
from duecourse.services.ports import (
    ActionRow,
    CallTaskRow,
    ClientRecord,
    InvoiceRecord,
    Links,
    MessageRow,
    NoticeRow,
)

PenaltyQuote = Callable[[CollectionRule, Money, date, date], Mapping[str, Any] | None]
"""Penalty to date for (rule, balance, due date, as of), as JSON-ready text,
or None when the rule charges none. Supplied by the bootstrap."""

PenaltyTerms = Callable[[CollectionRule, date], Mapping[str, Any] | None]


@dataclass
class Rows:
    """What one batch of the run writes."""

    messages: list[MessageRow] = field(default_factory=list)
    actions: list[ActionRow] = field(default_factory=list)
    call_tasks: list[CallTaskRow] = field(default_factory=list)
    notices: list[NoticeRow] = field(default_factory=list)

    def extend(self, other: Rows) -> None:
        self.messages.extend(other.messages)
        self.actions.extend(other.actions)
        self.call_tasks.extend(other.call_tasks)
        self.notices.extend(other.notices)


@dataclass(frozen=True)
class Composer:
    """Builds rows for plans; holds the ports the context needs."""

    links: Links
    quote: PenaltyQuote | None = None
    terms: PenaltyTerms | None = None

    def compose(
        self,
        client: ClientRecord,
        plan: ClientPlan,
        versions: Mapping[int, int],
        rules: Mapping[int, CollectionRule],
        as_of: date,
        now: datetime,
        rows: Rows,
    ) -> None:
        """Append the rows for one client's plan to `rows`."""
        invoices = {i.id: i for i in client.invoices}
        message_of: dict[tuple[int, str], str] = {}

        emails = plan.done(Channel.EMAIL)
        if emails:
            message = self._email(client, emails, invoices, versions, rules, as_of, now)
            rows.messages.append(message)
            message_of.update(dict.fromkeys(message.covers, message.id))
        for decision in plan.done(Channel.WEBHOOK):
            message = self._webhook(client, decision, invoices, as_of, now)
            rows.messages.append(message)
            message_of[message.covers[0]] = message.id
        calls = plan.done(Channel.CALL)
        if calls:
            rows.call_tasks.append(self._call_task(client, calls, invoices, as_of))
        notices = plan.done(Channel.NOTICE)
        if notices:
            lead = most_severe(notices)
            rows.notices.append(
                NoticeRow(
                    client.id,
                    lead.stage.key,
                    lead.stage.template,
                    as_of,
                    covers=_covers(notices),
                )
            )

        for d in plan.decisions:
            rows.actions.append(
                ActionRow(
                    invoice_id=d.invoice_id,
                    rule_version_id=versions[d.invoice_id],
                    stage_key=d.stage.key,
                    channel=d.stage.channel,
                    status=d.status.value,
                    reason=d.reason,
                    scheduled_on=d.scheduled_on,
                    taken_on=as_of,
                    message_id=message_of.get((d.invoice_id, d.stage.key)),
                )
            )

    def _email(
        self,
        client: ClientRecord,
        decisions: list[Decision],
        invoices: Mapping[int, InvoiceRecord],
        versions: Mapping[int, int],
        rules: Mapping[int, CollectionRule],
        as_of: date,
        now: datetime,
    ) -> MessageRow:
        lead = most_severe(decisions)
        rule = rules[versions[lead.invoice_id]]
        listed = sorted({d.invoice_id for d in decisions})
        lines = [self._line(invoices[i], rules[versions[i]], as_of) for i in listed]
        currency = invoices[listed[0]].currency
        balance = sum((Decimal(line["balance"]) for line in lines), Decimal(0))
        # A penalty that is only disclosed is stated per invoice but never owed,
        # so it stays out of what the client is asked to pay.
        penalty = sum(
            (
                Decimal(line["penalty"]["total"])
                for line in lines
                if line["penalty"] and line["penalty"]["owed"]
            ),
            Decimal(0),
        )
        # One invoice with a payment page of its own: that page. Otherwise the
        # account tab, which lists every invoice and how to pay them; only
        # its signed link expires.
        own_page = invoices[listed[0]].payment_url if len(listed) == 1 else None
        payment_link, expires_on = own_page, None
        if own_page is None:
            payment_link, expires = self.links.portal(client.id, as_of)
            expires_on = expires.isoformat()
        context = {
            "client": {"name": client.name, "external_id": client.external_id},
            "contact_name": client.contact_name,
            "stage": lead.stage.key,
            "currency": currency,
            "as_of": as_of.isoformat(),
            "invoices": lines,
            "total_balance": str(balance),
            "total_penalty": str(Money(penalty, currency).rounded().amount),
            "total_due": str(Money(balance + penalty, currency).rounded().amount),
            "penalty_terms": self._terms(rule, as_of),
            "payment_link": payment_link,
            "link_expires_on": expires_on,
            "offer": prepay_offer(client.contract, (d.stage for d in decisions)),
        }
        return MessageRow(
            id=str(uuid.uuid4()),
            client_id=client.id,
            channel=Channel.EMAIL,
            template=lead.stage.template,
            language=client.language,
            recipients=client.emails,
            context=context,
            run_on=as_of,
            not_before=delivery_opens(as_of, now, client.time_zone, rule.limits),
            dead_reason=None if client.emails else "client has no email contact",
            covers=_covers(decisions),
        )

    def _terms(self, rule: CollectionRule, as_of: date) -> dict[str, Any] | None:
        terms = self.terms(rule, as_of) if self.terms is not None else None
        return dict(terms) if terms else None

    def _line(
        self, invoice: InvoiceRecord, rule: CollectionRule, as_of: date
    ) -> dict[str, Any]:
        balance = Money(Decimal(invoice.balance), invoice.currency)
        penalty = None
        if self.quote is not None:
            quoted = self.quote(rule, balance, invoice.due_date, as_of)
            penalty = dict(quoted) if quoted else None
        return {
            "number": invoice.number,
            "amount": invoice.amount,
            "balance": invoice.balance,
            "issue_date": invoice.issue_date.isoformat(),
            "due_date": invoice.due_date.isoformat(),
            "days_late": max((as_of - invoice.due_date).days, 0),
            "penalty": penalty,
            "period_start": _iso(invoice.period_start),
            "period_end": _iso(invoice.period_end),
            "discount_percent": (
                None
                if invoice.discount_percent is None
                else percent_text(Decimal(invoice.discount_percent))
            ),
        }

    def _webhook(
        self,
        client: ClientRecord,
        decision: Decision,
        invoices: Mapping[int, InvoiceRecord],
        as_of: date,
        now: datetime,
    ) -> MessageRow:
        invoice = invoices[decision.invoice_id]
        event = decision.stage.event or decision.stage.template
        return MessageRow(
            id=str(uuid.uuid4()),
            client_id=client.id,
            channel=Channel.WEBHOOK,
            template=event,
            language=client.language,
            recipients=(),
            context={
                "event": event,
                "client": client.external_id,
                "invoice": invoice.number,
                "balance": invoice.balance,
                "currency": invoice.currency,
                "due_date": invoice.due_date.isoformat(),
                "as_of": as_of.isoformat(),
            },
            run_on=as_of,
            not_before=now,
            covers=((decision.invoice_id, decision.stage.key),),
        )

    def _call_task(
        self,
        client: ClientRecord,
        decisions: list[Decision],
        invoices: Mapping[int, InvoiceRecord],
        as_of: date,
    ) -> CallTaskRow:
        lead = most_severe(decisions)
        listed = sorted({d.invoice_id for d in decisions})
        balance = sum((Decimal(invoices[i].balance) for i in listed), Decimal(0))
        oldest = min(invoices[i].due_date for i in listed)
        reason = (
            f"{len(listed)} invoice(s) overdue since {oldest.isoformat()}, "
            f"no payment after the notices"
        )
        return CallTaskRow(
            client_id=client.id,
            stage_key=lead.stage.key,
            script=lead.stage.template,
            reason=reason,
            balance=str(balance),
            currency=invoices[listed[0]].currency,
            created_on=as_of,
            covers=_covers(decisions),
        )


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _covers(decisions: list[Decision]) -> tuple[tuple[int, str], ...]:
    return tuple((d.invoice_id, d.stage.key) for d in decisions)
