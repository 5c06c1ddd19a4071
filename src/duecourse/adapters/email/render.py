"""Message templates: sandboxed Jinja rendering in the client's language.

Templates live in one folder per language (`en`, `pt_BR`, `es`), with call
scripts under `call/` and in-app notices under `notice/`. An optional override
folder with the same layout is searched first, so users can edit a template
without touching the shipped ones. Users may write templates, so they run in
a sandbox: a template that reaches for Python internals fails permanently
instead of running.

The language of a message is the client's own when a folder has it, then its
base language, then English. Amounts and dates are written the way the
client's locale writes them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_percent
from jinja2 import (
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateNotFound,
    select_autoescape,
)
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from duecourse.domain.errors import DuecourseError
from duecourse.domain.money import Money, parse_amount, parse_currency
from duecourse.domain.states import Channel
from duecourse.services.ports import DeliveryFailed, OutgoingMessage

SHIPPED = Path(__file__).parent / "templates"
FALLBACK_LANGUAGE = "en"

# A template name is a plain word: it becomes part of a file path.
_NAME = re.compile(r"[a-z][a-z0-9_]{0,59}")
_EMAIL_PARTS = ("subject.txt", "txt", "html")
_BREAKS = re.compile(r"[ \t\r\n\v\f\x1c-\x1f\x85\u2028\u2029]+")
_FOLDERS = {Channel.CALL: "call", Channel.NOTICE: "notice"}

# The sandbox already caps range(); these caps stop a template from building
# a huge string or number with `*` or `**` and exhausting the memory.
_MAX_REPEAT = 10_000
_MAX_EXPONENT = 100


@dataclass(frozen=True)
class RenderedEmail:
    """An email ready to send: one-line subject, plain text and HTML bodies."""

    subject: str
    text: str
    html: str


class _Sandbox(ImmutableSandboxedEnvironment):
    """The sandbox, also refusing operators that would exhaust memory.

    Immutable: a template cannot change the context it is given, which is the
    snapshot the run stored.
    """

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            if isinstance(right, int) and abs(right) > _MAX_EXPONENT:
                raise SecurityError(f"the exponent {right} is too large")
            return left**right
        for count, other in ((left, right), (right, left)):
            repeats = isinstance(count, int) and isinstance(other, str | list | tuple)
            if repeats and count > _MAX_REPEAT:
                raise SecurityError(f"repeating a value {count} times is refused")
        return left * right


class MessageTemplates:
    """The shipped templates, optionally overridden file by file.

    Implements the `Templates` port, and renders emails, call scripts and
    notices. Every rendering problem is a permanent `DeliveryFailed` naming
    the template: retrying the same template with the same context cannot
    succeed.
    """

    def __init__(self, overrides: Path | None = None) -> None:
        self._folders = [str(p) for p in (overrides, SHIPPED) if p is not None]
        self._environments: dict[str, _Sandbox] = {}

    def exists(self, channel: Channel, name: str) -> bool:
        """Whether a rule may name this template: it exists at least in English."""
        if channel is Channel.WEBHOOK:
            return True
        if not _NAME.fullmatch(name):
            return False
        return all(
            self._found(path) for path in _paths(channel, FALLBACK_LANGUAGE, name)
        )

    def render_email(self, message: OutgoingMessage) -> RenderedEmail:
        """The subject and both bodies, all three in the same language."""
        subject, text, html = self._render(
            Channel.EMAIL, message.template, message.language, message.context
        )
        # One header line; non-breaking spaces stay, as in `R$ 1.234,50`.
        one_line = _BREAKS.sub(" ", subject).strip()
        return RenderedEmail(subject=one_line, text=text, html=html)

    def render_text(
        self, channel: Channel, name: str, language: str, context: Mapping[str, Any]
    ) -> str:
        """A call script or an in-app notice, as plain text."""
        if channel not in _FOLDERS:
            raise DeliveryFailed(
                f"{channel} messages have no text template; use render_email",
                permanent=True,
            )
        (text,) = self._render(channel, name, language, context)
        return text

    def _render(
        self,
        channel: Channel,
        name: str,
        language: str,
        context: Mapping[str, Any],
    ) -> list[str]:
        if not _NAME.fullmatch(name):
            raise DeliveryFailed(f"{name!r} is not a template name", permanent=True)
        wanted = _locale(language)

        folder = self._language_for(channel, name, wanted)
        paths = _paths(channel, folder, name)
        environment = self._environment(_formatting_locale(wanted, folder))

        return [_tidy(_run(environment, path, context), path) for path in paths]

    def _language_for(self, channel: Channel, name: str, wanted: Locale | None) -> str:
        """The first language folder, in fallback order, with every part."""
        for folder in _fallbacks(wanted):
            if all(self._found(path) for path in _paths(channel, folder, name)):
                return folder
        raise DeliveryFailed(
            f"no {channel} template is called {name!r}; "
            f"add {FALLBACK_LANGUAGE}/{_paths(channel, FALLBACK_LANGUAGE, name)[0]}",
            permanent=True,
        )

    def _found(self, path: str) -> bool:
        return any((Path(folder) / path).is_file() for folder in self._folders)

    def _environment(self, locale: Locale) -> _Sandbox:
        """One environment per formatting locale, since filters depend on it."""
        key = str(locale)
        if key not in self._environments:
            environment = _Sandbox(
                loader=FileSystemLoader(self._folders),
                undefined=StrictUndefined,
                autoescape=select_autoescape(
                    enabled_extensions=("html",), default_for_string=False
                ),
                trim_blocks=True,
                lstrip_blocks=True,
            )
            environment.filters["money"] = _money_filter(locale)
            environment.filters["day"] = _day_filter(locale)
            environment.filters["percent"] = _percent_filter(locale)
            environment.filters["add_days"] = _add_days
            environment.tests["zero"] = _is_zero
            self._environments[key] = environment
        return self._environments[key]


def _paths(channel: Channel, folder: str, name: str) -> list[str]:
    if channel is Channel.EMAIL:
        return [f"{folder}/{name}.{part}" for part in _EMAIL_PARTS]
    return [f"{folder}/{_FOLDERS[channel]}/{name}.txt"]


def _locale(language: str) -> Locale | None:
    """The client's locale, or None when the language is not one Babel knows."""
    try:
        return Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return None


