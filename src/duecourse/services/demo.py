"""The demo book: a dozen clients at every point of the cadence, dated from today.

The book is written as the three CSV files a user would import and loaded
through `import_csv`, so the demo exercises the real import path. Loading it
again does nothing once its clients exist.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

from duecourse.services.imports import ImportKind, ImportResult, ImportStore, import_csv

ACTOR = "demo"

# key, name, country, time zone, language, currency, segment, monthly amount,
# and one or two billing contacts (name, mailbox).
CLIENTS = (
    ("demo-br-01", "Padaria Aurora Ltda", "BR", "America/Sao_Paulo", "pt_BR", "BRL",
     "smb", "490.00", (("Marina Costa", "financeiro@aurora"),)),
    ("demo-br-02", "Construtora Ipê S.A.", "BR", "America/Sao_Paulo", "pt_BR", "BRL",
     "enterprise", "8900.00", (("Rafael Lima", "contas@ipe"),
                               ("Beatriz Souza", "cfo@ipe"))),
    ("demo-br-03", "Clínica Bem Viver", "BR", "America/Sao_Paulo", "pt_BR", "BRL",
     "smb", "790.00", (("Juliana Alves", "adm@bemviver"),)),
    ("demo-br-04", "Logística Rota Sul", "BR", "America/Sao_Paulo", "pt_BR", "BRL",
     "enterprise", "5400.00", (("Carlos Pereira", "pagar@rotasul"),)),
    ("demo-es-01", "Talleres Norte S.L.", "ES", "Europe/Madrid", "es", "EUR",
     "smb", "320.00", (("Lucía Martín", "facturas@tallnorte"),)),
    ("demo-es-02", "Grupo Olivar S.A.", "ES", "Europe/Madrid", "es", "EUR",
     "enterprise", "4100.00", (("Javier Ruiz", "tesoreria@olivar"),
                               ("Elena Gómez", "cuentas@olivar"))),
    ("demo-mx-01", "Café Colibrí", "MX", "America/Mexico_City", "es", "MXN",
     "smb", "2900.00", (("Sofía Hernández", "pagos@colibri"),)),
    ("demo-mx-02", "Manufacturas Sierra", "MX", "America/Mexico_City", "es", "MXN",
     "enterprise", "68000.00", (("Diego Ramírez", "cxp@sierra"),)),
    ("demo-us-01", "Brightline Dental", "US", "America/Chicago", "en", "USD",
     "smb", "250.00", (("Emily Carter", "billing@brightline"),)),
    ("demo-us-02", "Northwind Freight Inc.", "US", "America/New_York", "en", "USD",
     "enterprise", "3600.00", (("Michael Brooks", "ap@northwind"),
                               ("Sarah Kim", "controller@northwind"))),
    ("demo-gb-01", "Kettle & Crumb Ltd", "GB", "Europe/London", "en", "GBP",
     "smb", "180.00", (("Oliver Hughes", "accounts@kettle"),)),
    ("demo-gb-02", "Harbour Analytics plc", "GB", "Europe/London", "en", "GBP",
     "enterprise", "2750.00", (("Amelia Wright", "payables@harbour"),)),
)  # fmt: skip

# Client key, days from today to the due date (negative: overdue), and how much
# of it was paid: every point of the cadence, a few settled, one in part.
INVOICES = (
    ("demo-br-01", 12, None), ("demo-br-01", -35, "full"),
    ("demo-br-02", 3, None), ("demo-br-02", -25, None),
    ("demo-br-03", 0, None), ("demo-br-04", -8, "part"),
    ("demo-es-01", -3, None), ("demo-es-02", -15, None),
    ("demo-es-02", -45, "full"), ("demo-mx-01", -8, None),
    ("demo-mx-02", 12, None), ("demo-us-01", -25, None),
    ("demo-us-02", 3, None), ("demo-us-02", -30, "full"),
    ("demo-gb-01", 0, None), ("demo-gb-02", -15, "part"),
)  # fmt: skip


def load_demo(
    open_store: Callable[[], ImportStore],
    today: date,
    *,
    now: datetime | None = None,
) -> list[ImportResult]:
    """Import the demo book as of `today`; an empty list if it is there already."""
    store = open_store()
    try:
        if store.client(CLIENTS[0][0]) is not None:
            return []
        files = (
            (ImportKind.CLIENTS, demo_clients(today)),
            (ImportKind.INVOICES, demo_invoices(today)),
            (ImportKind.PAYMENTS, demo_payments(today)),
        )
        return [
            import_csv(kind, text, f"demo {kind.value}", store, ACTOR, today, now=now)
            for kind, text in files
        ]
    finally:
        store.close()


def demo_clients(today: date) -> str:
    """One row per billing contact; the first row of a client holds its contract."""
    header = (
        "external_id", "name", "country", "time_zone", "language", "currency",
        "segment", "contact_name", "contact_email", "contract_amount",
        "billing_period_months", "prepay_discount_percent", "due_day",
        "notice_lead_days", "contract_starts_on",
    )  # fmt: skip
    rows = []
    for (
        key,
        name,
        country,
        zone,
        language,
        currency,
        segment,
        amount,
        people,
    ) in CLIENTS:
        domain = "example.com.br" if country == "BR" else "example.com"
        yearly = segment == "enterprise"
        # The demo's invoices stand for the past; the contract bills from the
        # next month on, so `duecourse bill` adds upcoming bills, not a year
        # of back invoices.
        contract = (
            amount, "12" if yearly else "1", "5" if yearly else "0", "10", "5",
            _next_month(today).isoformat(),
        )  # fmt: skip
        for index, (person, mailbox) in enumerate(people):
            client = (key, name, country, zone, language, currency, segment)
            if index:
                client = (key, "", "", "", "", "", "")
            terms = contract if index == 0 else ("",) * len(contract)
            rows.append((*client, person, f"{mailbox}.{domain}", *terms))
    return _csv(header, rows)


def demo_invoices(today: date) -> str:
    header = (
        "number", "client_external_id", "amount", "currency", "issue_date",
        "due_date", "payment_url",
    )  # fmt: skip
    clients = {row[0]: row for row in CLIENTS}
    rows = []
    for number, (key, days, _paid) in enumerate(INVOICES, start=1):
        due = today + timedelta(days=days)
        code = _number(number)
        rows.append(
            (
                code, key, clients[key][7], clients[key][5],
                (due - timedelta(days=30)).isoformat(), due.isoformat(),
                f"https://pay.example.com/{code}",
            )
        )  # fmt: skip
    return _csv(header, rows)


def demo_payments(today: date) -> str:
    header = (
        "reference", "client_external_id", "amount", "currency", "received_on",
        "invoice_number", "method",
    )  # fmt: skip
    clients = {row[0]: row for row in CLIENTS}
    rows = []
    for number, (key, days, paid) in enumerate(INVOICES, start=1):
        if paid is None:
            continue
        amount = Decimal(clients[key][7])
        if paid == "part":
            amount = (amount / 2).quantize(Decimal("0.01"))
        received = min(today, today + timedelta(days=days + 2))
        rows.append(
            (
                f"DEMO-PAY-{number:04d}", key, str(amount), clients[key][5],
                received.isoformat(), _number(number), "transfer",
            )
        )  # fmt: skip
    return _csv(header, rows)


def _next_month(today: date) -> date:
    return date(today.year + today.month // 12, today.month % 12 + 1, 1)


def _number(index: int) -> str:
    return f"DEMO-{index:04d}"


def _csv(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()
