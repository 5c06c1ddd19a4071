"""The statement parsers against small files written here, good and broken."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from duecourse.adapters.statements import (
    CsvMapping,
    detect_format,
    parse_statement,
    parse_statements,
)
from duecourse.domain.errors import DuecourseError
from duecourse.domain.money import Money
from duecourse.domain.statements import (
    InvalidStatement,
    Statement,
    StatementEntry,
    make_entry_id,
    number_repeated_ids,
)


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


CAMT_BATCH = b"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
 <BkToCstmrStmt>
  <GrpHdr><MsgId>M1</MsgId><CreDtTm>2024-03-02T06:00:00+01:00</CreDtTm></GrpHdr>
  <Stmt>
   <Id>S-2024-061</Id>
   <Acct><Id><IBAN>DE02120300000000202051</IBAN></Id><Ccy>EUR</Ccy></Acct>
   <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp>
    <Amt Ccy="EUR">100.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
    <Dt><Dt>2024-03-01</Dt></Dt></Bal>
   <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp>
    <Amt Ccy="EUR">330.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
    <Dt><Dt>2024-03-01</Dt></Dt></Bal>
   <Ntry>
    <NtryRef>B-77</NtryRef>
    <Amt Ccy="EUR">300.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
    <Sts><Cd>BOOK</Cd></Sts>
    <BookgDt><DtTm>2024-03-01T23:30:00+01:00</DtTm></BookgDt>
    <ValDt><Dt>2024-03-04</Dt></ValDt>
    <NtryDtls>
     <Btch><NbOfTxs>3</NbOfTxs></Btch>
     <TxDtls>
      <Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
      <Amt Ccy="EUR">120.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
      <RltdPties><Dbtr><Pty><Nm>Acme GmbH</Nm></Pty></Dbtr></RltdPties>
      <RmtInf><Strd><CdtrRefInf><Ref>RF18539007547034</Ref></CdtrRefInf></Strd>
      </RmtInf>
     </TxDtls>
     <TxDtls>
      <Refs><EndToEndId>INV-2024-0042</EndToEndId></Refs>
      <Amt Ccy="EUR">80.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
      <RltdPties><Dbtr><Pty><Nm>Beta SARL</Nm></Pty></Dbtr></RltdPties>
      <RmtInf><Ustrd>Invoice 42</Ustrd><Ustrd>thanks</Ustrd></RmtInf>
     </TxDtls>
     <TxDtls>
      <Amt Ccy="EUR">100.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
      <RmtInf><Strd><RfrdDocInf><Nb>2024-0043</Nb></RfrdDocInf></Strd></RmtInf>
     </TxDtls>
    </NtryDtls>
   </Ntry>
   <Ntry>
    <NtryRef>R-9</NtryRef>
    <Amt Ccy="EUR">70.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>
    <RvslInd>true</RvslInd>
    <Sts><Cd>BOOK</Cd></Sts>
    <BookgDt><Dt>2024-03-01</Dt></BookgDt>
    <NtryDtls><TxDtls>
     <Refs><EndToEndId>INV-2024-0040</EndToEndId></Refs>
     <RltdPties><Dbtr><Pty><Nm>Gamma Ltd</Nm></Pty></Dbtr></RltdPties>
     <RtrInf><Rsn><Cd>AM04</Cd></Rsn></RtrInf>
    </TxDtls></NtryDtls>
   </Ntry>
   <Ntry>
    <Amt Ccy="EUR">5.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
    <Sts><Cd>PDNG</Cd></Sts>
    <BookgDt><Dt>2024-03-01</Dt></BookgDt>
   </Ntry>
  </Stmt>
 </BkToCstmrStmt>
</Document>
"""


def test_camt_batch_becomes_one_entry_per_transaction() -> None:
    statement = parse_statement(CAMT_BATCH)
    acme, beta, third = statement.entries[:3]

    assert [e.amount for e in statement.entries[:3]] == [
        eur("120.00"),
        eur("80.00"),
        eur("100.00"),
    ]
    assert acme.reference == "RF18539007547034"
    assert acme.counterparty_name == "Acme GmbH"
    assert beta.reference == "INV-2024-0042"
    assert beta.remittance_text == "Invoice 42 thanks"
    assert third.reference == "2024-0043"
    # The booking date is the day the bank wrote, not converted to UTC.
    assert acme.booking_date == date(2024, 3, 1)
    assert acme.value_date == date(2024, 3, 4)
    assert len({e.entry_id for e in statement.entries}) == 4


def test_camt_reversal_keeps_its_booking_sign_and_return_reason() -> None:
    statement = parse_statement(CAMT_BATCH)
    reversal = statement.entries[3]

    assert reversal.is_reversal
    assert reversal.amount == eur("-70.00")
    assert reversal.reference == "INV-2024-0040"
    assert reversal.return_reason == "AM04"
    assert reversal.counterparty_name == "Gamma Ltd"


