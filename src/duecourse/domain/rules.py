"""Collection rules: a named, versioned cadence of stages around the due date.

A rule is written as a TOML file by the people who run collections. Parsing
checks every stage and reports every problem at once, each naming the stage,
the field and the fix, so a rule is either wholly valid or not stored.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal
from typing import Any, TypeVar

from duecourse.domain.billing import LATE_STREAK_LIMIT, BillingPeriod, check_discount
from duecourse.domain.errors import InvalidField, InvalidRule
from duecourse.domain.money import parse_amount
from duecourse.domain.states import CatchUp, Channel

E = TypeVar("E", Channel, CatchUp)

WEBHOOK_EVENTS = frozenset({"suspend", "reinstate"})


@dataclass(frozen=True)
class Conditions:
    """When a stage applies to an invoice; a stage whose conditions fail is skipped.

    `no_response` means: the client has paid nothing on the invoice since the
    rule first contacted them about it. `late_streak = N` means: the client paid
    each of its last N paid invoices after the due date.
    """

    min_balance: Decimal | None = None
    segments: frozenset[str] = frozenset()
    no_response: bool = False
    late_streak: int | None = None


@dataclass(frozen=True)
class Stage:
    """One step of a rule, `offset_days` from the due date (negative before it).

    With `use_client_lead_days`, the offset is the client's own choice of how
    many days before the due date the bill arrives, when the contract has one.
    An email stage may offer a switch to a prepaid period of `offer_months`, at
    `offer_discount_percent` or that period's standard discount.
    """

    key: str
    offset_days: int
    channel: Channel
    template: str
    conditions: Conditions = Conditions()
    catch_up: CatchUp = CatchUp.SEND
    use_client_lead_days: bool = False
    event: str | None = None
    offer_months: int | None = None
    offer_discount_percent: Decimal | None = None

    def offset_for(self, lead_days: int | None) -> int:
        if self.use_client_lead_days and lead_days is not None:
            return -lead_days
        return self.offset_days


@dataclass(frozen=True)
class Limits:
    """How often and when a client may be contacted.

    Quiet hours are in the client's own time zone; a message due during them
    waits for the end. The weekly cap counts emails and calls in any 7 days.
    """

    max_contacts_per_week: int = 3
    quiet_start: time = time(20, 0)
    quiet_end: time = time(8, 0)


@dataclass(frozen=True)
class CollectionRule:
    """A parsed rule file. Stages are ordered by offset."""

    name: str
    description: str
    stages: tuple[Stage, ...]
    limits: Limits = Limits()
    segments: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()
    penalty: Mapping[str, Any] = field(default_factory=dict)

    def applies_to(self, segment: str | None, country: str) -> bool:
        if self.segments and segment not in self.segments:
            return False
        return not self.countries or country.upper() in self.countries

    def stage(self, key: str) -> Stage:
        for stage in self.stages:
            if stage.key == key:
                return stage
        raise KeyError(key)


TemplateCheck = Callable[[Channel, str], bool]
PenaltyCheck = Callable[[Mapping[str, Any]], None]


def parse_rule(
    text: str,
    source: str,
    template_exists: TemplateCheck,
    check_penalty: PenaltyCheck | None = None,
) -> CollectionRule:
    """Read a rule file, or raise `InvalidRule` listing every problem in it."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InvalidRule(source, [InvalidField("file", str(error))]) from None

    reader = _Reader()
    name = reader.text(document, "name", required=True)
    description = reader.text(document, "description") or ""
    applies = reader.table(document, "applies_to")
    segments = frozenset(reader.strings(applies, "applies_to.segments"))
    countries = frozenset(
        c.upper() for c in reader.strings(applies, "applies_to.countries")
    )
    limits = reader.limits(reader.table(document, "limits"))
    penalty = reader.table(document, "penalty")
    if penalty and check_penalty is not None:
        reader.guard(lambda: check_penalty(penalty))

    stages = reader.stages(document.get("stages"), template_exists)
    if reader.problems:
        raise InvalidRule(source, reader.problems)
    return CollectionRule(
        name=name,
        description=description,
        stages=tuple(sorted(stages, key=lambda s: s.offset_days)),
        limits=limits,
        segments=segments,
        countries=countries,
        penalty=penalty,
    )


