"""The shipped default rule over 60 simulated days, read from a real SMTP server.

A small book of four clients in three languages goes through the whole
cadence: the run for each day, then the dispatcher with the clock at that
day's afternoon, delivering over SMTP to a server started by the test and
posting webhooks to a local HTTP receiver. Every message that arrives is then
read as the client would read it: the right person, language, amounts, dates
and link, on the day the rule says, once.

The expected days are worked out here from the rule's documented offsets and
the public holidays of each country, not from duecourse's own calendar code.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from pathlib import Path
from typing import Any

import holidays
import pytest
from sqlalchemy import Engine, insert, select

from duecourse.adapters.db.models import Client, Contact, Contract, Invoice, Message
from duecourse.adapters.db.outbox_store import SqlOutboxStore
from duecourse.adapters.db.records import SqlRecordStore
from duecourse.adapters.db.rule_store import SqlRuleStore
from duecourse.adapters.db.run_store import SqlRunStore
from duecourse.adapters.email.render import MessageTemplates
from duecourse.adapters.email.smtp import SmtpSender, SmtpServer
from duecourse.adapters.links import InvalidLink, SignedLinks
from duecourse.adapters.penalty_terms import penalty_check, penalty_quote, penalty_terms
from duecourse.adapters.webhooks import WebhookSender, signature
from duecourse.domain.states import Channel
from duecourse.services.compose import Composer
from duecourse.services.dispatch import dispatch
from duecourse.services.payments import PaymentInput, record_payment
from duecourse.services.ports import Sender
from duecourse.services.rules import apply_rule
from duecourse.services.run import run_collection
from tests.e2e.conftest import Hook, HookServer
from tests.support.smtp import Received, SmtpTestServer

pytestmark = pytest.mark.slow

DEFAULT_RULE = Path(__file__).resolve().parents[2] / "src/duecourse/rules/default.toml"
START = date(2026, 3, 2)  # a Monday
DAYS = 60
SECRET = "e2e-secret-key"
BASE_URL = "http://127.0.0.1:8000"
LINK_DAYS = 30
SENDER = "Billing <billing@duecourse.localhost>"
CENT = Decimal("0.01")

# The default rule's emails and the offset each is due at; the bill's offset
# is the client's own lead days.
EMAIL_STAGES = (
    ("bill", None),
    ("reminder", -3),
    ("due_today", 0),
    ("overdue", 3),
    ("overdue", 10),
    ("final_notice", 20),
    ("suspended", 30),
)
SUSPEND_OFFSET = 30
OVERDUE_TEMPLATES = {"overdue", "final_notice", "suspended"}


@dataclass(frozen=True)
class Language:
    """How a message in one language reads: subjects, greeting, invoice label."""

    subjects: dict[str, str]
    greeting: str
    invoice_label: str
    days_late_label: str


LANGUAGES = {
    "pt_BR": Language(
        subjects={
            "bill": "Sua fatura de ",
            "reminder": "Lembrete: ",
            "due_today": "Vence hoje: ",
            "overdue": "Pagamento em atraso: ",
            "final_notice": "Ação necessária: ",
            "suspended": "Serviço suspenso: ",
        },
        greeting="Olá, ",
        invoice_label="Fatura ",
        days_late_label="Dias de atraso: ",
    ),
    "es": Language(
        subjects={
            "bill": "Su factura de ",
            "reminder": "Recordatorio: ",
            "due_today": "Vence hoy: ",
            "overdue": "Pago vencido: ",
            "final_notice": "Acción necesaria: ",
            "suspended": "Servicio suspendido: ",
        },
        greeting="Hola, ",
        invoice_label="Factura ",
        days_late_label="Días de retraso: ",
    ),
    "en": Language(
        subjects={
            "bill": "Your bill for ",
            "reminder": "Reminder: ",
            "due_today": "Due today: ",
            "overdue": "Payment overdue: ",
            "final_notice": "Please act: ",
            "suspended": "Service suspended: ",
        },
        greeting="Hello ",
        invoice_label="Invoice ",
        days_late_label="Days late: ",
    ),
}
# Words of the English frame that must not leak into another language's email.
ENGLISH_WORDS = ("late fee", "interest", "Invoice ", "Due date", "Pay online")


@dataclass(frozen=True)
class Bill:
    number: str
    amount: Decimal
    due: date
    due_text: str  # the due date as the client's locale writes it


@dataclass(frozen=True)
class Account:
    """A client of the book, and what the test knows it should receive."""

    external_id: str
    name: str
    country: str
    language: str
    currency: str
    time_zone: str
    contact: str
    email: str
    lead_days: int
    bills: tuple[Bill, ...]
    pays_on: date | None = None


BOOK = (
    Account(
        "br-never-pays",
        "Padaria Boa Vista Ltda",
        "BR",
        "pt_BR",
        "BRL",
        "America/Sao_Paulo",
        "Maria",
        "financeiro@boavista.example.com.br",
        10,
        (Bill("BR-1", Decimal("1234.50"), date(2026, 3, 24), "24 de março de 2026"),),
    ),
    Account(
        "es-pays-midway",
        "Talleres Norte SL",
        "ES",
        "es",
        "EUR",
        "Europe/Madrid",
        "Lucía",
        "facturas@talleresnorte.example.es",
        15,
        (Bill("ES-1", Decimal("12345.60"), date(2026, 3, 18), "18 de marzo de 2026"),),
        pays_on=date(2026, 3, 25),
    ),
    Account(
        "us-two-invoices",
        "Acme Tools Inc",
        "US",
        "en",
        "USD",
        "America/New_York",
        "John",
        "ap@acmetools.example.com",
        10,
        (
            Bill("US-1", Decimal("1500.00"), date(2026, 3, 31), "March 31, 2026"),
            Bill("US-2", Decimal("249.99"), date(2026, 3, 31), "March 31, 2026"),
        ),
    ),
    Account(
        "br-short-lead",
        "Oficina Rio ME",
        "BR",
        "pt_BR",
        "BRL",
        "America/Sao_Paulo",
        "João",
        "contas@oficinario.example.com.br",
        5,
        (Bill("BR-2", Decimal("89.90"), date(2026, 3, 31), "31 de março de 2026"),),
    ),
)


def is_business_day(day: date, country: str) -> bool:
    return day.weekday() < 5 and day not in holidays.country_holidays(
        country, years=day.year
    )


def stage_day(due: date, offset: int, country: str) -> date:
    """The documented rule: before the due date move earlier, else later."""
    day = due + timedelta(days=offset)
    step = timedelta(days=-1 if offset < 0 else 1)
    while not is_business_day(day, country):
        day += step
    return day


def expected_emails(account: Account) -> list[tuple[date, str]]:
    """(day, template) of every email the account should get in the window."""
    due = account.bills[0].due
    last = START + timedelta(days=DAYS - 1)
    expected = []
    for template, offset in EMAIL_STAGES:
        day = stage_day(
            due, -account.lead_days if offset is None else offset, account.country
        )
        stopped = account.pays_on is not None and day >= account.pays_on
        if START <= day <= last and not stopped:
            expected.append((day, template))
    return sorted(expected)


def money(amount: Decimal, currency: str, language: str) -> str:
    """An amount as each locale writes it, e.g. `R$ 1.234,50` or `1.234,50 €`."""
    whole, cents = f"{amount.quantize(CENT, ROUND_HALF_UP):.2f}".split(".")
    groups = f"{int(whole):,}"
    if language == "en":
        assert currency == "USD"
        return f"${groups}.{cents}"
    local = f"{groups.replace(',', '.')},{cents}"
    if language == "pt_BR":
        assert currency == "BRL"
        return f"R$\xa0{local}"
    assert currency == "EUR"
    return f"{local}\xa0€"


def default_rule_penalty(balance: Decimal, days_late: int) -> tuple[Decimal, Decimal]:
    """The default rule's terms: a 2% fee once and 1% a month, a thirtieth of it
    a day, each rounded to the cent, half up."""
    fee = (balance * Decimal("0.02")).quantize(CENT, ROUND_HALF_UP)
    interest = (balance * Decimal("0.01") * days_late / 30).quantize(
        CENT, ROUND_HALF_UP
    )
    return fee, interest


# --- the book -------------------------------------------------------------


def apply_default_rule(engine: Engine) -> None:
    store = SqlRuleStore(engine)
    try:
        apply_rule(
            store,
            MessageTemplates(),
            DEFAULT_RULE.read_text(encoding="utf-8"),
            "default.toml",
            "e2e",
            datetime.combine(START, time(8), UTC),
            penalty_check,
        )
    finally:
        store.close()


def load_book(engine: Engine) -> dict[str, int]:
    """Write the book; returns each account's client id."""
    created = datetime.combine(START, time(8), UTC)
    ids: dict[str, int] = {}
    with engine.begin() as connection:
        for account in BOOK:
            client_id = connection.execute(
                insert(Client).returning(Client.id),
                {
                    "external_id": account.external_id,
                    "name": account.name,
                    "country": account.country,
                    "time_zone": account.time_zone,
                    "language": account.language,
                    "currency": account.currency,
                    "segment": None,
                    "rule_name": None,
                    "created_at": created,
                },
            ).scalar_one()
            ids[account.external_id] = client_id
            connection.execute(
                insert(Contact),
                {
                    "client_id": client_id,
                    "name": account.contact,
                    "email": account.email,
                    "phone": None,
                    "receives_bills": True,
                },
            )
            contract_id = connection.execute(
                insert(Contract).returning(Contract.id),
                {
                    "client_id": client_id,
                    "amount": sum(b.amount for b in account.bills),
                    "currency": account.currency,
                    "billing_period_months": 1,
                    "prepay_discount_percent": Decimal(0),
                    "due_day": account.bills[0].due.day,
                    "notice_lead_days": account.lead_days,
                    "starts_on": date(2026, 1, 1),
                    "ends_on": None,
                },
            ).scalar_one()
            for bill in account.bills:
                connection.execute(
                    insert(Invoice),
                    {
                        "client_id": client_id,
                        "contract_id": contract_id,
                        "number": bill.number,
                        "currency": account.currency,
                        "amount": bill.amount,
                        "balance": bill.amount,
                        "issue_date": date(2026, 3, 1),
                        "due_date": bill.due,
                        "status": "open",
                        "payment_url": None,
                        "rule_version_id": None,
                        "next_action_on": START,
                        "paused_until": None,
                        "first_contact_on": None,
                        "last_payment_on": None,
                    },
                )
    return ids