def test_camt_pending_entries_are_left_out_and_balances_add_up() -> None:
    statement = parse_statement(CAMT_BATCH)

    assert len(statement.entries) == 4
    assert statement.balance_gap() == eur("0")


def test_camt_batch_whose_amounts_do_not_add_up_stays_whole() -> None:
    data = CAMT_BATCH.replace(b'<Amt Ccy="EUR">80.00', b'<Amt Ccy="EUR">81.00')

    statement = parse_statement(data)

    assert statement.entries[0].amount == eur("300.00")
    assert statement.entries[0].reference is None


def test_truncated_camt_names_file_format_and_line() -> None:
    cut = CAMT_BATCH[: CAMT_BATCH.index(b"<TxDtls>") + 40]

    with pytest.raises(InvalidStatement) as raised:
        parse_statement(cut, source="march.xml")

    message = str(raised.value)
    assert message.startswith("march.xml is not a readable CAMT.053 statement")
    assert "line 2" in message
    assert "cut short" in message
    assert isinstance(raised.value, DuecourseError)


def test_camt_entry_without_direction_names_the_entry() -> None:
    data = CAMT_BATCH.replace(
        b"<CdtDbtInd>DBIT</CdtDbtInd>", b"<CdtDbtInd>X</CdtDbtInd>"
    )

    with pytest.raises(InvalidStatement, match=r"Ntry\[2\].*'X', not CRDT or DBIT"):
        parse_statement(data)


def test_camt_bad_amount_names_the_entry() -> None:
    data = CAMT_BATCH.replace(b">300.00<", b">3OO.00<")

    with pytest.raises(InvalidStatement, match=r"Ntry\[1\]: '3OO.00' is not an amount"):
        parse_statement(data)


def test_camt_unsupported_version_is_refused() -> None:
    data = CAMT_BATCH.replace(b"camt.053.001.08", b"camt.053.001.12")

    with pytest.raises(InvalidStatement, match=r"version 001\.12 is not supported"):
        parse_statement(data)


def test_xml_entities_are_refused() -> None:
    data = CAMT_BATCH.replace(
        b"<Document",
        b'<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<Document',
        1,
    )

    with pytest.raises(InvalidStatement, match="unsafe XML was refused"):
        parse_statement(data, format="camt053")


OFX_2 = b"""<?xml version="1.0" encoding="UTF-8"?>
<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE"?>
<OFX>
  <BANKMSGSRSV1><STMTTRNRS><TRNUID>1</TRNUID>
    <STMTRS>
      <CURDEF>EUR</CURDEF>
      <BANKACCTFROM><BANKID>30003</BANKID><ACCTID>FR7630003</ACCTID>
        <ACCTTYPE>CHECKING</ACCTTYPE></BANKACCTFROM>
      <BANKTRANLIST><DTSTART>20240201</DTSTART><DTEND>20240229</DTEND>
        <STMTTRN><TRNTYPE>CREDIT</TRNTYPE><DTPOSTED>20240205120000[+1:CET]</DTPOSTED>
          <DTAVAIL>20240206</DTAVAIL>
          <TRNAMT>1250.00</TRNAMT><FITID>F-1</FITID><REFNUM>INV-7</REFNUM>
          <NAME>Dupont &amp; Fils</NAME><MEMO>Facture INV-7</MEMO></STMTTRN>
        <STMTTRN><TRNTYPE>DEBIT</TRNTYPE><DTPOSTED>20240210</DTPOSTED>
          <TRNAMT>-9,90</TRNAMT><FITID>F-2</FITID><NAME>Bank fee</NAME></STMTTRN>
      </BANKTRANLIST>
      <LEDGERBAL><BALAMT>5000.10</BALAMT><DTASOF>20240229</DTASOF></LEDGERBAL>
    </STMTRS>
  </STMTTRNRS></BANKMSGSRSV1>
</OFX>
"""


def test_ofx_2_xml_statement() -> None:
    statement = parse_statement(OFX_2)
    credit, fee = statement.entries

    assert statement.account == "FR7630003"
    assert statement.statement_id == "FR7630003:20240201-20240229"
    assert statement.closing_balance == eur("5000.10")
    assert credit.amount == eur("1250.00")
    assert credit.reference == "INV-7"
    assert credit.counterparty_name == "Dupont & Fils"
    assert credit.booking_date == date(2024, 2, 5)
    assert credit.value_date == date(2024, 2, 6)
    assert credit.entry_id == "FR7630003:2024-02-05:F-1"
    assert fee.amount == eur("-9.90")


