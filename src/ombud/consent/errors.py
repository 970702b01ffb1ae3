"""The consent domain's errors: each says what, which field, and how to fix it.

Messages never contain the identifier a choice was made under (it is personal
data), so they are safe to return and to log.
"""

from __future__ import annotations

__all__ = [
    "ConsentError",
    "InvalidChoiceError",
    "ReceiptNotFoundError",
    "UnknownTextError",
    "UnknownVersionError",
]


class ConsentError(ValueError):
    """Base of the consent errors. ``field`` names the input at fault, when there is one."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvalidChoiceError(ConsentError):
    """A choice that cannot be recorded: unknown purpose, method, language or identifier."""


class UnknownVersionError(ConsentError):
    """A register version that was never served (so nobody can have been shown it)."""


class UnknownTextError(ConsentError):
    """A text digest that names no stored consent text."""


class ReceiptNotFoundError(ConsentError, LookupError):
    """No consent event has that receipt id (or it was erased)."""
