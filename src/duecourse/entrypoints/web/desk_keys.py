"""API keys from the desk: list, create (the token shown once) and revoke.

Admins only. The token is on the page that answers the create form and
nowhere else: only its hash is stored, so it cannot be shown again.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from duecourse.adapters.db.api_store import SqlApiKeyStore
from duecourse.bootstrap import Container
from duecourse.domain.agreements import Role
from duecourse.domain.errors import InvalidField
from duecourse.entrypoints.web.auth import require
from duecourse.entrypoints.web.context import web_of
from duecourse.entrypoints.web.desk_context import desk_of, install
from duecourse.entrypoints.web.rendering import page
from duecourse.services.access import DeskUser
from duecourse.services.api_keys import Scope, create_key, parse_scopes, revoke_key

router = APIRouter(prefix="/desk/api-keys", include_in_schema=False)

Admin = Annotated[DeskUser, Depends(require(Role.ADMIN))]


def mounted(app: FastAPI, container: Container) -> APIRouter:
    """The router, with what its routes need put on the app."""
    install(app, container)
    return router


@router.get("", response_class=HTMLResponse)
def keys_page(request: Request, user: Admin) -> Response:
    return _keys_page(request)


@router.post("", response_class=HTMLResponse)
def create(
    request: Request,
    user: Admin,
    name: Annotated[str, Form(max_length=120)] = "",
    scopes: Annotated[list[str] | None, Form()] = None,
) -> Response:
    store = SqlApiKeyStore(desk_of(request).engine)
    try:
        created = create_key(
            store, name, parse_scopes(scopes or []), user.email, web_of(request).now()
        )
    except InvalidField as invalid:
        return _keys_page(request, name=name, error=str(invalid), status_code=422)
    context = {"key": created.record, "token": created.token, "section": "api-keys"}
    response = page(request, "desk/api_key_created.html", context)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/{prefix}/revoke")
def revoke(request: Request, prefix: str, user: Admin) -> Response:
    store = SqlApiKeyStore(desk_of(request).engine)
    revoke_key(store, prefix, user.email, web_of(request).now())
    return RedirectResponse("/desk/api-keys", status_code=303)


def _keys_page(
    request: Request, *, name: str = "", error: str = "", status_code: int = 200
) -> Response:
    context = {
        "keys": SqlApiKeyStore(desk_of(request).engine).all_keys(),
        "scopes": list(Scope),
        "name": name,
        "error": error,
        "section": "api-keys",
    }
    return page(request, "desk/api_keys.html", context, status_code)
