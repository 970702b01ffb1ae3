"""The column erasure strategies as pure functions, shared by every connector.

Each is idempotent: applied to its own output it returns that output, so a
repeated erasure changes nothing more. ``hash`` recognises its output by its
shape (64 lower-case hex digits) and leaves such a value alone.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from ombud.connectors.base import REDACTED, Strategy, Value
from ombud.discovery import InvalidIdentifierError, truncate_ip

__all__ = ["HASH_LENGTH", "hash_value", "is_hashed", "mask"]

#: Characters of a hashed value: HMAC-SHA256 in hex.
HASH_LENGTH = 64
_HASHED = re.compile(r"[0-9a-f]{64}")


def hash_value(value: str, key: bytes) -> str:
    """HMAC-SHA256 of the value's UTF-8 text under ``key``, as lower-case hex."""
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def is_hashed(value: Value) -> bool:
    return isinstance(value, str) and _HASHED.fullmatch(value) is not None


def mask(strategy: Strategy, value: Value, *, hash_key: bytes) -> Value:
    """``value`` after ``strategy``.

    None stays None. An IP address that does not parse becomes None: erasure
    must not stop at a malformed value, nor keep it.
    """
    if value is None:
        return None
    match strategy:
        case Strategy.NULL:
            return None
        case Strategy.REDACT:
            return REDACTED
        case Strategy.HASH:
            text = str(value)
            return text if is_hashed(text) else hash_value(text, hash_key)
        case Strategy.TRUNCATE_IP:
            try:
                return truncate_ip(str(value))
            except InvalidIdentifierError:
                return None