def test_truncated_ofx_names_the_aggregate_left_open() -> None:
    cut = OFX_2[: OFX_2.index(b"<LEDGERBAL>")]

    with pytest.raises(
        InvalidStatement, match=r"<STMTRS> opened on line 5: the file ends"
    ):
        parse_statement(cut, source="feb.ofx")


def test_ofx_bad_date_names_the_line() -> None:
    data = OFX_2.replace(b"<DTPOSTED>20240210", b"<DTPOSTED>2024-02-10")

    with pytest.raises(InvalidStatement, match=r"<DTPOSTED> on line 14.*not a date"):
        parse_statement(data)


MT940 = """{1:F01BANKDEFFAXXX0000000000}{2:I940BANKDEFFXXXXN}{4:
:20:STARTUMS
:25:10020030/1234567890
:28C:42/1
:60F:C240229EUR1000,00
:61:2403010301C250,00NTRFNONREF//BK-1
:86:Invoice INV-2024-0042 paid by
Acme GmbH
:61:2403010301RD250,00NTRFINV-2024-0042//BK-2
:86:Reversal of direct debit
:61:2403020302D12,50NCHGNONREF
:62F:C240302EUR1487,50
-}
"""


def test_mt940_reads_marks_entry_date_and_narrative() -> None:
    statement = parse_statement(MT940.encode())
    credit, reversal, charge = statement.entries

    assert statement.account == "10020030/1234567890"
    assert statement.statement_id == "STARTUMS/42/1"
    assert credit.amount == eur("250.00")
    assert credit.remittance_text == "Invoice INV-2024-0042 paid by Acme GmbH"
    assert credit.reference is None
    assert reversal.is_reversal and reversal.amount == eur("250.00")
    assert reversal.reference == "INV-2024-0042"
    assert charge.amount == eur("-12.50")
    assert charge.booking_date == date(2024, 3, 2)
    assert statement.balance_gap() == eur("0")


def test_mt940_entry_date_across_new_year_takes_the_next_year() -> None:
    data = MT940.replace(":61:2403020302D", ":61:2312310102D")

    statement = parse_statement(data.encode())

    assert statement.entries[2].value_date == date(2023, 12, 31)
    assert statement.entries[2].booking_date == date(2024, 1, 2)


def test_broken_mt940_booking_line_names_the_line() -> None:
    data = MT940.replace("C250,00NTRFNONREF", "C250.00NTRFNONREF")

    with pytest.raises(InvalidStatement) as raised:
        parse_statement(data.encode(), source="day.sta")

    assert str(raised.value).startswith("day.sta is not a readable MT940 statement")
    assert ":61: on line 6" in str(raised.value)


def test_mt940_cut_before_the_closing_balance_is_refused() -> None:
    unwrapped = MT940[MT940.index(":20:") :]
    cut = unwrapped[: unwrapped.index(":62F:")]

    with pytest.raises(InvalidStatement, match=r"no :62F\|62M: field \(cut short\?\)"):
        parse_statement(cut.encode(), format="mt940")


def test_mt940_swift_block_never_closed_is_refused() -> None:
    cut = MT940.replace("-}\n", "")

    with pytest.raises(InvalidStatement, match="never closed"):
        parse_statement(cut.encode())


CSV_COMMA = """Buchungstag;Valuta;Betrag;Verwendungszweck;Name;Referenz
01.03.2024;04.03.2024;1.234,56;Rechnung 42;Acme GmbH;INV-42
02.03.2024;;-12,50;Kontoführung;;
02.03.2024;;"15,00-";"Rücklastschrift; Gebühr";Bank;
"""

CSV_MAPPING = CsvMapping(
    account="DE02120300000000202051",
    currency="EUR",
    date="Buchungstag",
    value_date="Valuta",
    amount="Betrag",
    text="Verwendungszweck",
    name="Name",
    reference="Referenz",
    date_format="%d.%m.%Y",
    decimal_comma=True,
)


def test_csv_with_decimal_comma() -> None:
    statement = parse_statement(CSV_COMMA.encode(), csv_mapping=CSV_MAPPING)
    first, fee, charge = statement.entries

    assert first.amount == eur("1234.56")
    assert first.reference == "INV-42"
    assert first.counterparty_name == "Acme GmbH"
    assert first.booking_date == date(2024, 3, 1)
    assert first.value_date == date(2024, 3, 4)
    assert fee.amount == eur("-12.50")
    assert fee.value_date is None and fee.reference is None
    assert charge.amount == eur("-15.00")
    assert charge.remittance_text == "Rücklastschrift; Gebühr"
    assert statement.opening_balance is None


