"""Synthetic people: who exists, with which identifiers, in which companies.

:func:`make_population` decides everything that several systems share: each
person's name, personnummer, e-mail, phone, browser (visitor id and IP), the
companies and who works in them. The systems' rows (:mod:`ombud.demo.rows`) and
the web logs (:mod:`ombud.demo.weblogs`) are drawn from it, so the same person
turns up in the CRM, the newsletter, a network, the invoices and the logs.

Values are held column by column (lists indexed by person) rather than as one
object per person: a million persons stay a few hundred megabytes and are made
in seconds.

The first nine persons are the edge cases a rights engine must handle
(:class:`EdgeCases`); everyone else is random. Everything follows from
``(size, seed, today)``: the same arguments give the same people.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from random import Random
from typing import NamedTuple

from ombud.demo.identities import (
    IP_ONLY_ADDRESS,
    Days,
    PersonnummerFactory,
    ipv4,
    ipv6,
    make_orgnr,
    random_phone,
    random_phones,
    visitor_id,
)
from ombud.demo.pools import (
    CONTACT_ROLES,
    LEGAL_FORMS,
    PERSONAL_DOMAINS,
    TRADES,
    Pools,
    ascii_name,
    make_pools,
    seeded,
)

__all__ = ["MIN_SIZE", "EdgeCases", "Outsider", "Population", "make_population"]

#: The edge cases take the first persons: a smaller demo cannot hold them.
MIN_SIZE = 10

#: How far back the CRM's history goes, in days.
HISTORY_DAYS = 8 * 365
#: Ages of the people, in days.
YOUNGEST, OLDEST = 18 * 365, 85 * 365


@dataclass(frozen=True)
class EdgeCases:
    """Where the demo's edge cases are; persons are given by ``persons.id``."""

    #: two persons (a couple) who share one e-mail address: a match by e-mail is ambiguous
    shared_email: tuple[int, int] = (1, 2)
    #: E.164 in the CRM, ``070-123 45 67`` on the telemarketing list
    phone_forms: int = 3
    #: owns a sole trader (enskild firma) whose orgnr is the owner's personnummer
    sole_trader: int = 4
    #: skyddade personuppgifter (more are scattered among the others)
    protected_identity: int = 5
    #: referred each other: persons.referred_by_person_id forms a cycle
    referral_cycle: tuple[int, int] = (6, 7)
    #: has a samordningsnummer (more are scattered among the others)
    coordination_number: int = 8
    #: in every system: CRM, newsletter, network, survey, invoices, events and access logs
    everywhere: int = 9
    #: a visitor known only by this IP address, in the access logs and nowhere else
    ip_only: str = IP_ONLY_ADDRESS


class Outsider(NamedTuple):
    """Someone outside the CRM: known to other systems by e-mail, maybe by a browser."""

    first_name: str
    last_name: str
    email: str
    visitor: str | None
    ip: str | None

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass
class Population:
    """Everyone in the demo, column by column. Person ``i`` is ``persons.id`` ``i + 1``;
    company ``j`` is ``companies.id`` ``j + 1``.
    """

    size: int
    seed: int
    today: date
    days: Days
    pools: Pools
    edge: EdgeCases
    personnummer: PersonnummerFactory
    # persons
    female: list[bool] = field(default_factory=list)
    first_name: list[str] = field(default_factory=list)
    last_name: list[str] = field(default_factory=list)
    personal_number: list[str] = field(default_factory=list)
    email: list[str] = field(default_factory=list)
    phone: list[str] = field(default_factory=list)  # E.164
    protected: list[bool] = field(default_factory=list)
    created: list[int] = field(default_factory=list)  # day offsets before today
    referred_by: list[int | None] = field(default_factory=list)  # person index
    visitor: list[str | None] = field(default_factory=list)
    ip: list[str | None] = field(default_factory=list)
    # companies
    company_name: list[str] = field(default_factory=list)
    company_orgnr: list[str] = field(default_factory=list)
    company_form: list[str] = field(default_factory=list)
    company_owner: list[int] = field(default_factory=list)  # person index, -1: none
    company_created: list[int] = field(default_factory=list)
    #: (person index, company index, role, title)
    contacts: list[tuple[int, int, str, str | None]] = field(default_factory=list)
    #: person index -> the first company they work in
    company_of: dict[int, int] = field(default_factory=dict)
    #: people the CRM does not know, who sign up, answer surveys and browse the website
    outsiders: list[Outsider] = field(default_factory=list)
    orgnr_taken: set[str] = field(default_factory=set)
    _email_counts: dict[str, int] = field(default_factory=dict)

    def full_name(self, i: int) -> str:
        return f"{self.first_name[i]} {self.last_name[i]}"

    def new_emails(self, rng: Random, firsts: list[str], lasts: list[str]) -> list[str]:
        """Fresh personal addresses for names: ``anna.svensson@example.com``, numbered
        (``anna.svensson2@...``) when taken.
        """
        counts = self._email_counts
        emails = []
        for first, last, domain in zip(
            firsts, lasts, rng.choices(PERSONAL_DOMAINS, k=len(firsts)), strict=True
        ):
            local = f"{ascii_name(first)}.{ascii_name(last)}"
            base = f"{local}@{domain}"
            count = counts.get(base, 0) + 1
            counts[base] = count
            emails.append(base if count == 1 else f"{local}{count}@{domain}")
        return emails

    def random_name(self, rng: Random) -> tuple[str, str]:
        """A first and last name for someone outside the CRM."""
        pools = self.pools
        firsts = pools.female_first_names if rng.random() < 0.5 else pools.male_first_names
        return (
            firsts[int(rng.random() * len(firsts))],
            pools.last_names[int(rng.random() * len(pools.last_names))],
        )


