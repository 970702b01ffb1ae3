"""Sweden's working days, for counting legal deadlines.

A working day is a day that is neither a Saturday, a Sunday nor a Swedish public
holiday (allmän helgdag, lag (1989:253)). By default midsommarafton, julafton and
nyårsafton count as non-working days too: they are not public holidays, but Swedish
law treats them like Sundays when a statutory deadline falls on them (lag
(1930:173) om beräkning av lagstadgad tid, 2 §) and nearly every office is closed.
``SwedishCalendar(de_facto_holidays=False)`` turns that off.

The holiday dates come from the ``holidays`` package, asked for explicitly without
Sundays: its Sweden calendar lists every Sunday as a holiday ("Söndag") unless told
otherwise in many releases. Here a Sunday is a weekend day, not a named holiday.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Protocol

from holidays.constants import DE_FACTO, PUBLIC
from holidays.countries.sweden import Sweden

__all__ = [
    "SWEDEN",
    "SwedishCalendar",
    "WorkingDayCalendar",
    "is_working_day",
    "next_working_day",
]

_SATURDAY = 5  # date.weekday(): Monday is 0, so 5 and 6 are the weekend


class WorkingDayCalendar(Protocol):
    """What deadline counting needs from a calendar: which days are working days."""

    def is_working_day(self, day: dt.date) -> bool:
        """True when ``day`` is neither a weekend day nor a holiday."""
        ...


@cache
def _swedish_holidays(year: int, *, de_facto: bool) -> Mapping[dt.date, str]:
    """Swedish names of the holidays of one year; cached and read-only, so shareable."""
    categories = (PUBLIC, DE_FACTO) if de_facto else (PUBLIC,)
    # include_sundays=False: otherwise older releases add all 52 Sundays as "Söndag".
    table = Sweden(years=year, categories=categories, language="sv", include_sundays=False)
    return MappingProxyType(dict(table.items()))


def _plain_date(day: dt.date) -> dt.date:
    # A datetime is a date, but never equal to one: holiday lookups would silently miss.
    if isinstance(day, dt.datetime):
        raise TypeError(
            f"expected a date, got the datetime {day.isoformat()}: "
            "convert it with ombud.rights.deadlines.swedish_date() first"
        )
    return day


@dataclass(frozen=True, slots=True)
class SwedishCalendar:
    """Sweden's working days; ``de_facto_holidays`` makes midsommarafton, julafton and
    nyårsafton non-working days (the default)."""

    de_facto_holidays: bool = True

    def holidays(self, year: int) -> Mapping[dt.date, str]:
        """Every holiday of ``year`` (date -> Swedish name), without ordinary Sundays."""
        return _swedish_holidays(year, de_facto=self.de_facto_holidays)

    def holiday_name(self, day: dt.date) -> str | None:
        """The Swedish name of the holiday on ``day``, or None when it is not one."""
        day = _plain_date(day)
        return self.holidays(day.year).get(day)

    def is_working_day(self, day: dt.date) -> bool:
        """True when ``day`` is neither a Saturday, a Sunday nor a holiday."""
        day = _plain_date(day)
        return day.weekday() < _SATURDAY and day not in self.holidays(day.year)

    def next_working_day(self, day: dt.date) -> dt.date:
        """The first working day strictly after ``day``."""
        day = _plain_date(day) + dt.timedelta(days=1)
        while not self.is_working_day(day):
            day += dt.timedelta(days=1)
        return day

    def working_day_on_or_after(self, day: dt.date) -> dt.date:
        """``day`` itself when it is a working day, else the next working day."""
        return day if self.is_working_day(day) else self.next_working_day(day)


SWEDEN = SwedishCalendar()
"""The default calendar: Swedish public holidays plus the three de facto holidays."""


def is_working_day(day: dt.date, *, calendar: SwedishCalendar = SWEDEN) -> bool:
    """True when ``day`` is a working day in Sweden (see ``SwedishCalendar``)."""
    return calendar.is_working_day(day)


def next_working_day(day: dt.date, *, calendar: SwedishCalendar = SWEDEN) -> dt.date:
    """The first Swedish working day strictly after ``day``."""
    return calendar.next_working_day(day)
