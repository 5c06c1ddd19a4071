"""Small books for integration tests, written straight into the tables."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from duecourse.adapters.db.models import Client, Contact, Contract, Invoice
from duecourse.adapters.db.rule_store import SqlRuleStore
from duecourse.adapters.email.render import MessageTemplates
from duecourse.adapters.links import SignedLinks
from duecourse.adapters.penalty_terms import penalty_check, penalty_quote, penalty_terms
from duecourse.services.compose import Composer
from duecourse.services.rules import apply_rule

DEFAULT_RULE = (
    Path(__file__).resolve().parents[2] / "src" / "duecourse" / "rules" / "default.toml"
)
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def apply_default_rule(engine: Engine, text: str | None = None) -> None:
    store = SqlRuleStore(engine)
    try:
        apply_rule(
            store,
            MessageTemplates(),
            text or DEFAULT_RULE.read_text(),
            "default.toml",
            "test",
            NOW,
            penalty_check,
        )
    finally:
        store.close()


def composer() -> Composer:
    links = SignedLinks("test-secret", "http://127.0.0.1:8000", 30)
    return Composer(links, penalty_quote, penalty_terms)


def add_client(
    engine: Engine,
    external_id: str,
    *,
    country: str = "BR",
    language: str = "pt_BR",
    currency: str = "BRL",
    email: str | None = "finance@example.com.br",
    lead_days: int = 10,
) -> int:
    with Session(engine) as session:
        client = Client(
            external_id=external_id,
            name=f"Client {external_id}",
            country=country,
            time_zone="America/Sao_Paulo",
            language=language,
            currency=currency,
            segment="smb",
            rule_name=None,
            created_at=NOW,
        )
        session.add(client)
        session.flush()
        session.add(
            Contact(
                client_id=client.id,
                name="Maria",
                email=email,
                phone=None,
                receives_bills=True,
            )
        )
        session.add(
            Contract(
                client_id=client.id,
                amount=Decimal("1000.00"),
                currency=currency,
                billing_period_months=1,
                prepay_discount_percent=Decimal(0),
                due_day=18,
                notice_lead_days=lead_days,
                starts_on=date(2026, 1, 1),
                ends_on=None,
            )
        )
        session.commit()
        return client.id


def add_invoice(
    engine: Engine,
    client_id: int,
    number: str,
    due_date: date,
    amount: str = "1000.00",
    currency: str = "BRL",
    next_action_on: date | None = None,
) -> int:
    with Session(engine) as session:
        contract = session.query(Contract).filter_by(client_id=client_id).first()
        invoice = Invoice(
            client_id=client_id,
            contract_id=contract.id if contract else None,
            number=number,
            currency=currency,
            amount=Decimal(amount),
            balance=Decimal(amount),
            issue_date=date(2026, 1, 1),
            due_date=due_date,
            status="open",
            payment_url=None,
            rule_version_id=None,
            next_action_on=next_action_on or date(2026, 1, 1),
            paused_until=None,
            first_contact_on=None,
            last_payment_on=None,
        )
        session.add(invoice)
        session.commit()
        return invoice.id
