"""The systems' rows, drawn from a :class:`~ombud.demo.people.Population`.

Each table has a generator yielding batches of tuples in the order of its
columns in :mod:`ombud.demo.schema`, ready for ``executemany`` or ``COPY``.
Each draws from its own ``Random`` seeded with the demo's seed and the table's
name, so a table's rows do not depend on which tables were made before it.

Timestamps are text in SQLAlchemy's SQLite storage format
(``YYYY-MM-DD HH:MM:SS.ffffff``), which PostgreSQL and MariaDB read as well;
dates are ``YYYY-MM-DD``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from random import Random

from ombud.demo.identities import ipv4, make_orgnr, phone_written, random_phone
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

__all__ = ["ROWS", "Row", "deferred_updates", "planned_counts"]

Row = tuple[object, ...]
Batches = Iterator[list[Row]]

#: rows per batch handed to the database
BATCH = 50_000

#: office hours, in seconds after midnight, for what people do at work
_OFFICE = (7 * 3600, 18 * 3600)

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


def _office_second(random: Callable[[], float]) -> int:
    return _OFFICE[0] + int(random() * (_OFFICE[1] - _OFFICE[0]))


def _then(random: Callable[[], float], offset: int, second: int, within: int) -> tuple[int, int]:
    """A moment in office hours up to ``within`` days after ``(offset, second)``, never before.

    The result's day offset is below ``offset`` by 0 to ``within`` (negative: in the future).
    """
    later = offset - int(random() * (within + 1))
    then = _office_second(random)
    return later, (max(then, second) if later == offset else then)


def _batched(rows: Iterator[Row]) -> Batches:
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _short_personnummer(number: str) -> str:
    """``YYMMDD-NNNC``, as people say it on the phone (everyone here is under 100)."""
    return f"{number[2:8]}-{number[8:]}"


def _postal_code(random: Callable[[], float]) -> str:
    """``NNN NN``, from 100 00 to 984 99."""
    code = 10_000 + int(random() * 88_500)
    return f"{code // 100} {code % 100:02d}"


def _birth_date(number: str) -> str:
    day = int(number[6:8])
    return f"{number[:4]}-{number[4:6]}-{day - 60 if day > 60 else day:02d}"


def _orgnr_printed(orgnr: str) -> str:
    """As an invoice prints it: ``NNNNNN-NNNN``; a sole trader's as ``YYMMDD-NNNC``."""
    if len(orgnr) == 12:
        return _short_personnummer(orgnr)
    return f"{orgnr[:6]}-{orgnr[6:]}"


# --- CRM ----------------------------------------------------------------------------------


def persons(people: Population, rng: Random) -> Batches:
    random, days, pools = rng.random, people.days, people.pools
    everyone = people.edge.everywhere

    def rows() -> Iterator[Row]:
        for i in range(people.size):
            edge = i < everyone
            number = people.personal_number[i]
            e164 = people.phone[i]
            form = random()
            phone = (
                None
                if not edge and form < 0.12
                else phone_written(
                    e164, 0 if edge or form < 0.6 else 1 if form < 0.85 else 2 if form < 0.95 else 3
                )
            )
            female = people.female[i]
            protected = people.protected[i]
            referrer = people.referred_by[i]
            created, created_second = people.created[i], _office_second(random)
            active = _then(random, created, created_second, created)
            yield (
                i + 1,
                people.first_name[i],
                people.last_name[i],
                number if edge or random() < 0.85 else None,
                people.email[i] if edge or random() >= 0.03 else None,
                phone,
                None if protected else pick(random, pools.streets),
                None if protected else _postal_code(random),
                None if protected else pick(random, pools.cities),
                _birth_date(number),
                None if random() < 0.05 else ("female" if female else "male"),
                protected,
                False,
                days.timestamp(created, created_second),
                days.timestamp(*active),
                # a referrer who comes later is set afterwards (deferred_updates)
                referrer + 1 if referrer is not None and referrer < i else None,
            )

    return _batched(rows())


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
    random, days = rng.random, people.days
    return _batched(
        (
            j + 1,
            people.company_name[j],
            people.company_orgnr[j],
            people.company_form[j],
            owner + 1 if owner >= 0 else None,
            days.timestamp(people.company_created[j], _office_second(random)),
        )
        for j, owner in enumerate(people.company_owner)
    )


def company_contacts(people: Population, rng: Random) -> Batches:  # noqa: ARG001 - nothing random
    return _batched(
        (person + 1, company + 1, role, title) for person, company, role, title in people.contacts
    )


_PLAIN_BODIES = tuple(b for b in CASE_BODIES if "{" not in b)
_PERSONAL_BODIES = tuple(b for b in CASE_BODIES if "{" in b)


