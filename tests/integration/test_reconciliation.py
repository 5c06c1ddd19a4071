"""Bank statements imported: invoices settled, the rest queued, nothing twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import Engine, Row, func, select, update
from sqlalchemy.orm import Session

from duecourse.adapters.db.models import Invoice, Message, Payment
from duecourse.adapters.db.run_store import SqlRunStore
from duecourse.adapters.db.schema import metadata
from duecourse.adapters.db.statement_store import SqlStatementStore
from duecourse.adapters.db.statement_tables import StatementEntryRow, StatementImport
from duecourse.adapters.statements import parse_statement
from duecourse.bootstrap import Container, build
from duecourse.domain.errors import Conflict
from duecourse.domain.statements import InvalidStatement
from duecourse.entrypoints.cli import cli
from duecourse.entrypoints.cli_statements import statements
from duecourse.services.payments import reverse_payment
from duecourse.services.reconciliation import (
    ReconciliationSummary,
    ignore,
    import_statement,
    queue,
    resolve,
)
from duecourse.services.run import run_collection
from tests.integration.book import add_client, add_invoice, apply_default_rule, composer

DUE = date(2026, 3, 18)
NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples" / "statements"


def camt(*entries: str, statement_id: str = "S-0320", currency: str = "EUR") -> bytes:
    """A CAMT.053 001.08 statement holding the given `Ntry` elements."""
    body = "\n".join(entries)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
 <BkToCstmrStmt>
  <GrpHdr><MsgId>M-{statement_id}</MsgId><CreDtTm>2026-03-20T06:00:00+01:00</CreDtTm>
  </GrpHdr>
  <Stmt>
   <Id>{statement_id}</Id>
   <Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>{currency}</Ccy></Acct>
{body}
  </Stmt>
 </BkToCstmrStmt>
</Document>
""".encode()


def ntry(
    bank_ref: str,
    amount: str,
    *,
    debit: bool = False,
    payer: str = "Acme Ltda",
    creditor_ref: str | None = None,
    text: str = "",
    currency: str = "EUR",
) -> str:
    remittance = (
        f"<Strd><CdtrRefInf><Ref>{creditor_ref}</Ref></CdtrRefInf></Strd>"
        if creditor_ref
        else f"<Ustrd>{text}</Ustrd>"
    )
    side = "Cdtr" if debit else "Dbtr"
    return f"""   <Ntry>
    <NtryRef>{bank_ref}</NtryRef>
    <Amt Ccy="{currency}">{amount}</Amt>
    <CdtDbtInd>{"DBIT" if debit else "CRDT"}</CdtDbtInd>
    <Sts><Cd>BOOK</Cd></Sts>
    <BookgDt><Dt>2026-03-19</Dt></BookgDt>
    <NtryDtls><TxDtls>
     <RltdPties><{side}><Pty><Nm>{payer}</Nm></Pty></{side}></RltdPties>
     <RmtInf>{remittance}</RmtInf>
    </TxDtls></NtryDtls>
   </Ntry>"""


MARCH = camt(
    ntry("B-1", "1000.00", creditor_ref="INV-2026-001"),
    ntry("B-2", "200.00", payer="Someone Else", text="partial inv 2026 002"),
    ntry("B-3", "75.00", payer="Unknown Person", text="donation"),
    ntry("B-4", "12.50", debit=True, payer="Bank", text="account fee"),
)

OFX = b"""<?xml version="1.0" encoding="UTF-8"?>
<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE"?>
<OFX><BANKMSGSRSV1><STMTTRNRS><TRNUID>1</TRNUID><STMTRS>
  <CURDEF>EUR</CURDEF>
  <BANKACCTFROM><BANKID>30003</BANKID><ACCTID>FR7630003000</ACCTID>
    <ACCTTYPE>CHECKING</ACCTTYPE></BANKACCTFROM>
  <BANKTRANLIST><DTSTART>20260301</DTSTART><DTEND>20260331</DTEND>
    <STMTTRN><TRNTYPE>CREDIT</TRNTYPE><DTPOSTED>20260319</DTPOSTED>
      <TRNAMT>150.00</TRNAMT><FITID>OFX-1</FITID><REFNUM>OV-9</REFNUM>
      <NAME>Overpay SA</NAME><MEMO>Facture OV-9</MEMO></STMTTRN>
  </BANKTRANLIST>
</STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>
"""

