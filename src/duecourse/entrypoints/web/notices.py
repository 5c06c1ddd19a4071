"""The notice endpoint: a client's pending-payment banner, as small JSON.

`GET /notices/{client}?key=...&sig=...` is called by `notice.js` on every
page view of the host product, so it is built to be cheap:

- a plain Starlette route matched first, with no FastAPI parameter work;
- the body is rendered once per (client, day), with one indexed query, and
  kept in memory for `NoticeCache.ttl_seconds`, so a payment shows within
  that time and a cached answer costs no query;
- the ETag is a hash of the body; a matching `If-None-Match` gets a 304.

Authorisation: `key` is the installation's publishable key and `sig` the
HMAC-SHA256, in hex, of the client's external id under the notice secret
(see `context`). The host product computes `sig` on its server and writes it
in the script tag, so a page can only ask for the client it was given.
Browsers may call it only from `DUECOURSE_NOTICE_ORIGINS`: a request from any
other origin is refused, and only allowed origins get CORS headers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from duecourse.entrypoints.web.auth import Forbidden
from duecourse.entrypoints.web.context import WebContext, client_signature, web_of
from duecourse.entrypoints.web.words import speaker_for
from duecourse.services.account import Banner, NoticeHead, banner_of


@dataclass(frozen=True)
class Rendered:
    """A response body, or None when the client is unknown or has no notice."""

    body: bytes | None
    etag: str
    expires_at: float


class NoticeCache:
    """Rendered bodies by (client, day), each kept for a short time: a cached
    answer costs no query, and a payment shows within `ttl_seconds`."""

    def __init__(
        self,
        ttl_seconds: float = 60,
        max_entries: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self._max = max_entries
        self._clock = clock
        self._entries: dict[tuple[str, date], Rendered] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, date]) -> Rendered | None:
        entry = self._entries.get(key)
        if entry is None or entry.expires_at < self._clock():
            return None
        return entry

    def put(self, key: tuple[str, date], body: bytes | None) -> Rendered:
        etag = '"' + hashlib.sha256(body or b"").hexdigest()[:32] + '"'
        entry = Rendered(body, etag, self._clock() + self.ttl_seconds)
        with self._lock:
            if len(self._entries) >= self._max:
                self._entries.clear()
            self._entries[key] = entry
        return entry


async def notice(request: Request) -> Response:
    """The banner JSON; a plain Starlette endpoint, matched before the rest of
    the app, because every page view of the host product calls it."""
    client = request.path_params["client"]
    web = web_of(request)
    headers = _cors(web, request.headers.get("origin"))
    query = request.query_params
    _authorise(web, client, query.get("key", ""), query.get("sig", ""))

    cache: NoticeCache = request.app.state.notice_cache
    key = (client, web.today())
    rendered = cache.get(key)
    if rendered is None:
        # Only a miss touches the database, off the event loop.
        rendered = await run_in_threadpool(_render, web, client, key, cache)
    if rendered.body is None:
        return Response(status_code=404, headers=headers)

    headers["ETag"] = rendered.etag
    headers["Cache-Control"] = "private, no-cache"
    if _matches(request.headers.get("if-none-match"), rendered.etag):
        return Response(status_code=304, headers=headers)
    return Response(rendered.body, media_type="application/json", headers=headers)


async def notice_preflight(request: Request) -> Response:
    headers = _cors(web_of(request), request.headers.get("origin"))
    headers["Access-Control-Allow-Methods"] = "GET"
    headers["Access-Control-Allow-Headers"] = "If-None-Match"
    headers["Access-Control-Max-Age"] = "86400"
    return Response(status_code=204, headers=headers)


routes = [
    Route("/notices/{client}", notice, methods=["GET"]),
    Route("/notices/{client}", notice_preflight, methods=["OPTIONS"]),
]


def _cors(web: WebContext, origin: str | None) -> dict[str, str]:
    headers = {"Vary": "Origin"}
    if origin is None:
        # Not a cross-origin browser call: a server, or a page of our own.
        return headers
    if origin not in web.web.notice_origins:
        raise Forbidden(f"the origin {origin} may not show notices")
    headers["Access-Control-Allow-Origin"] = origin
    headers["Access-Control-Expose-Headers"] = "ETag"
    return headers


def _authorise(web: WebContext, client: str, key: str, sig: str) -> None:
    if not hmac.compare_digest(key.encode(), web.web.notice_key.encode()):
        raise Forbidden("the key is not this installation's publishable key")
    expected = client_signature(web.web.notice_secret, client)
    if not hmac.compare_digest(sig.encode(), expected.encode()):
        raise Forbidden(f"the signature does not match the client {client!r}")


def _render(
    web: WebContext, client: str, key: tuple[str, date], cache: NoticeCache
) -> Rendered:
    head = web.accounts.active_notice(client)
    if head is None:
        return cache.put(key, None)
    today = key[1]
    banner = banner_of(web.accounts, head, today, web.quote, web.templates, web.links)
    payload = {"client": client, "notice": _notice(web, head, banner)}
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return cache.put(key, body)


def _notice(
    web: WebContext, head: NoticeHead, banner: Banner | None
) -> Mapping[str, Any] | None:
    if banner is None:
        return None
    speaker = speaker_for(head.language)
    amount = banner.amount.rounded()
    return {
        "severity": banner.severity,
        "language": speaker.lang,
        "text": banner.text,
        "amount": str(amount.amount),
        "currency": amount.currency,
        "amount_text": speaker.money(amount.amount, amount.currency),
        "how_to_pay": {
            "payment_url": banner.payment_url,
            "bank_details": web.web.bank_details,
        },
        "portal_url": banner.portal_url,
        "labels": {
            "pay": speaker.words["pay_now"],
            "account": speaker.words["see_account"],
            "dismiss": speaker.words["dismiss"],
        },
    }


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in tags or "*" in tags
