"""Message templates render in the client's language, in a sandbox."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest

from duecourse.adapters.email.render import MessageTemplates
from duecourse.domain.states import Channel
from duecourse.services.ports import DeliveryFailed, OutgoingMessage

EMAILS = [
    "bill",
    "reminder",
    "due_today",
    "overdue",
    "final_notice",
    "suspended",
    "reinstated",
    "payment_received",
]
LANGUAGES = ["en", "pt_BR", "es"]
LINK = "https://pay.example/portal/abc"
NBSP = "\xa0"  # CLDR keeps a currency symbol and its amount on one line
DASH = "\u2013"  # between the first and last day of a period
TOTAL = {"en": "R$1,260.42", "pt_BR": f"R${NBSP}1.260,42", "es": f"1.260,42{NBSP}BRL"}
DUE = {
    "en": "November 30, 2026",
    "pt_BR": "30 de novembro de 2026",
    "es": "30 de noviembre de 2026",
}


def overdue_context() -> dict[str, Any]:
    return {
        "client": {"name": "Acme Ltda", "external_id": "C-001"},
        "contact_name": "Maria",
        "stage": "overdue_3",
        "currency": "BRL",
        "as_of": "2026-12-03",
        "invoices": [
            {
                "number": "INV-1",
                "amount": "1234.50",
                "balance": "1234.50",
                "issue_date": "2026-11-01",
                "due_date": "2026-11-30",
                "days_late": 3,
                "penalty": {
                    "late_fee": "24.69",
                    "interest": "1.23",
                    "total": "25.92",
                    "owed": True,
                },
            }
        ],
        "total_balance": "1234.50",
        "total_penalty": "25.92",
        "total_due": "1260.42",
        "penalty_terms": {
            "description": "2% late fee and 1% a month interest, pro rata"
        },
        "payment_link": LINK,
        "link_expires_on": "2027-01-02",
    }


def bill_context() -> dict[str, Any]:
    """Before the due date: nothing late, no penalty, though the terms exist."""
    context = overdue_context()
    context.update(stage="bill", as_of="2026-11-20", contact_name="")
    context["invoices"][0].update(days_late=0, penalty=None)
    context.update(total_penalty="0", total_due="1234.50")
    return context


def email(name: str, language: str, context: dict[str, Any]) -> OutgoingMessage:
    return OutgoingMessage(
        id="m-1",
        channel=Channel.EMAIL,
        template=name,
        language=language,
        recipients=("maria@acme.example",),
        context=context,
    )


@pytest.fixture(scope="module")
def templates() -> MessageTemplates:
    return MessageTemplates()


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", EMAILS)
def test_every_email_states_amount_due_date_link_and_penalty(
    templates: MessageTemplates, name: str, language: str
) -> None:
    rendered = templates.render_email(email(name, language, overdue_context()))

    assert rendered.subject and "\n" not in rendered.subject
    for body in (rendered.text, rendered.html):
        assert TOTAL[language] in body
        assert DUE[language] in body
        assert LINK in body
        assert "2% late fee and 1% a month interest" in body
    assert "<html" in rendered.html and "<html" not in rendered.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_subject_states_the_amount_and_due_date_in_the_client_s_way(
    templates: MessageTemplates, language: str
) -> None:
    rendered = templates.render_email(email("overdue", language, overdue_context()))

    assert TOTAL[language] in rendered.subject
    assert DUE[language] in rendered.subject


def test_brazilian_portuguese_reads_real_and_long_dates(
    templates: MessageTemplates,
) -> None:
    rendered = templates.render_email(email("overdue", "pt_BR", overdue_context()))

    assert f"R${NBSP}1.234,50" in rendered.text
    assert f"R${NBSP}24,69" in rendered.text
    assert "Olá, Maria," in rendered.text
    assert "2 de janeiro de 2027" in rendered.text


def test_euros_follow_the_locale(templates: MessageTemplates) -> None:
    context = overdue_context()
    context["currency"] = "EUR"

    english = templates.render_email(email("overdue", "en", context))
    spanish = templates.render_email(email("overdue", "es", context))

    assert "€1,234.50" in english.text
    assert f"1.234,50{NBSP}€" in spanish.text


def test_penalties_are_stated_only_when_owed_under_the_contract(
    templates: MessageTemplates,
) -> None:
    without_charge = templates.render_email(email("bill", "en", bill_context()))
    no_terms = overdue_context()
    no_terms["penalty_terms"] = None
    without_terms = templates.render_email(email("overdue", "en", no_terms))

    for rendered in (without_charge, without_terms):
        for body in (rendered.text, rendered.html):
            assert "late fee" not in body.lower()
            assert "late payment" not in body.lower()
            assert "Total to pay" in body
            assert LINK in body


def test_an_unknown_contact_is_greeted_politely(templates: MessageTemplates) -> None:
    rendered = templates.render_email(email("bill", "es", bill_context()))

    assert rendered.text.startswith("Hola,\n")


def test_html_escapes_what_the_client_record_holds(
    templates: MessageTemplates,
) -> None:
    context = overdue_context()
    context["client"]["name"] = "<script>alert(1)</script> & Co"

    rendered = templates.render_email(email("overdue", "en", context))

    assert "<script>" not in rendered.html
    assert "&lt;script&gt;" in rendered.html
    assert "<script>alert(1)</script> & Co" in rendered.text


def test_optional_details_appear_when_given(templates: MessageTemplates) -> None:
    context = overdue_context()
    context["suspend_on"] = "2026-12-10"
    context["payment"] = {"amount": "500.00", "received_on": "2026-12-02"}

    notice = templates.render_email(email("final_notice", "pt_BR", context))
    receipt = templates.render_email(email("payment_received", "en", context))

    assert "10 de dezembro de 2026" in notice.text
    assert "R$500.00 on\nDecember 2, 2026" in receipt.text


def test_nothing_left_to_pay_is_said_plainly(templates: MessageTemplates) -> None:
    context = bill_context()
    context["invoices"][0]["balance"] = "0.00"
    context.update(total_balance="0", total_due="0")

    rendered = templates.render_email(email("payment_received", "en", context))

    assert "Nothing is left to pay." in rendered.text
    assert "See your account" in rendered.html


def test_rendering_leaves_the_stored_context_untouched(
    templates: MessageTemplates,
) -> None:
    context = overdue_context()
    before = copy.deepcopy(context)

    templates.render_email(email("overdue", "es", context))

    assert context == before


@pytest.mark.parametrize("language", LANGUAGES)
def test_call_script_offers_the_ways_to_settle(
    templates: MessageTemplates, language: str
) -> None:
    script = templates.render_text(
        Channel.CALL, "overdue_call", language, overdue_context()
    )

    assert "Maria" in script
    assert LINK in script
    assert "INV-1" in script
    assert TOTAL[language] in script
    assert any(week in script for week in ("10 de dez", "December 10", "10 de dic"))


def test_call_script_asks_for_someone_when_no_contact_is_known(
    templates: MessageTemplates,
) -> None:
    context = overdue_context()
    context["contact_name"] = ""

    script = templates.render_text(Channel.CALL, "overdue_call", "en", context)

    assert "payments for Acme Ltda" in script


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", ["pending_payment", "overdue_payment"])
def test_notices_are_one_sentence_with_amount_and_link(
    templates: MessageTemplates, name: str, language: str
) -> None:
    notice = templates.render_text(Channel.NOTICE, name, language, overdue_context())

    assert notice.count("\n") == 1
    assert TOTAL[language] in notice
    assert notice.rstrip().endswith(LINK)


def test_exists_knows_each_channel(templates: MessageTemplates) -> None:
    assert templates.exists(Channel.EMAIL, "overdue")
    assert templates.exists(Channel.CALL, "overdue_call")
    assert templates.exists(Channel.NOTICE, "pending_payment")
    assert templates.exists(Channel.WEBHOOK, "suspend")
    assert not templates.exists(Channel.EMAIL, "overdue_call")
    assert not templates.exists(Channel.CALL, "overdue")
    assert not templates.exists(Channel.EMAIL, "_email")
    assert not templates.exists(Channel.EMAIL, "../en/bill")


@pytest.mark.parametrize(
    ("language", "greeting"),
    [
        ("pt-BR", "Olá"),
        ("pt_PT", "Hello"),
        ("es_MX", "Hola"),
        ("de", "Hello"),
        ("", "Hello"),
        ("not a language", "Hello"),
        ("../../etc", "Hello"),
    ],
)
def test_languages_fall_back_to_the_base_then_english(
    templates: MessageTemplates, language: str, greeting: str
) -> None:
    rendered = templates.render_email(email("reminder", language, overdue_context()))

    assert rendered.text.startswith(greeting)


def test_english_fallback_keeps_english_dates(templates: MessageTemplates) -> None:
    german = templates.render_email(email("overdue", "de", overdue_context()))
    british = templates.render_email(email("overdue", "en_GB", overdue_context()))

    assert "November 30, 2026" in german.text
    assert "30 November 2026" in british.text


def test_a_missing_template_fails_permanently(templates: MessageTemplates) -> None:
    with pytest.raises(DeliveryFailed) as failure:
        templates.render_email(email("welcome", "en", overdue_context()))

    assert failure.value.permanent
    assert "welcome" in failure.value.reason


def test_a_missing_value_fails_permanently(templates: MessageTemplates) -> None:
    context = overdue_context()
    del context["payment_link"]

    with pytest.raises(DeliveryFailed) as failure:
        templates.render_email(email("overdue", "en", context))

    assert failure.value.permanent
    assert "payment_link" in failure.value.reason


def write(folder: Path, path: str, text: str) -> None:
    target = folder / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def test_an_override_is_used_before_the_shipped_template(tmp_path: Path) -> None:
    write(tmp_path, "pt_BR/overdue.subject.txt", "Lembrete de {{ client.name }}")
    templates = MessageTemplates(overrides=tmp_path)

    rendered = templates.render_email(email("overdue", "pt_BR", overdue_context()))
    english = templates.render_email(email("overdue", "en", overdue_context()))

    assert rendered.subject == "Lembrete de Acme Ltda"
    assert "Fatura INV-1" in rendered.text
    assert english.subject.startswith("Payment overdue")


def test_an_override_may_add_a_template(tmp_path: Path) -> None:
    write(tmp_path, "en/call/welcome_call.txt", "Welcome {{ client.name }}")
    templates = MessageTemplates(overrides=tmp_path)

    assert templates.exists(Channel.CALL, "welcome_call")
    context = {"client": {"name": "Acme Ltda"}}
    script = templates.render_text(Channel.CALL, "welcome_call", "es", context)
    assert script == "Welcome Acme Ltda\n"


@pytest.mark.parametrize(
    "attack",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ client.__class__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ invoices.append(1) }}",
        "{{ 'x' * 100000000 }}",
        "{{ 9 ** 999999 }}",
    ],
)
def test_the_sandbox_refuses_unsafe_templates(tmp_path: Path, attack: str) -> None:
    write(tmp_path, "en/notice/pending_payment.txt", attack)
    templates = MessageTemplates(overrides=tmp_path)

    with pytest.raises(DeliveryFailed) as failure:
        templates.render_text(
            Channel.NOTICE, "pending_payment", "en", overdue_context()
        )

    assert failure.value.permanent
    assert "en/notice/pending_payment.txt" in failure.value.reason


def test_a_broken_override_names_the_template(tmp_path: Path) -> None:
    write(tmp_path, "es/bill.html", "{% if %}")
    templates = MessageTemplates(overrides=tmp_path)

    with pytest.raises(DeliveryFailed) as failure:
        templates.render_email(email("bill", "es", bill_context()))

    assert failure.value.permanent
    assert "es/bill.html" in failure.value.reason


def test_amounts_must_not_be_floats(templates: MessageTemplates) -> None:
    context = overdue_context()
    context["total_due"] = 1260.42

    with pytest.raises(DeliveryFailed) as failure:
        templates.render_email(email("overdue", "en", context))

    assert failure.value.permanent


def structured_terms(**changes: Any) -> dict[str, Any]:
    """Penalty terms as the run stores them, so each language words them."""
    terms = {
        "preset": "br-civil",
        "grace_days": 0,
        "late_fee_percent": "2.00",
        "interest_percent": "1",
        "interest_basis": "monthly",
        "interest_follows_reference": False,
        "mode": "charged",
        "description": "2% late fee and interest of 1% a month, pro rata",
    }
    return terms | changes


@pytest.mark.parametrize(
    ("language", "worded"),
    [
        ("en", "a late fee of 2% and interest of 1% a month, pro rata"),
        ("pt_BR", "multa de 2% e juros de 1% ao mês, pro rata"),
        ("es", f"un recargo del 2{NBSP}% e intereses del 1{NBSP}% mensual"),
    ],
)
def test_structured_penalty_terms_are_worded_in_the_client_s_language(
    templates: MessageTemplates, language: str, worded: str
) -> None:
    context = overdue_context()
    context["penalty_terms"] = structured_terms()

    rendered = templates.render_email(email("overdue", language, context))
    script = templates.render_text(Channel.CALL, "overdue_call", language, context)

    assert worded in rendered.text and worded in rendered.html and worded in script


def test_disclosed_and_waived_terms_say_so(templates: MessageTemplates) -> None:
    disclosed = overdue_context()
    disclosed["penalty_terms"] = structured_terms(mode="disclosed")
    waived = overdue_context()
    waived["penalty_terms"] = structured_terms(mode="waived-in-grace", grace_days=5)

    told = templates.render_email(email("overdue", "pt_BR", disclosed))
    forgiven = templates.render_email(email("overdue", "en", waived))

    assert "(informados, não cobrados)" in told.text
    assert "waived when paid within 5 days of the due date" in forgiven.text


def contract_context(**invoice: Any) -> dict[str, Any]:
    """An invoice issued from a contract's billing period, as the run stores it."""
    context = bill_context()
    context["invoices"][0].update(
        period_start="2026-12-01", period_end="2026-12-31", discount_percent="10"
    )
    context["invoices"][0].update(invoice)
    context["offer"] = None
    return context


