"""Server-rendered pages: one Jinja2 environment with autoescaping on.

`page` adds what every page needs: the signed-in user, when there is one,
and the CSRF token its forms must carry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from duecourse.entrypoints.web.auth import session_csrf

FOLDER = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

pages = Jinja2Templates(directory=FOLDER)


def page(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
    csrf: str | None = None,
) -> HTMLResponse:
    """Render `name`; `csrf` overrides the session's token (at login)."""
    values: dict[str, Any] = {
        "user": getattr(request.state, "user", None),
        "csrf_token": csrf if csrf is not None else session_csrf(request),
        "lang": "en",
    }
    values.update(context or {})
    return pages.TemplateResponse(request, name, values, status_code=status_code)