def pay_in_full(engine: Engine, account: Account, day: date) -> None:
    store = SqlRecordStore(engine)
    try:
        for bill in account.bills:
            payment = PaymentInput(
                reference=f"BANK-{bill.number}",
                client_external_id=account.external_id,
                amount=bill.amount,
                currency=account.currency,
                received_on=day,
                invoice_number=bill.number,
            )
            record_payment(store, payment, "e2e", datetime.combine(day, time(9), UTC))
    finally:
        store.close()


# --- the 60 days ----------------------------------------------------------


@dataclass(frozen=True)
class Arrival:
    day: date
    email: Received


@dataclass(frozen=True)
class HookArrival:
    day: date
    hook: Hook


def live_60_days(
    engine: Engine, smtp: SmtpTestServer, hooks: HookServer
) -> tuple[list[Arrival], list[HookArrival]]:
    links = SignedLinks(SECRET, BASE_URL, LINK_DAYS)
    composer = Composer(links, penalty_quote, penalty_terms)
    senders: dict[Channel, Sender] = {
        Channel.EMAIL: SmtpSender(
            SmtpServer.from_url(smtp.url), SENDER, MessageTemplates(), timeout=10
        ),
        Channel.WEBHOOK: WebhookSender(hooks.url, SECRET, timeout=10),
    }
    arrivals: list[Arrival] = []
    hook_arrivals: list[HookArrival] = []
    for offset in range(DAYS):
        day = START + timedelta(days=offset)
        afternoon = datetime.combine(day, time(15), UTC)
        for account in BOOK:
            if account.pays_on == day:
                pay_in_full(engine, account, day)

        run_collection(lambda: SqlRunStore(engine), composer, day, afternoon)
        emails_before, hooks_before = smtp.count(), len(hooks.received())
        dispatch(SqlOutboxStore(engine), senders, partial(stopped_clock, afternoon))

        arrivals += [Arrival(day, e) for e in smtp.received()[emails_before:]]
        hook_arrivals += [HookArrival(day, h) for h in hooks.received()[hooks_before:]]
    return arrivals, hook_arrivals


