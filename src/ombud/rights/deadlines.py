"""When a data subject request must be answered: Art. 12(3) GDPR, counted per Reg. 1182/71.

The controller answers "within one month of receipt of the request"; the period
"may be extended by two further months where necessary", and the data subject
must be told of an extension, with reasons, within the first month (Art. 12(3)).
Periods are counted by Regulation (EEC, Euratom) No 1182/71, Art. 3:

- the day of receipt is not counted (3(1));
- a period of months ends at the end of the day in the last month with the same
  date as the day of receipt, or at the end of that month's last day when it has
  no such date (3(2)(c));
- when that last day is a Saturday, Sunday or public holiday, the period ends at
  the end of the following working day (3(4)).

Every function takes "today" or the receipt as an argument: there is no hidden
clock. A moment of receipt is read as a date in Europe/Stockholm, so a request
arriving at 23:30 UTC on 31 March 2025 was received on 1 April 2025.

Errors, all ``ValueError``\\s::

    DeadlineError
    ├── NaiveDatetimeError   a datetime without a time zone
    └── ExtensionError       an extension other than one or two further months

docs/deadlines.md gives the sources and the readings taken where the text leaves room.
"""

from __future__ import annotations

import calendar as _gregorian
import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from ombud.rights.calendar import SWEDEN, WorkingDayCalendar

__all__ = [
    "ANSWER_MONTHS",
    "MAX_EXTENSION_MONTHS",
    "STOCKHOLM",
    "Deadline",
    "DeadlineError",
    "ExtensionError",
    "NaiveDatetimeError",
    "add_months",
    "due_date",
    "extended_due_date",
    "extension_notice_deadline",
    "period_end",
    "swedish_date",
]

STOCKHOLM = ZoneInfo("Europe/Stockholm")
ANSWER_MONTHS = 1  # Art. 12(3): "within one month of receipt of the request"
MAX_EXTENSION_MONTHS = 2  # Art. 12(3): "may be extended by two further months"


class DeadlineError(ValueError):
    """A deadline cannot be computed from what was given."""


class NaiveDatetimeError(DeadlineError):
    """A moment of receipt has no time zone, so its Swedish date is unknown."""


class ExtensionError(DeadlineError):
    """An extension of other than one or two further months was asked for."""


def swedish_date(moment: dt.date | dt.datetime) -> dt.date:
    """The date in Sweden (Europe/Stockholm) of ``moment``.

    An aware datetime (UTC or any zone) is converted to Stockholm time first; a plain
    date is taken to be a Swedish date already. A naive datetime raises
    ``NaiveDatetimeError``: the same clock reading is a different day in different zones.
    """
    if not isinstance(moment, dt.datetime):
        return moment
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        raise NaiveDatetimeError(
            f"the moment {moment.isoformat()} has no time zone, so its date in Sweden is "
            "unknown: pass an aware datetime, e.g. datetime.now(timezone.utc) or "
            "datetime(..., tzinfo=timezone.utc)"
        )
    return moment.astimezone(STOCKHOLM).date()


