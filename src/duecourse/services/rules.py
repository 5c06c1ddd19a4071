"""Applying a collection rule file: validate it whole, store it as a new version.

Invoices keep the version they started with; a new version governs invoices
that enter the run from now on, unless they are moved on purpose.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from duecourse.domain.errors import NotFound
from duecourse.domain.rules import CollectionRule, PenaltyCheck, parse_rule
from duecourse.services.ports import RuleRecord, Templates

log = logging.getLogger(__name__)


class RuleStore(Protocol):
    def versions_of(self, name: str) -> list[RuleRecord]: ...

    def add_version(
        self, name: str, source: str, digest: str, actor: str, now: datetime
    ) -> RuleRecord:
        """Store the next version of `name` and make it the active one."""
        ...

    def move_invoices(self, from_version: int, to_version: int) -> int: ...

    def audit(
        self,
        actor: str,
        action: str,
        subject: str,
        details: Mapping[str, Any],
        now: datetime,
    ) -> None: ...

    def commit(self) -> None: ...


def apply_rule(
    store: RuleStore,
    templates: Templates,
    text: str,
    source: str,
    actor: str,
    now: datetime,
    check_penalty: PenaltyCheck | None = None,
) -> tuple[RuleRecord, bool]:
    """Store `text` as the next version of its rule; returns (version, created).

    Applying a file identical to the active version stores nothing.
    """
    rule = parse_rule(text, source, templates.exists, check_penalty)
    digest = hashlib.sha256(text.encode()).hexdigest()

    existing = store.versions_of(rule.name)
    active = next((v for v in existing if v.active), None)
    if active is not None and _digest(active.source) == digest:
        return active, False

    record = store.add_version(rule.name, text, digest, actor, now)
    store.audit(
        actor,
        "rule.applied",
        f"rule:{rule.name}",
        {"version": record.version, "stages": [s.key for s in rule.stages]},
        now,
    )
    store.commit()
    log.info("rule applied name=%s version=%d", rule.name, record.version)
    return record, True


def move_invoices(
    store: RuleStore, name: str, from_version: int, actor: str, now: datetime
) -> int:
    """Move the open invoices following `name` v`from_version` to the active version.

    A stage key names the same step in every version: a stage done under the
    old version is not done again under the new one, and the new version's
    other stages follow their own dates and catch-up.
    """
    versions = {v.version: v for v in store.versions_of(name)}
    if from_version not in versions:
        raise NotFound(f"rule {name!r} has no version {from_version}")
    active = next((v for v in versions.values() if v.active), None)
    if active is None:
        raise NotFound(f"rule {name!r} has no active version")
    moved = store.move_invoices(versions[from_version].id, active.id)
    store.audit(
        actor,
        "rule.invoices_moved",
        f"rule:{name}",
        {"from": from_version, "to": active.version, "invoices": moved},
        now,
    )
    store.commit()
    return moved


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def describe(rule: CollectionRule) -> list[str]:
    """One line per stage, for listing a rule."""
    return [
        f"{s.offset_days:+4d}d  {s.key:<20} {s.channel.value:<8} {s.template}"
        for s in rule.stages
    ]
