"""Penalty settings: a penalty policy from a rule's `[penalty]` table.

People write these tables by hand, so every value is checked and a bad one
raises InvalidField with the dotted field name and the fix. Presets are found
through a lookup passed in, so reading a table does no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from duecourse.domain.errors import InvalidField
from duecourse.domain.interest import InterestTerms, RateBasis, RateSchedule, RateStep
from duecourse.domain.money import parse_amount, parse_currency
from duecourse.domain.penalties import (
    FREE_FORM,
    CompensationTier,
    PenaltyMode,
    PenaltyPolicy,
)

_HUNDRED = Decimal(100)

PresetLookup = Callable[[str], PenaltyPolicy | None]
"""Finds a preset by name, or None; the adapter reads them from package data."""

# Terms a preset fixes by law; a rule may only adjust the others.
_TERMS = (
    "currency",
    "late_fee_percent",
    "late_fee_fixed",
    "interest_monthly_percent",
    "interest_annual_percent",
)
_ADJUSTMENTS = ("grace_days", "mode", "cap_percent", "cap_amount")
_KEYS = ("preset", *_ADJUSTMENTS, *_TERMS)


def penalty_policy_from_mapping(
    mapping: Mapping[str, object],
    field: str = "penalty",
    presets: PresetLookup | None = None,
) -> PenaltyPolicy:
    """The penalty policy a rule's `[penalty]` table describes.

    Either `preset = "name"`, optionally adjusted by grace_days, mode,
    cap_percent and cap_amount, or free-form terms. A bad value raises
    InvalidField naming `field.key` and the fix; amounts and percents are
    strings or integers, never floats.
    """
    if not isinstance(mapping, Mapping):
        raise InvalidField(field, "must be a table", f"write it as [{field}]")
    for key in mapping:
        if key not in _KEYS:
            raise InvalidField(
                f"{field}.{key}", "is not a penalty setting", _one_of(_KEYS)
            )

    base = _preset(mapping, field, presets)
    if base.name != FREE_FORM:
        for key in _TERMS:
            if key in mapping:
                raise InvalidField(
                    f"{field}.{key}",
                    f"cannot change the terms of the {base.name} preset",
                    f'remove it, or write preset = "{FREE_FORM}" and every term',
                )
    return replace(base, **_settings(mapping, field, base))


def parse_decimal(value: object, field: str) -> Decimal:
    """A number of zero or more written as a TOML string or integer, never a float."""
    key = field.rsplit(".", 1)[-1]
    if isinstance(value, float):
        raise InvalidField(
            field,
            f"{value!r} is a TOML float, and money and rates are never floats",
            f'quote the number: {key} = "{value}"',
        )
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidField(
            field, f"{value!r} is not a number", f'write it like {key} = "2.5"'
        )
    number = parse_amount(value, field)
    if number < 0:
        raise InvalidField(field, f"{value!r} is negative", "use zero or more")
    return number


def parse_percent(value: object, field: str) -> Decimal:
    """A percent from 0 to 100, written like "2" or "0.5"."""
    percent = parse_decimal(value, field)
    if percent > _HUNDRED:
        raise InvalidField(field, f"{value!r} is over 100 percent", "use 0 to 100")
    return percent


def parse_days(value: object, field: str) -> int:
    """A whole number of days, zero or more."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        key = field.rsplit(".", 1)[-1]
        raise InvalidField(
            field,
            f"{value!r} is not a whole number of days",
            f"write it like {key} = 5",
        )
    return value


def parse_mode(value: object, field: str) -> PenaltyMode:
    """A penalty mode by its name: charged, waived-in-grace or disclosed."""
    names = [mode.value for mode in PenaltyMode]
    if isinstance(value, str):
        name = value.strip().lower().replace("_", "-")
        if name in names:
            return PenaltyMode(name)
    raise InvalidField(field, f"{value!r} is not a penalty mode", _one_of(names))


def _preset(
    mapping: Mapping[str, object], field: str, presets: PresetLookup | None
) -> PenaltyPolicy:
    if "preset" not in mapping:
        return PenaltyPolicy()
    value = mapping["preset"]
    if not isinstance(value, str) or not value.strip():
        raise InvalidField(
            f"{field}.preset",
            f"{value!r} is not a preset name",
            'write it like preset = "br-consumer"',
        )
    name = value.strip()
    if name == FREE_FORM:
        return PenaltyPolicy()
    policy = presets(name) if presets is not None else None
    if policy is None:
        raise InvalidField(
            f"{field}.preset",
            f"{name!r} is not a known preset",
            f"use a preset listed in docs/penalties.md, or {FREE_FORM}",
        )
    return policy


def _settings(
    mapping: Mapping[str, object], field: str, base: PenaltyPolicy
) -> dict[str, Any]:
    """The policy fields the table sets, each value checked."""
    settings: dict[str, Any] = {}
    for key, value in mapping.items():
        path = f"{field}.{key}"
        if key == "grace_days":
            settings["grace_days"] = parse_days(value, path)
        elif key == "mode":
            settings["mode"] = parse_mode(value, path)
        elif key == "currency":
            if not isinstance(value, str):
                raise InvalidField(path, f"{value!r} is not a currency code")
            settings["currency"] = parse_currency(value, path)
        elif key == "late_fee_percent":
            settings["late_fee_percent"] = parse_percent(value, path)
        elif key == "late_fee_fixed":
            amount = parse_decimal(value, path)
            settings["compensation"] = (CompensationTier(Decimal(0), amount),)
        elif key == "cap_percent":
            settings["cap_percent"] = parse_decimal(value, path)
        elif key == "cap_amount":
            settings["cap_amount"] = parse_decimal(value, path)

    interest = _free_form_interest(mapping, field)
    if interest is not None:
        settings["interest"] = interest
    fixed_sums = "late_fee_fixed" in mapping or "cap_amount" in mapping
    if fixed_sums and base.currency is None and "currency" not in settings:
        raise InvalidField(
            f"{field}.currency",
            "is needed because late_fee_fixed or cap_amount is a sum of money",
            'add currency = "EUR" (the ISO code of the invoices)',
        )
    return settings


def _free_form_interest(
    mapping: Mapping[str, object], field: str
) -> InterestTerms | None:
    monthly = mapping.get("interest_monthly_percent")
    annual = mapping.get("interest_annual_percent")
    if monthly is not None and annual is not None:
        raise InvalidField(
            f"{field}.interest_annual_percent",
            "cannot be given with interest_monthly_percent",
            "keep one of the two",
        )
    if monthly is not None:
        basis, value, key = RateBasis.MONTHLY, monthly, "interest_monthly_percent"
    elif annual is not None:
        basis, value, key = RateBasis.ANNUAL, annual, "interest_annual_percent"
    else:
        return None
    percent = parse_percent(value, f"{field}.{key}")
    schedule = RateSchedule(f"{field}.{key}", (RateStep(date.min, percent),))
    return InterestTerms(basis, schedule)


def _one_of(names: tuple[str, ...] | list[str]) -> str:
    return "use one of: " + ", ".join(names)
