"""Penalty presets: the TOML files shipped in duecourse/penalty_presets.

Each file is one preset: the terms a law sets, the interest periods with the
day each takes effect, and, for statutory interest, the central bank's rate
history. Reading them is the only I/O penalties need; the domain receives
`load_preset` as its preset lookup.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from importlib import resources
from typing import Any, TypeVar

from duecourse.domain.errors import InvalidField
from duecourse.domain.interest import (
    FixingDay,
    InterestTerms,
    RateBasis,
    RateSchedule,
    RateStep,
    ReferenceRate,
    Refixing,
)
from duecourse.domain.money import parse_currency
from duecourse.domain.penalties import CompensationTier, PenaltyPolicy
from duecourse.domain.penalty_settings import (
    parse_days,
    parse_decimal,
    parse_mode,
    parse_percent,
)

PRESET_FOLDER = "penalty_presets"

E = TypeVar("E", RateBasis, FixingDay, Refixing)

# A preset name comes from a rule file: keep it to a plain file stem so it
# can never reach outside the preset folder.
_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")


def preset_names() -> list[str]:
    """The names of the presets shipped with duecourse, sorted."""
    folder = resources.files("duecourse").joinpath(PRESET_FOLDER)
    return sorted(
        entry.name.removesuffix(".toml")
        for entry in folder.iterdir()
        if entry.name.endswith(".toml")
    )


@functools.cache
def load_preset(name: str) -> PenaltyPolicy | None:
    """The preset called `name`, or None when duecourse ships none by that name."""
    if not _NAME.fullmatch(name):
        return None
    entry = resources.files("duecourse").joinpath(PRESET_FOLDER, f"{name}.toml")
    if not entry.is_file():
        return None
    policy = preset_from_toml(entry.read_text(encoding="utf-8"), name)
    if policy.name != name:
        raise InvalidField(
            f"{name}.name",
            f"{policy.name!r} does not match the file {name}.toml",
            f'write name = "{name}"',
        )
    return policy


def preset_from_toml(text: str, origin: str) -> PenaltyPolicy:
    """A preset from the text of its TOML file; `origin` prefixes field names."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InvalidField(origin, f"is not valid TOML ({error})") from None

    name = _text(document, "name", origin)
    try:
        return _policy(document, name, origin)
    except ValueError as error:
        raise InvalidField(origin, str(error)) from None


def _policy(document: Mapping[str, Any], name: str, origin: str) -> PenaltyPolicy:
    return PenaltyPolicy(
        name=name,
        grace_days=parse_days(document.get("grace_days", 0), f"{origin}.grace_days"),
        late_fee_percent=parse_percent(
            document.get("late_fee_percent", "0"), f"{origin}.late_fee_percent"
        ),
        compensation=_compensation(document, origin),
        interest=_interest(document, origin),
        cap_percent=_optional(document, "cap_percent", origin),
        cap_amount=_optional(document, "cap_amount", origin),
        mode=parse_mode(document.get("mode", "charged"), f"{origin}.mode"),
        currency=_currency(document, origin),
        source=" ".join(_text(document, "source", origin).split()),
    )


def _compensation(
    document: Mapping[str, Any], origin: str
) -> tuple[CompensationTier, ...]:
    tiers: list[CompensationTier] = []
    for index, row in enumerate(_tables(document, "compensation", origin)):
        field = f"{origin}.compensation[{index}]"
        tiers.append(
            CompensationTier(
                from_principal=parse_decimal(
                    row.get("from_principal"), f"{field}.from_principal"
                ),
                amount=parse_decimal(row.get("amount"), f"{field}.amount"),
            )
        )
    return tuple(tiers)


def _interest(document: Mapping[str, Any], origin: str) -> InterestTerms | None:
    table = document.get("interest")
    if table is None:
        return None
    field = f"{origin}.interest"
    if not isinstance(table, dict):
        raise InvalidField(field, "must be a table", "write it as [interest]")

    basis = _choice(table, "basis", RateBasis, field)
    rate = _schedule(table, "period", f"{_name_of(document)} interest", field, None)
    reference = None
    if "reference" in table:
        reference = _reference(table["reference"], f"{field}.reference")
    return InterestTerms(basis, rate, reference)


def _name_of(document: Mapping[str, Any]) -> str:
    name = document.get("name")
    return name if isinstance(name, str) else "preset"


def _reference(table: object, field: str) -> ReferenceRate:
    if not isinstance(table, dict):
        raise InvalidField(field, "must be a table", "write it as [interest.reference]")
    name = _text(table, "name", field)
    checked = table.get("checked_until")
    if checked is not None:
        checked = _day(checked, f"{field}.checked_until")
    return ReferenceRate(
        schedule=_schedule(table, "rate", name, field, checked),
        fixing_day=_choice(table, "fixing_day", FixingDay, field),
        refixing=_choice(table, "refixing", Refixing, field),
    )


def _schedule(
    table: Mapping[str, Any],
    key: str,
    name: str,
    field: str,
    checked_until: date | None,
) -> RateSchedule:
    steps: list[RateStep] = []
    for index, row in enumerate(_tables(table, key, field)):
        row_field = f"{field}.{key}[{index}]"
        step = RateStep(
            valid_from=_day(row.get("valid_from"), f"{row_field}.valid_from"),
            percent=_signed_percent(row.get("percent"), f"{row_field}.percent"),
            verify=row.get("verify", False) is True,
        )
        if steps and step.valid_from <= steps[-1].valid_from:
            raise InvalidField(
                f"{row_field}.valid_from",
                f"{step.valid_from} does not come after {steps[-1].valid_from}",
                "keep the rows in date order, one per day",
            )
        steps.append(step)
    if not steps:
        raise InvalidField(
            f"{field}.{key}", "has no rows", f"add a [[{field}.{key}]] row"
        )
    return RateSchedule(name, tuple(steps), checked_until)


def _signed_percent(value: object, field: str) -> Decimal:
    # Central bank rates have been negative (the ECB deposit rate was), so a
    # published rate may be below zero; the accrual floors each day at zero.
    if isinstance(value, str) and value.strip().startswith("-"):
        return -parse_decimal(value.strip()[1:], field)
    return parse_decimal(value, field)


def _tables(
    document: Mapping[str, Any], key: str, field: str
) -> list[Mapping[str, Any]]:
    rows = document.get(key, [])
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise InvalidField(
            f"{field}.{key}", "must be a list of tables", f"write rows as [[{key}]]"
        )
    return rows


def _day(value: object, field: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidField(
            field, f"{value!r} is not a date", "write it unquoted, like 2026-01-01"
        )
    return value


def _text(table: Mapping[str, Any], key: str, field: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidField(f"{field}.{key}", "is missing", f'add {key} = "..."')
    return value.strip()


def _choice(table: Mapping[str, Any], key: str, kind: type[E], field: str) -> E:
    value = table.get(key)
    names = [member.value for member in kind]
    if value not in names:
        raise InvalidField(
            f"{field}.{key}",
            f"{value!r} is not one of the choices",
            "use one of: " + ", ".join(names),
        )
    return kind(value)


def _optional(document: Mapping[str, Any], key: str, origin: str) -> Decimal | None:
    value = document.get(key)
    return None if value is None else parse_decimal(value, f"{origin}.{key}")


def _currency(document: Mapping[str, Any], origin: str) -> str | None:
    value = document.get("currency")
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidField(f"{origin}.currency", f"{value!r} is not a currency code")
    return parse_currency(value, f"{origin}.currency")
