"""Identifiers of data subjects: parse, validate and normalise to one canonical text.

A request names its subject by e-mail, phone, personnummer, organisation
number, customer or visitor id, or IP address; systems store the same person in
many written forms. :func:`normalise` turns every accepted form into one
canonical text, so that the keyed hash Ombud stores (DESIGN §5) matches whatever
form the subject or a system used:

=============== ============================================ ======================
kind            accepted                                     canonical
=============== ============================================ ======================
personnummer    YYMMDD-NNNC, YYMMDD+NNNC, YYMMDDNNNC,        YYYYMMDDNNNC
                YYYYMMDDNNNC, YYYYMMDD-NNNC (also
                samordningsnummer and interim numbers)
orgnr           NNNNNN-NNNN, NNNNNNNNNN, 16NNNNNNNNNN; a     NNNNNNNNNN, or the
                sole trader's personnummer                   personnummer's
phone           Swedish national forms, 0046..., +46...,     E.164: +46701234567
                any valid +CC number
email           local@domain                                 lower case
ip              IPv4, IPv6                                   ipaddress' text
other kinds     anything non-blank                           stripped
=============== ============================================ ======================

Sources are listed in ``docs/identifiers.md``. Every function is pure: the
century of a 10-digit personnummer depends on the ``today`` passed in, never on
the clock. Error messages say what is wrong and which forms are accepted, but
never repeat the value: they may end up in a log.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

import phonenumbers

__all__ = [
    "IDENTIFIER_KINDS",
    "InvalidIdentifierError",
    "Orgnr",
    "Personnummer",
    "also_known_as",
    "normalise",
    "normalise_email",
    "normalise_ip",
    "normalise_phone",
    "parse_company_id",
    "parse_orgnr",
    "parse_personnummer",
    "truncate_ip",
]

#: The identifier kinds of DESIGN §3 that have rules; any other kind is opaque text.
IDENTIFIER_KINDS = ("email", "phone", "personnummer", "orgnr", "customer_id", "visitor_id", "ip")

PERSONNUMMER_FORMS = (
    "YYMMDD-NNNC, YYMMDD+NNNC (100 or older), YYMMDDNNNC, YYYYMMDD-NNNC or YYYYMMDDNNNC"
)
ORGNR_FORMS = "NNNNNN-NNNN, NNNNNNNNNN or 16NNNNNNNNNN, or a sole trader's personnummer"
PHONE_FORMS = "070-123 45 67, 08-123 456 78, 0046 70 123 45 67 or +46 70 123 45 67"
EMAIL_FORMS = "name@example.se"
IP_FORMS = "an IPv4 address such as 192.0.2.1 or an IPv6 address such as 2001:db8::1"


class InvalidIdentifierError(ValueError):
    """A value is not a valid identifier of its kind.

    ``kind`` names the identifier type, ``reason`` what is wrong, ``accepted``
    the forms that would be; the message joins them and never contains the value.
    """

    def __init__(self, kind: str, reason: str, accepted: str) -> None:
        self.kind = kind
        self.reason = reason
        self.accepted = accepted
        super().__init__(f"not a valid {kind}: {reason}; accepted forms: {accepted}")


def luhn_check_digit(digits: str) -> int:
    """The Luhn (mod 10) check digit for ``digits``, weighting 2, 1, 2, ... from the left.

    The weights start at 2 because personnummer and organisation numbers have
    an odd count (9) of digits before the check digit.
    """
    total = 0
    for position, char in enumerate(digits):
        product = int(char) * (2 - position % 2)
        total += product - 9 if product > 9 else product
    return -total % 10


# --- personnummer and samordningsnummer -----------------------------------------------

#: Letters an interim number may have in its first serial position (as the public vectors).
INTERIM_LETTERS = "TRSUWXJKLMN"

_PERSONNUMMER = re.compile(
    rf"(?P<century>[0-9]{{2}})?(?P<yy>[0-9]{{2}})(?P<mm>[0-9]{{2}})(?P<dd>[0-9]{{2}})"
    rf"(?P<sep>[-+]?)(?P<serial>[0-9{INTERIM_LETTERS}][0-9]{{2}})(?P<check>[0-9])"
)
# The check digit of an interim number is computed with its letter read as 1.
_INTERIM_AS_ONE = str.maketrans(dict.fromkeys(INTERIM_LETTERS, "1"))
#: A samordningsnummer adds this to the day of birth.
COORDINATION_OFFSET = 60

Sex = Literal["female", "male"]


@dataclass(frozen=True, repr=False)
class Personnummer:
    """A valid personnummer, samordningsnummer or interim number (see :func:`parse_personnummer`).

    ``canonical`` is the 12-character form YYYYMMDDNNNC (an interim number keeps
    its letter). ``repr`` and ``str`` hide the number so that it cannot slip
    into a log; use :attr:`canonical` or :meth:`format` on purpose.
    """

    canonical: str

    def __repr__(self) -> str:
        return "Personnummer(<hidden>)"

    @property
    def is_coordination(self) -> bool:
        """A samordningsnummer: the day of birth plus 60."""
        return int(self.canonical[6:8]) > COORDINATION_OFFSET

    @property
    def is_interim(self) -> bool:
        """An interim number: a letter in the first serial position."""
        return not self.canonical[8].isdigit()

    @property
    def birth_date(self) -> date:
        """The date of birth (for a samordningsnummer, the day with 60 taken off)."""
        day = int(self.canonical[6:8])
        if day > COORDINATION_OFFSET:
            day -= COORDINATION_OFFSET
        return date(int(self.canonical[:4]), int(self.canonical[4:6]), day)

    @property
    def sex(self) -> Sex:
        """Legal sex as recorded in the number: the second-to-last digit, odd for male."""
        return "male" if int(self.canonical[10]) % 2 else "female"

    def format(self, *, long: bool = True, today: date | None = None) -> str:
        """``YYYYMMDD-NNNC``; with ``long=False`` ``YYMMDD-NNNC``, or ``YYMMDD+NNNC`` from
        the year of ``today`` in which the person turns 100 (the short form needs ``today``).
        """
        if long:
            return f"{self.canonical[:8]}-{self.canonical[8:]}"
        if today is None:
            raise ValueError("the short form needs today: it shows - or + by age")
        separator = "+" if today.year - int(self.canonical[:4]) >= 100 else "-"
        return f"{self.canonical[2:8]}{separator}{self.canonical[8:]}"


def _personnummer_error(reason: str) -> InvalidIdentifierError:
    return InvalidIdentifierError("personnummer", reason, PERSONNUMMER_FORMS)


def parse_personnummer(value: str, *, today: date) -> Personnummer:
    """Parse a personnummer, samordningsnummer or interim number in any accepted form.

    A 10-digit form gets the century that makes the person younger than 100 in
    the year of ``today``, or at least 100 with ``+`` (Skatteverket's rule). In
    a 12-digit form the separator is only punctuation. Raises
    :class:`InvalidIdentifierError` saying what is wrong.
    """
    text = value.strip().upper()
    match = _PERSONNUMMER.fullmatch(text)
    if match is None:
        if re.fullmatch(r"([0-9]{2})?[0-9]{6}\s+\w{4}", text):
            raise _personnummer_error(
                "separate the date and the serial number with - (or + from the year the "
                "person turns 100), not a space"
            )
        raise _personnummer_error("it has neither 10 nor 12 digits in one of the usual forms")
    yy, mm, dd, serial = match["yy"], match["mm"], match["dd"], match["serial"]
    if int(mm) >= 20:
        raise _personnummer_error("its third digit is 2 or more, so it is an organisation number")
    if serial == "000":
        raise _personnummer_error("the serial number 000 is never issued")
    digits = yy + mm + dd + serial.translate(_INTERIM_AS_ONE)
    if luhn_check_digit(digits) != int(match["check"]):
        raise _personnummer_error("the check digit does not match (a typing error?)")
    if match["century"] is not None:
        if match["century"] not in ("18", "19", "20"):
            raise _personnummer_error("the year must begin with 18, 19 or 20")
        year = int(match["century"] + yy)
    else:
        latest = today.year - (100 if match["sep"] == "+" else 0)
        year = latest - (latest - int(yy)) % 100
    day = int(dd) - COORDINATION_OFFSET if int(dd) > COORDINATION_OFFSET else int(dd)
    try:
        date(year, int(mm), day)
    except ValueError:
        raise _personnummer_error("its date of birth does not exist") from None
    return Personnummer(f"{year:04d}{mm}{dd}{serial}{match['check']}")


# --- organisation numbers -------------------------------------------------------------

#: Bolagsverket's groups by first digit ("gruppnummer"); 0 and 4 are not issued.
LEGAL_FORM_GROUPS = {
    "1": "dödsbo (estate of a deceased person)",
    "2": "stat, region, kommun eller församling (state, region, municipality or parish)",
    "3": "utländskt företag (foreign company trading or owning property in Sweden)",
    "5": "aktiebolag (limited company)",
    "6": "enkelt bolag (simple partnership)",
    "7": "ekonomisk förening (economic association, incl. housing cooperative)",
    "8": "ideell förening eller stiftelse (non-profit association or foundation)",
    "9": "handelsbolag eller kommanditbolag (trading or limited partnership)",
}

_ORGNR = re.compile(r"(?:16)?([0-9]{6})-?([0-9]{4})")


@dataclass(frozen=True)
class Orgnr:
    """A valid organisation number of a legal person; ``canonical`` is its 10 digits."""

    canonical: str

    @property
    def legal_form(self) -> str:
        """The legal form group its first digit stands for (Swedish, then English)."""
        return LEGAL_FORM_GROUPS[self.canonical[0]]

    def format(self, *, prefixed: bool = False) -> str:
        """``NNNNNN-NNNN``; with ``prefixed=True`` Skatteverket's 12-digit ``16NNNNNNNNNN``."""
        if prefixed:
            return f"16{self.canonical}"
        return f"{self.canonical[:6]}-{self.canonical[6:]}"


def _orgnr_error(reason: str) -> InvalidIdentifierError:
    return InvalidIdentifierError("orgnr", reason, ORGNR_FORMS)


def parse_orgnr(value: str) -> Orgnr:
    """Parse the organisation number of a legal person (not a sole trader's personnummer)."""
    match = _ORGNR.fullmatch(value.strip())
    if match is None:
        raise _orgnr_error("it does not have 10 digits (or 16 and 10 digits)")
    digits = match[1] + match[2]
    if digits[2] < "2":
        raise _orgnr_error("its third digit is 0 or 1, so it is a personnummer")
    if digits[0] not in LEGAL_FORM_GROUPS:
        raise _orgnr_error("no organisation number begins with 0 or 4")
    if luhn_check_digit(digits[:9]) != int(digits[9]):
        raise _orgnr_error("the check digit does not match (a typing error?)")
    return Orgnr(digits)


def parse_company_id(value: str, *, today: date) -> Orgnr | Personnummer:
    """The id of a company: an :class:`Orgnr`, or for a sole trader (enskild firma) the
    owner's :class:`Personnummer` — personal data, to be handled as such.
    """
    digits = value.strip().replace("-", "")
    if (len(digits) == 12 and digits.startswith("16")) or (len(digits) == 10 and digits[2] >= "2"):
        return parse_orgnr(value)
    try:
        return parse_personnummer(value, today=today)
    except InvalidIdentifierError as exc:
        raise _orgnr_error(exc.reason) from None


# --- phone numbers --------------------------------------------------------------------

# What people write around the digits; letters (vanity numbers, "ext.") are refused.
_PHONE_TEXT = re.compile(r"\+?[0-9\s().\-]+")


def phone_e164(value: str) -> str | None:
    """The E.164 form of a valid phone number, Swedish unless it has +CC or 00CC; else None."""
    if not _PHONE_TEXT.fullmatch(value):
        return None
    try:
        number = phonenumbers.parse(value, "SE")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_phone(value: str) -> str:
    """A phone number in E.164 (``070-123 45 67`` -> ``+46701234567``), validated against
    the numbering plans of libphonenumber.
    """
    e164 = phone_e164(value.strip())
    if e164 is None:
        raise InvalidIdentifierError(
            "phone", "it is not a phone number in use in Sweden or, with +, elsewhere", PHONE_FORMS
        )
    return e164


# --- e-mail addresses -----------------------------------------------------------------

_ATOM = r"[\w!#$%&'*+/=?^`{|}~-]+"
_LABEL = r"[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?"  # letters, digits, inner hyphens
#: The shape of an address, without anchors; the detectors search for it in text.
EMAIL_PATTERN = rf"{_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+{_LABEL}"
_EMAIL = re.compile(EMAIL_PATTERN)


def is_email(value: str) -> bool:
    """Whether ``value`` has the shape of an address: dot-atoms, a dotted domain, RFC 5321 lengths.

    Quoted local parts and address literals (``user@[192.0.2.1]``) are not accepted.
    """
    if len(value) > 254 or _EMAIL.fullmatch(value) is None:
        return False
    local, domain = value.rsplit("@", 1)
    return len(local) <= 64 and not domain.rsplit(".", 1)[1].isdigit()


def normalise_email(value: str) -> str:
    """An e-mail address stripped and wholly lower-cased.

    The local part is lower-cased too, although RFC 5321 lets a server tell
    cases apart: no real mailbox does, and people do not type case consistently.
    """
    text = value.strip().lower()
    if not is_email(text):
        raise InvalidIdentifierError(
            "email", "it is not an address of the form local@domain.tld", EMAIL_FORMS
        )
    return text


# --- IP addresses ---------------------------------------------------------------------

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
#: An IPv4 address as ipaddress accepts it: four decimal octets, no leading zeros.
_DOTTED_QUAD = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")


def _ip(value: str) -> IPAddress:
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        raise InvalidIdentifierError("ip", "it is not an IP address", IP_FORMS) from None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # ::ffff:192.0.2.1 is the IPv4 host 192.0.2.1
    return address


def normalise_ip(value: str) -> str:
    """The canonical text of an IPv4 or IPv6 address (IPv6 compressed, lower case;
    an IPv4-mapped IPv6 address as its IPv4 address).
    """
    return str(_ip(value))


def truncate_ip(value: str) -> str:
    """The address with its host part zeroed: IPv4 to its /24 (last octet 0), IPv6 to its /48."""
    # The common case, a dotted IPv4 address, without building address objects: every
    # consent event truncates one (bench/consent_ingest.py).
    if _DOTTED_QUAD.fullmatch(value):
        return value.rpartition(".")[0] + ".0"
    address = _ip(value)
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


# --- any kind -------------------------------------------------------------------------


#: A canonical personnummer's length; a legal person's organisation number has 10 digits.
_PERSONNUMMER_DIGITS = 12


def also_known_as(kind: str, canonical: str) -> tuple[tuple[str, str], ...]:
    """The same subject's identifier under other kinds, from a canonical one.

    A sole trader's (enskild firma) organisation number is the owner's
    personnummer, so each stands for the other: rows filed under the company
    are the person's, and a person's objection or erasure covers the company.
    An organisation number of a legal person stands for nobody else.
    """
    if kind == "personnummer":
        return (("orgnr", canonical),)
    if kind == "orgnr" and len(canonical) == _PERSONNUMMER_DIGITS:
        return (("personnummer", canonical),)
    return ()


def normalise(kind: str, value: str, *, today: date) -> str:  # noqa: PLR0911 - one per kind
    """The canonical text of an identifier of ``kind`` (see the module's table).

    ``visitor_id`` (the banner's random UUID) is lower-cased, as the ledger keeps it.
    Kinds without rules (``customer_id`` and custom kinds of the register) are
    stripped and must not be blank. Raises :class:`InvalidIdentifierError`.
    """
    match kind:
        case "email":
            return normalise_email(value)
        case "phone":
            return normalise_phone(value)
        case "personnummer":
            return parse_personnummer(value, today=today).canonical
        case "orgnr":
            return parse_company_id(value, today=today).canonical
        case "ip":
            return normalise_ip(value)
        case "visitor_id":
            text = value.strip().lower()
            if not text:
                raise InvalidIdentifierError(kind, "it is blank", "any non-blank text")
            return text
        case _:
            text = value.strip()
            if not text:
                raise InvalidIdentifierError(kind, "it is blank", "any non-blank text")
            return text