MT940 = """{1:F01BANKDEFFAXXX0000000000}{2:I940BANKDEFFXXXXN}{4:
:20:STMT0319
:25:10020030/1234567890
:28C:7/1
:60F:C260318EUR0,00
:61:2603190319C300,00NTRFG-100//MT-1
:86:/NAME/Globex Treasury/REMI/USTD//Invoice G-100/
:61:2603190319C450,00NTRFNONREF//MT-2
:86:/NAME/Globex Treasury/REMI/USTD//March services/
:61:2603190319RC300,00NTRFG-100//MT-3
:86:/RTRN/AC04/NAME/Globex Treasury/
:62F:C260319EUR450,00
-}
"""

# The credit of MT940 alone, then its return on the next day's statement.
MT940_CREDIT = """{1:F01BANKDEFFAXXX0000000000}{2:I940BANKDEFFXXXXN}{4:
:20:STMT0319
:25:10020030/1234567890
:28C:7/1
:60F:C260318EUR0,00
:61:2603190319C300,00NTRFG-100//MT-1
:86:/NAME/Globex Treasury/REMI/USTD//Invoice G-100/
:62F:C260319EUR300,00
-}
"""
MT940_RETURN = """{1:F01BANKDEFFAXXX0000000000}{2:I940BANKDEFFXXXXN}{4:
:20:STMT0321
:25:10020030/1234567890
:28C:8/1
:60F:C260319EUR300,00
:61:2603210321RC300,00NTRFG-100//MT-3
:86:/RTRN/AC04/NAME/Globex Treasury/
:62F:C260321EUR0,00
-}
"""


@pytest.fixture
def store(engine: Engine) -> Iterator[SqlStatementStore]:
    opened = SqlStatementStore(engine)
    yield opened
    opened.close()


def import_bytes(
    store: SqlStatementStore, data: bytes, now: datetime = NOW
) -> ReconciliationSummary:
    statement = parse_statement(data, source="test statement")
    return import_statement(store, statement, "test statement", "tester", now)


def invoice(engine: Engine, number: str) -> Row[Any]:
    with engine.connect() as connection:
        return connection.execute(
            select(Invoice.__table__).where(Invoice.number == number)
        ).one()


def count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def run(engine: Engine, as_of: date) -> None:
    now = datetime.combine(as_of, datetime.min.time(), UTC) + timedelta(hours=15)
    run_collection(lambda: SqlRunStore(engine), composer(), as_of, now)


def messages_about(engine: Engine, number: str) -> list[str]:
    with Session(engine) as session:
        found = session.scalars(select(Message)).all()
    return [
        m.template
        for m in found
        if number in str(m.context.get("invoices", "")) + str(m.context.get("invoice"))
    ]


def book_for_march(engine: Engine) -> None:
    client = add_client(engine, "acme", country="DE", language="en", currency="EUR")
    add_invoice(engine, client, "INV-2026-001", DUE, "1000.00", "EUR")
    add_invoice(engine, client, "INV-2026-002", DUE, "500.00", "EUR")


def test_a_camt_statement_settles_invoices_and_stops_their_rule(
    engine: Engine, store: SqlStatementStore
) -> None:
    apply_default_rule(engine)
    book_for_march(engine)

    summary = import_bytes(store, MARCH)
    for day in (DUE, DUE + timedelta(days=3), DUE + timedelta(days=10)):
        run(engine, day)

    assert (summary.matched, summary.queued, summary.ignored) == (2, 1, 1)
    paid = invoice(engine, "INV-2026-001")
    assert (paid.status, paid.balance, paid.next_action_on) == ("paid", 0, None)
    assert messages_about(engine, "INV-2026-001") == []
    assert messages_about(engine, "INV-2026-002") != []


