"""Matching statement entries to invoices: reference, then client and amount."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from duecourse.domain.matching import (
    ClientIdentity,
    EarlierCredit,
    MatchOutcome,
    OpenInvoice,
    creditor_reference_body,
    find_reversed,
    match_entry,
    numbers_in,
)
from duecourse.domain.money import Money
from duecourse.domain.statements import StatementEntry

DAY = date(2026, 3, 20)
BY_REFERENCE = MatchOutcome.MATCHED_BY_REFERENCE
BY_CLIENT = MatchOutcome.MATCHED_BY_CLIENT_AND_AMOUNT


def entry(
    amount: str = "100.00",
    reference: str | None = None,
    text: str = "",
    payer: str | None = None,
    currency: str = "EUR",
    is_reversal: bool = False,
    return_reason: str | None = None,
) -> StatementEntry:
    return StatementEntry(
        entry_id=f"acct:{DAY}:{reference}:{amount}",
        account_id="acct",
        booking_date=DAY,
        value_date=None,
        amount=Money(Decimal(amount), currency),
        reference=reference,
        remittance_text=text,
        counterparty_name=payer,
        is_reversal=is_reversal,
        return_reason=return_reason,
    )


def invoice(
    number: str,
    client: str = "acme",
    balance: str = "100.00",
    due: date = date(2026, 3, 1),
    currency: str = "EUR",
) -> OpenInvoice:
    return OpenInvoice(number, client, Decimal(balance), currency, due)


ACME = ClientIdentity("acme", "Acme Ltda", frozenset({"ACME TREASURY"}))
GLOBEX = ClientIdentity("globex-77", "Globex SA")
CLIENTS = [ACME, GLOBEX]


@pytest.mark.parametrize(
    ("reference", "text"),
    [
        ("INV-12", ""),
        ("inv 12", ""),
        ("INV12", ""),
        (None, "Payment of invoice INV-12, thanks"),
        (None, "inv-12/march"),
        ("E2E-99", "ref: Inv 12."),
        ("RF89INV12", ""),
        ("RF89 INV1 2", ""),
    ],
)
def test_an_invoice_number_is_found_however_it_is_written(
    reference: str | None, text: str
) -> None:
    invoices = [invoice("INV-1"), invoice("INV-12"), invoice("INV-123")]

    match = match_entry(entry(reference=reference, text=text), invoices, CLIENTS)

    assert (match.outcome, match.invoices) == (BY_REFERENCE, ("INV-12",))
    assert match.client == "acme"


@pytest.mark.parametrize(
    "text",
    ["INV-12", "INV-120", "XINV-1", "INV-1A", "INV-10", "2INV-1", "INV-1.5"],
)
def test_a_number_is_never_found_inside_a_longer_one(text: str) -> None:
    assert numbers_in(text, ["INV-1"]) == set()


def test_a_longer_number_is_not_made_of_two_words() -> None:
    assert numbers_in("INV-1 2", ["INV-12"]) == set()


def test_several_numbers_name_several_invoices_oldest_first() -> None:
    invoices = [
        invoice("INV-7", due=date(2026, 3, 5)),
        invoice("INV-3", due=date(2026, 2, 5)),
        invoice("INV-9", due=date(2026, 4, 5)),
    ]

    match = match_entry(entry("200", text="INV-7 and INV-3"), invoices, CLIENTS)

    assert match.invoices == ("INV-3", "INV-7")


def test_a_whole_reference_naming_an_invoice_beats_the_text() -> None:
    invoices = [invoice("2026-0042"), invoice("INV-5")]

    match = match_entry(
        entry(reference="2026 0042", text="old INV-5"), invoices, CLIENTS
    )

    assert match.invoices == ("2026-0042",)


def test_short_numeric_invoice_numbers_are_not_read_from_free_text() -> None:
    invoices = [invoice("12")]

    by_text = match_entry(entry(text="12.50 paid on 12/03"), invoices, [])
    by_reference = match_entry(entry(reference="12"), invoices, [])

    assert by_text.outcome is MatchOutcome.UNMATCHED
    assert by_reference.outcome is BY_REFERENCE


def test_a_creditor_reference_is_checked_before_its_body_is_used() -> None:
    assert creditor_reference_body("RF18 5390 0754 7034") == "539007547034"
    assert creditor_reference_body("RF19 5390 0754 7034") is None
    assert creditor_reference_body("INV-12") is None


def test_invoices_of_two_clients_in_one_reference_wait_for_a_person() -> None:
    invoices = [invoice("INV-1"), invoice("INV-2", client="globex-77")]

    match = match_entry(entry(text="INV-1 INV-2"), invoices, CLIENTS)

    assert match.outcome is MatchOutcome.UNMATCHED
    assert "several clients" in match.reason


def test_an_invoice_in_another_currency_is_not_paid_by_the_entry() -> None:
    invoices = [invoice("INV-1", currency="BRL")]

    match = match_entry(entry(reference="INV-1"), invoices, CLIENTS)

    assert match.outcome is MatchOutcome.UNMATCHED
    assert "billed in BRL" in match.reason


def test_a_known_payer_with_one_open_invoice_pays_it_whatever_the_amount() -> None:
    invoices = [invoice("A-1", balance="300")]

    match = match_entry(entry("120", payer="Acme Treasury"), invoices, CLIENTS)

    assert (match.outcome, match.invoices, match.client) == (
        BY_CLIENT,
        ("A-1",),
        "acme",
    )


def test_the_oldest_invoices_adding_up_to_the_amount_are_paid() -> None:
    invoices = [
        invoice("A-2", balance="50", due=date(2026, 2, 1)),
        invoice("A-1", balance="100", due=date(2026, 1, 1)),
        invoice("A-3", balance="70", due=date(2026, 3, 1)),
    ]

    match = match_entry(entry("150", payer="ACME TREASURY"), invoices, CLIENTS)

    assert match.invoices == ("A-1", "A-2")


def test_the_one_invoice_with_exactly_the_amount_is_paid() -> None:
    invoices = [invoice("A-1", balance="100"), invoice("A-2", balance="250")]

    match = match_entry(entry("250", payer="Acme Ltda."), invoices, CLIENTS)

    assert (match.outcome, match.invoices) == (BY_CLIENT, ("A-2",))


def test_an_amount_that_fits_nothing_waits_for_a_person() -> None:
    invoices = [invoice("A-1", balance="100"), invoice("A-2", balance="250")]

    match = match_entry(entry("99", payer="Acme Ltda"), invoices, CLIENTS)

    assert match.outcome is MatchOutcome.UNMATCHED
    assert "none of its 2 open invoice(s)" in match.reason


def test_the_external_id_in_the_text_identifies_the_client() -> None:
    invoices = [invoice("G-1", client="globex-77", balance="40")]

    match = match_entry(entry("40", text="customer GLOBEX 77"), invoices, CLIENTS)

    assert (match.outcome, match.client) == (BY_CLIENT, "globex-77")


def test_a_payer_known_to_two_clients_identifies_none() -> None:
    shared = [
        ClientIdentity("a", "A", frozenset({"STRIPE"})),
        ClientIdentity("b", "B", frozenset({"STRIPE"})),
    ]
    invoices = [invoice("A-1", client="a"), invoice("B-1", client="b")]

    match = match_entry(entry(payer="Stripe"), invoices, shared)

    assert match.outcome is MatchOutcome.UNMATCHED
    assert "several clients" in match.reason


def test_an_unknown_payer_without_a_number_waits_for_a_person() -> None:
    match = match_entry(entry(payer="Someone"), [invoice("A-1")], CLIENTS)

    assert match.outcome is MatchOutcome.UNMATCHED
    assert match.reason == "no invoice number and no known payer"


@pytest.mark.parametrize(
    ("amount", "is_reversal", "reason", "why"),
    [
        ("-25.00", False, None, "a debit"),
        ("0", False, None, "zero"),
        ("125.00", False, "AC04", "returned (AC04)"),
        ("10.00", True, None, "money of ours returned"),
    ],
)
def test_debits_and_money_of_ours_coming_back_are_not_payments(
    amount: str, is_reversal: bool, reason: str | None, why: str
) -> None:
    match = match_entry(
        entry(amount, reference="INV-1", is_reversal=is_reversal, return_reason=reason),
        [invoice("INV-1")],
        CLIENTS,
    )

    assert match.outcome is MatchOutcome.NOT_A_PAYMENT
    assert why in match.reason


def credit(
    entry_id: str, reference: str | None, payer: str | None, payment: int | None
) -> EarlierCredit:
    return EarlierCredit(
        entry_id, "acct", date(2026, 3, 1), Decimal("100.00"), "EUR", reference,
        payer, payment,
    )  # fmt: skip


def test_a_reversal_names_the_credit_and_payment_it_takes_back() -> None:
    earlier = [credit("c1", "INV-1", "Acme", 7), credit("c2", "INV-2", "Acme", 8)]
    reversal = entry("-100.00", reference="INV-1", is_reversal=True)

    match = match_entry(reversal, [invoice("INV-1")], CLIENTS, earlier)

    assert (match.outcome, match.reverses) == (MatchOutcome.REVERSAL, "c1")
    assert "recorded as payment 7: undo that payment" in match.reason


def test_a_returned_direct_debit_is_a_reversal_found_by_payer() -> None:
    earlier = [credit("c1", None, "J. Janssen", 3)]
    returned = entry("-100.00", payer="J.Janssen", return_reason="MD06")

    assert find_reversed(returned, earlier) == earlier[0]
    assert match_entry(returned, [], CLIENTS, earlier).outcome is MatchOutcome.REVERSAL


def test_a_reversal_without_its_credit_still_waits_in_the_queue() -> None:
    earlier = [credit("c1", "INV-1", None, 1), credit("c2", "INV-1", None, 2)]
    reversal = entry("-100.00", reference="INV-1", is_reversal=True)

    match = match_entry(reversal, [], CLIENTS, earlier)

    assert (match.outcome, match.reverses) == (MatchOutcome.REVERSAL, None)
    assert "not found among imported entries" in match.reason


_PREFIX = st.sampled_from(["INV", "A", "FAT", "2026"])
_SEPARATOR = st.sampled_from(["", "-", " ", "/", "_", " - "])


@given(
    prefix=_PREFIX,
    number=st.integers(1, 99_999),
    suffix=st.integers(0, 9),
    separator=_SEPARATOR,
    before=st.text("abc ,.;:", max_size=8),
    after=st.text("xyz ,.;:", max_size=8),
)
def test_a_number_is_found_written_any_way_and_never_one_digit_longer(
    prefix: str, number: int, suffix: int, separator: str, before: str, after: str
) -> None:
    if prefix.isdigit() and separator == "":
        separator = "-"  # digits against digits would be one longer number
    stored = f"{prefix}-{number}"
    longer = f"{prefix}-{number}{suffix}"
    written = f"{before} {prefix.lower()}{separator}{number} {after}"

    assert numbers_in(written, [stored, longer]) == {stored}


@given(
    balances=st.lists(st.decimals("0.01", "9999.99", places=2), min_size=1, max_size=6),
    count=st.integers(1, 6),
)
def test_paying_exactly_the_oldest_invoices_matches_them(
    balances: list[Decimal], count: int
) -> None:
    invoices = [
        invoice(f"A-{n}", balance=str(b), due=date(2026, 1, n + 1))
        for n, b in enumerate(balances)
    ]
    count = min(count, len(balances))
    amount = sum(balances[:count], Decimal(0))

    match = match_entry(entry(str(amount), payer="Acme Ltda"), invoices, CLIENTS)

    assert match.outcome is BY_CLIENT
    paid = sum((i.balance for i in invoices if i.number in match.invoices), Decimal(0))
    assert paid == amount or len(invoices) == 1
