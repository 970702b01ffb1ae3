"""The systems' rows, drawn from a :class:`~ombud.demo.people.Population`.

Each table has a generator yielding batches of tuples in the order of its
columns in :mod:`ombud.demo.schema`, ready for ``executemany`` or ``COPY``.
Each draws from its own ``Random`` seeded with the demo's seed and the table's
name, so a table's rows do not depend on which tables were made before it.

A batch is made column by column (:class:`Batch`): a column of random choices
is one ``Random.choices`` call and a column of timestamps one comprehension
over precomputed day and time strings, which costs a fraction of drawing each
field of each row in turn. The first rows of some tables are the edge cases of
:class:`~ombud.demo.people.EdgeCases`; they are set after the columns are drawn.

Timestamps are text in SQLAlchemy's SQLite storage format
(``YYYY-MM-DD HH:MM:SS.ffffff``), which PostgreSQL and MariaDB read as well;
dates are ``YYYY-MM-DD``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from random import Random
from typing import TypeVar

from ombud.demo.identities import Days, ipv4, make_orgnr, phone_written, random_phone
from ombud.demo.people import Population
from ombud.demo.pools import (
    ADVISERS,
    CALL_OUTCOMES,
    CALL_SOURCES,
    CASE_BODIES,
    CASE_SUBJECTS,
    CHANNELS,
    COMPETENCES,
    CONTACT_ROLES,
    MEETING_NOTES,
    NETWORKS,
    SURVEY_COMMENTS,
    TRADES,
    ascii_name,
    pick,
)

__all__ = ["BATCH", "ROWS", "Batch", "Row", "deferred_updates", "planned_counts"]

T = TypeVar("T")
Row = tuple[object, ...]
Batches = Iterator[list[Row]]

#: rows per batch handed to the database
BATCH = 50_000

#: office hours, in seconds after midnight, for what people do at work
OFFICE = range(7 * 3600, 18 * 3600)

#: table -> rows per person (company_contacts follows the companies, about 0.55)
RATES = {
    "persons": 1.0,
    "companies": 0.4,
    "cases": 1.5,
    "meetings": 0.5,
    "network_members": 0.2,
    "newsletter_subscribers": 0.5,
    "survey_answers": 0.4,
    "invoices": 0.6,
    "call_list": 0.3,
}


def planned_counts(size: int) -> dict[str, int]:
    """About how many rows each table gets for ``size`` persons (exact but for contacts)."""
    counts = {table: max(1, round(size * rate)) for table, rate in RATES.items()}
    counts["company_contacts"] = round(size * 0.55)
    return counts


class Batch:
    """Columns of ``n`` random values for one batch of rows, drawn from ``rng``."""

    def __init__(self, rng: Random, days: Days, n: int) -> None:
        self.rng, self.days, self.n = rng, days, n
        self.random: Callable[[], float] = rng.random

    def floats(self) -> list[float]:
        random = self.random
        return [random() for _ in range(self.n)]

    def ints(self, high: int) -> list[int]:
        """``n`` integers in ``[0, high)``."""
        random = self.random
        return [int(random() * high) for _ in range(self.n)]

    def choose(self, values: Sequence[T]) -> list[T]:
        return self.rng.choices(values, k=self.n)

    def office(self) -> list[int]:
        """Seconds after midnight in office hours."""
        return self.rng.choices(OFFICE, k=self.n)

    def stamps(self, offsets: Sequence[int], seconds: Sequence[int]) -> list[str]:
        """Timestamps of days ``offsets`` before today, ``seconds`` into each day."""
        return self.days.stamps(offsets, seconds)

    def then(
        self, offsets: Sequence[int], seconds: Sequence[int], within: int | Sequence[int]
    ) -> tuple[list[int], list[int]]:
        """Moments in office hours 0 to ``within`` days after ``(offsets, seconds)``, never
        before them (offsets below zero are in the future).
        """
        random = self.random
        if isinstance(within, int):
            later = [o - int(random() * (within + 1)) for o in offsets]
        else:
            later = [o - int(random() * (w + 1)) for o, w in zip(offsets, within, strict=True)]
        then = self.office()
        return later, [
            max(t, s) if lo == o else t
            for lo, o, t, s in zip(later, offsets, then, seconds, strict=True)
        ]


def _batches(rng: Random, days: Days, count: int) -> Iterator[tuple[int, Batch]]:
    """``(first row index, batch)`` covering ``count`` rows."""
    for start in range(0, count, BATCH):
        yield start, Batch(rng, days, min(BATCH, count - start))


def _short_personnummer(number: str) -> str:
    """``YYMMDD-NNNC``, as people say it on the phone (everyone here is under 100)."""
    return f"{number[2:8]}-{number[8:]}"


def _orgnr_printed(orgnr: str) -> str:
    """As an invoice prints it: ``NNNNNN-NNNN``; a sole trader's as ``YYMMDD-NNNC``."""
    if len(orgnr) == 12:
        return _short_personnummer(orgnr)
    return f"{orgnr[:6]}-{orgnr[6:]}"