def cases(people: Population, rng: Random) -> Batches:
    random, days = rng.random, people.days
    count = planned_counts(people.size)["cases"]
    everyone = people.edge.everywhere - 1

    def rows() -> Iterator[Row]:
        for k in range(count):
            person: int | None = everyone if k < 2 else int(random() * people.size)
            if k >= 2 and random() < 0.03:
                person = None  # an anonymous chat
            if person is not None and random() < 0.3:
                body = pick(random, _PERSONAL_BODIES).format(
                    first=people.first_name[person],
                    phone=phone_written(people.phone[person], 1),
                    email=people.email[person],
                    pnr=_short_personnummer(people.personal_number[person]),
                    other_phone=phone_written(random_phone(rng), 1),
                    # the customer's new address, which the CRM does not have yet
                    other_email=f"{ascii_name(people.first_name[person])}.{k}@post.example",
                )
            else:
                body = pick(random, _PLAIN_BODIES)
            opened, opened_second = int(random() * 3 * 365), _office_second(random)
            closed = _then(random, opened, opened_second, 40)
            yield (
                k + 1,
                None if person is None else person + 1,
                pick(random, CHANNELS),
                pick(random, CASE_SUBJECTS),
                body,
                days.timestamp(opened, opened_second),
                # still open: closing lies ahead, or it waits for something
                None if closed[0] < 0 or random() < 0.05 else days.timestamp(*closed),
                False,
            )

    return _batched(rows())


def meetings(people: Population, rng: Random) -> Batches:
    random, days = rng.random, people.days
    count = planned_counts(people.size)["meetings"]
    everyone = people.edge.everywhere - 1

    def rows() -> Iterator[Row]:
        for k in range(count):
            person = everyone if k == 0 else int(random() * people.size)
            company = people.company_of.get(person)
            booked = int(random() * 3 * 365)
            visitor = people.visitor[person]
            note = pick(random, MEETING_NOTES)
            yield (
                k + 1,
                person + 1,
                None if company is None else company + 1,
                pick(random, ADVISERS),
                days.timestamp(booked, _office_second(random)),
                # up to a month after booking: some are still ahead
                days.timestamp(booked - 1 - int(random() * 30), _office_second(random)),
                None
                if note is None
                else note.format(first=people.first_name[person], email=people.email[person]),
                visitor if visitor is not None and (k == 0 or random() < 0.7) else None,
            )

    return _batched(rows())


def network_members(people: Population, rng: Random) -> Batches:
    random, days = rng.random, people.days
    count = planned_counts(people.size)["network_members"]
    everyone = people.edge.everywhere - 1

    def rows() -> Iterator[Row]:
        for k in range(count):
            if k == 0 or random() < 0.7:
                person: int | None = everyone if k == 0 else int(random() * people.size)
                assert person is not None
                name, email = people.full_name(person), people.email[person]
            else:
                person = None  # signed up on the web; not in the CRM
                outsider = pick(random, people.outsiders)
                name, email = outsider.name, outsider.email
            joined, joined_second = int(random() * 4 * 365), _office_second(random)
            yield (
                k + 1,
                None if person is None else person + 1,
                name,
                email,
                pick(random, NETWORKS),
                pick(random, COMPETENCES),
                days.timestamp(joined, joined_second),
                None
                if k == 0 or random() >= 0.2
                else days.timestamp(*_then(random, joined, joined_second, joined)),
            )

    return _batched(rows())


# --- newsletter, survey -------------------------------------------------------------------


def _typed(email: str, random: Callable[[], float]) -> str:
    """An address as some people type it: ``Anna.Svensson@Example.com``."""
    if random() >= 0.05:
        return email
    local, _, domain = email.partition("@")
    return f"{'.'.join(p.capitalize() for p in local.split('.'))}@{domain.capitalize()}"


def newsletter_subscribers(people: Population, rng: Random) -> Batches:
    random, days = rng.random, people.days
    count = planned_counts(people.size)["newsletter_subscribers"]
    everyone = people.edge.everywhere - 1
    seen: set[str] = set()  # the list holds each address once

    def rows() -> Iterator[Row]:
        k = 0
        while k < count:
            if k == 0 or random() < 0.6:
                person = everyone if k == 0 else int(random() * people.size)
                email = people.email[person]
                name = people.full_name(person) if random() < 0.7 else None
                visitor, ip = people.visitor[person], people.ip[person]
            else:
                outsider = pick(random, people.outsiders)
                email = outsider.email
                name = outsider.name if random() < 0.5 else None
                visitor, ip = outsider.visitor, outsider.ip
            if ip is None:
                ip = ipv4(rng)  # signed up before the banner asked
            if email in seen:
                continue
            seen.add(email)
            subscribed = int(random() * 5 * 365)
            second = int(random() * 86_400)
            confirmed = random() < 0.9
            yield (
                k + 1,
                email if k == 0 else _typed(email, random),
                name,
                days.timestamp(subscribed, second),
                days.timestamp(subscribed, min(86_399, second + 30 + int(random() * 3600)))
                if confirmed
                else None,
                days.timestamp(*_then(random, subscribed, min(86_399, second + 3600), subscribed))
                if confirmed and k > 0 and random() < 0.15
                else None,
                ip,
                visitor,
            )
            k += 1

    return _batched(rows())


