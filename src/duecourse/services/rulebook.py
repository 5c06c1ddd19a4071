"""The stored rule versions, parsed, and which one governs a client's invoice."""

from __future__ import annotations

from dataclasses import dataclass

from duecourse.domain.errors import NotFound
from duecourse.domain.rules import CollectionRule, parse_rule
from duecourse.services.ports import ClientRecord, RuleRecord


@dataclass(frozen=True)
class RuleBook:
    """Every stored version, by id, and the active version of each rule name."""

    versions: dict[int, CollectionRule]
    active: dict[str, int]

    @classmethod
    def from_records(cls, records: list[RuleRecord]) -> RuleBook:
        # Stored versions were validated when applied; templates are not
        # checked again so that a removed template shows at delivery instead.
        versions = {
            r.id: parse_rule(r.source, f"{r.name} v{r.version}", lambda *_: True)
            for r in records
        }
        active = {r.name: r.id for r in records if r.active}
        return cls(versions, active)

    def version_for(self, client: ClientRecord, current: int | None) -> int:
        """The version an invoice follows: the one it started with, else the
        client's named rule, else the first active rule that applies to it.

        Rules that name segments are tried before catch-all rules, so a rule
        written for a segment wins over the general one.
        """
        if current is not None:
            return current
        if client.rule_name is not None:
            if client.rule_name not in self.active:
                raise NotFound(
                    f"client {client.external_id} follows rule "
                    f"{client.rule_name!r}, which has no active version"
                )
            return self.active[client.rule_name]
        candidates = sorted(
            self.active.items(),
            key=lambda item: (not self.versions[item[1]].segments, item[0]),
        )
        for _name, version_id in candidates:
            if self.versions[version_id].applies_to(client.segment, client.country):
                return version_id
        raise NotFound(
            f"no active collection rule applies to client {client.external_id}; "
            "apply one with `duecourse rules apply FILE`"
        )
