"""Synthetic identifiers: personnummer, organisation numbers, phone numbers, IPs, visitor ids.

Faker's ``sv_SE`` ``ssn()`` is not used for personnummer: it counts ages from
the clock (``datetime.now()``), so a seed does not give the same numbers on
another day; it draws the serial number from 000-998, and 000 is never issued
(about 1 in 1000 of its numbers are invalid); and it cannot make
samordningsnummer. The numbers here count from a fixed ``today``, use serials
001-999 whose last digit matches the sex, add 60 to the day for a
samordningsnummer, and take their check digit from
:func:`ombud.discovery.identifiers.luhn_check_digit`, the function Ombud
validates with.

Every value is synthetic, yet a valid personnummer may belong to a real person:
keep demo data out of production systems. Mail domains and IP addresses come
from ranges reserved for documentation and testing, so nothing reaches a real
mailbox or host.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from random import Random

from ombud.discovery.identifiers import luhn_check_digit

__all__ = [
    "IP_ONLY_ADDRESS",
    "Days",
    "PersonnummerFactory",
    "ipv4",
    "ipv6",
    "make_orgnr",
    "phone_written",
    "random_phone",
    "random_phones",
    "visitor_id",
]

#: A visitor known only by this address in the access logs (TEST-NET-3, RFC 5737).
IP_ONLY_ADDRESS = "203.0.113.7"

# Luhn weights 2, 1, 2, ... from the left: the serial's digits stand at positions 6-8,
# so each part's contribution can be tabled once and the two added.
_SERIAL_SUM = [-luhn_check_digit(f"000000{serial:03d}") % 10 for serial in range(1000)]


class Days:
    """Dates as strings, counted back from ``today`` (negative: in the future).

    Rows pick day offsets as integers and look the text up here, which is far
    cheaper than formatting a ``datetime`` per value.
    """

    def __init__(self, today: date, *, past: int, future: int) -> None:
        self.today = today
        self.future = future
        first = today + timedelta(days=future)
        dates = [first - timedelta(days=k) for k in range(past + future + 1)]
        self._iso = [d.isoformat() for d in dates]
        self._compact = [d.strftime("%Y%m%d") for d in dates]
        # "HH:MM:SS.ffffff": SQLAlchemy's storage format for DateTime on SQLite
        self.times = [
            f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.000000" for s in range(86_400)
        ]

    def iso(self, offset: int) -> str:
        """``YYYY-MM-DD`` of the day ``offset`` days before today."""
        return self._iso[offset + self.future]

    def compact(self, offset: int) -> str:
        """``YYYYMMDD`` of the day ``offset`` days before today."""
        return self._compact[offset + self.future]

    def timestamp(self, offset: int, second: int) -> str:
        """``YYYY-MM-DD HH:MM:SS.000000``: ``second`` seconds into that day."""
        return f"{self._iso[offset + self.future]} {self.times[second]}"

    def stamps(self, offsets: Sequence[int], seconds: Sequence[int]) -> list[str]:
        """:meth:`timestamp` for many moments at once."""
        iso, times, shift = self._iso, self.times, self.future
        return [f"{iso[o + shift]} {times[s]}" for o, s in zip(offsets, seconds, strict=True)]

    def date(self, offset: int) -> date:
        return self.today - timedelta(days=offset)


class PersonnummerFactory:
    """Unique personnummer and samordningsnummer, 12 digits, for given birth dates and sex."""

    def __init__(self, rng: Random) -> None:
        self._rng = rng
        self._taken: set[str] = set()
        self._date_sums: dict[str, int] = {}

    def make(self, birth: str, *, female: bool, coordination: bool) -> str:
        """A fresh number for ``birth`` (``YYYYMMDD``); the day is raised by 60 for a
        samordningsnummer. The last serial digit is even for women, odd for men.
        """
        return self.make_many([birth], [female], [coordination])[0]

    def make_many(
        self, births: Sequence[str], females: Sequence[bool], coordinations: Sequence[bool]
    ) -> list[str]:
        """:meth:`make` for many people at once: the same numbers, with less overhead."""
        random, taken, date_sums, serial_sums = (
            self._rng.random,
            self._taken,
            self._date_sums,
            _SERIAL_SUM,
        )
        numbers: list[str] = []
        for birth, female, coordination in zip(births, females, coordinations, strict=True):
            day = f"{birth[:6]}{int(birth[6:]) + 60}" if coordination else birth
            date_sum = date_sums.get(day)
            if date_sum is None:
                date_sum = date_sums[day] = -luhn_check_digit(day[2:] + "000") % 10
            parity = 0 if female else 1
            while True:
                serial = int(random() * 500) * 2 + parity
                if serial == 0:
                    continue  # serial 000 is never issued
                number = f"{day}{serial:03d}{-(date_sum + serial_sums[serial]) % 10}"
                if number not in taken:
                    taken.add(number)
                    numbers.append(number)
                    break
        return numbers

    def take(self, number: str) -> None:
        """Mark ``number`` as used, so that :meth:`make` never returns it."""
        self._taken.add(number)


def make_orgnr(rng: Random, first_digit: str, taken: set[str]) -> str:
    """A fresh 10-digit organisation number of a legal person: Luhn-valid, third digit >= 2."""
    random = rng.random
    while True:
        body = (
            f"{first_digit}{int(random() * 10)}{int(random() * 8) + 2}"
            f"{int(random() * 1_000_000):06d}"
        )
        number = f"{body}{luhn_check_digit(body)}"
        if number not in taken:
            taken.add(number)
            return number


#: Mobile prefixes in use (070, 072, 073, 076, 079) and Stockholm's area code.
_MOBILE_PREFIXES = ("70", "70", "70", "72", "73", "73", "76", "76", "79")


def random_phones(rng: Random, n: int) -> list[str]:
    """``n`` numbers as :func:`random_phone` makes them (the same ones), with less overhead."""
    random, prefixes = rng.random, _MOBILE_PREFIXES
    return [
        f"+46{prefixes[int(random() * 9)]}{int(random() * 10_000_000):07d}"
        if random() < 0.85
        else f"+468{int(random() * 9_000_000) + 1_000_000}"
        for _ in range(n)
    ]


def random_phone(rng: Random) -> str:
    """A Swedish number in E.164: a mobile mostly, a Stockholm landline sometimes."""
    random = rng.random
    if random() < 0.85:
        prefix = _MOBILE_PREFIXES[int(random() * len(_MOBILE_PREFIXES))]
        return f"+46{prefix}{int(random() * 10_000_000):07d}"
    return f"+468{int(random() * 9_000_000) + 1_000_000}"


def phone_written(e164: str, form: int) -> str:
    """A Swedish E.164 number as people write it.

    ``form`` 0: ``+46701234567``; 1: ``070-123 45 67``; 2: ``+46 70 123 45 67``;
    3: ``0701234567``. Stockholm's 08 numbers follow the same groups.
    """
    if form == 0:
        return e164
    national = e164[3:]  # without +46 and the trunk 0
    area_length = 1 if national.startswith("8") else 2
    area, rest = national[:area_length], national[area_length:]
    groups = f"{rest[:3]} {rest[3:5]} {rest[5:]}"
    if form == 1:
        return f"0{area}-{groups}"
    if form == 2:
        return f"+46 {area} {groups}"
    return f"0{national}"


def ipv4(rng: Random) -> str:
    """An address in 198.18.0.0/15 (RFC 2544, benchmarking): 131,072 of them, so with
    many visitors some share one, as behind carrier-grade NAT.
    """
    n = int(rng.random() * 131_072)
    return f"198.{18 + (n >> 16)}.{(n >> 8) & 255}.{n & 255}"


def ipv6(rng: Random) -> str:
    """An address in 2001:db8::/32 (RFC 3849, documentation), compressed as ipaddress writes it."""
    random = rng.random
    return (
        f"2001:db8:{int(random() * 0xFFFF) + 1:x}:{int(random() * 0xFFFF) + 1:x}"
        f"::{int(random() * 0xFFFF) + 1:x}"
    )


def visitor_id(rng: Random) -> str:
    """A cookie banner's visitor id: a UUID version 4 (random), from ``rng``."""
    h = f"{rng.getrandbits(128):032x}"
    # version nibble 4; variant bits 10xx (RFC 9562)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}