class _Reader:
    """Collects problems instead of stopping at the first one."""

    def __init__(self) -> None:
        self.problems: list[InvalidField] = []

    def fail(self, field: str, problem: str, fix: str = "") -> None:
        self.problems.append(InvalidField(field, problem, fix))

    def guard(self, check: Callable[[], object]) -> None:
        try:
            check()
        except InvalidField as problem:
            self.problems.append(problem)

    def text(self, table: Mapping[str, Any], key: str, required: bool = False) -> str:
        value = table.get(key)
        if value is None:
            if required:
                self.fail(key, "is missing", f'add {key} = "..."')
            return ""
        if not isinstance(value, str) or not value.strip():
            self.fail(key, f"must be non-empty text, not {value!r}")
            return ""
        return value.strip()

    def table(self, table: Mapping[str, Any], key: str) -> dict[str, Any]:
        value = table.get(key, {})
        if not isinstance(value, dict):
            self.fail(key, "must be a table", f"write it as [{key}]")
            return {}
        return value

    def strings(self, table: Mapping[str, Any], field: str) -> list[str]:
        value = table.get(field.rsplit(".", 1)[-1], [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(field, "must be a list of text", 'write it like ["smb"]')
            return []
        return value

    def limits(self, table: Mapping[str, Any]) -> Limits:
        defaults = Limits()
        cap = table.get("max_contacts_per_week", defaults.max_contacts_per_week)
        if not isinstance(cap, int) or isinstance(cap, bool) or cap < 1:
            self.fail(
                "limits.max_contacts_per_week",
                f"must be a whole number of at least 1, not {cap!r}",
            )
            cap = defaults.max_contacts_per_week
        start = self.clock(table, "quiet_start", defaults.quiet_start)
        end = self.clock(table, "quiet_end", defaults.quiet_end)
        return Limits(cap, start, end)

    def clock(self, table: Mapping[str, Any], key: str, default: time) -> time:
        value = table.get(key)
        if value is None:
            return default
        try:
            return time.fromisoformat(str(value))
        except ValueError:
            self.fail(f"limits.{key}", f"{value!r} is not a time", 'write "20:00"')
            return default

    def stages(self, value: object, template_exists: TemplateCheck) -> list[Stage]:
        if not isinstance(value, list) or not value:
            self.fail("stages", "the rule has no stages", "add [[stages]] tables")
            return []
        stages: list[Stage] = []
        seen: set[str] = set()
        for number, table in enumerate(value, start=1):
            stage = self.stage(number, table, template_exists)
            if stage is None:
                continue
            if stage.key in seen:
                self.fail(f"stages[{stage.key}].key", "is used twice", "rename one")
            seen.add(stage.key)
            stages.append(stage)
        return stages

    def stage(
        self, number: int, table: Mapping[str, Any], template_exists: TemplateCheck
    ) -> Stage | None:
        before = len(self.problems)
        key = table.get("key")
        if not isinstance(key, str) or not key.strip():
            self.fail(f"stages[{number}].key", "is missing", 'add key = "reminder"')
            key = str(number)
        where = f"stages[{key}]"

        offset = table.get("offset_days")
        if not isinstance(offset, int) or isinstance(offset, bool):
            self.fail(
                f"{where}.offset_days",
                f"must be a whole number of days, not {offset!r}",
                "negative before the due date, positive after it",
            )
            offset = 0

        channel = self.choice(table, where, "channel", Channel, None)
        catch_up_default = CatchUp.SKIP if offset < 0 else CatchUp.SEND
        catch_up = self.choice(table, where, "catch_up", CatchUp, catch_up_default)
        template = table.get("template")
        if not isinstance(template, str) or not template:
            self.fail(f"{where}.template", "is missing", 'add template = "reminder"')
        elif channel is not None and not template_exists(channel, template):
            self.fail(
                f"{where}.template",
                f"no {channel} template is called {template!r}",
                "use one of the templates shipped or add it first",
            )

        event = table.get("event")
        if channel is Channel.WEBHOOK and event not in WEBHOOK_EVENTS:
            self.fail(
                f"{where}.event",
                f"{event!r} is not a webhook event",
                f"use one of {', '.join(sorted(WEBHOOK_EVENTS))}",
            )

        conditions = self.conditions(where, table.get("conditions", {}))
        lead = table.get("use_client_lead_days", False)
        if not isinstance(lead, bool):
            self.fail(f"{where}.use_client_lead_days", "must be true or false")
            lead = False
        offer_months, offer_discount = self.offer(where, table.get("offer"), channel)
        if len(self.problems) > before or channel is None or catch_up is None:
            return None
        return Stage(
            key=key,
            offset_days=offset,
            channel=channel,
            template=str(template),
            conditions=conditions,
            catch_up=catch_up,
            use_client_lead_days=lead,
            event=event if channel is Channel.WEBHOOK else None,
            offer_months=offer_months,
            offer_discount_percent=offer_discount,
        )

    def choice(
        self,
        table: Mapping[str, Any],
        where: str,
        key: str,
        kind: type[E],
        default: E | None,
    ) -> E | None:
        value = table.get(key)
        if value is None:
            if default is None:
                self.fail(f"{where}.{key}", "is missing", f'add {key} = "..."')
            return default
        try:
            return kind(str(value))
        except ValueError:
            allowed = ", ".join(member.value for member in kind)
            self.fail(f"{where}.{key}", f"{value!r} is not allowed", f"use {allowed}")
            return None

    def conditions(self, where: str, table: object) -> Conditions:
        if not isinstance(table, dict):
            self.fail(f"{where}.conditions", "must be a table")
            return Conditions()
        minimum = None
        if "min_balance" in table:
            raw = table["min_balance"]
            if isinstance(raw, float):
                self.fail(
                    f"{where}.conditions.min_balance",
                    "must not be a float",
                    'quote it: min_balance = "100.00"',
                )
            else:
                try:
                    minimum = parse_amount(raw, f"{where}.conditions.min_balance")
                except InvalidField as problem:
                    self.problems.append(problem)
        segments = self.strings(table, f"{where}.conditions.segments")
        no_response = table.get("no_response", False)
        if not isinstance(no_response, bool):
            self.fail(f"{where}.conditions.no_response", "must be true or false")
            no_response = False
        streak = table.get("late_streak")
        if streak is not None and (
            not isinstance(streak, int)
            or isinstance(streak, bool)
            or not 1 <= streak <= LATE_STREAK_LIMIT
        ):
            self.fail(
                f"{where}.conditions.late_streak",
                f"must be a whole number from 1 to {LATE_STREAK_LIMIT}, not {streak!r}",
                "write late_streak = 3 for three late payments in a row",
            )
            streak = None
        known = {"min_balance", "segments", "no_response", "late_streak"}
        for name in sorted(set(table) - known):
            self.fail(
                f"{where}.conditions.{name}",
                "is not a known condition",
                "use min_balance, segments, no_response or late_streak",
            )
        return Conditions(minimum, frozenset(segments), no_response, streak)

    def offer(
        self, where: str, table: object, channel: Channel | None
    ) -> tuple[int | None, Decimal | None]:
        """An offer to prepay a longer period: `{ switch_to_months = 12 }`, with
        an optional `discount_percent` instead of the period's standard one."""
        if table is None:
            return None, None
        if channel is not Channel.EMAIL:
            self.fail(f"{where}.offer", "is only for email stages", "remove it")
            return None, None
        if not isinstance(table, dict):
            self.fail(
                f"{where}.offer", "must be a table", "write { switch_to_months = 12 }"
            )
            return None, None
        months = table.get("switch_to_months")
        longer = [p.value for p in BillingPeriod if p is not BillingPeriod.MONTHLY]
        if type(months) is not int or months not in longer:
            self.fail(
                f"{where}.offer.switch_to_months",
                f"{months!r} is not a prepaid period",
                f"use {' or '.join(map(str, longer))}",
            )
            months = None
        discount = None
        if "discount_percent" in table:
            discount = self.percent(
                f"{where}.offer.discount_percent", table["discount_percent"]
            )
        for name in sorted(set(table) - {"switch_to_months", "discount_percent"}):
            self.fail(
                f"{where}.offer.{name}",
                "is not a known offer setting",
                "use switch_to_months or discount_percent",
            )
        return months, discount

    def percent(self, field: str, raw: object) -> Decimal | None:
        if isinstance(raw, float) or not isinstance(raw, str | int):
            self.fail(field, f"{raw!r} is not a percent", 'quote it: "7.5" for 7.5%')
            return None
        try:
            return check_discount(parse_amount(raw, field), field)
        except InvalidField as problem:
            self.problems.append(problem)
            return None
