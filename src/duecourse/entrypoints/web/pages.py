"""Signing in and out, and the desk's home page."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from duecourse.domain.agreements import Role
from duecourse.entrypoints.web.auth import (
    Argon2Passwords,
    CsrfRejected,
    LoginLimiter,
    TooManyAttempts,
    check_csrf,
    client_address,
    require,
    sessions_of,
)
from duecourse.entrypoints.web.context import client_signature, web_of
from duecourse.entrypoints.web.rendering import page
from duecourse.services.access import DeskUser, normalise_email, sign_in

log = logging.getLogger(__name__)

router = APIRouter()


@router.get("/", include_in_schema=False)
def home() -> RedirectResponse:
    return RedirectResponse("/desk", status_code=303)


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_form(request: Request, next: str = "/desk") -> Response:
    sessions = sessions_of(request)
    session = sessions.read(request) or sessions.start()
    response = _login_page(request, session.csrf, next)
    sessions.write(response, session)
    return response


@router.post("/login", response_class=HTMLResponse, include_in_schema=False)
async def login(
    request: Request,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form(max_length=500)] = "/desk",
) -> Response:
    sessions = sessions_of(request)
    session = sessions.read(request)
    if session is None:
        raise CsrfRejected("the form expired or was not sent by this site; reload it")
    await check_csrf(request, session)

    limiter: LoginLimiter = request.app.state.limiter
    key = f"{normalise_email(email)}|{client_address(request)}"
    try:
        limiter.check(key)
    except TooManyAttempts as refused:
        log.warning("login refused after repeated failures")
        response = _login_page(request, session.csrf, next, str(refused), email, 429)
        response.headers["Retry-After"] = str(refused.retry_after)
        return response

    web = web_of(request)
    passwords: Argon2Passwords = request.app.state.passwords
    user = await run_in_threadpool(sign_in, web.users, passwords, email, password)
    if user is None:
        limiter.failed(key)
        return _login_page(
            request, session.csrf, next, "Wrong email or password.", email, 401
        )

    limiter.succeeded(key)
    await run_in_threadpool(
        web.users.audit, f"user {user.id}", "signed in", f"user {user.id}", web.now()
    )
    log.info("user signed in", extra={"user_id": user.id})
    redirect = RedirectResponse(_local(next), status_code=303)
    sessions.write(redirect, sessions.start(user))
    return redirect


@router.post("/logout", include_in_schema=False)
def logout(
    request: Request, user: Annotated[DeskUser, Depends(require(Role.VIEWER))]
) -> Response:
    response = RedirectResponse("/login", status_code=303)
    sessions_of(request).end(response)
    return response


@router.get("/desk", response_class=HTMLResponse, include_in_schema=False)
def desk(
    request: Request, user: Annotated[DeskUser, Depends(require(Role.VIEWER))]
) -> Response:
    return page(request, "desk.html")


def _login_page(
    request: Request,
    csrf: str,
    next_path: str,
    error: str | None = None,
    email: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    context = {"error": error, "email": email, "next_path": _local(next_path)}
    return page(request, "login.html", context, status_code, csrf=csrf)


def _local(path: str) -> str:
    """Only a path on this site, so a login link cannot send users elsewhere."""
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/desk"
    return path


@router.get("/desk/integration", response_class=HTMLResponse, include_in_schema=False)
def integration(
    request: Request,
    user: Annotated[DeskUser, Depends(require(Role.ADMIN))],
    client: str = "",
) -> Response:
    """For admins: what a host product needs to show the notice banner, and
    the banner itself for one client, as the client's product would show it."""
    web = web_of(request)
    preview = client.strip()
    context = {
        "base_url": web.settings.base_url,
        "notice_key": web.web.notice_key,
        "origins": sorted(web.web.notice_origins),
        "client": preview,
        "signature": client_signature(web.web.notice_secret, preview)
        if preview
        else "",
    }
    return page(request, "integration.html", context)