def make_population(size: int, seed: int, today: date) -> Population:
    """The demo's people and companies for ``size`` persons (at least :data:`MIN_SIZE`)."""
    if size < MIN_SIZE:
        raise ValueError(
            f"size must be at least {MIN_SIZE} (the edge cases take the first persons), got {size}"
        )
    people = Population(
        size=size,
        seed=seed,
        today=today,
        days=Days(today, past=OLDEST + 366, future=400),
        pools=make_pools(seed),
        edge=EdgeCases(),
        personnummer=PersonnummerFactory(seeded(seed, "personnummer")),
    )
    _persons(people, seeded(seed, "persons"))
    _companies(people, seeded(seed, "companies"))
    _browsers(people, seeded(seed, "browsers"))
    _outsiders(people, seeded(seed, "outsiders"))
    _edge_cases(people)
    return people


def _persons(people: Population, rng: Random) -> None:
    n, pools, random = people.size, people.pools, rng.random
    female = [random() < 0.5 for _ in range(n)]
    women = rng.choices(pools.female_first_names, k=n)
    men = rng.choices(pools.male_first_names, k=n)
    people.female = female
    people.first_name = [w if f else m for w, m, f in zip(women, men, female, strict=True)]
    people.last_name = rng.choices(pools.last_names, k=n)
    days = people.days
    people.personal_number = people.personnummer.make_many(
        [days.compact(YOUNGEST + int(random() * (OLDEST - YOUNGEST))) for _ in range(n)],
        female,
        [random() < 0.03 for _ in range(n)],
    )
    people.email = people.new_emails(rng, people.first_name, people.last_name)
    people.phone = random_phones(rng, n)
    people.protected = [random() < 0.02 for _ in range(n)]
    people.created = [int(random() * HISTORY_DAYS) for _ in range(n)]
    # about one in ten was referred by someone who came before them
    people.referred_by = [int(random() * i) if i and random() < 0.1 else None for i in range(n)]


