"""Answer deadlines: Art. 12(3) GDPR counted per Reg. 1182/71 on Sweden's working days.

Every expected date below was worked out by hand and checked against a printed
calendar (``python -c "import calendar; print(calendar.month(2025, 12))"``).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from ombud.rights.calendar import (
    SWEDEN,
    SwedishCalendar,
    is_working_day,
    next_working_day,
)
from ombud.rights.deadlines import (
    Deadline,
    DeadlineError,
    ExtensionError,
    NaiveDatetimeError,
    add_months,
    due_date,
    extended_due_date,
    extension_notice_deadline,
    swedish_date,
)

D = dt.date.fromisoformat
UTC = dt.UTC
NO_DE_FACTO = SwedishCalendar(de_facto_holidays=False)

# (received, due, why). Weekdays are those of the last day before any roll-forward.
DUE_DATES = [
    # DOMAIN.md's examples
    ("2025-01-31", "2025-02-28", "no 31 Feb: month's last day, a Friday"),
    ("2025-05-31", "2025-06-30", "no 31 Jun: month's last day, a Monday"),
    ("2025-11-06", "2025-12-08", "Sat 6 Dec -> Mon 8 Dec"),
    # month ends, leap years
    ("2024-01-31", "2024-02-29", "leap year: Thu 29 Feb"),
    ("2028-01-31", "2028-02-29", "leap year: Tue 29 Feb"),
    ("2027-01-31", "2027-03-01", "Sun 28 Feb -> Mon 1 Mar"),
    ("2026-01-29", "2026-03-02", "no 29 Feb 2026: Sat 28 Feb -> Mon 2 Mar"),
    ("2025-03-31", "2025-04-30", "no 31 Apr: Wed 30 Apr"),
    ("2025-08-31", "2025-09-30", "no 31 Sep: Tue 30 Sep"),
    ("2024-12-31", "2025-01-31", "over the year end: Fri 31 Jan"),
    ("2025-12-31", "2026-02-02", "over the year end: Sat 31 Jan -> Mon 2 Feb"),
    ("2026-12-31", "2027-02-01", "over the year end: Sun 31 Jan -> Mon 1 Feb"),
    ("2024-02-29", "2024-04-02", "29 Mar 2024 is långfredagen; 30-31 weekend; 1 Apr annandag påsk"),
    ("2028-02-29", "2028-03-29", "Wed 29 Mar 2028, Easter is 16 Apr"),
    # plain weekends
    ("2025-01-15", "2025-02-17", "Sat 15 Feb -> Mon 17 Feb"),
    ("2025-07-05", "2025-08-05", "received on a Saturday: Tue 5 Aug"),
    # Easter 2025 (påskdagen 20 Apr) and 2026 (påskdagen 5 Apr)
    ("2025-03-18", "2025-04-22", "Fri 18 Apr långfredagen, weekend, Mon 21 annandag påsk"),
    ("2025-03-21", "2025-04-22", "Mon 21 Apr annandag påsk"),
    ("2026-03-03", "2026-04-07", "Fri 3 Apr långfredagen, weekend, Mon 6 annandag påsk"),
    ("2026-03-06", "2026-04-07", "Mon 6 Apr annandag påsk"),
    # Kristi himmelsfärdsdag
    ("2025-04-29", "2025-05-30", "Thu 29 May 2025"),
    ("2026-04-14", "2026-05-15", "Thu 14 May 2026"),
    # nationaldagen; annandag pingst has been a working day since 2005
    ("2025-05-06", "2025-06-09", "Fri 6 Jun, Sat, Sun 8 pingstdagen -> Mon 9 Jun"),
    ("2026-05-06", "2026-06-08", "Sat 6 Jun 2026 -> Mon 8 Jun"),
    # midsommarafton (de facto) and midsommardagen
    ("2025-05-20", "2025-06-23", "Fri 20 Jun midsommarafton, Sat 21 midsommardagen"),
    ("2025-05-21", "2025-06-23", "Sat 21 Jun midsommardagen"),
    ("2026-05-19", "2026-06-22", "Fri 19 Jun midsommarafton, Sat 20 midsommardagen"),
    ("2026-05-20", "2026-06-22", "Sat 20 Jun midsommardagen"),
    # jul
    ("2025-11-24", "2025-12-29", "Wed 24 julafton, 25-26 juldagen/annandag, 27-28 weekend"),
    ("2026-11-24", "2026-12-28", "Thu 24 julafton, Fri 25, weekend"),
    ("2027-11-24", "2027-12-27", "Fri 24 julafton, Sat 25, Sun 26"),
    # nyår and trettondedag jul
    ("2025-11-30", "2025-12-30", "Tue 30 Dec is a working day"),
    ("2025-12-01", "2026-01-02", "Thu 1 Jan nyårsdagen"),
    ("2024-12-06", "2025-01-07", "Mon 6 Jan 2025 trettondedag jul"),
    ("2025-12-06", "2026-01-07", "Tue 6 Jan 2026 trettondedag jul"),
    # första maj
    ("2025-04-01", "2025-05-02", "Thu 1 May 2025"),
    ("2026-04-01", "2026-05-04", "Fri 1 May 2026, weekend"),
    # alla helgons dag: the Saturday between 31 Oct and 6 Nov
    ("2025-10-01", "2025-11-03", "Sat 1 Nov 2025 alla helgons dag"),
    ("2026-10-03", "2026-11-03", "Tue 3 Nov 2026, alla helgons dag was Sat 31 Oct"),
]


@pytest.mark.parametrize(("received", "due", "why"), DUE_DATES, ids=[r for r, _, _ in DUE_DATES])
def test_due_date(received: str, due: str, why: str) -> None:
    assert due_date(D(received)) == D(due), why


def test_the_table_is_large_enough_and_its_dates_are_working_days() -> None:
    assert len(DUE_DATES) >= 30
    for _, due, _ in DUE_DATES:
        assert D(due).weekday() < 5


# --- the calendar -----------------------------------------------------------------

SWEDISH_HOLIDAYS_2025 = {
    "2025-01-01": "Nyårsdagen",
    "2025-01-06": "Trettondedag jul",
    "2025-04-18": "Långfredagen",
    "2025-04-20": "Påskdagen",
    "2025-04-21": "Annandag påsk",
    "2025-05-01": "Första maj",
    "2025-05-29": "Kristi himmelsfärdsdag",
    "2025-06-06": "Nationaldagen",
    "2025-06-08": "Pingstdagen",
    "2025-06-20": "Midsommarafton",
    "2025-06-21": "Midsommardagen",
    "2025-11-01": "Alla helgons dag",
    "2025-12-24": "Julafton",
    "2025-12-25": "Juldagen",
    "2025-12-26": "Annandag jul",
    "2025-12-31": "Nyårsafton",
}
DE_FACTO_2025 = {"2025-06-20", "2025-12-24", "2025-12-31"}


def test_the_2025_holidays_are_exactly_the_swedish_ones_without_ordinary_sundays() -> None:
    got = {day.isoformat(): name for day, name in SWEDEN.holidays(2025).items()}
    assert got == SWEDISH_HOLIDAYS_2025


def test_without_de_facto_holidays_only_the_public_ones_remain() -> None:
    got = {day.isoformat() for day in NO_DE_FACTO.holidays(2025)}
    assert got == set(SWEDISH_HOLIDAYS_2025) - DE_FACTO_2025


def test_a_sunday_is_not_a_working_day_nor_a_named_holiday() -> None:
    sunday = D("2025-03-09")
    assert sunday.weekday() == 6
    assert not is_working_day(sunday)
    assert SWEDEN.holiday_name(sunday) is None
    assert all(name != "Söndag" for name in SWEDEN.holidays(2026).values())


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2025-12-23", True),  # Tuesday before julafton
        ("2025-12-24", False),  # julafton
        ("2025-12-27", False),  # Saturday
        ("2025-12-29", True),  # Monday
        ("2025-06-20", False),  # midsommarafton
        ("2025-06-09", True),  # annandag pingst: a working day since 2005
        ("2025-04-17", True),  # skärtorsdagen: a bank half-day, not a holiday
    ],
)
def test_is_working_day(day: str, working: bool) -> None:
    assert is_working_day(D(day)) is working


@pytest.mark.parametrize(
    ("day", "following"),
    [
        ("2025-12-23", "2025-12-29"),  # strictly after: from Tuesday over jul
        ("2025-12-22", "2025-12-23"),  # Monday -> Tuesday
        ("2025-04-17", "2025-04-22"),  # skärtorsdagen over Easter
        ("2025-12-30", "2026-01-02"),  # over nyårsafton and nyårsdagen
    ],
)
def test_next_working_day(day: str, following: str) -> None:
    assert next_working_day(D(day)) == D(following)


def test_de_facto_days_are_working_days_when_switched_off() -> None:
    assert is_working_day(D("2025-12-24"), calendar=NO_DE_FACTO)  # a Wednesday
    assert is_working_day(D("2025-06-20"), calendar=NO_DE_FACTO)  # a Friday
    assert not is_working_day(D("2025-12-25"), calendar=NO_DE_FACTO)  # juldagen stays
    assert NO_DE_FACTO.holiday_name(D("2025-12-24")) is None
    assert SWEDEN.holiday_name(D("2025-12-24")) == "Julafton"


@pytest.mark.parametrize(
    ("received", "with_de_facto", "without"),
    [
        ("2025-11-24", "2025-12-29", "2025-12-24"),  # julafton is a Wednesday
        ("2025-05-20", "2025-06-23", "2025-06-20"),  # midsommarafton is a Friday
        ("2027-11-24", "2027-12-27", "2027-12-24"),  # julafton is a Friday
        ("2028-11-24", "2028-12-27", "2028-12-27"),  # julafton is a Sunday: no matter
    ],
)
def test_the_de_facto_switch_changes_the_due_date(
    received: str, with_de_facto: str, without: str
) -> None:
    assert due_date(D(received)) == D(with_de_facto)
    assert due_date(D(received), calendar=SWEDEN) == D(with_de_facto)
    assert due_date(D(received), calendar=NO_DE_FACTO) == D(without)


def test_the_calendar_refuses_a_datetime() -> None:
    with pytest.raises(TypeError, match="swedish_date"):
        is_working_day(dt.datetime(2025, 12, 25, 12, tzinfo=UTC))


# --- the date of receipt is its date in Sweden ------------------------------------


@pytest.mark.parametrize(
    ("moment", "received", "due"),
    [
        # summer time (CEST, UTC+2) began 30 Mar 2025: 23:30 UTC is 01:30 on 1 April
        (dt.datetime(2025, 3, 31, 23, 30, tzinfo=UTC), "2025-04-01", "2025-05-02"),
        (dt.datetime(2025, 3, 31, 21, 59, tzinfo=UTC), "2025-03-31", "2025-04-30"),
        (dt.datetime(2025, 3, 31, 22, 0, tzinfo=UTC), "2025-04-01", "2025-05-02"),
        # winter time (CET, UTC+1): 23:00 UTC is already the next day
        (dt.datetime(2025, 1, 31, 22, 59, tzinfo=UTC), "2025-01-31", "2025-02-28"),
        (dt.datetime(2025, 1, 31, 23, 0, tzinfo=UTC), "2025-02-01", "2025-03-03"),
        # another zone is converted too: 20:00 in New York is 02:00 next day in Sweden
        (
            dt.datetime(2025, 11, 5, 20, 0, tzinfo=ZoneInfo("America/New_York")),
            "2025-11-06",
            "2025-12-08",
        ),
    ],
)
def test_a_moment_of_receipt_counts_by_its_swedish_date(
    moment: dt.datetime, received: str, due: str
) -> None:
    assert swedish_date(moment) == D(received)
    assert due_date(moment) == D(due)
    assert Deadline.for_request(moment).received == D(received)


def test_a_naive_datetime_is_refused_with_a_clear_error() -> None:
    naive = dt.datetime(2025, 3, 31, 23, 30)  # noqa: DTZ001 - the point of the test
    with pytest.raises(NaiveDatetimeError, match="no time zone") as caught:
        due_date(naive)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, DeadlineError)
    with pytest.raises(NaiveDatetimeError):
        swedish_date(naive)


# --- extension ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "months", "extended"),
    [
        ("2025-01-31", 2, "2025-04-30"),  # no 31 Apr: Wed 30 Apr
        ("2025-11-06", 2, "2026-02-06"),  # Fri 6 Feb 2026
        ("2025-09-24", 2, "2025-12-29"),  # julafton Wed -> Mon 29 Dec
        ("2025-01-18", 2, "2025-04-22"),  # långfredagen 18 Apr -> Tue 22 Apr
        ("2024-11-30", 2, "2025-02-28"),  # no 30 Feb: Fri 28 Feb
        ("2025-04-06", 2, "2025-07-07"),  # Sun 6 Jul -> Mon 7 Jul
        ("2025-11-06", 1, "2026-01-07"),  # trettondedag jul Tue 6 Jan -> Wed 7 Jan
        ("2025-10-31", 1, "2026-01-02"),  # nyårsafton Wed, nyårsdagen Thu -> Fri 2 Jan
    ],
)
def test_extended_due_date(received: str, months: int, extended: str) -> None:
    assert extended_due_date(D(received), months=months) == D(extended)


def test_the_default_extension_is_two_further_months() -> None:
    assert extended_due_date(D("2025-11-06")) == D("2026-02-06")


def test_nyarsafton_is_a_working_day_for_an_extension_when_switched_off() -> None:
    assert extended_due_date(D("2025-10-31"), months=1, calendar=NO_DE_FACTO) == D("2025-12-31")


@pytest.mark.parametrize("months", [0, 3, -1])
def test_an_extension_beyond_two_months_is_refused(months: int) -> None:
    with pytest.raises(ExtensionError, match="at most 2 further months"):
        extended_due_date(D("2025-01-31"), months=months)


@pytest.mark.parametrize("received", ["2025-11-06", "2025-11-24", "2025-01-31"])
def test_an_extension_must_be_announced_by_the_original_due_date(received: str) -> None:
    assert extension_notice_deadline(D(received)) == due_date(D(received))


# --- the Deadline, as a dashboard sees it -------------------------------------------


def test_a_deadline_counts_down_to_the_end_of_its_due_date() -> None:
    deadline = Deadline.for_request(D("2025-11-06"))
    assert deadline.due == D("2025-12-08")
    assert not deadline.is_extended
    assert deadline.days_remaining(D("2025-11-06")) == 32
    assert deadline.days_remaining(D("2025-12-08")) == 0
    assert not deadline.is_overdue(D("2025-12-08"))  # in time until the end of the day
    assert deadline.is_overdue(D("2025-12-09"))
    assert deadline.days_remaining(D("2025-12-10")) == -2


@pytest.mark.parametrize(
    ("today", "days", "due_soon"),
    [
        ("2025-12-01", 7, True),  # 7 days left
        ("2025-11-30", 7, False),  # 8 days left
        ("2025-12-08", 0, True),  # due today
        ("2025-12-07", 0, False),
        ("2025-12-09", 30, False),  # overdue is not "due soon"
    ],
)
def test_due_within(today: str, days: int, due_soon: bool) -> None:
    deadline = Deadline.for_request(D("2025-11-06"))
    assert deadline.is_due_within(days, today=D(today)) is due_soon


def test_a_negative_look_ahead_is_refused() -> None:
    with pytest.raises(DeadlineError, match="zero or more"):
        Deadline.for_request(D("2025-11-06")).is_due_within(-1, today=D("2025-11-07"))


def test_an_extended_deadline_keeps_the_notice_date() -> None:
    deadline = Deadline.for_request(D("2025-11-06")).extend()
    assert deadline.is_extended
    assert deadline.due == D("2026-02-06")
    assert deadline.original_due == deadline.notice_deadline == D("2025-12-08")
    assert not deadline.is_overdue(D("2025-12-09"))
    assert deadline.days_remaining(D("2026-02-01")) == 5


def test_today_must_be_a_date() -> None:
    deadline = Deadline.for_request(D("2025-11-06"))
    with pytest.raises(TypeError, match="swedish_date"):
        deadline.days_remaining(dt.datetime(2025, 11, 7, tzinfo=UTC))


# --- every day of 2024-2027 ---------------------------------------------------------

EVERY_DAY = [D("2024-01-01") + dt.timedelta(days=n) for n in range(4 * 365 + 1)]


@pytest.mark.parametrize("calendar", [SWEDEN, NO_DE_FACTO], ids=["de-facto", "public-only"])
def test_every_due_date_from_2024_to_2027_is_sound(calendar: SwedishCalendar) -> None:
    assert EVERY_DAY[-1] == D("2027-12-31")
    previous = EVERY_DAY[0]
    for received in EVERY_DAY:
        due = due_date(received, calendar=calendar)
        same_date = add_months(received, 1)
        assert calendar.is_working_day(due), received
        assert due >= received + dt.timedelta(days=28), received
        # the longest roll-forward is jul with julafton on a Wednesday: 24 -> 29 December
        assert 0 <= (due - same_date).days <= 5, received
        assert (due - received).days <= 31 + 5, received
        # every day skipped over really is a non-working day
        skipped = [same_date + dt.timedelta(days=n) for n in range((due - same_date).days)]
        assert not any(calendar.is_working_day(day) for day in skipped), received
        # a later request is never due earlier
        assert due >= previous, received
        previous = due
