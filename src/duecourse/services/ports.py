"""What the services need from the outside world, stated as protocols.

The adapters implement these; the services never import a database driver,
an SMTP library or a template engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from duecourse.domain.errors import DuecourseError
from duecourse.domain.states import Channel


@dataclass(frozen=True)
class OutgoingMessage:
    """A message taken from the outbox for delivery.

    `id` is stable across retries: it becomes the email's Message-ID and the
    webhook's delivery id, so the receiving side can recognise a repeat.
    `context` is the snapshot the run took: plain JSON, amounts as strings.
    """

    id: str
    channel: Channel
    template: str
    language: str
    recipients: tuple[str, ...]
    context: Mapping[str, Any]
    attempts: int = 0


class DeliveryFailed(DuecourseError):
    """A channel could not deliver a message.

    `permanent` failures (a rejected address, a template that cannot render)
    go straight to the dead letter; others are retried with backoff.
    """

    def __init__(self, reason: str, permanent: bool = False) -> None:
        self.reason = reason
        self.permanent = permanent
        super().__init__(reason)


class Sender(Protocol):
    """Delivers one message through one channel, or raises `DeliveryFailed`."""

    def deliver(self, message: OutgoingMessage) -> None: ...


class Templates(Protocol):
    """The message templates a rule may name, per channel."""

    def exists(self, channel: Channel, name: str) -> bool: ...


class Links(Protocol):
    """Signed, expiring links handed to clients."""

    def portal(self, client_id: int, issued_on: date) -> tuple[str, date]:
        """The link to the client's account tab and the day it expires."""
        ...


@dataclass
class Counts:
    """Tallies for a one-line summary, keyed by a short label."""

    by_label: dict[str, int] = field(default_factory=dict)

    def add(self, label: str, amount: int = 1) -> None:
        self.by_label[label] = self.by_label.get(label, 0) + amount

    def __str__(self) -> str:
        if not self.by_label:
            return "nothing"
        return ", ".join(f"{k} {v}" for k, v in sorted(self.by_label.items()))


@dataclass(frozen=True)
class RuleRecord:
    """A stored version of a collection rule."""

    id: int
    name: str
    version: int
    active: bool
    source: str


@dataclass(frozen=True)
class InvoiceRecord:
    """An open invoice as the run loads it."""

    id: int
    number: str
    currency: str
    amount: str
    balance: str
    issue_date: date
    due_date: date
    rule_version_id: int | None
    lead_days: int | None
    paused_until: date | None
    first_contact_on: date | None
    last_payment_on: date | None
    payment_url: str | None
    # The billing period the invoice covers and its prepay discount, in
    # percent; None for invoices not issued by `duecourse bill`.
    period_start: date | None = None
    period_end: date | None = None
    discount_percent: str | None = None


@dataclass(frozen=True)
class ContractRecord:
    """A client's contract in force, as the run loads it for an offer."""

    id: int
    monthly_amount: str
    currency: str
    period_months: int


@dataclass(frozen=True)
class ClientRecord:
    """A client due for a look, with what the run needs to decide and to write."""

    id: int
    external_id: str
    name: str
    country: str
    time_zone: str
    language: str
    segment: str | None
    rule_name: str | None
    emails: tuple[str, ...]
    contact_name: str
    invoices: tuple[InvoiceRecord, ...]
    # (rule version id, stage key) pairs already recorded, per invoice.
    taken: Mapping[int, frozenset[tuple[int, str]]]
    contacts_this_week: tuple[date, ...]
    # How many of the last paid invoices were paid after their due date.
    late_streak: int = 0
    contract: ContractRecord | None = None


@dataclass(frozen=True)
class ActionRow:
    invoice_id: int
    rule_version_id: int
    stage_key: str
    channel: Channel
    status: str
    reason: str
    scheduled_on: date
    taken_on: date
    message_id: str | None


@dataclass(frozen=True)
class MessageRow:
    id: str
    client_id: int
    channel: Channel
    template: str
    language: str
    recipients: tuple[str, ...]
    context: Mapping[str, Any]
    run_on: date
    not_before: datetime
    dead_reason: str | None = None
    covers: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class CallTaskRow:
    client_id: int
    stage_key: str
    script: str
    reason: str
    balance: str
    currency: str
    created_on: date
    covers: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class NoticeRow:
    client_id: int
    stage_key: str
    template: str
    created_on: date
    covers: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class InvoiceUpdate:
    invoice_id: int
    next_action_on: date | None
    rule_version_id: int
    first_contact_on: date | None


class RunStore(Protocol):
    """One unit of work of the daily run; nothing is kept until `commit`."""

    def rule_versions(self) -> list[RuleRecord]: ...

    def count_due_clients(self, as_of: date, shard: tuple[int, int] | None) -> int: ...

    def due_client_ids(
        self, as_of: date, after: int, limit: int, shard: tuple[int, int] | None
    ) -> list[int]: ...

    def load_clients(
        self, client_ids: list[int], as_of: date
    ) -> list[ClientRecord]: ...

    def record_actions(
        self,
        messages: list[MessageRow],
        actions: list[ActionRow],
        call_tasks: list[CallTaskRow],
        notices: list[NoticeRow],
    ) -> set[tuple[int, str]]:
        """Write what was decided; returns the (invoice, stage) pairs this unit
        recorded.

        Pairs another run recorded first are left alone, and so is every
        message, call task and notice whose `covers` holds only such pairs.
        """
        ...

    def update_invoices(self, updates: list[InvoiceUpdate]) -> None: ...

    def commit(self) -> None: ...

    def close(self) -> None: ...
