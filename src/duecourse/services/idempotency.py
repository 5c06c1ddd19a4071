"""Idempotency keys: a POST sent twice with the same key is done once.

The first request with a key reserves it, runs, and stores its response;
a later request with the same key and the same body gets that response
again, without running. The same key with another body, or on another
path, is refused: it is a bug in the caller, not a retry. While the first
request is running, a second one is refused with a conflict; a reservation
older than `STALE_AFTER` (its process died) may be taken over.

Responses are stored per API key; errors are not stored, so a request that
failed may be corrected and sent again with the same key.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from duecourse.domain.errors import Conflict, InvalidField

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=2)


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: Mapping[str, Any]


@dataclass(frozen=True)
class KeyRecord:
    id: int
    request: str
    request_hash: str
    status: int | None
    body: Mapping[str, Any] | None
    created_at: datetime


class IdempotencyStore(Protocol):
    def reserve(
        self, api_key_id: int, key: str, request: str, digest: str, now: datetime
    ) -> tuple[KeyRecord, bool]:
        """Reserve the key, committed: its row, and whether this call made it."""
        ...

    def take_over(self, record_id: int, stale_before: datetime, now: datetime) -> bool:
        """Renew a stale reservation; False if someone else holds it now."""
        ...

    def finish(self, record_id: int, response: StoredResponse) -> None: ...

    def release(self, record_id: int) -> None: ...


def request_hash(method_path: str, body: Mapping[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method_path}\n{canonical}".encode()).hexdigest()


def run_once(
    store: IdempotencyStore,
    api_key_id: int,
    key: str,
    method_path: str,
    body: Mapping[str, Any],
    work: Callable[[], StoredResponse],
    now: datetime,
) -> tuple[StoredResponse, bool]:
    """The response to a POST, and whether it is a replay; see the docstring."""
    digest = request_hash(method_path, body)
    found, fresh = store.reserve(api_key_id, key, method_path, digest, now)
    if not fresh:
        replay = _replay(store, found, method_path, digest, now)
        if replay is not None:
            log.info("idempotent replay api_key_id=%d", api_key_id)
            return replay, True

    try:
        response = work()
    except BaseException:
        store.release(found.id)
        raise
    store.finish(found.id, response)
    return response, False


def _replay(
    store: IdempotencyStore,
    found: KeyRecord,
    method_path: str,
    digest: str,
    now: datetime,
) -> StoredResponse | None:
    """The stored response; None if a stale reservation was taken over."""
    if found.request != method_path or found.request_hash != digest:
        raise InvalidField(
            "Idempotency-Key",
            f"was used for another request ({found.request}) or another body",
            "use a new key for each new request",
        )
    if found.status is not None and found.body is not None:
        return StoredResponse(found.status, found.body)
    if store.take_over(found.id, now - STALE_AFTER, now):
        return None
    raise Conflict(
        "a request with this Idempotency-Key is still running; retry in a moment"
    )
