"""The portal's words in each shipped language, and amounts and dates in its locale.

A client whose language is not here reads English, with English formatting,
so that words and numbers agree (as in the message templates).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency

from duecourse.domain.money import Money

FALLBACK = "en"

WORDS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "title": "Your account",
        "hello": "Account of",
        "statement": "Statement",
        "as_of": "As of",
        "open_charges": "Open charges",
        "invoice": "Invoice",
        "due_date": "Due date",
        "amount": "Amount",
        "balance": "Balance",
        "penalty": "Late fee and interest",
        "total_due": "Total due today",
        "days_late": "days late",
        "nothing_open": "Nothing is open. Thank you!",
        "paid_invoices": "Paid invoices",
        "nothing_paid": "Nothing yet.",
        "payments": "Payments received",
        "received_on": "Received on",
        "reference": "Reference",
        "how_to_pay": "How to pay",
        "pay_now": "Pay now",
        "see_account": "See your account",
        "dismiss": "Dismiss",
        "bank_transfer": "By bank transfer",
        "no_payment_method": "Reply to our message and we will tell you how to pay.",
        "download": "Download the statement (PDF)",
        "link_note": "This page was opened by a private link. Do not share it.",
        "link_refused": "This link cannot be opened",
        "link_altered": "The link is incomplete or was changed. Use the link in "
        "our latest message.",
        "link_expired": "The link has expired. Use the link in our latest "
        "message, or reply to it to receive a new one.",
    },
    "pt_BR": {
        "title": "Sua conta",
        "hello": "Conta de",
        "statement": "Extrato",
        "as_of": "Em",
        "open_charges": "Cobranças em aberto",
        "invoice": "Fatura",
        "due_date": "Vencimento",
        "amount": "Valor",
        "balance": "Saldo",
        "penalty": "Multa e juros",
        "total_due": "Total devido hoje",
        "days_late": "dias de atraso",
        "nothing_open": "Nada em aberto. Obrigado!",
        "paid_invoices": "Faturas pagas",
        "nothing_paid": "Nada ainda.",
        "payments": "Pagamentos recebidos",
        "received_on": "Recebido em",
        "reference": "Referência",
        "how_to_pay": "Como pagar",
        "pay_now": "Pagar agora",
        "see_account": "Ver sua conta",
        "dismiss": "Fechar",
        "bank_transfer": "Por transferência bancária",
        "no_payment_method": "Responda à nossa mensagem e diremos como pagar.",
        "download": "Baixar o extrato (PDF)",
        "link_note": "Esta página foi aberta por um link privado. Não o compartilhe.",
        "link_refused": "Este link não pode ser aberto",
        "link_altered": "O link está incompleto ou foi alterado. Use o link da "
        "nossa mensagem mais recente.",
        "link_expired": "O link expirou. Use o link da nossa mensagem mais "
        "recente, ou responda a ela para receber um novo.",
    },
    "es": {
        "title": "Su cuenta",
        "hello": "Cuenta de",
        "statement": "Estado de cuenta",
        "as_of": "Al",
        "open_charges": "Cargos pendientes",
        "invoice": "Factura",
        "due_date": "Vencimiento",
        "amount": "Importe",
        "balance": "Saldo",
        "penalty": "Recargo e intereses",
        "total_due": "Total a pagar hoy",
        "days_late": "días de atraso",
        "nothing_open": "No hay nada pendiente. ¡Gracias!",
        "paid_invoices": "Facturas pagadas",
        "nothing_paid": "Nada todavía.",
        "payments": "Pagos recibidos",
        "received_on": "Recibido el",
        "reference": "Referencia",
        "how_to_pay": "Cómo pagar",
        "pay_now": "Pagar ahora",
        "see_account": "Ver su cuenta",
        "dismiss": "Cerrar",
        "bank_transfer": "Por transferencia bancaria",
        "no_payment_method": "Responda a nuestro mensaje y le diremos cómo pagar.",
        "download": "Descargar el estado de cuenta (PDF)",
        "link_note": "Esta página se abrió con un enlace privado. No lo comparta.",
        "link_refused": "Este enlace no se puede abrir",
        "link_altered": "El enlace está incompleto o fue modificado. Use el "
        "enlace de nuestro último mensaje.",
        "link_expired": "El enlace caducó. Use el enlace de nuestro último "
        "mensaje, o respóndalo para recibir uno nuevo.",
    },
}


@dataclass(frozen=True)
class Speaker:
    """Words and formats for one language; `lang` is the page's `lang` value."""

    language: str
    locale: Locale
    words: Mapping[str, str]

    @property
    def lang(self) -> str:
        return self.language.replace("_", "-")

    def money(self, amount: Decimal, currency: str) -> str:
        rounded = Money(amount, currency).rounded().amount
        return str(format_currency(rounded, currency, locale=self.locale))

    def day(self, value: date) -> str:
        return str(format_date(value, "medium", locale=self.locale))


def speaker_for(language: str) -> Speaker:
    """`pt_BR` speaks pt_BR; `pt` or `pt_PT` fall back to pt_BR's words
    formatted in their own locale; anything else speaks English."""
    try:
        locale = Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return _speaker(FALLBACK, Locale.parse(FALLBACK))
    if str(locale) in WORDS:
        return _speaker(str(locale), locale)
    for name in WORDS:
        if name.split("_")[0] == locale.language:
            return _speaker(name, locale)
    return _speaker(FALLBACK, Locale.parse(FALLBACK))


def speaker_from_header(accept_language: str | None) -> Speaker:
    """The best shipped language for a browser's Accept-Language header."""
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip()
        if tag and tag != "*":
            speaker = speaker_for(tag)
            if speaker.language != FALLBACK or tag.lower().startswith("en"):
                return speaker
    return speaker_for(FALLBACK)


def _speaker(name: str, locale: Locale) -> Speaker:
    return Speaker(name, locale, WORDS[name])
