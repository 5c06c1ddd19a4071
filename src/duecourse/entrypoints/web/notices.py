"""The notice endpoint: a client's pending-payment banner, as small JSON.

`GET /notices/{client}?key=...&sig=...` is called by `notice.js` on every
page view of the host product, so it is built to be cheap:

- one indexed query (the client by external id, its newest active notice);
- the body is rendered once per (client, notice, day) and kept in memory for
  `NoticeCache.ttl_seconds`, so a payment shows within that time;
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

from fastapi import APIRouter, Request
from fastapi.responses import Response

from duecourse.entrypoints.web.auth import Forbidden
from duecourse.entrypoints.web.context import WebContext, client_signature, web_of
from duecourse.entrypoints.web.words import speaker_for
from duecourse.services.account import Banner, NoticeHead, banner_of

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Rendered:
    body: bytes
    etag: str
    expires_at: float


class NoticeCache:
    """Rendered bodies by (client, notice, day), each kept for a short time."""

    def __init__(
        self,
        ttl_seconds: float = 60,
        max_entries: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self._max = max_entries
        self._clock = clock
        self._entries: dict[tuple[int, int | None, date], Rendered] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[int, int | None, date]) -> Rendered | None:
        entry = self._entries.get(key)
        if entry is None or entry.expires_at < self._clock():
            return None
        return entry

    def put(self, key: tuple[int, int | None, date], body: bytes) -> Rendered:
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        entry = Rendered(body, etag, self._clock() + self.ttl_seconds)
        with self._lock:
            if len(self._entries) >= self._max:
                self._entries.clear()
            self._entries[key] = entry
        return entry


@router.get("/notices/{client}")
def notice(request: Request, client: str, key: str = "", sig: str = "") -> Response:
    web = web_of(request)
    headers = _cors(web, request.headers.get("origin"))
    _authorise(web, client, key, sig)

    head = web.accounts.active_notice(client)
    if head is None:
        return Response(status_code=404, headers=headers)
    rendered = _rendered(request, web, client, head)

    headers["ETag"] = rendered.etag
    headers["Cache-Control"] = "private, no-cache"
    if _matches(request.headers.get("if-none-match"), rendered.etag):
        return Response(status_code=304, headers=headers)
    return Response(rendered.body, media_type="application/json", headers=headers)


@router.options("/notices/{client}")
def notice_preflight(request: Request, client: str) -> Response:
    headers = _cors(web_of(request), request.headers.get("origin"))
    headers["Access-Control-Allow-Methods"] = "GET"
    headers["Access-Control-Allow-Headers"] = "If-None-Match"
    headers["Access-Control-Max-Age"] = "86400"
    return Response(status_code=204, headers=headers)


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


def _rendered(
    request: Request, web: WebContext, client: str, head: NoticeHead
) -> Rendered:
    cache: NoticeCache = request.app.state.notice_cache
    today = web.today()
    cache_key = (head.client_id, head.notice_id, today)
    cached = cache.get(cache_key)
    if cached is not None:
        return cached

    banner = banner_of(web.accounts, head, today, web.quote, web.templates, web.links)
    payload = {"client": client, "notice": _notice(web, head, banner)}
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return cache.put(cache_key, body)


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