def stopped_clock(at: datetime) -> datetime:
    """The dispatcher's clock: the simulated afternoon, however long it takes."""
    return at


def test_the_default_rule_over_60_days_reaches_each_client_as_documented(
    engine: Engine, smtp_server: SmtpTestServer, webhook_receiver: HookServer
) -> None:
    apply_default_rule(engine)
    client_ids = load_book(engine)

    arrivals, hooks = live_60_days(engine, smtp_server, webhook_receiver)

    by_address = {account.email: account for account in BOOK}
    ids = [a.email.message_id for a in arrivals]
    assert len(ids) == len(set(ids)), f"delivered twice: {Counter(ids).most_common(3)}"
    for account in BOOK:
        received = [a for a in arrivals if a.email.recipients == (account.email,)]
        for arrival in received:
            check_email(arrival, account, client_ids[account.external_id])
        got = sorted((a.day, template_of(a.email, account)) for a in received)
        assert got == expected_emails(account), account.external_id
    assert all(a.email.recipients[0] in by_address for a in arrivals)
    assert sum(len(expected_emails(a)) for a in BOOK) == len(arrivals)

    payer = next(a for a in BOOK if a.pays_on is not None)
    assert payer.pays_on is not None
    paid_days = [a.day for a in arrivals if a.email.recipients == (payer.email,)]
    assert paid_days and max(paid_days) < payer.pays_on
    assert "overdue" in {t for _, t in expected_emails(payer)}, "pays mid-cadence"

    check_suspension_hooks(hooks)
    with engine.connect() as connection:
        statuses = Counter(
            connection.execute(select(Message.channel, Message.status)).all()
        )
    assert statuses == {
        ("email", "sent"): len(arrivals),
        ("webhook", "sent"): len(hooks),
    }