def _ids(start: int, n: int) -> range:
    return range(start + 1, start + n + 1)


# --- CRM ----------------------------------------------------------------------------------


def _phone_form(roll: float) -> int:
    """How the CRM's users wrote a number: E.164 mostly (see ``phone_written``)."""
    return 0 if roll < 0.6 else 1 if roll < 0.85 else 2 if roll < 0.95 else 3


#: rolls of the dice -> written form, tabled: a column of forms is then one lookup a row
_FORMS = [_phone_form(k / 100) for k in range(100)]


def persons(people: Population, rng: Random) -> Batches:
    pools, days = people.pools, people.days
    edges = people.edge.everywhere
    for start, b in _batches(rng, days, people.size):
        end = start + b.n
        numbers = people.personal_number[start:end]
        e164 = people.phone[start:end]
        protected = people.protected[start:end]
        phone = [
            None if roll < 12 else phone_written(p, _FORMS[roll])
            for p, roll in zip(e164, b.ints(100), strict=True)
        ]
        personal_number: list[str | None] = [
            n if roll < 0.85 else None for n, roll in zip(numbers, b.floats(), strict=True)
        ]
        email: list[str | None] = [
            e if roll >= 0.03 else None
            for e, roll in zip(people.email[start:end], b.floats(), strict=True)
        ]
        # the edge cases have every identifier, the phone in E.164
        for i in range(start, min(end, edges)):
            phone[i - start] = e164[i - start]
            personal_number[i - start] = numbers[i - start]
            email[i - start] = people.email[i]
        created = people.created[start:end]
        created_second = b.office()
        active = b.then(created, created_second, created)
        yield list(
            zip(
                _ids(start, b.n),
                people.first_name[start:end],
                people.last_name[start:end],
                personal_number,
                email,
                phone,
                [None if p else s for p, s in zip(protected, b.choose(pools.streets), strict=True)],
                [
                    None if p else c
                    for p, c in zip(protected, b.choose(pools.postal_codes), strict=True)
                ],
                [None if p else c for p, c in zip(protected, b.choose(pools.cities), strict=True)],
                # a samordningsnummer's day is the birthday plus 60
                [f"{n[:4]}-{n[4:6]}-{int(n[6:8]) % 60:02d}" for n in numbers],
                [
                    None if roll < 0.05 else "female" if f else "male"
                    for f, roll in zip(people.female[start:end], b.floats(), strict=True)
                ],
                protected,
                [False] * b.n,
                b.stamps(created, created_second),
                b.stamps(*active),
                # a referrer who comes later is set afterwards (deferred_updates)
                [
                    r + 1 if r is not None and r < i else None
                    for i, r in enumerate(people.referred_by[start:end], start)
                ],
                strict=True,
            )
        )


def deferred_updates(people: Population) -> list[tuple[str, str, int, int]]:
    """``(table, column, id, value)`` to set after loading: references to rows inserted later
    (the referral cycle), which a foreign key checked row by row would refuse.
    """
    return [
        ("persons", "referred_by_person_id", i + 1, referrer + 1)
        for i, referrer in enumerate(people.referred_by)
        if referrer is not None and referrer > i
    ]


def companies(people: Population, rng: Random) -> Batches:
    for start, b in _batches(rng, people.days, len(people.company_name)):
        end = start + b.n
        yield list(
            zip(
                _ids(start, b.n),
                people.company_name[start:end],
                people.company_orgnr[start:end],
                people.company_form[start:end],
                [o + 1 if o >= 0 else None for o in people.company_owner[start:end]],
                b.stamps(people.company_created[start:end], b.office()),
                strict=True,
            )
        )


def company_contacts(people: Population, rng: Random) -> Batches:  # noqa: ARG001 - nothing random
    contacts = people.contacts
    for start in range(0, len(contacts), BATCH):
        yield [(p + 1, c + 1, role, title) for p, c, role, title in contacts[start : start + BATCH]]


_PLAIN_BODIES = tuple(b for b in CASE_BODIES if "{" not in b)
_PERSONAL_BODIES = tuple(b for b in CASE_BODIES if "{" in b)