def _companies(people: Population, rng: Random) -> None:
    random, pools, n = rng.random, people.pools, people.size
    count = max(1, round(n * 0.4))
    # A quarter are sole traders (enskild firma), each owned by a different person: one
    # may have only one. The edge case's owner comes first; the other edge persons own none.
    edge = people.edge
    others = range(edge.everywhere, n)
    owners = [edge.sole_trader - 1, *rng.sample(others, min(len(others), count // 4))]
    for owner in owners:
        _add_company(
            people,
            name=f"{people.full_name(owner)} {TRADES[int(random() * len(TRADES))]}",
            orgnr=people.personal_number[owner],
            form="EF",
            owner=owner,
            created=int(random() * HISTORY_DAYS),
        )
        _add_contact(people, owner, len(people.company_name) - 1, ("ägare", "Innehavare"))
    for _ in range(count - len(owners)):
        form, digit = LEGAL_FORMS[0] if random() < 0.85 else LEGAL_FORMS[1 + int(random() * 2)]
        last = pools.last_names[int(random() * len(pools.last_names))]
        trade = TRADES[int(random() * len(TRADES))]
        _add_company(
            people,
            name=f"{last} {trade} {form}"
            if random() < 0.7
            else (f"{last} & {pools.last_names[int(random() * len(pools.last_names))]} {form}"),
            orgnr=make_orgnr(rng, digit, people.orgnr_taken),
            form=form,
            owner=-1,
            created=int(random() * HISTORY_DAYS),
        )
        company = len(people.company_name) - 1
        first = int(random() * n)
        _add_contact(people, first, company, CONTACT_ROLES[int(random() * len(CONTACT_ROLES))])
        if random() < 0.5:
            second = int(random() * n)
            if second != first:
                _add_contact(
                    people, second, company, CONTACT_ROLES[int(random() * len(CONTACT_ROLES))]
                )


def _add_company(
    people: Population, *, name: str, orgnr: str, form: str, owner: int, created: int
) -> None:
    people.company_name.append(name)
    people.company_orgnr.append(orgnr)
    people.company_form.append(form)
    people.company_owner.append(owner)
    people.company_created.append(created)


def _add_contact(
    people: Population, person: int, company: int, role: tuple[str, str | None]
) -> None:
    people.contacts.append((person, company, role[0], role[1]))
    people.company_of.setdefault(person, company)


def _browsers(people: Population, rng: Random) -> None:
    """Six in ten persons have used the website and answered the cookie banner."""
    random = rng.random
    for _ in range(people.size):
        if random() < 0.6:
            people.visitor.append(visitor_id(rng))
            people.ip.append(ipv6(rng) if random() < 0.1 else ipv4(rng))
        else:
            people.visitor.append(None)
            people.ip.append(None)


def _outsiders(people: Population, rng: Random) -> None:
    """As many people again as six in ten persons, outside the CRM; most have browsed the
    website. The systems draw from this one crowd, so an outsider can be both in a network
    and on the newsletter list.
    """
    random, pools = rng.random, people.pools
    n = max(1, people.size * 6 // 10)
    female = [random() < 0.5 for _ in range(n)]
    firsts = [
        w if f else m
        for w, m, f in zip(
            rng.choices(pools.female_first_names, k=n),
            rng.choices(pools.male_first_names, k=n),
            female,
            strict=True,
        )
    ]
    lasts = rng.choices(pools.last_names, k=n)
    emails = people.new_emails(rng, firsts, lasts)
    people.outsiders = [
        Outsider(first, last, email, visitor_id(rng), ipv6(rng) if roll < 0.07 else ipv4(rng))
        if roll < 0.7  # has browsed
        else Outsider(first, last, email, None, None)
        for first, last, email, roll in zip(
            firsts, lasts, emails, [random() for _ in range(n)], strict=True
        )
    ]


def _edge_cases(people: Population) -> None:
    """Make the first persons the edge cases of :class:`EdgeCases`.

    Their companies are made in :func:`_companies`; their rows in the call list and
    the logs in :mod:`ombud.demo.rows` and :mod:`ombud.demo.weblogs`.
    """
    edge = people.edge
    # a couple sharing the family's address
    a, b = (i - 1 for i in edge.shared_email)
    people.last_name[b] = people.last_name[a]
    people.email[a] = people.email[b] = f"familjen.{ascii_name(people.last_name[a])}@example.com"
    # E.164 here, written nationally on the call list; from PTS's range for fiction,
    # so no one else has it
    fiction = "+46701740605"
    people.phone = [
        random_phone(seeded(i, "phone")) if p == fiction else p for i, p in enumerate(people.phone)
    ]
    people.phone[edge.phone_forms - 1] = fiction
    # a cycle: 6 was referred by 7 and 7 by 6
    x, y = (i - 1 for i in edge.referral_cycle)
    people.referred_by[x], people.referred_by[y] = y, x
    # a samordningsnummer: the day of birth plus 60
    c = edge.coordination_number - 1
    people.personal_number[c] = people.personnummer.make(
        people.days.compact(34 * 365), female=people.female[c], coordination=True
    )
    # the person found everywhere browses from an address of their own (TEST-NET-2, RFC 5737)
    e = edge.everywhere - 1
    people.visitor[e] = "9f1c2a6e-5b7d-4c3e-8a2f-0d4e6b8c1a93"
    people.ip[e] = "198.51.100.9"
    for i in range(edge.everywhere):
        people.protected[i] = i == edge.protected_identity - 1