def flat(body: str) -> str:
    """The body with line breaks and HTML emphasis out of the way."""
    for tag in ("<strong>", "</strong>"):
        body = body.replace(tag, "")
    return re.sub(r"[ \n]+", " ", body)


PERIOD = {
    "en": f"December 1, 2026 {DASH} December 31, 2026",
    "pt_BR": f"1 de dezembro de 2026 {DASH} 31 de dezembro de 2026",
    "es": f"1 de diciembre de 2026 {DASH} 31 de diciembre de 2026",
}
PERIOD_LABEL = {"en": "Period:", "pt_BR": "Período:", "es": "Periodo:"}
DISCOUNT = {
    "en": "(prepay discount: 10%)",
    "pt_BR": "(desconto por pagamento antecipado: 10%)",
    "es": f"(descuento por pago anticipado: 10{NBSP}%)",
}
AMOUNT = {"en": "R$1,234.50", "pt_BR": f"R${NBSP}1.234,50", "es": f"1.234,50{NBSP}BRL"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_contract_invoice_states_its_period_and_prepay_discount(
    templates: MessageTemplates, language: str
) -> None:
    rendered = templates.render_email(email("bill", language, contract_context()))

    for body in (rendered.text, rendered.html):
        assert f"{PERIOD_LABEL[language]} {PERIOD[language]}" in flat(body)
        assert f"{AMOUNT[language]} {DISCOUNT[language]}" in body


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    "invoice",
    [
        {"period_start": None, "period_end": None, "discount_percent": None},
        {"period_start": None, "period_end": None, "discount_percent": "0"},
        {"period_start": None, "period_end": None, "discount_percent": "0.00"},
    ],
)
def test_period_and_discount_are_left_out_when_absent(
    templates: MessageTemplates, language: str, invoice: dict[str, Any]
) -> None:
    rendered = templates.render_email(
        email("bill", language, contract_context(**invoice))
    )

    for body in (rendered.text, rendered.html):
        assert PERIOD_LABEL[language] not in body
        assert DISCOUNT[language].split(":")[0] not in body
        assert AMOUNT[language] in body


