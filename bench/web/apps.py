"""The two apps the web benchmark serves: duecourse, and a bare Starlette one.

Each is built by a factory for `uvicorn --factory`; duecourse reads its
settings from `DUECOURSE_*` like `duecourse serve`.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from duecourse.bootstrap import build
from duecourse.entrypoints.web.app import create_app

CONSTANT = b'{"client":"acme","notice":null}'


def duecourse_app() -> object:
    return create_app(build())


async def _constant(request: Request) -> Response:
    return Response(CONSTANT, media_type="application/json")


def bare_app() -> object:
    return Starlette(routes=[Route("/constant", _constant)])
