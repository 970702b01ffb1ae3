"""Recognising plaintext personal data that must never reach the audit log.

Audit entries name actors (``user:42``), actions and object ids
(``request:abc123``); DESIGN §5 forbids the personal data itself. This module
errs on the side of refusing: a value that merely looks like an e-mail
address, a personnummer, a phone number or an IP address is refused, and the
caller uses an opaque id instead.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import unquote

# Numbers count only when no letter or digit touches them, so hex digests and
# other opaque ids (``request:9f86d081...``) are not mistaken for them.
_NOT_AFTER = r"(?<![0-9A-Za-z+])"
_NOT_BEFORE = r"(?![0-9A-Za-z])"

_EMAIL = re.compile(r"[^\s@<>()\[\],;:\"']+@[^\s@<>()\[\],;:\"']+\.[^\s@<>()\[\],;:\"']+")

# YYMMDD with day + 60 for samordningsnummer, optional century, optional - + or space,
# four digits: 811218-9876, 811218+9876, 19811218-9876, 198112189876.
_PERSONNUMMER = re.compile(
    _NOT_AFTER
    + r"(?:18|19|20)?\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]|6[1-9]|[78]\d|9[01])"
    + r"[-+\s]?\d{4}"
    + _NOT_BEFORE
)

# +46 70 123 45 67, 0046701234567 (E.164: at most 15 digits) and national numbers
# with a trunk 0: 070-123 45 67, 08-123 456 78.
_PHONE = re.compile(
    _NOT_AFTER + r"(?:(?:\+|00)[1-9](?:[\s-]?\d){6,14}|0[1-9](?:[\s-]?\d){5,8})" + _NOT_BEFORE
)

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(rf"(?<![\w.]){_OCTET}(?:\.{_OCTET}){{3}}(?![\w]|\.\w)")
# Candidates only; ipaddress decides. A colon-separated word such as user:42
# never has the two colons an IPv6 address needs.
_IPV6_CANDIDATE = re.compile(r"(?<!\w)(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")


def _is_ipv6(candidate: str) -> bool:
    try:
        ipaddress.IPv6Address(candidate)
    except ValueError:
        return False
    # At least two groups: "a::b" is an address, a lone "::1" reads as punctuation.
    return sum(1 for group in candidate.split(":") if group) >= 2


def find_personal_data(text: str) -> str | None:
    """The kind of personal data ``text`` seems to contain (e.g. "an e-mail address"), or None.

    URL-encoded text (``alice%40example.com``) is checked decoded as well.
    """
    for variant in dict.fromkeys((text, unquote(text))):
        if _EMAIL.search(variant):
            return "an e-mail address"
        if _PERSONNUMMER.search(variant):
            return "a personnummer or samordningsnummer"
        if _PHONE.search(variant):
            return "a phone number"
        if _IPV4.search(variant) or any(
            _is_ipv6(match.group()) for match in _IPV6_CANDIDATE.finditer(variant)
        ):
            return "an IP address"
    return None
