"""A client's statement as a PDF: open charges, paid invoices, payments.

The words and the formatting of amounts and dates come from the caller, in
the client's language. The PDF uses the core Helvetica font, whose
Windows-1252 encoding covers the shipped languages (accents, `ç`, `ñ`, `€`);
a character outside it prints as `?` rather than failing the download.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal

from fpdf import FPDF

from duecourse.services.account import Account

FormatMoney = Callable[[Decimal, str], str]
FormatDay = Callable[[date], str]

_ENCODING = "windows-1252"
_WIDTH = 180


def statement_pdf(
    account: Account,
    words: Mapping[str, str],
    money: FormatMoney,
    day: FormatDay,
) -> bytes:
    """The statement; `words` holds the labels the portal page uses."""
    pdf = FPDF(format="A4")
    pdf.core_fonts_encoding = _ENCODING
    pdf.set_title(_text(f"{words['statement']} {account.client.name}"))
    pdf.add_page()

    pdf.set_font("helvetica", "B", 16)
    pdf.cell(_WIDTH, 10, _text(words["statement"]), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 11)
    lines = (account.client.name, f"{words['as_of']} {day(account.as_of)}")
    for line in lines:
        pdf.cell(_WIDTH, 6, _text(line), new_x="LMARGIN", new_y="NEXT")

    _table(
        pdf,
        words["open_charges"],
        (
            words["invoice"],
            words["due_date"],
            words["balance"],
            words["penalty"],
            words["total_due"],
        ),
        [
            (
                c.invoice.number,
                day(c.invoice.due_date),
                money(c.invoice.balance, c.invoice.currency),
                money(c.penalty, c.invoice.currency),
                money(c.total_due, c.invoice.currency),
            )
            for c in account.charges
        ],
        words["nothing_open"],
    )
    totals = ", ".join(money(m.amount, m.currency) for m in account.totals)
    if totals:
        pdf.set_font("helvetica", "B", 11)
        pdf.cell(_WIDTH, 8, _text(f"{words['total_due']}: {totals}"))
        pdf.ln(8)
    _table(
        pdf,
        words["paid_invoices"],
        (words["invoice"], words["due_date"], words["amount"]),
        [
            (i.number, day(i.due_date), money(i.amount, i.currency))
            for i in account.paid
        ],
        words["nothing_paid"],
    )
    _table(
        pdf,
        words["payments"],
        (words["received_on"], words["reference"], words["amount"], words["invoice"]),
        [
            (
                day(p.received_on),
                p.reference,
                money(p.amount, p.currency),
                ", ".join(p.invoices),
            )
            for p in account.payments
        ],
        words["nothing_paid"],
    )
    return bytes(pdf.output())


def _table(
    pdf: FPDF,
    title: str,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    empty: str,
) -> None:
    pdf.ln(4)
    pdf.set_font("helvetica", "B", 13)
    pdf.cell(_WIDTH, 9, _text(title), new_x="LMARGIN", new_y="NEXT")
    if not rows:
        pdf.set_font("helvetica", "", 10)
        pdf.cell(_WIDTH, 6, _text(empty), new_x="LMARGIN", new_y="NEXT")
        return

    width = _WIDTH / len(header)
    pdf.set_font("helvetica", "B", 10)
    for cell in header:
        pdf.cell(width, 7, _text(cell), border="B")
    pdf.ln(7)
    pdf.set_font("helvetica", "", 10)
    for row in rows:
        for cell in row:
            pdf.cell(width, 6, _text(cell))
        pdf.ln(6)


def _text(value: str) -> str:
    """Only what the core font can print; narrow spaces become plain ones."""
    value = value.replace("\u202f", "\u00a0")
    return value.encode(_ENCODING, errors="replace").decode(_ENCODING)