def test_a_partial_payment_leaves_a_balance_and_a_stranger_waits_in_the_queue(
    engine: Engine, store: SqlStatementStore
) -> None:
    book_for_march(engine)

    import_bytes(store, MARCH)

    partial = invoice(engine, "INV-2026-002")
    assert (partial.status, partial.balance) == ("open", Decimal("300.00"))
    (waiting,) = queue(store)
    assert (waiting.amount, waiting.counterparty) == (
        Decimal("75.00"),
        "Unknown Person",
    )
    assert waiting.reason == "no invoice number and no known payer"
    with engine.connect() as connection:
        references = set(connection.execute(select(Payment.reference)).scalars())
        fee = connection.execute(
            select(StatementEntryRow.status).where(
                StatementEntryRow.text == "account fee"
            )
        ).scalar_one()
    assert references == {
        "DE89370400440532013000:2026-03-19:B-1",
        "DE89370400440532013000:2026-03-19:B-2",
    }
    assert fee == "ignored"


def test_the_same_statement_twice_records_nothing_twice(
    engine: Engine, store: SqlStatementStore
) -> None:
    book_for_march(engine)

    first = import_bytes(store, MARCH)
    second = import_bytes(store, MARCH)

    assert (first.matched, second.matched, second.skipped) == (2, 0, 4)
    assert second.import_id is None
    assert count(engine, Payment) == 2
    assert count(engine, StatementEntryRow) == 4
    assert count(engine, StatementImport) == 1
    assert invoice(engine, "INV-2026-002").balance == Decimal("300.00")


def test_a_truncated_file_is_refused_and_nothing_is_stored(
    engine: Engine, store: SqlStatementStore
) -> None:
    book_for_march(engine)
    cut = MARCH[: MARCH.index(b"B-3")]

    with pytest.raises(InvalidStatement, match=r"broken or cut short"):
        import_bytes(store, cut)

    assert count(engine, StatementEntryRow) == 0
    assert count(engine, Payment) == 0
    assert invoice(engine, "INV-2026-001").status == "open"


def test_an_ofx_overpayment_settles_the_invoice_and_keeps_the_rest_as_credit(
    engine: Engine, store: SqlStatementStore
) -> None:
    client = add_client(engine, "ov", country="FR", language="en", currency="EUR")
    add_invoice(engine, client, "OV-9", DUE, "100.00", "EUR")

    summary = import_bytes(store, OFX)

    assert summary.matched == 1
    assert invoice(engine, "OV-9").status == "paid"
    with engine.connect() as connection:
        credit = connection.execute(select(Payment.unallocated)).scalar_one()
    assert credit == Decimal("50.00")


def test_mt940_learns_the_payer_and_undoes_the_payment_its_reversal_takes_back(
    engine: Engine, store: SqlStatementStore
) -> None:
    client = add_client(engine, "globex", country="DE", language="en", currency="EUR")
    add_invoice(engine, client, "G-100", DUE, "300.00", "EUR")
    add_invoice(engine, client, "G-101", DUE + timedelta(days=30), "450.00", "EUR")

    summary = import_bytes(store, MT940.encode())

    assert (summary.matched, summary.queued) == (3, 0)
    assert invoice(engine, "G-101").status == "paid"
    reopened = invoice(engine, "G-100")
    assert (reopened.status, reopened.balance) == ("open", Decimal("300.00"))
    assert reopened.next_action_on == NOW.date()
    assert queue(store) == []
    with engine.connect() as connection:
        first, reversed_at = connection.execute(
            select(Payment.id, Payment.reversed_at).where(
                Payment.reference.endswith("MT-1")
            )
        ).one()
        entry = connection.execute(
            select(
                StatementEntryRow.status,
                StatementEntryRow.reason,
                StatementEntryRow.payment_id,
            ).where(StatementEntryRow.is_reversal.is_(True))
        ).one()
    assert reversed_at == NOW
    assert entry.status == "matched"
    assert entry.reason.startswith("reversal of ") and entry.reason.endswith("MT-1")
    assert entry.payment_id == first


