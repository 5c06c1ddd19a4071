"""Problem details (RFC 9457) for `/api/v1`, with `errors` naming each field.

The app's one error map (`web.app`) gives every other error its status;
these handlers add the errors only the API raises, and the field list of a
validation error. On any other path they hand over to the app's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from duecourse.domain.errors import DuecourseError, InvalidField, InvalidRule
from duecourse.services.api_keys import NotAuthenticated, ScopeMissing
from duecourse.services.intake import FieldError, InvalidFields

API = "/api/v1/"
TITLES = {
    401: "Not authenticated",
    403: "Not allowed",
    422: "Cannot use this",
}


def install_problems(app: FastAPI) -> None:
    for kind in (NotAuthenticated, ScopeMissing, InvalidFields):
        app.add_exception_handler(kind, _api_error)  # type: ignore[arg-type]
    app.add_exception_handler(InvalidField, _field_error)  # type: ignore[arg-type]
    app.add_exception_handler(InvalidRule, _field_error)  # type: ignore[arg-type]
    app.add_exception_handler(
        RequestValidationError,
        _validation_error,  # type: ignore[arg-type]
    )


def problem(
    status: int,
    detail: str,
    errors: Sequence[FieldError] = (),
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "errors": [{"field": e.field, "detail": e.detail} for e in errors],
    }
    return JSONResponse(
        body, status, headers=headers, media_type="application/problem+json"
    )


async def _api_error(request: Request, error: DuecourseError) -> Response:
    if isinstance(error, NotAuthenticated):
        return problem(401, str(error), headers={"WWW-Authenticate": "Bearer"})
    if isinstance(error, ScopeMissing):
        return problem(403, str(error))
    assert isinstance(error, InvalidFields)
    return problem(422, str(error), error.errors)


async def _field_error(request: Request, error: DuecourseError) -> Response:
    if not request.url.path.startswith(API):
        handler = request.app.exception_handlers[DuecourseError]
        response: Response = await handler(request, error)
        return response
    if isinstance(error, InvalidRule):
        errors = [FieldError(p.field, _sentence(p)) for p in error.problems]
        return problem(422, f"{error.source} is not a valid collection rule", errors)
    assert isinstance(error, InvalidField)
    return problem(422, str(error), [FieldError(error.field, _sentence(error))])


async def _validation_error(
    request: Request, error: RequestValidationError
) -> Response:
    if not request.url.path.startswith(API):
        return await request_validation_exception_handler(request, error)
    errors = [
        FieldError(_field_name(problem["loc"]), problem["msg"])
        for problem in error.errors()
    ]
    names = ", ".join(dict.fromkeys(e.field for e in errors))
    return problem(422, f"the request has problems in {names}", errors)


def _field_name(location: Sequence[object]) -> str:
    """`body.contact.email`, `query.limit` and `header.Idempotency-Key` become
    `contact.email`, `limit` and `Idempotency-Key`."""
    parts = [str(part) for part in location]
    if len(parts) > 1 and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def _sentence(error: InvalidField) -> str:
    return f"{error.problem}; {error.fix}" if error.fix else error.problem
