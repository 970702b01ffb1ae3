"""The published notice: `/privacy` in HTML, PDF and JSON, and its earlier versions."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from ombud import store
from ombud.notice import render_notice
from ombud.register.model import Register
from ombud.web.language import negotiate
from ombud.web.pages import LABELS, problem_page, render_page
from ombud.web.registry import RegisterSource

router = APIRouter(tags=["privacy notice"])

LangQuery = Annotated[str | None, Query(description="Language code; else Accept-Language decides.")]
MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "json": "application/ld+json",
}


def _source(request: Request) -> RegisterSource:
    source: RegisterSource = request.app.state.register
    return source


def _respond(
    register: Register,
    request: Request,
    lang: str | None,
    fmt: Literal["html", "pdf", "json"],
    version: str,
) -> Response:
    chosen = negotiate(register.languages, lang, request.headers.get("accept-language"))
    body = render_notice(
        register,
        lang=chosen,
        fmt=fmt,
        version=version,
        base_path=request.scope.get("root_path", ""),
    )
    headers = {"Content-Language": chosen, "Vary": "Accept-Language"}
    if fmt == "pdf":
        headers["Content-Disposition"] = f'inline; filename="privacy-{chosen}.pdf"'
    return Response(body, media_type=MEDIA_TYPES[fmt], headers=headers)


@router.get("/privacy", response_class=HTMLResponse)
def notice_html(request: Request, lang: LangQuery = None) -> Response:
    """The privacy notice as an accessible, self-contained HTML page."""
    served = _source(request).current()
    return _respond(served.register, request, lang, "html", served.version)


@router.get(
    "/privacy.pdf", response_class=Response, responses={200: {"content": {"application/pdf": {}}}}
)
def notice_pdf(request: Request, lang: LangQuery = None) -> Response:
    """The privacy notice as PDF, made from the same HTML."""
    served = _source(request).current()
    return _respond(served.register, request, lang, "pdf", served.version)


@router.get(
    "/privacy.json",
    response_class=Response,
    responses={200: {"content": {"application/ld+json": {}}}},
)
def notice_json(request: Request, lang: LangQuery = None) -> Response:
    """The privacy notice as JSON-LD with W3C DPV terms."""
    served = _source(request).current()
    return _respond(served.register, request, lang, "json", served.version)


@router.get("/privacy/history", response_class=HTMLResponse)
def history(request: Request, lang: LangQuery = None) -> Response:
    """Every version of the register that has been served, newest first."""
    served = _source(request).current()
    chosen = negotiate(served.register.languages, lang, request.headers.get("accept-language"))
    with store.transaction(request.app.state.engine) as session:
        versions = [
            {"hash": v.content_hash, "first_served_at": v.first_served_at, "updated": v.updated}
            for v in store.list_versions(session)
        ]
    page = render_page(
        "history.html.j2",
        lang=chosen,
        versions=versions,
        current=served.version,
        title=served.register.organisation.name,
    )
    return HTMLResponse(page, headers={"Content-Language": chosen, "Vary": "Accept-Language"})


@router.get("/privacy/history/{content_hash}", response_class=HTMLResponse)
def history_version(request: Request, content_hash: str, lang: LangQuery = None) -> Response:
    """The notice exactly as it read in an earlier version."""
    with store.transaction(request.app.state.engine) as session:
        version = store.get_version(session, content_hash)
        register = store.load_version(version) if version is not None else None
    if register is None:
        # A person followed a stale or mistyped link: a page in their language, not JSON.
        served = _source(request).current().register
        chosen = negotiate(served.languages, lang, request.headers.get("accept-language"))
        t = LABELS.get(chosen, LABELS["en"])
        return problem_page(
            request,
            lang=chosen,
            organisation=served.organisation.name,
            heading=t["version_missing"],
            message=t["version_missing_message"],
            contact=None,
            next_href=f"/privacy/history?lang={chosen}",
            next_label=t["history_title"],
            status=404,
        )
    return _respond(register, request, lang, "html", content_hash)
