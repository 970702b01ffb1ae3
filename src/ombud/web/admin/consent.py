"""The consent ledger in the console: find a person's consents, show a receipt, and statistics.

A search is a POST, so the identifier typed never lands in a URL, a browser's
history or an access log; it is turned into the keyed digest the ledger is
kept under (:func:`ombud.consent.ledger.subject_digest`) and not kept.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from ombud import store
from ombud.consent.errors import ConsentError
from ombud.consent.ledger import current, subject_digest
from ombud.consent.models import ConsentEvent, ConsentText
from ombud.consent.receipts import receipt
from ombud.consent.statistics import MAX_DAYS, DayStatistics, statistics
from ombud.register.model import Register
from ombud.rights.deadlines import swedish_date
from ombud.web.admin.auth import (
    CurrentUser,
    Role,
    check_csrf,
    config,
    console_language,
    console_page,
    require_role,
)
from ombud.web.admin.charts import Series, line_chart, rate
from ombud.web.admin.labels import code, labels, local_time
from ombud.web.forms import FormError, first, read_form

router = APIRouter(tags=["console"], include_in_schema=False)

WEEKS = 12
#: The statistics period shown when none is asked for.
DEFAULT_DAYS = 30
SEARCH_KINDS = ("email", "phone", "personnummer", "customer_id", "visitor_id")
#: The most events one search lists.
MAX_EVENTS = 200

Viewer = Annotated[CurrentUser, Depends(require_role(Role.VIEWER))]


def _category_names(register: Register, lang: str) -> dict[str, str]:
    return {
        category_id: category.name.get(lang, register.language)
        for category_id, category in register.consent.cookie_categories.items()
    }


def consent_rate_chart(
    session: Session, register: Register, *, today: dt.date, lang: str
) -> Markup | None:
    """The share of banner choices giving consent, per category and ISO week, over the last
    :data:`WEEKS` weeks; None when there were no choices."""
    t = labels(lang)
    monday = today - dt.timedelta(days=today.weekday())
    start = monday - dt.timedelta(weeks=WEEKS - 1)
    rows = statistics(session, since=start, until=today)
    if not rows:
        return None
    weeks = [start + dt.timedelta(weeks=i) for i in range(WEEKS)]
    names = _category_names(register, lang)
    shown: dict[str, list[int]] = {}
    given: dict[str, list[int]] = {}
    for row in rows:
        slot = (dt.date.fromisoformat(row["day"]) - start).days // 7
        if not 0 <= slot < WEEKS:
            continue
        shown.setdefault(row["category"], [0] * WEEKS)[slot] += row["shown"]
        given.setdefault(row["category"], [0] * WEEKS)[slot] += row["given"]
    series = [
        Series(
            names.get(category, category),
            [rate(g, s) for g, s in zip(given[category], counts, strict=True)],
        )
        for category, counts in sorted(shown.items())
    ]
    return line_chart(
        chart_id="consent-rates",
        title=t["consent_rates_title"],
        description=t["consent_rates_desc"],
        x_name=t["week"],
        x_labels=[f"{w.isocalendar().year}-V{w.isocalendar().week:02d}" for w in weeks],
        series=series,
        table_label=t["table_of_chart"],
        suffix=" %",
        maximum=100.0,
    )


def _period(since: str, until: str, today: dt.date) -> tuple[dt.date, dt.date] | None:
    try:
        last = dt.date.fromisoformat(until) if until else today
        start = (
            dt.date.fromisoformat(since) if since else last - dt.timedelta(days=DEFAULT_DAYS - 1)
        )
    except ValueError:
        return None
    if start > last or (last - start).days + 1 > MAX_DAYS:
        return None
    return start, last


def _totals(rows: list[DayStatistics], names: dict[str, str]) -> list[dict[str, Any]]:
    """Per category over the period: choices, consent, refusals and the shares."""
    by_category: dict[str, dict[str, float]] = {}
    for row in rows:
        totals = by_category.setdefault(
            row["category"],
            {"shown": 0, "given": 0, "refused": 0, "withdrawn": 0, "gpc": 0.0, "reject_all": 0.0},
        )
        for key in ("shown", "given", "refused", "withdrawn"):
            totals[key] += row[key]
        totals["gpc"] += row["gpc_share"] * row["shown"]
        totals["reject_all"] += row["reject_all_share"] * row["shown"]
    return [
        {
            "category": names.get(category, category),
            "shown": int(totals["shown"]),
            "given": int(totals["given"]),
            "refused": int(totals["refused"]),
            "withdrawn": int(totals["withdrawn"]),
            "rate": rate(int(totals["given"]), int(totals["shown"])),
            "gpc": rate(round(totals["gpc"]), int(totals["shown"])),
            "reject_all": rate(round(totals["reject_all"]), int(totals["shown"])),
        }
        for category, totals in sorted(by_category.items())
    ]


def _consent_page(
    request: Request,
    user: CurrentUser,
    *,
    since: str = "",
    until: str = "",
    found: dict[str, Any] | None = None,
    search: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    lang = console_language(request)
    t = labels(lang)
    register: Register = request.app.state.register.current().register
    today = swedish_date(config(request).clock())
    period = _period(since, until, today)
    period_error = None
    if period is None:
        period_error = t["stats_bad_period"]
        period = (today - dt.timedelta(days=DEFAULT_DAYS - 1), today)
    with store.transaction(request.app.state.engine) as session:
        rows = statistics(session, since=period[0], until=period[1])
        chart = consent_rate_chart(session, register, today=today, lang=lang)
    return console_page(
        request,
        "admin/consent.html.j2",
        user=user,
        lang=lang,
        t=t,
        nav="consent",
        title=t["consent_title"],
        status_code=400 if period_error and status_code == 200 else status_code,
        kinds=SEARCH_KINDS,
        search=search or {"kind": "email", "value": ""},
        found=found,
        error=error,
        period={"since": period[0].isoformat(), "until": period[1].isoformat()},
        period_error=period_error,
        totals=_totals(rows, _category_names(register, lang)),
        chart=chart,
    )


@router.get("/admin/consent", response_class=HTMLResponse)
def consent_page(
    request: Request,
    user: Viewer,
    since: Annotated[str, Query()] = "",
    until: Annotated[str, Query()] = "",
) -> HTMLResponse:
    """The search form and the banner's statistics for a period (default the last 30 days)."""
    return _consent_page(request, user, since=since, until=until)


