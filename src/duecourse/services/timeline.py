"""A client's history as one timeline: every contact, in the order it happened.

Messages (queued, delivered, dead with the reason), call tasks and how calls
ended, promises, agreements, disputes, payments, notices shown and portal
visits all become entries of one list, oldest first. Entries that only
carry a day (a payment's receipt, a notice) are placed at the start of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Protocol


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened; `kind` groups entries, such as "message"."""

    at: datetime
    kind: str
    summary: str
    detail: str = ""


class TimelineStore(Protocol):
    def history(self, client_id: int) -> list[TimelineEntry]:
        """Every entry of the client, in any order."""
        ...


def start_of(day: date) -> datetime:
    """The moment a day-only fact is placed at: midnight UTC of that day."""
    return datetime.combine(day, time(0), UTC)


def timeline_of(store: TimelineStore, client_id: int) -> list[TimelineEntry]:
    """The client's history, oldest first; see the module docstring."""
    entries = store.history(client_id)
    return sorted(entries, key=lambda e: (e.at, e.kind, e.summary))