def cases(people: Population, rng: Random) -> Batches:
    everyone = people.edge.everywhere - 1
    for start, b in _batches(rng, people.days, planned_counts(people.size)["cases"]):
        person: list[int | None] = [
            None if roll < 0.03 else p  # an anonymous chat
            for p, roll in zip(b.ints(people.size), b.floats(), strict=True)
        ]
        if start == 0:
            person[0] = person[1] = everyone
        body = b.choose(_PLAIN_BODIES)
        # three in ten notes say something about the person: their number, address ...
        for k, roll in enumerate(b.floats()):
            p = person[k]
            if p is not None and roll < 0.3:
                body[k] = pick(b.random, _PERSONAL_BODIES).format(
                    first=people.first_name[p],
                    phone=phone_written(people.phone[p], 1),
                    email=people.email[p],
                    pnr=_short_personnummer(people.personal_number[p]),
                    other_phone=phone_written(random_phone(rng), 1),
                    # the customer's new address, which the CRM does not have yet
                    other_email=f"{ascii_name(people.first_name[p])}.{start + k}@post.example",
                )
        opened, opened_second = b.ints(3 * 365), b.office()
        closed = b.then(opened, opened_second, 40)
        yield list(
            zip(
                _ids(start, b.n),
                [None if p is None else p + 1 for p in person],
                b.choose(CHANNELS),
                b.choose(CASE_SUBJECTS),
                body,
                b.stamps(opened, opened_second),
                # still open: closing lies ahead, or it waits for something
                [
                    None if offset < 0 or roll < 0.05 else stamp
                    for offset, stamp, roll in zip(
                        closed[0], b.stamps(*closed), b.floats(), strict=True
                    )
                ],
                [False] * b.n,
                strict=True,
            )
        )


def meetings(people: Population, rng: Random) -> Batches:
    everyone = people.edge.everywhere - 1
    for start, b in _batches(rng, people.days, planned_counts(people.size)["meetings"]):
        person = b.ints(people.size)
        if start == 0:
            person[0] = everyone
        booked, booked_second = b.ints(3 * 365), b.office()
        # a day to a month after booking: some are still ahead
        starts = b.then([o - 1 for o in booked], booked_second, 29)
        notes = [
            None if note is None else note.format(first=people.first_name[p], email=people.email[p])
            for note, p in zip(b.choose(MEETING_NOTES), person, strict=True)
        ]
        visitor = [
            people.visitor[p] if roll < 0.7 else None
            for p, roll in zip(person, b.floats(), strict=True)
        ]
        if start == 0:
            visitor[0] = people.visitor[everyone]
        yield list(
            zip(
                _ids(start, b.n),
                [p + 1 for p in person],
                [None if (c := people.company_of.get(p)) is None else c + 1 for p in person],
                b.choose(ADVISERS),
                b.stamps(booked, booked_second),
                b.stamps(*starts),
                notes,
                visitor,
                strict=True,
            )
        )


def network_members(people: Population, rng: Random) -> Batches:
    everyone = people.edge.everywhere - 1
    outsiders = people.outsiders
    for start, b in _batches(rng, people.days, planned_counts(people.size)["network_members"]):
        # seven in ten are in the CRM; the others signed up on the web
        person: list[int | None] = [
            p if roll < 0.7 else None
            for p, roll in zip(b.ints(people.size), b.floats(), strict=True)
        ]
        if start == 0:
            person[0] = everyone
        outsider = b.choose(outsiders)
        joined, joined_second = b.ints(4 * 365), b.office()
        left = b.then(joined, joined_second, joined)
        leaving = b.floats()
        if start == 0:
            leaving[0] = 1.0
        yield list(
            zip(
                _ids(start, b.n),
                [None if p is None else p + 1 for p in person],
                [
                    o.name if p is None else people.full_name(p)
                    for p, o in zip(person, outsider, strict=True)
                ],
                [
                    o.email if p is None else people.email[p]
                    for p, o in zip(person, outsider, strict=True)
                ],
                b.choose(NETWORKS),
                b.choose(COMPETENCES),
                b.stamps(joined, joined_second),
                [
                    None if roll >= 0.2 else stamp
                    for roll, stamp in zip(leaving, b.stamps(*left), strict=True)
                ],
                strict=True,
            )
        )


# --- newsletter, survey -------------------------------------------------------------------


def _typed(email: str) -> str:
    """An address as some people type it: ``Anna.Svensson@Example.com``."""
    local, _, domain = email.partition("@")
    return f"{'.'.join(p.capitalize() for p in local.split('.'))}@{domain.capitalize()}"


