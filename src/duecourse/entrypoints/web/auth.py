"""Logins for the desk: password hashes, session cookies, CSRF, roles.

- Passwords are argon2id hashes (argon2-cffi's defaults).
- The session is a cookie signed with the secret key (itsdangerous): the user
  id, a stamp of the password hash, and the session's CSRF token. HttpOnly,
  SameSite=Lax, Secure when the base URL is https, valid for 12 hours.
  Changing a password ends every session signed before.
- Every request that changes something carries the CSRF token, as the form
  field `csrf_token` or the header `X-CSRF-Token` (for htmx); `require`
  checks it on every method but GET, HEAD and OPTIONS.
- Failed logins are counted per email and address, in memory: after
  `LoginLimiter.attempts` failures in the window, that pair is refused until
  the window passes. A process restart forgets the counts, and several
  processes count separately; a shared store would be needed behind a load
  balancer.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from argon2 import PasswordHasher as Argon2Hasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.concurrency import run_in_threadpool

from duecourse.domain.agreements import Role
from duecourse.domain.errors import DuecourseError
from duecourse.entrypoints.web.context import web_of
from duecourse.services.access import DeskUser

COOKIE = "duecourse_session"
SESSION_SECONDS = 12 * 3600
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RANK = {Role.VIEWER: 0, Role.COLLECTOR: 1, Role.MANAGER: 2, Role.ADMIN: 3}


class NotSignedIn(DuecourseError):
    """The request needs a signed-in user and has none (or an ended session)."""


class Forbidden(DuecourseError):
    """The signed-in user's role does not allow this page or action."""


class CsrfRejected(DuecourseError):
    """A form arrived without this session's CSRF token."""


class TooManyAttempts(DuecourseError):
    """Too many failed logins for this email from this address."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(
            f"too many failed logins; try again in {retry_after // 60 + 1} minute(s)"
        )


class Argon2Passwords:
    """The `PasswordHasher` port on argon2-cffi."""

    def __init__(self, hasher: Argon2Hasher | None = None) -> None:
        self._hasher = hasher or Argon2Hasher()

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)

    @cached_property
    def _dummy(self) -> str:
        return self._hasher.hash(secrets.token_urlsafe(16))

    def dummy_hash(self) -> str:
        return self._dummy


@dataclass(frozen=True)
class WebSession:
    """What the cookie holds; `user_id` is None before login."""

    csrf: str
    user_id: int | None = None
    stamp: str = ""


class Sessions:
    """Reads and writes the signed session cookie."""

    def __init__(self, secret_key: str, secure: bool) -> None:
        self._signer = URLSafeTimedSerializer(secret_key, salt="duecourse.session")
        self._secure = secure

    def read(self, request: Request) -> WebSession | None:
        cookie = request.cookies.get(COOKIE)
        if not cookie:
            return None
        try:
            data = self._signer.loads(cookie, max_age=SESSION_SECONDS)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("c"), str):
            return None
        user_id = data.get("u")
        return WebSession(
            csrf=data["c"],
            user_id=user_id if isinstance(user_id, int) else None,
            stamp=str(data.get("s", "")),
        )

    def start(self, user: DeskUser | None = None) -> WebSession:
        """A new session with a new CSRF token: at first sight and at login."""
        csrf = secrets.token_urlsafe(24)
        if user is None:
            return WebSession(csrf)
        return WebSession(csrf, user.id, user.stamp)

    def write(self, response: Response, session: WebSession) -> None:
        value = self._signer.dumps(
            {"c": session.csrf, "u": session.user_id, "s": session.stamp}
        )
        response.set_cookie(
            COOKIE,
            value,
            max_age=SESSION_SECONDS,
            httponly=True,
            samesite="lax",
            secure=self._secure,
            path="/",
        )

    def end(self, response: Response) -> None:
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")


class LoginLimiter:
    """Failed logins per key within a sliding window; see the module docstring."""

    def __init__(
        self,
        attempts: int = 5,
        window_seconds: int = 15 * 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.attempts = attempts
        self._window = window_seconds
        self._clock = clock
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        """Raise `TooManyAttempts` when this key used up its attempts."""
        with self._lock:
            recent = self._recent(key)
        if len(recent) >= self.attempts:
            raise TooManyAttempts(int(recent[0] + self._window - self._clock()) + 1)

    def failed(self, key: str) -> None:
        with self._lock:
            self._recent(key).append(self._clock())
            if len(self._failures) > 10_000:
                # Forget keys whose window passed, so the table cannot grow forever.
                for stale in [k for k, v in self._failures.items() if not v]:
                    del self._failures[stale]

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _recent(self, key: str) -> list[float]:
        horizon = self._clock() - self._window
        recent = [t for t in self._failures.get(key, []) if t > horizon]
        self._failures[key] = recent
        return recent


def sessions_of(request: Request) -> Sessions:
    sessions = request.app.state.sessions
    assert isinstance(sessions, Sessions)
    return sessions


async def check_csrf(request: Request, session: WebSession) -> None:
    """Raise `CsrfRejected` unless the request carries the session's token."""
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        form = await request.form()
        field = form.get("csrf_token")
        sent = field if isinstance(field, str) else None
    if not sent or not secrets.compare_digest(sent, session.csrf):
        raise CsrfRejected("the form expired or was not sent by this site; reload it")


def require(role: Role) -> Callable[[Request], Awaitable[DeskUser]]:
    """A dependency: the signed-in user, if their role is at least `role`.

    Roles are ordered viewer < collector < manager < admin. On methods that
    change something, the CSRF token is checked too, so a route that depends
    on `require` is protected by construction.
    """

    async def signed_in_user(request: Request) -> DeskUser:
        session = sessions_of(request).read(request)
        if session is None or session.user_id is None:
            raise NotSignedIn("sign in to see this page")

        user = await run_in_threadpool(web_of(request).users.by_id, session.user_id)
        if user is None or not user.active or user.stamp != session.stamp:
            raise NotSignedIn("your session has ended; sign in again")
        if RANK[user.role] < RANK[role]:
            raise Forbidden(f"this needs the {role} role; you are a {user.role}")
        if request.method not in SAFE_METHODS:
            await check_csrf(request, session)

        request.state.session = session
        request.state.user = user
        return user

    return signed_in_user


def client_address(request: Request) -> str:
    # Behind a proxy, run uvicorn with --proxy-headers so this is the client's.
    return request.client.host if request.client else "unknown"


def session_csrf(request: Request) -> str:
    """The CSRF token forms of this request's page must carry."""
    session: Any = getattr(request.state, "session", None)
    return session.csrf if isinstance(session, WebSession) else ""