def test_a_later_statement_reversing_a_credit_reopens_its_invoice(
    engine: Engine, store: SqlStatementStore
) -> None:
    client = add_client(engine, "globex", country="DE", language="en", currency="EUR")
    add_invoice(engine, client, "G-100", DUE, "300.00", "EUR")
    import_bytes(store, MT940_CREDIT.encode())
    assert invoice(engine, "G-100").status == "paid"
    summary = import_bytes(store, MT940_RETURN.encode(), now=NOW + timedelta(days=2))

    assert (summary.matched, summary.queued) == (1, 0)
    reopened = invoice(engine, "G-100")
    assert (reopened.status, reopened.balance) == ("open", Decimal("300.00"))
    assert reopened.next_action_on == NOW.date() + timedelta(days=2)


def test_a_reversal_of_a_payment_reversed_already_waits_in_the_queue(
    engine: Engine, store: SqlStatementStore
) -> None:
    client = add_client(engine, "globex", country="DE", language="en", currency="EUR")
    add_invoice(engine, client, "G-100", DUE, "300.00", "EUR")
    import_bytes(store, MT940_CREDIT.encode())
    with engine.connect() as connection:
        reference = connection.execute(select(Payment.reference)).scalar_one()
    reverse_payment(store, reference, "bank called", "desk", NOW)

    summary = import_bytes(store, MT940_RETURN.encode(), now=NOW + timedelta(days=2))

    assert (summary.matched, summary.queued) == (0, 1)
    (waiting,) = queue(store)
    assert "whose payment was reversed already" in waiting.reason
    assert invoice(engine, "G-100").balance == Decimal("300.00")


def test_a_person_resolves_or_ignores_what_waits_in_the_queue(
    engine: Engine, store: SqlStatementStore
) -> None:
    book_for_march(engine)
    stranger = camt(
        ntry("B-8", "300.00", payer="Cousin of Acme", text="for them"),
        ntry("B-9", "5.00", payer="Nobody", text="test"),
        statement_id="S-0321",
    )
    import_bytes(store, MARCH)
    import_bytes(store, stranger)
    waiting = {entry.amount: entry.entry_id for entry in queue(store)}

    resolve(store, waiting[Decimal("300.00")], ["INV-2026-002"], actor="ana", now=NOW)
    ignore(store, waiting[Decimal("5.00")], "a test transfer", "ana", NOW)

    assert invoice(engine, "INV-2026-002").balance == Decimal("500.00") - 500
    assert [entry.amount for entry in queue(store)] == [Decimal("75.00")]
    with engine.connect() as connection:
        rows = connection.execute(
            select(StatementEntryRow.status, StatementEntryRow.resolved_by).where(
                StatementEntryRow.resolved_by.is_not(None)
            )
        ).all()
    assert sorted(tuple(row) for row in rows) == [
        ("ignored", "ana"),
        ("resolved", "ana"),
    ]
    with pytest.raises(Conflict, match="is resolved"):
        ignore(store, waiting[Decimal("300.00")], "again", "ana", NOW)


def suspend(engine: Engine, number: str, *, delivered: bool) -> None:
    """Run the default rule 30 days after the due date: the suspend webhook."""
    run(engine, DUE + timedelta(days=30))
    status = "sent" if delivered else "pending"
    with Session(engine) as session, session.begin():
        session.execute(
            update(Message).where(Message.template == "suspend").values(status=status)
        )
    assert messages_about(engine, number).count("suspend") == 1


def reinstatements(engine: Engine) -> list[Message]:
    with Session(engine) as session:
        return list(
            session.scalars(select(Message).where(Message.template == "reinstate"))
        )


def test_a_payment_reinstates_a_suspended_client_once(
    engine: Engine, store: SqlStatementStore
) -> None:
    apply_default_rule(engine)
    client = add_client(engine, "late")
    add_invoice(engine, client, "L-1", DUE, "1000.00")
    add_invoice(engine, client, "L-2", DUE + timedelta(days=25), "80.00")
    suspend(engine, "L-1", delivered=True)
    later = NOW + timedelta(days=31)

    first = import_bytes(
        store,
        camt(ntry("P-1", "1000.00", text="L-1", currency="BRL"), currency="BRL"),
        later,
    )
    import_bytes(
        store,
        camt(
            ntry("P-2", "80.00", text="L-2", currency="BRL"),
            statement_id="S-2",
            currency="BRL",
        ),
        later,
    )

    assert first.reinstated == ("late",)
    (message,) = reinstatements(engine)
    assert (message.channel, message.status) == ("webhook", "pending")
    assert message.context["event"] == "reinstate"
    assert message.context["client"] == "late"
    assert message.next_attempt_at == later


