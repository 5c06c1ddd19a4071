"""The statement parsers against real bank and test files, read where they lie.

Facts asserted here come from /work/shared/samples/statements/SOURCES.md and
from the files themselves. The files are never copied into the project.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from duecourse.adapters.statements import parse_statement, parse_statements
from duecourse.domain.money import Money
from duecourse.domain.statements import Statement

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples" / "statements"

pytestmark = pytest.mark.skipif(
    not SAMPLES.is_dir(), reason="the shared sample statements are absent"
)


def read(name: str) -> Statement:
    return parse_statement(SAMPLES / name)


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


@pytest.mark.parametrize(
    ("name", "entries"),
    [
        ("camt053-oca-1.xml", 4),  # 3 Ntry, one a batch of 2 TxDtls
        ("camt053-oca-2.xml", 2),  # 1 Ntry split into 2 TxDtls
        ("camt053-oca-3.xml", 0),
        ("camt053-genkgo-1.xml", 1),
        ("camt053-genkgo-2.xml", 2),  # two Stmt joined
        ("camt053-genkgo-3.xml", 1),
        ("camt053-genkgo-4.xml", 1),
        ("camt053-ing-1.xml", 9),
        ("camt053-goldmansachs-1.xml", 15),
        ("ofx-oca-1.ofx", 4),
        ("ofx-ofxparse-1.ofx", 3),
        ("ofx-ofxparse-2.ofx", 1),
        ("ofx-ofxparse-3.ofx", 1),
        ("mt940-oca-1.940", 8),
        ("mt940-oca-2.940", 2),
    ],
)
def test_every_sample_parses_with_its_entry_count(name: str, entries: int) -> None:
    statement = read(name)

    assert len(statement.entries) == entries
    assert len({entry.entry_id for entry in statement.entries}) == entries


def test_reading_a_file_twice_gives_the_same_entry_ids() -> None:
    first = read("camt053-oca-1.xml")
    second = parse_statement((SAMPLES / "camt053-oca-1.xml").read_bytes())

    assert [e.entry_id for e in first.entries] == [e.entry_id for e in second.entries]


def test_oca_batch_reversal_becomes_one_entry_per_transaction() -> None:
    statement = read("camt053-oca-1.xml")
    batch = statement.entries[1:3]

    assert statement.account == "NL77ABNA0574908765"
    assert statement.opening_balance == eur("15568.27")
    assert statement.closing_balance == eur("15121.12")
    assert [e.amount for e in batch] == [eur("-564.05"), eur("-100.00")]
    assert all(e.is_reversal and e.return_reason == "AC06" for e in batch)
    assert batch[0].reference == "TESTBANK/NL/20141229/01206408"
    assert statement.entries[0].reference == "435005714488-ABNO33052620"
    assert statement.entries[3].amount == eur("1405.31")
    assert statement.entries[3].counterparty_name == "3rd party Media"


def test_oca_swiss_collective_credit_splits_into_isr_references() -> None:
    statement = read("camt053-oca-2.xml")

    assert statement.currency == "CHF"
    assert [e.amount.amount for e in statement.entries] == [
        Decimal("2187.00"),
        Decimal("1296.00"),
    ]
    assert [e.reference for e in statement.entries] == [
        "302388292000011111111111111",
        "302388292000022222222222222",
    ]
    assert statement.entries[0].booking_date == date(2017, 3, 22)
    assert statement.entries[0].value_date == date(2017, 3, 23)
    assert statement.balance_gap() == Money(Decimal(0), "CHF")


def test_oca_statement_without_entries_keeps_its_balances() -> None:
    statement = read("camt053-oca-3.xml")

    assert statement.entries == ()
    assert statement.opening_balance == Money(Decimal("1520.76"), "CHF")
    assert statement.closing_balance == Money(Decimal("1520.76"), "CHF")


@pytest.mark.parametrize(
    "name", ["camt053-genkgo-1.xml", "camt053-genkgo-3.xml", "camt053-genkgo-4.xml"]
)
def test_genkgo_versions_03_04_08_read_the_same_credit(name: str) -> None:
    statement = read(name)
    (entry,) = statement.entries

    assert statement.account == "NL26VAYB8060476890"
    assert entry.amount == eur("8.85")
    assert entry.reference == "4654654654654654"
    assert entry.booking_date == date(2014, 12, 31)
    assert entry.value_date == date(2015, 1, 2)
    assert entry.counterparty_name == "NAME NAME"
    # The fixture's closing balance is deliberately in another currency.
    assert statement.closing_balance == Money(Decimal("-27.00"), "SEK")


def test_genkgo_two_statements_of_one_account_are_joined() -> None:
    joined = read("camt053-genkgo-2.xml")
    parts = parse_statements(SAMPLES / "camt053-genkgo-2.xml")

    assert [p.statement_id for p in parts] == [
        "253EURNL26VAYB8060476890",
        "254EURNL26VAYB8060476890",
    ]
    assert joined.opening_balance == eur("18.15")
    assert joined.closing_balance == eur("20.00")
    assert [e.amount for e in joined.entries] == [eur("8.85"), eur("-7.00")]
    assert joined.entries[1].reference == "000000002"
    assert joined.balance_gap() == eur("0")


def test_ing_camt_balances_add_up_and_the_reversal_keeps_its_own_id() -> None:
    statement = read("camt053-ing-1.xml")
    debit, reversal = statement.entries[7], statement.entries[8]

    assert statement.opening_balance == eur("1000.00")
    assert statement.closing_balance == eur("1605.00")
    assert statement.balance_gap() == eur("0")
    assert sum(e.is_credit for e in statement.entries) == 5
    assert statement.entries[0].reference == "0010008346912014"
    assert (debit.is_reversal, reversal.is_reversal) == (False, True)
    assert reversal.amount == eur("-30.00")
    assert reversal.return_reason == "MD06"
    assert debit.entry_id != reversal.entry_id
    assert statement.entries[4].return_reason == "AC04"


def test_goldman_sachs_us_sample_has_three_reversals_and_a_euro_wire() -> None:
    statement = read("camt053-goldmansachs-1.xml")

    assert statement.account == "DD01100056869"
    assert statement.currency == "USD"
    assert statement.opening_balance == Money(Decimal("-843686.20"), "USD")
    assert sum(e.is_reversal for e in statement.entries) == 3
    assert sum(e.is_credit for e in statement.entries) == 10
    euro = [e for e in statement.entries if e.amount.currency == "EUR"]
    assert [e.amount for e in euro] == [eur("-29.06")]
    assert euro[0].booking_date == date(2023, 8, 2)


def test_ofx_2_oca_keeps_the_bank_account_and_leaves_out_the_empty_card() -> None:
    statement = read("ofx-oca-1.ofx")
    both = parse_statements(SAMPLES / "ofx-oca-1.ofx")

    assert [s.account for s in both] == ["123456", "123412341234"]
    assert both[1].closing_balance == Money(Decimal("-562.00"), "USD")
    assert statement.account == "123456"
    assert [e.amount.amount for e in statement.entries] == [
        Decimal(-80),
        Decimal(-90),
        Decimal(-100),
        Decimal(-90),
    ]
    assert statement.entries[1].counterparty_name == "China Export"
    assert statement.entries[0].booking_date == date(2013, 8, 24)
    assert statement.closing_balance == Money(Decimal("2156.56"), "USD")


def test_ofx_1_sgml_with_unclosed_leaves() -> None:
    statement = read("ofx-ofxparse-1.ofx")
    fee = statement.entries[2]

    assert statement.account == "1452687~7"
    assert statement.entries[0].amount == Money(Decimal("0.01"), "USD")
    assert fee.amount == Money(Decimal("-25.00"), "USD")
    assert fee.counterparty_name == "RETURNED CHECK FEE, CHECK # 319"
    assert fee.remittance_text.endswith("FOR $45.33 ON 04/07/11")
    assert fee.entry_id.endswith(":0000488")
    assert statement.closing_balance == Money(Decimal("100.99"), "USD")


def test_ofx_2_suncorp_with_crlf_and_cdata() -> None:
    statement = read("ofx-ofxparse-2.ofx")
    (entry,) = statement.entries

    assert statement.currency == "AUD"
    assert entry.amount == Money(Decimal("-16.85"), "AUD")
    assert entry.counterparty_name == "EFTPOS WDL HANDYWAY ALDI STORE"
    assert entry.booking_date == date(2013, 12, 15)


def test_ofx_with_empty_elements_takes_the_currency_from_the_transaction() -> None:
    statement = read("ofx-ofxparse-3.ofx")
    (entry,) = statement.entries

    assert statement.currency == "AUD"
    assert entry.amount == Money(Decimal("12.34"), "AUD")
    assert entry.remittance_text == "CBA:Transfer"
    assert entry.counterparty_name is None
    assert statement.closing_balance is None
    assert "#" in entry.entry_id  # FITID is empty, so the id is a hash


def test_ing_mt940_structured_narrative_and_returns() -> None:
    statement = read("mt940-oca-1.940")
    entries = statement.entries

    assert statement.account == "NL77INGB0574908765"
    assert statement.opening_balance == eur("662.23")
    assert statement.closing_balance == eur("564.35")
    assert statement.balance_gap() == eur("0")
    assert [e.return_reason for e in entries].count("MS03") == 2
    assert entries[0].reference == "EV12341REP1231456T1234"
    assert entries[0].counterparty_name == "ING BANK NV INZAKE WEB"
    assert entries[2].remittance_text == "Factuurnr 123456 Klantnr 00123"
    assert entries[5].remittance_text == "CONTRIBUTIE FEB 2014"
    assert entries[6].reference == "9001123412341234"
    assert entries[6].amount == eur("32.00")
    assert entries[0].entry_id.endswith(":00000000001005")  # wrapped bank ref


def test_rabobank_mt940_four_days_are_joined() -> None:
    statement = read("mt940-oca-2.940")
    parts = parse_statements(SAMPLES / "mt940-oca-2.940")

    assert len(parts) == 4
    assert statement.account == "NL34RABO0142623393"
    assert statement.opening_balance == eur("4433.52")
    assert statement.closing_balance == eur("4798.91")
    assert [e.amount for e in statement.entries] == [eur("400.00"), eur("-34.61")]
    assert statement.entries[0].counterparty_name == "R. SMITH"
    assert statement.entries[1].remittance_text == "Periode 01-10-2013 t/m 31-12-2013"
    assert statement.balance_gap() == eur("0")