@pytest.mark.parametrize("language", LANGUAGES)
def test_snapshots_older_than_contracts_still_render(
    templates: MessageTemplates, language: str
) -> None:
    """Contexts stored before periods and offers existed lack the keys."""
    rendered = templates.render_email(email("bill", language, bill_context()))

    for body in (rendered.text, rendered.html):
        assert PERIOD_LABEL[language] not in body
        assert DISCOUNT[language].split(":")[0] not in body


def test_a_period_without_an_end_shows_its_start(
    templates: MessageTemplates,
) -> None:
    rendered = templates.render_email(
        email("bill", "en", contract_context(period_end=None))
    )

    assert "Period:     December 1, 2026\n" in rendered.text
    assert "Period: December 1, 2026<br>" in rendered.html


OFFER = {"months": 12, "discount_percent": "10", "amount": "1080.00"}
SAVING = {
    "en": "R$120.00 a year",
    "pt_BR": f"R${NBSP}120,00 por ano",
    "es": f"120,00{NBSP}BRL al año",
}
OFFER_OPENS = {
    "en": "Fewer payments mean fewer due dates",
    "pt_BR": "Menos pagamentos, menos datas",
    "es": "Menos pagos, menos fechas",
}
OFFER_REPLY = {
    "en": "we will switch your plan",
    "pt_BR": "mudamos o seu plano",
    "es": "cambiaremos su plan",
}


