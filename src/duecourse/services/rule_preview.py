"""Trying a rule file before it goes live: validate it, then simulate it.

The candidate is stored, and the open invoices of its rule moved to it, only
inside a held transaction that the simulation rolls back: the real book is
played with the candidate for the days asked, and nothing is kept. Going
live is `services.rules.apply_rule`, which stores it as a new version.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from duecourse.domain.rules import CollectionRule, PenaltyCheck, parse_rule
from duecourse.services.compose import Composer
from duecourse.services.ports import Templates
from duecourse.services.simulate import HeldStore, SimulatedDay, simulate

PREVIEW_DAYS = 30

CandidateOpener = Callable[[str, str], HeldStore]
"""Opens a held store in which (rule name, rule text) is the active version."""


@dataclass(frozen=True)
class RulePreview:
    rule: CollectionRule
    days: list[SimulatedDay]

    @property
    def contacts(self) -> int:
        return sum(len(day.contacts) for day in self.days)


def preview_rule(
    text: str,
    source: str,
    templates: Templates,
    check_penalty: PenaltyCheck | None,
    open_candidate: CandidateOpener,
    composer: Composer,
    start: date,
    days: int = PREVIEW_DAYS,
) -> RulePreview:
    """Validate `text` whole (`InvalidRule` lists every problem), then play it
    on the real book for `days` days from `start`; nothing is stored."""
    rule = parse_rule(text, source, templates.exists, check_penalty)
    timeline = simulate(lambda: open_candidate(rule.name, text), composer, start, days)
    return RulePreview(rule, [day for day in timeline if day.contacts])