def newsletter_subscribers(people: Population, rng: Random) -> Batches:
    everyone = people.edge.everywhere - 1
    count = planned_counts(people.size)["newsletter_subscribers"]
    outsiders = people.outsiders
    seen: set[str] = set()  # the list holds each address once
    made = 0
    while made < count:
        draw = Batch(rng, people.days, min(BATCH, count - made))
        # six in ten are in the CRM, the others are outsiders
        candidates: list[tuple[int | None, str]] = [
            (p, people.email[p]) if roll < 0.6 else (None, o.email)
            for p, o, roll in zip(
                draw.ints(people.size), draw.choose(outsiders), draw.floats(), strict=True
            )
        ]
        if made == 0:
            candidates[0] = (everyone, people.email[everyone])
        picked: list[tuple[int | None, str]] = []
        for p, email in candidates:
            if email not in seen:
                seen.add(email)
                picked.append((p, email))
        b = Batch(rng, people.days, len(picked))
        outsider = b.choose(outsiders)
        names = [
            (people.full_name(p) if roll < 0.7 else None)
            if p is not None
            else (o.name if roll < 0.5 else None)
            for (p, _email), o, roll in zip(picked, outsider, b.floats(), strict=True)
        ]
        browsers = [
            (people.visitor[p], people.ip[p]) if p is not None else (o.visitor, o.ip)
            for (p, _email), o in zip(picked, outsider, strict=True)
        ]
        subscribed, second = b.ints(5 * 365), b.ints(86_400)
        confirmed = [roll < 0.9 for roll in b.floats()]
        gone = b.then(subscribed, [min(86_399, s + 3600) for s in second], subscribed)
        ids = range(made + 1, made + b.n + 1)
        yield list(
            zip(
                ids,
                [
                    _typed(email) if roll < 0.05 and i > 1 else email
                    for i, (_p, email), roll in zip(ids, picked, b.floats(), strict=True)
                ],
                names,
                b.stamps(subscribed, second),
                [
                    b.days.timestamp(o, min(86_399, s + 30 + int(roll * 3600))) if c else None
                    for o, s, c, roll in zip(subscribed, second, confirmed, b.floats(), strict=True)
                ],
                [
                    stamp if c and roll < 0.15 and i > 1 else None
                    for i, stamp, c, roll in zip(
                        ids, b.stamps(*gone), confirmed, b.floats(), strict=True
                    )
                ],
                # signed up before the banner asked: an address, no visitor id
                [ip if ip is not None else ipv4(rng) for _v, ip in browsers],
                [v for v, _ip in browsers],
                strict=True,
            )
        )
        made += b.n


#: scores people give: mostly content
_SCORES = (10, 10, 10, 9, 9, 9, 8, 8, 8, 7, 7, 6, 5, 4, 3, 2, 1)


def survey_answers(people: Population, rng: Random) -> Batches:
    everyone = people.edge.everywhere - 1
    outsiders = people.outsiders
    for start, b in _batches(rng, people.days, planned_counts(people.size)["survey_answers"]):
        person = b.ints(people.size)
        if start == 0:
            person[0] = everyone
        # two in ten answered through a mailed link: known by the address, half of them
        # an address the CRM does not have
        by_email = [roll < 0.2 and start + k > 0 for k, roll in enumerate(b.floats())]
        email = [
            (people.email[p] if roll < 0.5 else o.email) if e else None
            for p, e, o, roll in zip(person, by_email, b.choose(outsiders), b.floats(), strict=True)
        ]
        comments = [
            None if c is None else c.format(phone=phone_written(people.phone[p], 1))
            for c, p in zip(b.choose(SURVEY_COMMENTS), person, strict=True)
        ]
        yield list(
            zip(
                _ids(start, b.n),
                [None if e else p + 1 for p, e in zip(person, by_email, strict=True)],
                email,
                b.choose(_SCORES),
                comments,
                b.stamps(b.ints(2 * 365), b.ints(86_400)),
                strict=True,
            )
        )


# --- accounting ---------------------------------------------------------------------------


