"""Find personal data in free text: e-mail addresses, personnummer, organisation numbers,
IP addresses and phone numbers.

Each kind has a compiled pattern that finds candidates cheaply; a candidate is
reported only once the rules of :mod:`ombud.discovery.identifiers` accept it,
so a personnummer must pass the Luhn check *and* name a real day (31 February
is rejected), and a phone number must be in a numbering plan. Where candidates
of two kinds overlap, the earlier kind in :data:`KINDS` wins: a 10-digit run
that is both a valid personnummer and a valid phone number is reported as the
personnummer, the more sensitive reading.

Used to keep personal data out of the audit log and logs, and to scan stored
data. Spaces inside a personnummer ("811218 9876") are not a written form of
it (see ``docs/identifiers.md``) and are not reported.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import partial

from ombud.discovery.identifiers import (
    EMAIL_PATTERN,
    INTERIM_LETTERS,
    InvalidIdentifierError,
    is_email,
    normalise_ip,
    parse_orgnr,
    parse_personnummer,
    phone_e164,
)

__all__ = ["KINDS", "Match", "contains_personal_data", "find_personal_data"]

#: The kinds reported, in order of precedence when candidates overlap.
KINDS = ("email", "personnummer", "orgnr", "ip", "phone")


@dataclass(frozen=True)
class Match:
    """Personal data of ``kind`` at ``text[start:end]``; ``value`` is its canonical form
    (as :func:`~ombud.discovery.identifiers.normalise` gives it), left out of ``repr``.
    """

    kind: str
    start: int
    end: int
    value: str = field(repr=False)


# Digits that continue a number (or a date, amount, IP) are not a boundary.
_BEFORE = r"(?<![\w+])(?<![0-9][-./])"
_AFTER = r"(?![\w+])(?![-./][0-9])"

_EMAIL = re.compile(rf"(?<![\w.!#$%&'*+/=?^`{{|}}~-]){EMAIL_PATTERN}(?![\w-])")
_PERSONNUMMER = re.compile(
    rf"{_BEFORE}(?:[0-9]{{2}})?[0-9]{{6}}[-+]?[0-9{INTERIM_LETTERS}][0-9]{{3}}{_AFTER}",
    re.IGNORECASE,
)
_ORGNR = re.compile(rf"{_BEFORE}(?:16)?[0-9]{{2}}[2-9][0-9]{{3}}-?[0-9]{{4}}{_AFTER}")
_IPV4 = re.compile(r"(?<![\w.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?!\w|\.[0-9])")
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9a-f]{1,4})?(?::[0-9a-f]{0,4}){2,7}"
    r"(?:(?<=:)[0-9]{1,3}(?:\.[0-9]{1,3}){3})?(?![\w:]|\.[0-9])",
    re.IGNORECASE,
)
# A national number (0...), an international one (+CC, 00CC), 7 to 17 digits with the
# spaces, hyphens and parentheses people write between them.
_PHONE = re.compile(rf"{_BEFORE}(?:\+|\(?0)(?:[ \u00a0\-()]{{0,2}}[0-9]){{6,16}}(?!\w)")
_PHONE_GROUP_BREAK = re.compile(r"[ \u00a0\-()]+(?=[0-9])")

Finder = Callable[[str], Iterator[Match]]


def _emails(text: str) -> Iterator[Match]:
    if "@" not in text:
        return
    for found in _EMAIL.finditer(text):
        if is_email(found[0]):
            yield Match("email", found.start(), found.end(), found[0].lower())


def _personnummer(text: str, *, today: date) -> Iterator[Match]:
    for found in _PERSONNUMMER.finditer(text):
        try:
            number = parse_personnummer(found[0], today=today)
        except InvalidIdentifierError:
            continue
        yield Match("personnummer", found.start(), found.end(), number.canonical)


def _orgnr(text: str) -> Iterator[Match]:
    for found in _ORGNR.finditer(text):
        try:
            orgnr = parse_orgnr(found[0])
        except InvalidIdentifierError:
            continue
        yield Match("orgnr", found.start(), found.end(), orgnr.canonical)


def _ips(text: str) -> Iterator[Match]:
    # IPv6 first, so that ::ffff:192.0.2.1 is found whole rather than its IPv4 tail.
    patterns = (_IPV6, _IPV4) if ":" in text else (_IPV4,)
    for pattern in patterns:
        for found in pattern.finditer(text):
            try:
                address = normalise_ip(found[0])
            except InvalidIdentifierError:
                continue
            yield Match("ip", found.start(), found.end(), address)


def _phones(text: str) -> Iterator[Match]:
    position = 0
    while (found := _PHONE.search(text, position)) is not None:
        # The pattern may run on into a following number ("070-123 45 67 2024"): try the
        # whole run, then cut it at each separator from the right.
        candidate = found[0]
        cuts = [len(candidate)] + [
            brk.start() for brk in reversed(list(_PHONE_GROUP_BREAK.finditer(candidate)))
        ]
        for cut in cuts:
            e164 = phone_e164(candidate[:cut])
            if e164 is not None:
                yield Match("phone", found.start(), found.start() + cut, e164)
                position = found.start() + cut
                break
        else:
            position = found.start() + 1


def _finders(today: date) -> tuple[Finder, ...]:
    """The finders in the order of :data:`KINDS`."""
    return (_emails, partial(_personnummer, today=today), _orgnr, _ips, _phones)


def find_personal_data(text: str, *, today: date) -> list[Match]:
    """Every validated identifier in ``text``, by position, without overlaps.

    ``today`` gives a 10-digit personnummer its century (see
    :func:`~ombud.discovery.identifiers.parse_personnummer`).
    """
    starts: list[int] = []
    taken: list[Match] = []
    for finder in _finders(today):
        for match in finder(text):
            index = bisect_right(starts, match.start)
            if index and taken[index - 1].end > match.start:
                continue
            if index < len(taken) and taken[index].start < match.end:
                continue
            starts.insert(index, match.start)
            taken.insert(index, match)
    return taken


# With a date this late, a 10-digit personnummer is read in the 2000s, where every day
# exists that exists in any century (2000 was a leap year, 1900 was not): the guard
# below errs towards finding personal data, and needs no clock.
_LATEST = date(2099, 12, 31)


def contains_personal_data(text: str) -> bool:
    """Whether ``text`` holds any identifier :func:`find_personal_data` would report.

    Stops at the first one found. A 10-digit personnummer counts if its date
    exists in some century, so no ``today`` is needed.
    """
    return any(next(finder(text), None) is not None for finder in _finders(_LATEST))