def test_csv_columns_by_position_with_decimal_point() -> None:
    data = b'2024-03-01,"1,234.50",INV-1\n2024-03-02,-3.00,\n'
    mapping = CsvMapping(
        account="ACC", currency="USD", date=0, amount=1, reference=2, has_header=False
    )

    statement = parse_statement(data, format="csv", csv_mapping=mapping)

    assert [e.amount.amount for e in statement.entries] == [
        Decimal("1234.50"),
        Decimal("-3.00"),
    ]


def test_csv_bad_amount_names_line_and_column() -> None:
    data = CSV_COMMA.replace("-12,50", "-12,5O").encode()

    with pytest.raises(InvalidStatement, match=r"line 3, column amount: '-12,5O'"):
        parse_statement(data, csv_mapping=CSV_MAPPING, source="march.csv")


def test_csv_missing_column_lists_the_header() -> None:
    mapping = CsvMapping(account="A", currency="EUR", date="Date", amount="Betrag")

    with pytest.raises(InvalidStatement, match="there is no column 'Date' for date"):
        parse_statement(CSV_COMMA.encode(), csv_mapping=mapping)


def test_csv_cut_inside_a_quote_is_refused() -> None:
    cut = CSV_COMMA[: CSV_COMMA.index("Gebühr")].encode()

    with pytest.raises(InvalidStatement, match="cut short"):
        parse_statement(cut, csv_mapping=CSV_MAPPING)


def test_unknown_content_asks_for_a_format() -> None:
    with pytest.raises(InvalidStatement, match="pass format="):
        parse_statement(b"hello, world\n", source="notes.txt")


def test_empty_file_and_missing_file_are_clear(tmp_path: Path) -> None:
    with pytest.raises(InvalidStatement, match="the file is empty"):
        parse_statement(b"  \n", format="ofx")
    with pytest.raises(InvalidStatement, match="cannot be read"):
        parse_statement(tmp_path / "absent.xml")


def test_unknown_format_name_lists_the_known_ones() -> None:
    with pytest.raises(InvalidStatement, match="use one of camt053, ofx, mt940, csv"):
        parse_statement(CAMT_BATCH, format="bai2")


def test_detect_format_from_content() -> None:
    assert detect_format(CAMT_BATCH) == "camt053"
    assert detect_format(OFX_2) == "ofx"
    assert detect_format(MT940.encode()) == "mt940"
    assert detect_format(CSV_COMMA.encode()) is None


def test_file_with_entries_of_two_accounts_needs_parse_statements() -> None:
    second = OFX_2.replace(b"FR7630003", b"FR7699999")
    both = OFX_2.replace(b"</BANKMSGSRSV1>", b"") + second[second.index(b"<BANKMSG") :]
    both = both.replace(b"</OFX>\n<BANKMSGSRSV1>", b"<BANKMSGSRSV1>", 1)

    with pytest.raises(InvalidStatement, match="parse_statements"):
        parse_statement(both, format="ofx")
    assert len(parse_statements(both, format="ofx")) == 2


def entry(entry_id: str, amount: str = "10.00") -> StatementEntry:
    return StatementEntry(
        entry_id=entry_id,
        account_id="A",
        booking_date=date(2024, 1, 2),
        value_date=None,
        amount=eur(amount),
        reference=None,
        remittance_text="",
        counterparty_name=None,
    )


def test_entry_id_uses_the_bank_reference_else_a_stable_hash() -> None:
    day = date(2024, 1, 2)

    assert make_entry_id("A", day, eur("1"), "x", "REF") == "A:2024-01-02:REF"
    hashed = make_entry_id("A", day, eur("1"), "x")
    assert hashed == make_entry_id("A", day, eur("1"), "x")
    assert hashed != make_entry_id("A", day, eur("-1"), "x")


def test_repeated_ids_are_numbered_in_file_order() -> None:
    numbered = number_repeated_ids([entry("X"), entry("Y"), entry("X")])

    assert [e.entry_id for e in numbered] == ["X", "Y", "X~2"]


def test_a_statement_refuses_repeated_entry_ids() -> None:
    with pytest.raises(ValueError, match="unique"):
        Statement("S", "A", "EUR", None, None, (entry("X"), entry("X")))


def test_balance_gap_is_none_without_balances() -> None:
    statement = Statement("S", "A", "EUR", None, eur("1"), (entry("X"),))

    assert statement.balance_gap() is None


def test_mt940_dash_after_each_statement_ends_it_but_not_a_narrative() -> None:
    data = MT940[MT940.index(":20:") :].replace("-}\n", "")
    data = data.replace("paid by\n", "paid by\n-\n") + "-\n"

    statement = parse_statement(data.encode())

    assert statement.closing_balance == eur("1487.50")
    assert statement.entries[0].remittance_text.endswith("paid by - Acme GmbH")
