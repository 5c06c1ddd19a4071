"""The managers' desk: rule versions, the outbox, approvals and the audit log.

Managers and admins only. A rule file is validated and simulated on the real
book before anything is stored; activating it stores it as a new version.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from duecourse.adapters.db.candidate_store import candidate_store
from duecourse.adapters.db.rule_store import SqlRuleStore
from duecourse.adapters.db.run_store import SqlRunStore
from duecourse.adapters.webhooks_log import deliveries
from duecourse.bootstrap import Container
from duecourse.domain.agreements import AgreementStatus, NotPermitted, Role
from duecourse.domain.errors import Conflict, InvalidRule, NotFound
from duecourse.domain.states import MessageStatus
from duecourse.entrypoints.web.auth import require
from duecourse.entrypoints.web.context import web_of
from duecourse.entrypoints.web.desk_context import desk_of, install
from duecourse.entrypoints.web.rendering import page
from duecourse.services.access import DeskUser
from duecourse.services.agreements import approve, reject
from duecourse.services.desk import retry_message
from duecourse.services.rule_preview import preview_rule
from duecourse.services.rules import apply_rule

router = APIRouter(prefix="/desk", include_in_schema=False)

Manager = Annotated[DeskUser, Depends(require(Role.MANAGER))]
AUDIT_PAGE = 50
OUTBOX_LIMIT = 100
MAX_RULE_BYTES = 200_000


def mounted(app: FastAPI, container: Container) -> APIRouter:
    """The router, with what its routes need put on the app."""
    install(app, container)
    return router


@router.get("/rules", response_class=HTMLResponse)
def rules_page(request: Request, user: Manager, applied: str = "") -> Response:
    return _rules_page(request, applied=applied)


@router.post("/rules/preview", response_class=HTMLResponse)
def preview(
    request: Request,
    user: Manager,
    text: Annotated[str, Form(max_length=MAX_RULE_BYTES)] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    source = "the text"
    if file is not None and file.filename:
        source = file.filename
        text = file.file.read(MAX_RULE_BYTES).decode("utf-8", errors="replace")
    web, desk = web_of(request), desk_of(request)
    now = web.now()

    def open_candidate(name: str, rule_text: str) -> SqlRunStore:
        return candidate_store(desk.engine, name, rule_text, now)

    try:
        result = preview_rule(
            text,
            source,
            web.templates,
            desk.check_penalty,
            open_candidate,
            desk.composer,
            web.today(),
        )
    except InvalidRule as invalid:
        return _rules_page(request, text=text, problems=invalid, status_code=422)
    return _rules_page(request, text=text, preview=result)


@router.post("/rules/activate")
def activate(
    request: Request,
    user: Manager,
    text: Annotated[str, Form(max_length=MAX_RULE_BYTES)],
) -> Response:
    web, desk = web_of(request), desk_of(request)
    store = SqlRuleStore(desk.engine)
    try:
        record, _ = apply_rule(
            store,
            web.templates,
            text,
            "desk",
            user.email,
            web.now(),
            desk.check_penalty,
        )
    except InvalidRule as invalid:
        return _rules_page(request, text=text, problems=invalid, status_code=422)
    finally:
        store.close()
    target = f"/desk/rules?applied={record.name}+v{record.version}"
    return RedirectResponse(target, status_code=303)


@router.get("/outbox", response_class=HTMLResponse)
def outbox_page(request: Request, user: Manager) -> Response:
    statuses = (MessageStatus.PENDING, MessageStatus.SENDING)
    with desk_of(request).store() as store:
        waiting = [m for s in statuses for m in store.messages(s, OUTBOX_LIMIT)]
        sent = store.messages(MessageStatus.SENT, OUTBOX_LIMIT)
        dead = store.messages(MessageStatus.DEAD, OUTBOX_LIMIT)
    context = {"waiting": waiting, "sent": sent, "dead": dead, "section": "outbox"}
    return page(request, "desk/outbox.html", context)


@router.get("/outbox/{message_id}", response_class=HTMLResponse)
def outbox_message(request: Request, message_id: str, user: Manager) -> Response:
    """A message's delivery attempts, newest first (logged for webhooks)."""
    desk = desk_of(request)
    with desk.store() as store:
        status = store.message_status(message_id)
    if status is None:
        raise NotFound(f"no message {message_id} in the outbox")
    context = {
        "message_id": message_id,
        "status": status,
        "attempts": deliveries(desk.engine, message_id, OUTBOX_LIMIT),
        "section": "outbox",
    }
    return page(request, "desk/outbox_message.html", context)


@router.post("/outbox/{message_id}/retry")
def retry(request: Request, message_id: str, user: Manager) -> Response:
    with desk_of(request).store() as store:
        retry_message(store, message_id, user, web_of(request).now())
    return RedirectResponse("/desk/outbox", status_code=303)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, user: Manager, page_number: int = 1) -> Response:
    number = max(page_number, 1)
    with desk_of(request).store() as store:
        lines = store.audit_lines((number - 1) * AUDIT_PAGE, AUDIT_PAGE + 1)
    context = {
        "lines": lines[:AUDIT_PAGE],
        "page_number": number,
        "more": len(lines) > AUDIT_PAGE,
        "section": "audit",
    }
    return page(request, "desk/audit.html", context)


@router.get("/approvals", response_class=HTMLResponse)
def approvals_page(request: Request, user: Manager) -> Response:
    return _approvals_page(request)


@router.post("/approvals/{agreement_id}/{decision}", response_class=HTMLResponse)
def decide(
    request: Request,
    agreement_id: int,
    decision: str,
    user: Manager,
    reason: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    web = web_of(request)
    if decision not in ("approve", "reject"):
        raise Conflict(f"{decision!r} is not a decision; approve or reject")
    try:
        with desk_of(request).store() as store:
            if decision == "approve":
                approve(store, agreement_id, user.id, web.now(), as_of=web.today())
            else:
                reject(store, agreement_id, user.id, web.now(), reason)
    except NotPermitted as refused:
        return _approvals_page(request, str(refused), 403)
    return RedirectResponse("/desk/approvals", status_code=303)


def _rules_page(
    request: Request,
    *,
    text: str = "",
    applied: str = "",
    problems: InvalidRule | None = None,
    preview: object = None,
    status_code: int = 200,
) -> Response:
    store = SqlRuleStore(desk_of(request).engine)
    try:
        versions = store.all_versions()
    finally:
        store.close()
    context = {
        "versions": versions,
        "text": text,
        "applied": applied,
        "problems": problems.problems if problems else [],
        "preview": preview,
        "section": "rules",
    }
    return page(request, "desk/rules.html", context, status_code)


def _approvals_page(
    request: Request, error: str | None = None, status_code: int = 200
) -> Response:
    with desk_of(request).store() as store:
        pending = store.agreements([AgreementStatus.PENDING_APPROVAL])
        names = store.client_names([a.client_id for a in pending])
    context = {
        "pending": pending,
        "names": names,
        "error": error,
        "section": "approvals",
    }
    return page(request, "desk/approvals.html", context, status_code)
