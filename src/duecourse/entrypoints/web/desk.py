"""The collectors' desk: today, the worklist, the call screen, the client page.

Viewers see today; collectors and up work the worklist, calls and clients.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from duecourse.bootstrap import Container
from duecourse.domain.ageing import Bucket
from duecourse.domain.agreements import Role
from duecourse.domain.calls import CallOutcome
from duecourse.domain.errors import InvalidField
from duecourse.entrypoints.web.auth import require
from duecourse.entrypoints.web.context import web_of
from duecourse.entrypoints.web.desk_context import desk_of, install
from duecourse.entrypoints.web.rendering import page
from duecourse.services.access import DeskUser
from duecourse.services.calls import call_end, call_screen, end_call
from duecourse.services.client_file import client_file
from duecourse.services.desk import today
from duecourse.services.worklist import take_task, worklist

router = APIRouter(prefix="/desk", include_in_schema=False)

Viewer = Annotated[DeskUser, Depends(require(Role.VIEWER))]
Collector = Annotated[DeskUser, Depends(require(Role.COLLECTOR))]
Field = Annotated[str, Form(max_length=2000)]


def mounted(app: FastAPI, container: Container) -> APIRouter:
    """The router, with what its routes need put on the app."""
    install(app, container)
    return router


@router.get("/today", response_class=HTMLResponse)
def today_page(request: Request, user: Viewer) -> Response:
    web, desk = web_of(request), desk_of(request)
    with desk.store() as store:
        summary = today(store, desk.held_store, desk.composer, web.today())
    context = {"today": summary, "buckets": list(Bucket), "section": "today"}
    return page(request, "desk/today.html", context)


@router.get("/worklist", response_class=HTMLResponse)
def worklist_page(request: Request, user: Collector) -> Response:
    with desk_of(request).store() as store:
        items = worklist(store, web_of(request).today())
    return page(request, "desk/worklist.html", {"items": items, "section": "worklist"})


@router.post("/worklist/{task_id}/take")
def take(request: Request, task_id: int, user: Collector) -> Response:
    with desk_of(request).store() as store:
        take_task(store, task_id, user, web_of(request).now())
    return RedirectResponse(f"/desk/calls/{task_id}", status_code=303)


@router.get("/calls/{task_id}", response_class=HTMLResponse)
def call_page(request: Request, task_id: int, user: Collector) -> Response:
    return _call_page(request, task_id, user)


@router.post("/calls/{task_id}", response_class=HTMLResponse)
def end_call_form(
    request: Request,
    task_id: int,
    user: Collector,
    outcome: Annotated[str, Form(max_length=20)],
    note: Field = "",
    amount: Field = "",
    promised_on: Field = "",
    reason: Field = "",
    instalments: Field = "",
    first_due: Field = "",
    interval_days: Field = "",
    discount_percent: Field = "",
    waive_penalties: Field = "",
) -> Response:
    fields = {
        "note": note,
        "amount": amount,
        "promised_on": promised_on,
        "reason": reason,
        "instalments": instalments,
        "first_due": first_due,
        "interval_days": interval_days,
        "discount_percent": discount_percent,
        "waive_penalties": waive_penalties,
    }
    web = web_of(request)
    try:
        call = call_end(outcome, fields)
        with desk_of(request).store() as store:
            result = end_call(store, task_id, user, call, web.now(), web.today())
    except InvalidField as problem:
        return _call_page(request, task_id, user, problem, fields, outcome)
    context = {"result": result, "section": "worklist"}
    return page(request, "desk/call_ended.html", context)


@router.get("/clients/{external_id}", response_class=HTMLResponse)
def client_page(request: Request, external_id: str, user: Collector) -> Response:
    web, desk = web_of(request), desk_of(request)
    with desk.store() as store:
        found = client_file(
            store, web.accounts, desk.timeline(), web.quote, external_id, web.today()
        )
    return page(request, "desk/client.html", {"file": found, "section": "worklist"})


def _call_page(
    request: Request,
    task_id: int,
    user: DeskUser,
    problem: InvalidField | None = None,
    fields: dict[str, str] | None = None,
    outcome: str = CallOutcome.PROMISE.value,
) -> Response:
    web, desk = web_of(request), desk_of(request)
    with desk.store() as store:
        screen = call_screen(
            store,
            desk.timeline(),
            web.accounts,
            web.templates,
            web.quote,
            web.links,
            task_id,
            user,
            web.today(),
        )
    context = {
        "screen": screen,
        "outcomes": list(CallOutcome),
        "problem": problem,
        "fields": fields or {},
        "chosen": outcome,
        "section": "worklist",
    }
    return page(request, "desk/call.html", context, 422 if problem else 200)