def test_no_reinstatement_while_an_invoice_is_still_long_overdue(
    engine: Engine, store: SqlStatementStore
) -> None:
    apply_default_rule(engine)
    client = add_client(engine, "late")
    add_invoice(engine, client, "L-1", DUE, "1000.00")
    add_invoice(engine, client, "L-0", DUE - timedelta(days=5), "10.00")
    suspend(engine, "L-1", delivered=True)

    import_bytes(
        store,
        camt(ntry("P-1", "1000.00", text="L-1", currency="BRL"), currency="BRL"),
        NOW + timedelta(days=31),
    )

    assert invoice(engine, "L-1").status == "paid"
    assert reinstatements(engine) == []


def test_a_suspension_withdrawn_before_delivery_needs_no_reinstatement(
    engine: Engine, store: SqlStatementStore
) -> None:
    apply_default_rule(engine)
    client = add_client(engine, "late")
    add_invoice(engine, client, "L-1", DUE, "1000.00")
    suspend(engine, "L-1", delivered=False)

    import_bytes(
        store,
        camt(ntry("P-1", "1000.00", text="L-1", currency="BRL"), currency="BRL"),
        NOW + timedelta(days=31),
    )

    assert reinstatements(engine) == []


@pytest.fixture
def app(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Container]:
    monkeypatch.setenv("DUECOURSE_DATABASE_URL", database_url)
    built = build()
    yield built
    built.engine.dispose()


def test_the_cli_imports_a_file_and_lists_the_queue(
    engine: Engine, app: Container, tmp_path: Path
) -> None:
    book_for_march(engine)
    path = tmp_path / "march.xml"
    path.write_bytes(MARCH)
    cut = tmp_path / "cut.xml"
    cut.write_bytes(MARCH[:400])
    runner = CliRunner()

    imported = runner.invoke(statements, ["import", str(path)], obj=app)
    listed = runner.invoke(statements, ["queue"], obj=app)
    refused = runner.invoke(statements, ["import", str(cut)], obj=app)

    assert cli.commands["statements"] is statements
    assert imported.exit_code == 0, imported.output
    assert "2 matched, 1 queued, 1 ignored" in imported.output
    assert "Unknown Person" in listed.output
    assert "1 entry waiting" in listed.output
    assert isinstance(refused.exception, InvalidStatement)


def test_the_real_swiss_sample_settles_the_invoices_its_references_name(
    engine: Engine, store: SqlStatementStore
) -> None:
    sample = SAMPLES / "camt053-oca-2.xml"
    if not sample.exists():
        pytest.skip(f"the shared sample {sample} is not here")
    # A Swiss ISR reference is the creditor's own number for the invoice.
    client = add_client(engine, "vaud", country="CH", language="en", currency="CHF")
    add_invoice(engine, client, "302388292000011111111111111", DUE, "2187.00", "CHF")
    add_invoice(engine, client, "302388292000022222222222222", DUE, "1500.00", "CHF")

    statement = parse_statement(sample)
    summary = import_statement(store, statement, sample.name, "tester", NOW)

    assert (summary.matched, summary.queued, summary.settled) == (2, 0, 1)
    assert invoice(engine, "302388292000011111111111111").status == "paid"
    rest = invoice(engine, "302388292000022222222222222")
    assert (rest.status, rest.balance) == ("open", Decimal("204.00"))


def test_the_statement_tables_migrated_match_the_models(engine: Engine) -> None:
    ours = {"statement_imports", "statement_entries"}
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        differences = compare_metadata(context, metadata)

    assert [d for d in differences if ours & set(_tables_named(d))] == []


def _tables_named(difference: Any) -> Iterator[str]:
    """The table names a difference from `compare_metadata` is about."""
    for part in difference if isinstance(difference, list) else [difference]:
        for value in part:
            name = getattr(value, "name", None)
            table = getattr(value, "table", None)
            if isinstance(value, str):
                yield value
            if isinstance(name, str):
                yield name
            if table is not None:
                yield table.name
