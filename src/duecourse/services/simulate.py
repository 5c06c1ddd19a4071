"""Simulation: what each client would receive over the next days.

The real run is played day by day inside one transaction that is then rolled
back, so a simulation follows exactly the rules a live run follows (business
days, catch-up, caps, one email per client per day) and stores nothing. It
assumes nobody pays during the simulated days: the worst case.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from duecourse.services.compose import Composer, Rows
from duecourse.services.ports import ClientRecord, RunStore
from duecourse.services.run import run_collection


class HeldStore(RunStore, Protocol):
    def discard(self) -> None: ...


@dataclass(frozen=True)
class Contact:
    """One thing a client would get on a simulated day."""

    client: str
    channel: str
    what: str
    invoices: tuple[str, ...]


@dataclass
class SimulatedDay:
    day: date
    contacts: list[Contact] = field(default_factory=list)


def simulate(
    open_held_store: Callable[[], HeldStore],
    composer: Composer,
    start: date,
    days: int,
    client: str | None = None,
) -> list[SimulatedDay]:
    """Play the run for `days` days from `start`; see the module docstring."""
    store = open_held_store()
    timeline: list[SimulatedDay] = []
    try:
        for offset in range(days):
            day = SimulatedDay(start + timedelta(days=offset))
            noon = datetime.combine(day.day, time(12), UTC)

            def observe(
                clients: list[ClientRecord],
                rows: Rows,
                recorded: set[tuple[int, str]],
                day: SimulatedDay = day,
            ) -> None:
                day.contacts.extend(_contacts(clients, rows, recorded, client))

            run_collection(lambda: store, composer, day.day, noon, observe=observe)
            timeline.append(day)
    finally:
        store.discard()
    return timeline


def _contacts(
    clients: list[ClientRecord],
    rows: Rows,
    recorded: set[tuple[int, str]],
    wanted: str | None,
) -> list[Contact]:
    names = {c.id: c.external_id for c in clients}
    numbers = {i.id: i.number for c in clients for i in c.invoices}
    found: list[Contact] = []

    def add(
        client_id: int, channel: str, what: str, covers: tuple[tuple[int, str], ...]
    ) -> None:
        if not recorded.intersection(covers):
            return
        if wanted is not None and names[client_id] != wanted:
            return
        listed = tuple(sorted({numbers[i] for i, _ in covers}))
        found.append(Contact(names[client_id], channel, what, listed))

    for message in rows.messages:
        add(message.client_id, message.channel.value, message.template, message.covers)
    for task in rows.call_tasks:
        add(task.client_id, "call", task.script, task.covers)
    for notice in rows.notices:
        add(notice.client_id, "notice", notice.template, notice.covers)
    return found
