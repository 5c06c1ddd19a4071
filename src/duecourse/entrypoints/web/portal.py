"""The portal: the client's account tab, opened by a signed, expiring link.

No password: the token in the path is the credential, so the pages are never
cached and never leak it in a Referer header. Every view and download is an
audit row, which the desk shows in the client's timeline.
"""

from __future__ import annotations

import logging
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from duecourse.adapters.links import InvalidLink
from duecourse.adapters.statement_pdf import statement_pdf
from duecourse.entrypoints.web.context import WebContext, web_of
from duecourse.entrypoints.web.rendering import page
from duecourse.entrypoints.web.words import speaker_for
from duecourse.services.account import Account, account_of

log = logging.getLogger(__name__)

router = APIRouter(prefix="/portal", include_in_schema=False)

VISITED = "portal visited"
DOWNLOADED = "statement downloaded"


class LinkExpired(InvalidLink):
    """A genuine link whose last day has passed."""


@router.get("/{token}", response_class=HTMLResponse)
def portal_page(request: Request, token: str) -> Response:
    web = web_of(request)
    account = _open(web, token, VISITED)

    speaker = speaker_for(account.client.language)
    context = {
        "account": account,
        "t": speaker.words,
        "lang": speaker.lang,
        "money": speaker.money,
        "day": speaker.day,
        "bank_details": web.web.bank_details,
        "statement_url": request.url_for("portal_statement", token=token).path,
    }
    return _private(page(request, "portal.html", context))


@router.get("/{token}/statement.pdf", name="portal_statement")
def statement(request: Request, token: str) -> Response:
    web = web_of(request)
    account = _open(web, token, DOWNLOADED)

    speaker = speaker_for(account.client.language)
    document = statement_pdf(account, speaker.words, speaker.money, speaker.day)
    name = f"statement-{account.as_of.isoformat()}.pdf"
    response = Response(
        document,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
    return _private(response)


def _open(web: WebContext, token: str, what: str) -> Account:
    """The account the token opens today, recorded as seen; or `InvalidLink`."""
    today = web.today()
    try:
        client_id = web.links.verify(token, today)
    except InvalidLink as refused:
        if _genuine(web, token):
            raise LinkExpired(str(refused)) from None
        raise

    account = account_of(web.accounts, client_id, today, web.quote)
    web.accounts.record_visit(client_id, what, web.now())
    log.info("%s", what, extra={"client_id": client_id})
    return account


def _genuine(web: WebContext, token: str) -> bool:
    """Whether the token was signed by us, whatever its date."""
    try:
        web.links.verify(token, today=date.min)
    except InvalidLink:
        return False
    return True


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
