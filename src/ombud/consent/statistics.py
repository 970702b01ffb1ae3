"""Consent-rate statistics of the cookie banner: per day (UTC) and category, in one query.

Counted in choices, not events: a choice (one answer of the banner, one
``choice_id``) that asked about a category counts once for it.

===================== =============================================================
``shown``             choices that answered the category (the server sees a banner
                      only when it is answered)
``given``             of those, choices that gave consent to it
``refused``           choices that refused it
``withdrawn``         choices that withdrew it (it had been given)
``gpc_share``         share of ``shown`` that came with a Global Privacy Control signal
``reject_all_share``  share of ``shown`` in which nothing at all was given ("reject all",
                      or GPC and no to the rest)
===================== =============================================================

Sign-up forms have no category and are not counted here, nor are the ``expired``
events of :func:`ombud.consent.ledger.record_expired`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypedDict

from sqlalchemy import ColumnElement, Date, case, cast, func, select
from sqlalchemy.orm import Session

from ombud.consent.models import ConsentEvent, EventType

__all__ = ["MAX_DAYS", "DayStatistics", "statistics"]

#: The longest period one call may cover.
MAX_DAYS = 366


class DayStatistics(TypedDict):
    day: str
    category: str
    shown: int
    given: int
    refused: int
    withdrawn: int
    gpc_share: float
    reject_all_share: float


def _day(session: Session) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", ConsentEvent.created_at), Date)
    # SQLite keeps UTC wall time as text (UTCDateTime): its date is the first ten characters.
    return func.date(ConsentEvent.created_at)


def _choices_where(event: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.count(func.distinct(case((event, ConsentEvent.choice_id))))


def statistics(session: Session, *, since: dt.date, until: dt.date) -> list[DayStatistics]:
    """The banner's figures for every day from ``since`` to ``until`` (both included, UTC)
    and category that had choices, ordered by day and category.

    Raises ValueError for a period that ends before it starts or is longer than MAX_DAYS.
    """
    if until < since:
        raise ValueError(f"the period ends ({until}) before it starts ({since})")
    if (until - since).days + 1 > MAX_DAYS:
        raise ValueError(f"at most {MAX_DAYS} days per call; ask for a shorter period")
    start = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC)
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    in_period = (
        ConsentEvent.created_at >= start,
        ConsentEvent.created_at < end,
        ConsentEvent.category.is_not(None),
        # A sweep's expired events are no one's answer.
        ConsentEvent.event != EventType.EXPIRED.value,
    )
    # Per choice: whether anything at all was given in it.
    choices = (
        select(
            ConsentEvent.choice_id.label("choice_id"),
            func.max(case((ConsentEvent.event == EventType.GIVEN.value, 1), else_=0)).label(
                "any_given"
            ),
        )
        .where(*in_period)
        .group_by(ConsentEvent.choice_id)
        .subquery()
    )
    day = _day(session).label("day")
    query = (
        select(
            day,
            ConsentEvent.category,
            func.count(func.distinct(ConsentEvent.choice_id)).label("shown"),
            _choices_where(ConsentEvent.event == EventType.GIVEN.value).label("given"),
            _choices_where(ConsentEvent.event == EventType.REFUSED.value).label("refused"),
            _choices_where(ConsentEvent.event == EventType.WITHDRAWN.value).label("withdrawn"),
            _choices_where(ConsentEvent.gpc.is_(True)).label("gpc"),
            _choices_where(choices.c.any_given == 0).label("reject_all"),
        )
        .join(choices, choices.c.choice_id == ConsentEvent.choice_id)
        .where(*in_period)
        .group_by(day, ConsentEvent.category)
        .order_by(day, ConsentEvent.category)
    )
    rows: list[DayStatistics] = []
    for row in session.execute(query):
        shown = int(row.shown)
        rows.append(
            DayStatistics(
                day=str(row.day),
                category=str(row.category),
                shown=shown,
                given=int(row.given),
                refused=int(row.refused),
                withdrawn=int(row.withdrawn),
                gpc_share=round(int(row.gpc) / shown, 4) if shown else 0.0,
                reject_all_share=round(int(row.reject_all) / shown, 4) if shown else 0.0,
            )
        )
    return rows
