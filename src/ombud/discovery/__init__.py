"""Personal data discovery: identifier rules and detectors for free text.

Errors::

    ValueError
    └── InvalidIdentifierError   a value is not a valid identifier of its kind
"""

from ombud.discovery.detectors import KINDS, Match, contains_personal_data, find_personal_data
from ombud.discovery.identifiers import (
    IDENTIFIER_KINDS,
    InvalidIdentifierError,
    Orgnr,
    Personnummer,
    also_known_as,
    normalise,
    normalise_email,
    normalise_ip,
    normalise_phone,
    parse_company_id,
    parse_orgnr,
    parse_personnummer,
    truncate_ip,
)

__all__ = [
    "IDENTIFIER_KINDS",
    "KINDS",
    "InvalidIdentifierError",
    "Match",
    "Orgnr",
    "Personnummer",
    "also_known_as",
    "contains_personal_data",
    "find_personal_data",
    "normalise",
    "normalise_email",
    "normalise_ip",
    "normalise_phone",
    "parse_company_id",
    "parse_orgnr",
    "parse_personnummer",
    "truncate_ip",
]