def template_of(email: Received, account: Account) -> str:
    subjects = LANGUAGES[account.language].subjects
    matches = [t for t, prefix in subjects.items() if email.subject.startswith(prefix)]
    assert len(matches) == 1, f"subject not in {account.language}: {email.subject!r}"
    return matches[0]


def check_email(arrival: Arrival, account: Account, client_id: int) -> None:
    """Everything the client reads in one email, against what the book says."""
    email, day = arrival.email, arrival.day
    language = LANGUAGES[account.language]
    template = template_of(email, account)
    text, html = email.body("plain"), email.body("html")
    where = f"{account.external_id} {day} {template}"

    assert email.message["To"] == account.email, where
    assert email.message["From"] == SENDER, where
    assert email.message_id == f"<{email.outbox_id}@duecourse>", where
    assert text.startswith(f"{language.greeting}{account.contact},"), where
    if account.language != "en":
        leaked = [w for w in ENGLISH_WORDS if w in text or w in html]
        assert not leaked, f"{where}: English in a {account.language} email: {leaked}"

    total = Decimal(0)
    for bill in account.bills:
        assert f"{language.invoice_label}{bill.number}" in text, where
        assert bill.due_text in text, where
        assert money(bill.amount, account.currency, account.language) in text, where
        total += bill.amount
        days_late = (day - bill.due).days
        if template in OVERDUE_TEMPLATES:
            late = re.escape(language.days_late_label.strip()) + rf"\s+{days_late}\b"
            assert re.search(late, text), f"{where}: not {days_late} days late"
            fee, interest = default_rule_penalty(bill.amount, days_late)
            for part in (fee, interest):
                assert money(part, account.currency, account.language) in text, where
            total += fee + interest
    assert money(total, account.currency, account.language) in email.subject, where
    if template != "due_today":
        assert account.bills[0].due_text in email.subject, where
    if template in OVERDUE_TEMPLATES:
        # The default rule's terms: 2% and 1% a month, however each language
        # words them.
        for percent in ("2", "1"):
            assert re.search(rf"\b{percent}\s?%", text), f"{where}: no terms stated"

    links = re.findall(r"http://127\.0\.0\.1:8000/portal/[^\s<>\"']+", text)
    assert links, f"{where}: no payment link"
    assert set(links) == {links[0]} and links[0] in html, where
    verifier = SignedLinks(SECRET, BASE_URL, LINK_DAYS)
    token = links[0].rsplit("/", 1)[1]
    assert verifier.verify(token, day) == client_id, where
    with pytest.raises(InvalidLink):
        verifier.verify(token, day + timedelta(days=LINK_DAYS + 1))


def check_suspension_hooks(hooks: list[HookArrival]) -> None:
    """One signed suspend event per unpaid invoice, on its +30 business day."""
    expected = {
        (
            bill.number,
            account.external_id,
            stage_day(bill.due, SUSPEND_OFFSET, account.country),
        )
        for account in BOOK
        if account.pays_on is None
        for bill in account.bills
    }
    got = set()
    for arrival in hooks:
        headers, body = arrival.hook.headers, arrival.hook.body
        stamp = int(headers["Duecourse-Timestamp"])
        assert (
            headers["Duecourse-Signature"] == f"sha256={signature(SECRET, stamp, body)}"
        )
        assert headers["Duecourse-Signature"] != (
            f"sha256={signature('another key', stamp, body)}"
        )
        event = json.loads(body)
        assert event["event"] == "suspend"
        assert headers["Duecourse-Delivery"] == event["id"]
        got.add((event["invoice"], event["client"], arrival.day))
    assert len(got) == len(hooks) == len(expected)
    assert got == expected


def test_an_overdue_invoice_in_euros_does_not_stop_the_run(engine: Engine) -> None:
    """The default rule applies to every client, and its terms are percentages,
    which apply in any currency: a client billed in euros must neither stop the
    run for everyone nor get its notice without the penalty to date."""
    apply_default_rule(engine)
    load_book(engine)
    links = SignedLinks(SECRET, BASE_URL, LINK_DAYS)
    composer = Composer(links, penalty_quote, penalty_terms)
    day = date(2026, 3, 23)  # ES-1, in euros, is 5 days late

    summary = run_collection(
        lambda: SqlRunStore(engine), composer, day, datetime.combine(day, time(15), UTC)
    )

    assert summary.clients == len(BOOK) and not summary.problems
    with engine.connect() as connection:
        context: Any = connection.execute(
            select(Message.context).where(Message.template == "overdue")
        ).scalar_one()
    fee, interest = default_rule_penalty(Decimal("12345.60"), 5)
    assert context["invoices"][0]["penalty"]["late_fee"] == str(fee)
    assert context["invoices"][0]["penalty"]["interest"] == str(interest)
