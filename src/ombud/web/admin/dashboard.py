"""The console's dashboard (``/admin``): deadlines first, then the figures and the latest events.

Open requests are listed by due date with overdue and due-soon ones marked
in words; requests per type and month and consent rates per category are
inline SVG charts, each with its figures as a table too.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from sqlalchemy import select

from ombud import store
from ombud.register.model import Register
from ombud.rights.deadlines import STOCKHOLM, add_months, swedish_date
from ombud.rights.intake import count_requests, list_requests
from ombud.rights.models import DataRequest, RequestType
from ombud.web.admin.audit import recent_entries
from ombud.web.admin.auth import (
    CurrentUser,
    Role,
    config,
    console_language,
    console_page,
    require_role,
)
from ombud.web.admin.charts import Series, bar_chart
from ombud.web.admin.consent import consent_rate_chart
from ombud.web.admin.labels import code, labels
from ombud.web.admin.requests import request_rows, visible_controllers

router = APIRouter(tags=["console"], include_in_schema=False)

#: Open requests listed on the dashboard; the rest are a link away.
SHOWN_OPEN = 15
#: "Due soon": due today or within this many days (the summary line says 7).
DUE_SOON_DAYS = 7
MONTHS = 12


def requests_per_month(rows: list[tuple[str, dt.datetime]], *, today: dt.date, lang: str) -> Markup:
    """A stacked bar per month of the last :data:`MONTHS` months, a segment per request type."""
    t = labels(lang)
    first = add_months(today.replace(day=1), -(MONTHS - 1))
    months = [add_months(first, i) for i in range(MONTHS)]
    index = {(m.year, m.month): i for i, m in enumerate(months)}
    counts = {kind.value: [0] * MONTHS for kind in RequestType}
    for kind, received in rows:
        local = received.astimezone(STOCKHOLM).date()
        slot = index.get((local.year, local.month))
        if slot is not None and kind in counts:
            counts[kind][slot] += 1
    series = [
        Series(code(lang, "type", kind), [float(n) for n in values])
        for kind, values in counts.items()
        if any(values)
    ]
    total = sum(sum(v) for v in counts.values())
    return bar_chart(
        chart_id="per-month",
        title=t["per_month_title"],
        description=t["per_month_desc"].format(total=total),
        x_name=t["month"],
        x_labels=[m.strftime("%Y-%m") for m in months],
        series=series or [Series(t["none"], [0.0] * MONTHS)],
        table_label=t["table_of_chart"],
    )


@router.get("/admin", response_class=HTMLResponse)
def dashboard(
    request: Request, user: Annotated[CurrentUser, Depends(require_role(Role.VIEWER))]
) -> HTMLResponse:
    """Open requests by due date, requests per month, consent rates and the latest events."""
    lang = console_language(request)
    t = labels(lang)
    today = swedish_date(config(request).clock())
    register: Register = request.app.state.register.current().register
    since = add_months(today.replace(day=1), -(MONTHS - 1))
    start = dt.datetime.combine(since, dt.time(), tzinfo=STOCKHOLM)
    with store.transaction(request.app.state.engine) as session:
        controllers = visible_controllers(user)
        opened = list_requests(
            session, open_only=True, controller_ids=controllers, limit=SHOWN_OPEN
        )
        open_count = count_requests(session, open_only=True, controller_ids=controllers)
        overdue = count_requests(session, overdue_on=today, controller_ids=controllers)
        soon = count_requests(
            session,
            open_only=True,
            due_between=(today, today + dt.timedelta(days=DUE_SOON_DAYS)),
            controller_ids=controllers,
        )
        query = select(DataRequest.type, DataRequest.received_at).where(
            DataRequest.received_at >= start
        )
        if user.controller_id is not None:
            query = query.where(DataRequest.controller_id == user.controller_id)
        per_month = [(kind, received) for kind, received in session.execute(query)]
        rates = consent_rate_chart(session, register, today=today, lang=lang)
        entries = recent_entries(
            session, user, lang=lang, root=request.scope.get("root_path", "").rstrip("/")
        )
    return console_page(
        request,
        "admin/dashboard.html.j2",
        user=user,
        lang=lang,
        t=t,
        nav="dashboard",
        title=t["dashboard_title"],
        rows=request_rows(opened, today=today, lang=lang),
        open_count=open_count,
        overdue=overdue,
        soon=soon,
        per_month=requests_per_month(per_month, today=today, lang=lang),
        rates=rates,
        entries=entries,
    )
