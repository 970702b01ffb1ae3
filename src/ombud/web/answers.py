"""Delivering an answer: the single-use link from the answer mail.

``GET`` only shows the page; the download is a ``POST`` from its button, so a
mail scanner that opens links in advance does not use the link up.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from ombud import store
from ombud.rights.answer import check_link, download
from ombud.rights.errors import VerificationError
from ombud.rights.models import DataRequest
from ombud.web.language import negotiate
from ombud.web.pages import render_page

router = APIRouter(tags=["privacy portal"])

PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _page(request: Request, lang: str | None, *, request_id: str | None) -> HTMLResponse:
    register = request.app.state.register.current().register
    chosen = negotiate(register.languages, lang, request.headers.get("accept-language"))
    dpo = register.organisation.dpo
    page = render_page(
        "request_answer.html.j2",
        lang=chosen,
        title=register.organisation.name,
        ready=request_id is not None,
        request_id=request_id,
        contact=dpo.email if dpo is not None else None,
    )
    status = 200 if request_id is not None else 404
    return HTMLResponse(page, status_code=status, headers={**PRIVATE, "Content-Language": chosen})


@router.get("/privacy/request/answer/{token}", response_class=HTMLResponse)
def answer_page(
    request: Request, token: str, lang: Annotated[str | None, Query()] = None
) -> Response:
    """The page of the answer link, with the button that downloads it."""
    now = dt.datetime.now(dt.UTC)
    try:
        with store.transaction(request.app.state.engine) as session:
            extract = check_link(session, token, now=now)
            answered = session.get(DataRequest, extract.request_id)
            language = lang or (answered.language if answered is not None else None)
            request_id = extract.request_id
    except VerificationError:
        return _page(request, lang, request_id=None)
    return _page(request, language, request_id=request_id)


@router.post("/privacy/request/answer/{token}", response_class=Response)
def answer_download(
    request: Request, token: str, lang: Annotated[str | None, Query()] = None
) -> Response:
    """The answer itself, once."""
    now = dt.datetime.now(dt.UTC)
    try:
        with store.transaction(request.app.state.engine) as session:
            filename, content = download(session, token, keys=request.app.state.keys, now=now)
    except VerificationError:
        return _page(request, lang, request_id=None)
    return Response(
        content,
        media_type="application/zip",
        headers={**PRIVATE, "Content-Disposition": f'attachment; filename="{filename}"'},
    )
