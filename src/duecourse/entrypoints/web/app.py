"""The one ASGI app: the desk, the portal, the notice endpoint (and `/api/v1`).

Routers are added with `app.include_router`; each module under `web/` owns
one. Errors become responses here, in one place: problem+json (RFC 9457)
for `/api` and `/notices`, an HTML page everywhere else, and a redirect to
the login page when a page needs a signed-in user.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from duecourse.adapters.db.account_store import SqlAccountStore
from duecourse.adapters.db.login_store import SqlLoginStore
from duecourse.adapters.links import InvalidLink
from duecourse.adapters.penalty_terms import penalty_quote
from duecourse.bootstrap import Container, today, utc_now
from duecourse.domain.errors import (
    Conflict,
    CurrencyMismatch,
    DuecourseError,
    InvalidField,
    InvalidImport,
    InvalidRule,
    NotFound,
)
from duecourse.entrypoints.web import (
    api,
    desk,
    desk_admin,
    desk_keys,
    notices,
    pages,
    portal,
)
from duecourse.entrypoints.web.auth import (
    Argon2Passwords,
    CsrfRejected,
    Forbidden,
    LoginLimiter,
    NotSignedIn,
    Sessions,
    TooManyAttempts,
)
from duecourse.entrypoints.web.context import WebContext, load_web_settings
from duecourse.entrypoints.web.rendering import STATIC, page
from duecourse.entrypoints.web.words import speaker_from_header

# The first class that matches gives the status: subclasses come first.
STATUS: tuple[tuple[type[DuecourseError], int], ...] = (
    (portal.LinkExpired, 410),
    (InvalidLink, 403),
    (NotSignedIn, 401),
    (Forbidden, 403),
    (CsrfRejected, 403),
    (TooManyAttempts, 429),
    (NotFound, 404),
    (Conflict, 409),
    (InvalidField, 422),
    (InvalidRule, 422),
    (InvalidImport, 422),
    (CurrencyMismatch, 422),
)
TITLES = {
    400: "Bad request",
    401: "Sign in",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    409: "Conflict",
    410: "Gone",
    422: "Cannot use this",
    429: "Too many attempts",
}
JSON_PREFIXES = ("/api/", "/notices/")


def create_app(
    container: Container,
    *,
    clock_today: Callable[[], date] = today,
    clock_now: Callable[[], datetime] = utc_now,
    environ: Mapping[str, str] | None = None,
) -> FastAPI:
    """The web app over the container's database; clocks are for tests."""
    settings = container.settings
    web_settings = load_web_settings(settings, environ)
    app = FastAPI(
        title="duecourse",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.web = WebContext(
        settings=settings,
        web=web_settings,
        accounts=SqlAccountStore(container.engine),
        users=SqlLoginStore(container.engine),
        links=container.links,
        templates=container.templates,
        quote=penalty_quote,
        today=clock_today,
        now=clock_now,
    )
    app.state.sessions = Sessions(settings.secret_key, web_settings.secure_cookies)
    app.state.limiter = LoginLimiter()
    app.state.passwords = Argon2Passwords()
    app.state.notice_cache = notices.NoticeCache()

    # The notice endpoint is matched first: every page view of the client's
    # product calls it.
    app.router.routes[:0] = notices.routes
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(pages.router)
    app.include_router(portal.router)
    app.include_router(desk.mounted(app, container))
    app.include_router(desk_admin.mounted(app, container))
    app.include_router(desk_keys.mounted(app, container))
    api.install(app, container)

    app.add_exception_handler(DuecourseError, _domain_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_middleware(SecurityHeaders)
    return app


def status_of(error: DuecourseError) -> int:
    return next((code for kind, code in STATUS if isinstance(error, kind)), 400)


async def _domain_error(request: Request, error: DuecourseError) -> Response:
    status = status_of(error)
    headers = {}
    if isinstance(error, TooManyAttempts):
        headers["Retry-After"] = str(error.retry_after)

    if request.url.path.startswith(JSON_PREFIXES):
        return _problem(status, str(error), headers)
    if isinstance(error, NotSignedIn):
        target = quote(request.url.path, safe="/")
        return RedirectResponse(f"/login?next={target}", status_code=303)
    if isinstance(error, InvalidLink):
        return _link_refused(request, error, status)
    return _error_page(request, status, str(error), headers)


async def _http_error(request: Request, error: HTTPException) -> Response:
    headers = dict(error.headers or {})
    if request.url.path.startswith(JSON_PREFIXES):
        return _problem(error.status_code, str(error.detail), headers)
    return _error_page(request, error.status_code, str(error.detail), headers)


def _problem(status: int, detail: str, headers: dict[str, str]) -> Response:
    body = {
        "type": "about:blank",
        "title": TITLES.get(status, "Error"),
        "status": status,
    }
    body["detail"] = detail
    return JSONResponse(
        body, status, headers=headers, media_type="application/problem+json"
    )


def _error_page(
    request: Request, status: int, detail: str, headers: dict[str, str]
) -> Response:
    context = {"title": TITLES.get(status, "Something went wrong"), "detail": detail}
    response = page(request, "error.html", context, status)
    response.headers.update(headers)
    return response


def _link_refused(request: Request, error: InvalidLink, status: int) -> Response:
    """In the browser's language: the link alone does not say whose it was."""
    speaker = speaker_from_header(request.headers.get("accept-language"))
    words = speaker.words
    reason = "link_expired" if isinstance(error, portal.LinkExpired) else "link_altered"
    context = {"title": words["link_refused"], "detail": words[reason]}
    context["lang"] = speaker.lang
    response = page(request, "error.html", context, status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


class SecurityHeaders:
    """Headers every response carries unless a route set its own."""

    HEADERS = (
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
        (
            b"content-security-policy",
            b"default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
            b"form-action 'self'; base-uri 'none'",
        ),
    )

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(n, v) for n, v in self.HEADERS if n not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
