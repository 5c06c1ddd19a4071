"""Penalties as the run and the rule files see them.

A rule's `[penalty]` table becomes a policy through the shipped presets; the
run asks for the penalty to date of each overdue invoice and for the terms
to state in messages. Policies are cached per table, since a run asks for the
same few policies tens of thousands of times.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date
from typing import Any

from duecourse.adapters.penalty_presets import load_preset
from duecourse.domain.errors import CurrencyMismatch
from duecourse.domain.money import Money
from duecourse.domain.penalties import PenaltyPolicy, penalty_to_date
from duecourse.domain.penalty_settings import penalty_policy_from_mapping
from duecourse.domain.rules import CollectionRule

log = logging.getLogger(__name__)


def penalty_check(table: Mapping[str, Any]) -> None:
    """Raise `InvalidField` if a rule's `[penalty]` table is not usable."""
    penalty_policy_from_mapping(table, "penalty", load_preset)


def policy_of(rule: CollectionRule) -> PenaltyPolicy | None:
    """The rule's policy, read once per rule object: a run asks for every invoice."""
    known = _policies.get(id(rule))
    if known is not None and known[0] is rule:
        return known[1]
    policy = None
    if rule.penalty:
        policy = penalty_policy_from_mapping(rule.penalty, "penalty", load_preset)
    if len(_policies) > 256:
        _policies.clear()
    # The rule itself is kept beside its policy so that its id is not reused.
    _policies[id(rule)] = (rule, policy)
    return policy


_policies: dict[int, tuple[CollectionRule, PenaltyPolicy | None]] = {}


def penalty_quote(
    rule: CollectionRule, balance: Money, due_date: date, as_of: date
) -> Mapping[str, Any] | None:
    """The penalty to date on an invoice's balance, as text for a message."""
    if as_of <= due_date:
        return None
    policy = policy_of(rule)
    if policy is None:
        return None
    try:
        penalty = penalty_to_date(policy, balance, due_date, as_of)
    except CurrencyMismatch:
        # A preset with fixed sums in one currency cannot speak for an invoice
        # in another; the message then states no penalty rather than a wrong one.
        log.warning(
            "penalty not stated: policy %s is not in %s", policy.name, balance.currency
        )
        return None
    if penalty.total.is_zero:
        return None
    return {
        "late_fee": str(penalty.late_fee.amount),
        "interest": str(penalty.interest.amount),
        "total": str(penalty.total.amount),
        "owed": penalty.owed,
    }


def penalty_terms(rule: CollectionRule, as_of: date) -> Mapping[str, Any] | None:
    """The terms a message states: structured, so each language words them."""
    policy = policy_of(rule)
    if policy is None:
        return None
    terms: dict[str, Any] = {
        "preset": policy.name,
        "grace_days": policy.grace_days,
        "late_fee_percent": str(policy.late_fee_percent),
        "interest_percent": None,
        "interest_basis": None,
        "interest_follows_reference": False,
        "mode": policy.mode.value,
    }
    if policy.interest is not None:
        terms["interest_basis"] = policy.interest.basis.value
        terms["interest_percent"] = str(policy.interest.rate.percent_on(as_of))
        terms["interest_follows_reference"] = policy.interest.reference is not None
    terms["description"] = _describe(terms)
    return terms


def _describe(terms: Mapping[str, Any]) -> str:
    parts = []
    if terms["late_fee_percent"] not in ("0", "0.00"):
        parts.append(f"{terms['late_fee_percent']}% late fee")
    if terms["interest_percent"] is not None:
        period = "a month" if terms["interest_basis"] == "monthly" else "a year"
        rate = f"{terms['interest_percent']}%"
        if terms["interest_follows_reference"]:
            rate = f"the reference rate plus {rate}"
        parts.append(f"interest of {rate} {period}, pro rata")
    return " and ".join(parts) or "no late fee or interest"