def invoices(people: Population, rng: Random) -> Batches:
    everyone = people.edge.everywhere - 1
    owners, names, orgnrs = people.company_owner, people.company_name, people.company_orgnr
    printed = [_orgnr_printed(o) for o in orgnrs]
    for start, b in _batches(rng, people.days, planned_counts(people.size)["invoices"]):
        # the first: the sole trader's company (company 1); the second: a private person
        private = [roll < 0.15 for roll in b.floats()]
        company = b.ints(len(names))
        person = b.ints(people.size)
        if start == 0:
            private[0], company[0] = False, 0
            private[1], person[1] = True, everyone
        issued = b.stamps(b.ints(9 * 365), b.office())  # also older than the 7-year hold
        yield list(
            zip(
                _ids(start, b.n),
                [None if pr else c + 1 for pr, c in zip(private, company, strict=True)],
                [
                    p + 1 if pr else (owners[c] + 1 if owners[c] >= 0 else None)
                    for pr, p, c in zip(private, person, company, strict=True)
                ],
                [
                    people.full_name(p) if pr else names[c]
                    for pr, p, c in zip(private, person, company, strict=True)
                ],
                [
                    people.personal_number[p] if pr else None
                    for pr, p in zip(private, person, strict=True)
                ],
                [None if pr else printed[c] for pr, c in zip(private, company, strict=True)],
                [500 + int(roll**3 * 250_000) // 10 * 10 for roll in b.floats()],
                issued,
                [int(stamp[:4]) for stamp in issued],
                [False] * b.n,
                strict=True,
            )
        )


# --- telemarketing ------------------------------------------------------------------------


def call_list(people: Population, rng: Random) -> Batches:
    pools = people.pools
    contact_of: dict[int, int] = {}
    for person, company, _role, _title in people.contacts:
        contact_of.setdefault(company, person)
    taken = set(people.orgnr_taken)
    edge = people.edge.phone_forms - 1
    companies_count = len(people.company_name)
    protected = people.protected
    for start, b in _batches(rng, people.days, planned_counts(people.size)["call_list"]):
        # two in ten are customers already: washing the list against the CRM should catch
        # them; the others are prospects from the registers, which never list people
        # with skyddade personuppgifter
        known: list[int | None] = [
            p if roll < 0.2 and (p := contact_of.get(c)) is not None and not protected[p] else None
            for c, roll in zip(b.ints(companies_count), b.floats(), strict=True)
        ]
        if start == 0:
            known[0] = edge
        company_name, orgnr, contact, phone = [], [], [], []
        for p in known:
            works_at = None if p is None else people.company_of.get(p)
            if works_at is None:
                company_name.append(
                    f"{pick(b.random, pools.last_names)} {pick(b.random, TRADES)} AB"
                    if p is None
                    else f"{people.last_name[p]} Konsult AB"
                )
                orgnr.append(make_orgnr(rng, "5", taken))
            else:
                company_name.append(people.company_name[works_at])
                orgnr.append(people.company_orgnr[works_at])
            if p is None:
                contact.append(" ".join(people.random_name(rng)))
                phone.append(random_phone(rng))
            else:
                contact.append(people.full_name(p))
                phone.append(people.phone[p])
        listed = b.ints(365), b.office()
        # washed against NIX-Telefon within days of listing; called only if not in NIX
        checked = b.then(*listed, [min(4, o) for o in listed[0]])
        washed = [roll < 0.9 for roll in b.floats()]
        in_nix = [w and roll < 0.2 for w, roll in zip(washed, b.floats(), strict=True)]
        if start == 0:
            washed[0], in_nix[0] = True, False
        called = b.then(*checked, [min(13, o) for o in checked[0]])
        calling = [
            w and not n and roll < 0.7
            for w, n, roll in zip(washed, in_nix, b.floats(), strict=True)
        ]
        yield list(
            zip(
                _ids(start, b.n),
                company_name,
                [_orgnr_printed(o) for o in orgnr],
                contact,
                [role[1] for role in b.choose(CONTACT_ROLES)],
                [phone_written(p, 1) for p in phone],
                b.choose(CALL_SOURCES),
                b.stamps(*listed),
                [s if w else None for s, w in zip(b.stamps(*checked), washed, strict=True)],
                in_nix,
                [s if c else None for s, c in zip(b.stamps(*called), calling, strict=True)],
                [o if c else None for o, c in zip(b.choose(CALL_OUTCOMES), calling, strict=True)],
                strict=True,
            )
        )


#: table -> its rows; in an order that satisfies the foreign keys
ROWS: dict[str, Callable[[Population, Random], Batches]] = {
    "persons": persons,
    "companies": companies,
    "company_contacts": company_contacts,
    "cases": cases,
    "meetings": meetings,
    "network_members": network_members,
    "newsletter_subscribers": newsletter_subscribers,
    "survey_answers": survey_answers,
    "invoices": invoices,
    "call_list": call_list,
}
