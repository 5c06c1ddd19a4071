"""The client page of the desk: every invoice and payment, and one timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from duecourse.domain.errors import NotFound
from duecourse.services.account import Account, AccountStore, account_of
from duecourse.services.compose import PenaltyQuote
from duecourse.services.timeline import TimelineEntry, TimelineStore, timeline_of


class ClientLookup(Protocol):
    def client_id_of(self, external_id: str) -> int | None: ...


@dataclass(frozen=True)
class ClientFile:
    account: Account
    history: list[TimelineEntry]


def client_file(
    lookup: ClientLookup,
    accounts: AccountStore,
    history: TimelineStore,
    quote: PenaltyQuote,
    external_id: str,
    as_of: date,
) -> ClientFile:
    """The client's account today (penalties to date) and their whole history."""
    client_id = lookup.client_id_of(external_id)
    if client_id is None:
        raise NotFound(f"no client has the external id {external_id!r}")
    account = account_of(accounts, client_id, as_of, quote)
    return ClientFile(account, timeline_of(history, client_id))
