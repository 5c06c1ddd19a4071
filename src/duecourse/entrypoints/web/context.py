"""What every request handler of the web app reaches: settings, stores, clock.

The web app reads four settings of its own, next to the shared ones:

- `DUECOURSE_NOTICE_KEY`: the publishable key a host page puts in
  `data-key`; derived from the secret key when unset.
- `DUECOURSE_NOTICE_SECRET`: the secret the host product signs client ids
  with (HMAC-SHA256, hex); derived from the secret key when unset, so that
  the installation's own secret key never leaves it. `duecourse notice-keys`
  prints both.
- `DUECOURSE_NOTICE_ORIGINS`: the origins allowed to call the notice
  endpoint, comma separated, such as `https://app.example.com`.
- `DUECOURSE_BANK_DETAILS`: how to pay by bank transfer, shown in the portal
  beside payment links; `\\n` starts a new line.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlsplit

from fastapi import Request

from duecourse.adapters.db.account_store import SqlAccountStore
from duecourse.adapters.db.login_store import SqlLoginStore
from duecourse.adapters.email.render import MessageTemplates
from duecourse.adapters.links import SignedLinks
from duecourse.domain.errors import InvalidField
from duecourse.services.compose import PenaltyQuote
from duecourse.settings import Settings


@dataclass(frozen=True)
class WebSettings:
    notice_key: str
    notice_secret: str
    notice_origins: frozenset[str]
    bank_details: str | None
    secure_cookies: bool


def load_web_settings(
    settings: Settings, environ: Mapping[str, str] | None = None
) -> WebSettings:
    env = os.environ if environ is None else environ
    origins = frozenset(
        origin.strip().rstrip("/")
        for origin in env.get("DUECOURSE_NOTICE_ORIGINS", "").split(",")
        if origin.strip()
    )
    for origin in origins:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
            raise InvalidField(
                "DUECOURSE_NOTICE_ORIGINS",
                f"{origin!r} is not an origin",
                "write scheme, host and port only, like https://app.example.com",
            )
    bank = env.get("DUECOURSE_BANK_DETAILS", "").replace("\\n", "\n").strip()
    return WebSettings(
        notice_key=env.get("DUECOURSE_NOTICE_KEY")
        or "pk_" + _derived(settings.secret_key, "notice key")[:24],
        notice_secret=env.get("DUECOURSE_NOTICE_SECRET")
        or _derived(settings.secret_key, "notice signature"),
        notice_origins=origins,
        bank_details=bank or None,
        secure_cookies=settings.base_url.startswith("https://"),
    )


def _derived(secret_key: str, purpose: str) -> str:
    message = f"duecourse {purpose}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def client_signature(notice_secret: str, external_id: str) -> str:
    """What the host product puts in `data-signature` for a client."""
    digest = hmac.new(notice_secret.encode(), external_id.encode(), hashlib.sha256)
    return digest.hexdigest()


@dataclass
class WebContext:
    """The adapters and clocks of one web app; one per `create_app`."""

    settings: Settings
    web: WebSettings
    accounts: SqlAccountStore
    users: SqlLoginStore
    links: SignedLinks
    templates: MessageTemplates
    quote: PenaltyQuote
    today: Callable[[], date]
    now: Callable[[], datetime]


def web_of(request: Request) -> WebContext:
    context = request.app.state.web
    assert isinstance(context, WebContext)
    return context