#: scores people give: mostly content
_SCORES = (10, 10, 10, 9, 9, 9, 8, 8, 8, 7, 7, 6, 5, 4, 3, 2, 1)


def survey_answers(people: Population, rng: Random) -> Batches:
    random, days = rng.random, people.days
    count = planned_counts(people.size)["survey_answers"]
    everyone = people.edge.everywhere - 1

    def rows() -> Iterator[Row]:
        for k in range(count):
            person = everyone if k == 0 else int(random() * people.size)
            by_email = k > 0 and random() < 0.2
            email = None
            if by_email:
                email = (
                    people.email[person] if random() < 0.5 else pick(random, people.outsiders).email
                )
            comment = pick(random, SURVEY_COMMENTS)
            yield (
                k + 1,
                None if by_email else person + 1,
                email,
                pick(random, _SCORES),
                None
                if comment is None
                else comment.format(phone=phone_written(people.phone[person], 1)),
                days.timestamp(int(random() * 2 * 365), int(random() * 86_400)),
            )

    return _batched(rows())


# --- accounting ---------------------------------------------------------------------------


def invoices(people: Population, rng: Random) -> Batches:
    random, days = rng.random, people.days
    count = planned_counts(people.size)["invoices"]
    everyone = people.edge.everywhere - 1
    companies_count = len(people.company_name)

    def rows() -> Iterator[Row]:
        for k in range(count):
            # the first: the sole trader's company (company 1); the second: a private person
            private = k == 1 or (k > 1 and random() < 0.15)
            issued = int(random() * 9 * 365)  # also older than the 7-year hold
            amount = 500 + int(random() ** 3 * 250_000) // 10 * 10
            issued_at = days.timestamp(issued, _office_second(random))
            if private:
                person = everyone if k == 1 else int(random() * people.size)
                company: int | None = None
                name = people.full_name(person)
                personal_number: str | None = people.personal_number[person]
                orgnr = None
                person_id: int | None = person + 1
            else:
                company = 0 if k == 0 else int(random() * companies_count)
                owner = people.company_owner[company]
                name = people.company_name[company]
                personal_number = None
                orgnr = _orgnr_printed(people.company_orgnr[company])
                person_id = owner + 1 if owner >= 0 else None
            yield (
                k + 1,
                None if company is None else company + 1,
                person_id,
                name,
                personal_number,
                orgnr,
                amount,
                issued_at,
                int(issued_at[:4]),
                False,
            )

    return _batched(rows())


# --- telemarketing ------------------------------------------------------------------------


def call_list(people: Population, rng: Random) -> Batches:
    random, days, pools = rng.random, people.days, people.pools
    count = planned_counts(people.size)["call_list"]
    contact_of: dict[int, int] = {}
    for person, company, _role, _title in people.contacts:
        contact_of.setdefault(company, person)
    taken = set(people.orgnr_taken)
    edge = people.edge.phone_forms - 1

    def rows() -> Iterator[Row]:
        for k in range(count):
            title = pick(random, CONTACT_ROLES)[1]
            person: int | None = None
            if k == 0:
                person = edge
            elif random() < 0.2:
                # already a customer: washing the list against the CRM should catch it
                company = int(random() * len(people.company_name))
                person = contact_of.get(company)
            if person is not None:
                company_index = people.company_of.get(person)
                if company_index is None:
                    company_name = f"{people.last_name[person]} Konsult AB"
                    orgnr = make_orgnr(rng, "5", taken)
                else:
                    company_name = people.company_name[company_index]
                    orgnr = people.company_orgnr[company_index]
                contact, phone = people.full_name(person), people.phone[person]
            else:
                first, last = people.random_name(rng)
                company_name = f"{pick(random, pools.last_names)} {pick(random, TRADES)} AB"
                orgnr = make_orgnr(rng, "5", taken)
                contact, phone = f"{first} {last}", random_phone(rng)
            listed = (int(random() * 365), _office_second(random))
            # washed against NIX-Telefon within days of listing; called only if not listed
            checked = (
                _then(random, *listed, min(4, listed[0])) if k == 0 or random() < 0.9 else None
            )
            nix_listed = checked is not None and k > 0 and random() < 0.2
            called = (
                _then(random, *checked, min(13, checked[0]))
                if checked is not None and not nix_listed and random() < 0.7
                else None
            )
            yield (
                k + 1,
                company_name,
                _orgnr_printed(orgnr),
                contact,
                title,
                phone_written(phone, 1),
                pick(random, CALL_SOURCES),
                days.timestamp(*listed),
                None if checked is None else days.timestamp(*checked),
                nix_listed,
                None if called is None else days.timestamp(*called),
                None if called is None else pick(random, CALL_OUTCOMES),
            )

    return _batched(rows())


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
