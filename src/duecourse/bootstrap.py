"""Wiring: settings in, adapters built, services handed what they need."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cached_property

from sqlalchemy import Engine

from duecourse.adapters.db.api_store import SqlEventStore
from duecourse.adapters.db.billing_store import SqlBillingStore
from duecourse.adapters.db.engine import make_engine, migrate
from duecourse.adapters.db.negotiation_store import SqlNegotiationStore
from duecourse.adapters.db.outbox_store import SqlOutboxStore
from duecourse.adapters.db.records import SqlRecordStore
from duecourse.adapters.db.rule_store import SqlRuleStore
from duecourse.adapters.db.run_store import SqlRunStore
from duecourse.adapters.email.render import MessageTemplates
from duecourse.adapters.email.smtp import email_sender
from duecourse.adapters.links import SignedLinks
from duecourse.adapters.penalty_terms import penalty_check, penalty_quote, penalty_terms
from duecourse.adapters.webhooks import WebhookSender
from duecourse.adapters.webhooks_log import LoggedSender
from duecourse.domain.rules import PenaltyCheck
from duecourse.domain.states import Channel
from duecourse.services.compose import Composer
from duecourse.services.ports import Sender
from duecourse.settings import Settings, load_settings


def utc_now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    """The server's own calendar day, which is what "today's run" means."""
    return datetime.now().astimezone().date()


@dataclass
class Container:
    """The adapters of one process, built lazily from its settings."""

    settings: Settings

    @cached_property
    def engine(self) -> Engine:
        engine = make_engine(self.settings.database_url)
        migrate(engine)
        return engine

    @cached_property
    def templates(self) -> MessageTemplates:
        return MessageTemplates(self.settings.templates)

    @cached_property
    def links(self) -> SignedLinks:
        s = self.settings
        return SignedLinks(s.secret_key, s.base_url, s.link_days)

    @cached_property
    def composer(self) -> Composer:
        return Composer(self.links, penalty_quote, penalty_terms)

    @property
    def check_penalty(self) -> PenaltyCheck:
        return penalty_check

    def run_store(self, held: bool = False) -> SqlRunStore:
        return SqlRunStore(self.engine, held=held)

    def event_store(self) -> SqlEventStore:
        return SqlEventStore(self.engine)

    def billing_store(self) -> SqlBillingStore:
        return SqlBillingStore(self.engine)

    def negotiation_store(self) -> SqlNegotiationStore:
        return SqlNegotiationStore(self.engine)

    def record_store(self) -> SqlRecordStore:
        return SqlRecordStore(self.engine)

    def rule_store(self) -> SqlRuleStore:
        return SqlRuleStore(self.engine)

    def outbox(self) -> SqlOutboxStore:
        return SqlOutboxStore(self.engine)

    @cached_property
    def senders(self) -> Mapping[Channel, Sender]:
        s = self.settings
        return {
            Channel.EMAIL: email_sender(s, self.templates),
            Channel.WEBHOOK: LoggedSender(
                WebhookSender(s.webhook_url, s.secret_key), self.engine, utc_now
            ),
        }


def build(settings: Settings | None = None) -> Container:
    return Container(settings or load_settings())