def _found(
    session: Session, digest: str, register: Register, lang: str, now: dt.datetime
) -> dict[str, Any]:
    events = list(
        session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.subject_digest == digest)
            .order_by(ConsentEvent.created_at.desc(), ConsentEvent.id)
            .limit(MAX_EVENTS)
        )
    )
    purposes = {e.purpose for e in events} | set(register.consent_purposes())
    state = current(session, {digest}, purposes, now=now)[digest]
    return {
        "states": [
            {"purpose": purpose, "state": code(lang, "consent", value), "raw": value}
            for purpose, value in sorted(state.items())
            if any(e.purpose == purpose for e in events)
        ],
        "events": [
            {
                "id": e.id,
                "time": local_time(e.created_at),
                "purpose": e.purpose,
                "category": e.category,
                "event": code(lang, "consent", e.event),
                "method": code(lang, "method", e.method),
                "gpc": e.gpc,
            }
            for e in events
        ],
    }


@router.post(
    "/admin/consent/search", response_class=HTMLResponse, dependencies=[Depends(check_csrf)]
)
async def search(request: Request, user: Viewer) -> HTMLResponse:
    """The consents recorded under one identifier (e-mail, phone, ... or visitor id)."""
    lang = console_language(request)
    t = labels(lang)
    try:
        form = await read_form(request)
    except FormError:
        return _consent_page(request, user, error=t["form_unreadable"], status_code=400)
    kind = first(form, "kind")
    value = first(form, "value").strip()
    shown = {"kind": kind, "value": value}
    if kind not in SEARCH_KINDS or not value:
        return _consent_page(request, user, search=shown, error=t["search_value"], status_code=400)
    now = config(request).clock()
    register: Register = request.app.state.register.current().register
    try:
        digest = subject_digest(request.app.state.keys, kind, value, now=now)
    except ConsentError as exc:
        return _consent_page(request, user, search=shown, error=str(exc), status_code=400)

    def look() -> dict[str, Any]:
        with store.transaction(request.app.state.engine) as session:
            return _found(session, digest, register, lang, now)

    found = await run_in_threadpool(look)
    return _consent_page(request, user, search=shown, found=found)


def _shown_text(content: dict[str, Any]) -> list[tuple[str, str]]:
    """The words the person saw, in order, from a stored consent text."""
    lines: list[tuple[str, str]] = []
    if content.get("kind") == "banner":
        wording = content.get("wording") or {}
        lines.extend(
            (key, str(wording[key]))
            for key in ("title", "intro", "withdrawal", "gpc")
            if wording.get(key)
        )
        for category in content.get("categories") or []:
            text = str(category.get("description") or "")
            lines.append((str(category.get("name") or category.get("id")), text))
    else:
        lines.extend(
            (key, str(content[key])) for key in ("name", "text", "withdrawal") if content.get(key)
        )
    return lines


@router.get("/admin/consent/receipts/{event_id}", response_class=HTMLResponse)
def receipt_page(request: Request, event_id: str, user: Viewer) -> HTMLResponse:
    """A receipt: the event, how and when it was recorded, and the exact text shown."""
    lang = console_language(request)
    t = labels(lang)
    base_url: str = request.app.state.settings.base_url
    try:
        with store.transaction(request.app.state.engine) as session:
            proof = receipt(session, event_id, base_url=base_url)
            # receipt() has checked the id is a UUID and the event exists.
            event = session.get(ConsentEvent, str(uuid.UUID(event_id)))
            assert event is not None
            text = session.get(ConsentText, event.text_digest)
            facts = {
                "event": code(lang, "consent", event.event),
                "purpose": event.purpose,
                "when": local_time(event.created_at),
                "method": code(lang, "method", event.method),
                "language": event.language,
                "gpc": event.gpc,
                "version": event.register_version,
            }
            shown = _shown_text(text.content) if text is not None else []
    except ConsentError:
        return console_page(
            request,
            "admin/receipt.html.j2",
            user=user,
            lang=lang,
            t=t,
            nav="consent",
            title=t["receipt_title"],
            status_code=404,
            facts=None,
            shown=[],
            proof=None,
        )
    return console_page(
        request,
        "admin/receipt.html.j2",
        user=user,
        lang=lang,
        t=t,
        nav="consent",
        title=t["receipt_title"],
        facts=facts,
        shown=shown,
        proof=json.dumps(proof, indent=2, ensure_ascii=False),
    )