def add_months(day: dt.date, months: int) -> dt.date:
    """The same date ``months`` calendar months later, or that month's last day when it
    is shorter (31 January + 1 month is 28 or 29 February): Reg. 1182/71 Art. 3(2)(c)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = _gregorian.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def period_end(
    received: dt.date | dt.datetime,
    months: int,
    *,
    calendar: WorkingDayCalendar = SWEDEN,
) -> dt.date:
    """The last day of a period of ``months`` months running from receipt (Art. 3 of
    Reg. 1182/71): the same date ``months`` later, moved to the next working day when
    it is not one. The answer is in time until the end of the returned day."""
    if months < 1:
        raise DeadlineError(f"a period must be at least one month long, got {months}")
    last = add_months(swedish_date(received), months)
    while not calendar.is_working_day(last):
        last += dt.timedelta(days=1)
    return last


def due_date(received: dt.date | dt.datetime, *, calendar: WorkingDayCalendar = SWEDEN) -> dt.date:
    """The last day to answer a request received on ``received`` (Art. 12(3): one month).

    Also the last day to refuse with reasons (Art. 12(4)).
    """
    return period_end(received, ANSWER_MONTHS, calendar=calendar)


def extended_due_date(
    received: dt.date | dt.datetime,
    *,
    months: int = MAX_EXTENSION_MONTHS,
    calendar: WorkingDayCalendar = SWEDEN,
) -> dt.date:
    """The last day to answer when the period is extended by ``months`` further months.

    Counted as one period of 1 + ``months`` months from receipt, by the same rules as
    ``due_date`` (see docs/deadlines.md for why, and for the other possible reading).
    """
    if not 1 <= months <= MAX_EXTENSION_MONTHS:
        raise ExtensionError(
            f"Art. 12(3) GDPR allows an extension of at most {MAX_EXTENSION_MONTHS} further "
            f"months, got {months}: pass months=1 or months=2"
        )
    return period_end(received, ANSWER_MONTHS + months, calendar=calendar)


def extension_notice_deadline(
    received: dt.date | dt.datetime, *, calendar: WorkingDayCalendar = SWEDEN
) -> dt.date:
    """The last day to tell the data subject of an extension and its reasons: the
    original due date, as this must happen "within one month of receipt" (Art. 12(3))."""
    return due_date(received, calendar=calendar)


@dataclass(frozen=True, slots=True)
class Deadline:
    """The deadline of one request, and how it stands on a given day.

    ``received`` is the Swedish date of receipt; ``original_due`` the one-month due
    date, which is also the last day to announce an extension; ``extended_due`` is set
    once the period has been extended. Every question takes ``today`` explicitly: pass
    ``swedish_date(datetime.now(timezone.utc))`` for "now".
    """

    received: dt.date
    original_due: dt.date
    extended_due: dt.date | None = None

    @classmethod
    def for_request(
        cls, received: dt.date | dt.datetime, *, calendar: WorkingDayCalendar = SWEDEN
    ) -> Deadline:
        """The one-month deadline of a request received at ``received``."""
        return cls(swedish_date(received), due_date(received, calendar=calendar))

    def extend(
        self, *, months: int = MAX_EXTENSION_MONTHS, calendar: WorkingDayCalendar = SWEDEN
    ) -> Deadline:
        """This deadline extended by ``months`` further months (Art. 12(3)).

        Whether an extension is justified and was announced in time
        (``notice_deadline``) is the caller's decision to record, not checked here.
        """
        extended = extended_due_date(self.received, months=months, calendar=calendar)
        return Deadline(self.received, self.original_due, extended)

    @property
    def due(self) -> dt.date:
        """The day by whose end the answer must be given."""
        return self.extended_due if self.extended_due is not None else self.original_due

    @property
    def is_extended(self) -> bool:
        """True once the period has been extended."""
        return self.extended_due is not None

    @property
    def notice_deadline(self) -> dt.date:
        """The last day to tell the data subject of an extension, with reasons."""
        return self.original_due

    def days_remaining(self, today: dt.date) -> int:
        """Calendar days from ``today`` to the due date: 0 on the due date itself (still
        in time until its end), negative once overdue."""
        return (self.due - _today(today)).days

    def is_overdue(self, today: dt.date) -> bool:
        """True when the due date has passed: ``today`` is after it."""
        return self.days_remaining(today) < 0

    def is_due_within(self, days: int, *, today: dt.date) -> bool:
        """True when the request is not yet overdue and due within ``days`` calendar days
        of ``today`` (``days=0``: due today). Overdue requests are ``is_overdue``."""
        if days < 0:
            raise DeadlineError(f"the look-ahead must be zero or more days, got {days}")
        return 0 <= self.days_remaining(today) <= days


def _today(today: dt.date) -> dt.date:
    # date - datetime raises a bare TypeError deep inside; say what to pass instead.
    if isinstance(today, dt.datetime):
        raise TypeError(
            f"today must be a date, got the datetime {today.isoformat()}: "
            "pass swedish_date(moment) instead"
        )
    return today