def _fallbacks(wanted: Locale | None) -> list[str]:
    """Folder names to try: `pt_BR`, then `pt`, then `en`."""
    names = [str(wanted), wanted.language] if wanted is not None else []
    return list(dict.fromkeys([*names, FALLBACK_LANGUAGE]))


def _formatting_locale(wanted: Locale | None, folder: str) -> Locale:
    """The client's locale when the text is in its language, else the text's.

    An `en_GB` client reading English gets British dates; a `de` client reading
    the English fallback gets English dates, so words and numbers agree.
    """
    if wanted is not None and wanted.language == folder.split("_")[0]:
        return wanted
    return Locale.parse(folder)


def _run(environment: _Sandbox, path: str, context: Mapping[str, Any]) -> str:
    try:
        template: Template = environment.get_template(path)
        return template.render(context)
    except SecurityError as error:
        raise DeliveryFailed(
            f"template {path} tried something the sandbox forbids ({error}); "
            "remove it from the template",
            permanent=True,
        ) from None
    except TemplateNotFound as error:
        raise DeliveryFailed(
            f"template {path} needs {error.name}, which does not exist",
            permanent=True,
        ) from None
    except TemplateError as error:
        raise DeliveryFailed(
            f"template {path} cannot be rendered: {error}", permanent=True
        ) from None
    except (DuecourseError, ValueError, TypeError, ArithmeticError) as error:
        raise DeliveryFailed(
            f"template {path} could not format a value: {error}", permanent=True
        ) from None


def _tidy(text: str, path: str) -> str:
    """Trailing spaces off, at most one blank line in a row, one final newline.

    Conditional sections leave blank lines behind; plain text readers show
    them all, so they are squeezed here instead of in every template.
    """
    if path.endswith(".html"):
        return text.strip() + "\n"
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


def _money_filter(locale: Locale) -> Callable[[str | int, str], str]:
    def money(amount: str | int, currency: str) -> str:
        """`1234.50`, BRL -> `R$ 1.234,50` in pt_BR; rounded once, half up."""
        value = Money(parse_amount(amount), parse_currency(currency)).rounded()
        return str(format_currency(value.amount, value.currency, locale=locale))

    return money


def _day_filter(locale: Locale) -> Callable[[str], str]:
    def day(iso_date: str) -> str:
        """`2026-11-30` -> `30 de novembro de 2026` in pt_BR."""
        return str(format_date(date.fromisoformat(iso_date), "long", locale=locale))

    return day


def _percent_filter(locale: Locale) -> Callable[[str | int], str]:
    def percent(value: str | int) -> str:
        """`2.00` -> `2%` in pt_BR, `2 %` in es; `0.033` keeps its decimals."""
        fraction = parse_amount(value, "percent") / 100
        return str(format_percent(fraction, locale=locale, decimal_quantization=False))

    return percent


def _add_days(iso_date: str, days: int) -> str:
    """`2026-12-03`, 7 -> `2026-12-10`: a date for a script to offer."""
    return (date.fromisoformat(iso_date) + timedelta(days=days)).isoformat()


def _is_zero(amount: str | int) -> bool:
    """`total_penalty is zero`: amounts are strings, compared as decimals."""
    return parse_amount(amount) == 0