def offer_context(**offer: Any) -> dict[str, Any]:
    context = contract_context()
    context["offer"] = OFFER | {"saving": "120.00", "currency": "BRL"} | offer
    return context


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", EMAILS)
def test_every_email_carrying_an_offer_words_it_with_the_saving(
    templates: MessageTemplates, name: str, language: str
) -> None:
    rendered = templates.render_email(email(name, language, offer_context()))

    for body in (rendered.text, rendered.html):
        assert flat(body).count(OFFER_OPENS[language]) == 1
        assert SAVING[language] in flat(body)
        assert OFFER_REPLY[language] in flat(body)


@pytest.mark.parametrize(
    ("language", "saving"),
    [
        ("en", "R$60.00 every 6 months"),
        ("pt_BR", f"R${NBSP}60,00 a cada 6 meses"),
        ("es", f"60,00{NBSP}BRL cada 6 meses"),
    ],
)
def test_a_shorter_offer_says_how_often_it_saves(
    templates: MessageTemplates, language: str, saving: str
) -> None:
    context = offer_context(months=6, discount_percent="5", saving="60.00")

    rendered = templates.render_email(email("reminder", language, context))

    assert saving in flat(rendered.text) and saving in flat(rendered.html)


def test_the_saving_is_in_the_offer_s_currency_and_locale(
    templates: MessageTemplates,
) -> None:
    context = offer_context(saving="1234.50", currency="EUR")

    spanish = templates.render_email(email("overdue", "es", context))

    assert f"1.234,50{NBSP}€ al año" in flat(spanish.text)


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_offer_without_a_discount_promises_no_saving(
    templates: MessageTemplates, language: str
) -> None:
    context = offer_context(discount_percent="0", saving="0.00")

    rendered = templates.render_email(email("reminder", language, context))

    for body in (rendered.text, rendered.html):
        assert OFFER_OPENS[language] in flat(body)
        assert "0,00" not in body and "0.00" not in body


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("context", [contract_context, bill_context, overdue_context])
def test_no_offer_is_made_when_the_context_has_none(
    templates: MessageTemplates, language: str, context: Any
) -> None:
    rendered = templates.render_email(email("reminder", language, context()))

    for body in (rendered.text, rendered.html):
        assert OFFER_OPENS[language] not in flat(body)
        assert OFFER_REPLY[language] not in flat(body)


def test_the_offer_is_escaped_in_html(templates: MessageTemplates) -> None:
    context = offer_context(months="<b>12</b>")

    rendered = templates.render_email(email("bill", "en", context))

    assert "<b>12</b>" not in rendered.html
    assert "&lt;b&gt;12&lt;/b&gt;" in rendered.html


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_payment_page_that_does_not_expire_gets_no_expiry_sentence(
    templates: MessageTemplates, language: str
) -> None:
    expiring = templates.render_email(email("overdue", language, overdue_context()))
    context = overdue_context()
    context["link_expires_on"] = None
    lasting = templates.render_email(email("overdue", language, context))

    for part in ("text", "html"):
        with_expiry = getattr(expiring, part)
        without = getattr(lasting, part)
        assert LINK in without
        assert "2027" in with_expiry
        assert "2027" not in without
