"""Errors a caller of the notice renderers can cause.

::

    ValueError
    └── NoticeError                 anything wrong with a render request
        ├── UnknownLanguageError    the register has no such language
        └── UnknownFormatError      no renderer for that format
"""

from __future__ import annotations

from collections.abc import Iterable


class NoticeError(ValueError):
    """A render request Ombud cannot satisfy; the message says how to fix it."""


class UnknownLanguageError(NoticeError):
    """The requested language is not among the register's ``languages``."""

    def __init__(self, lang: str, available: Iterable[str]) -> None:
        self.lang = lang
        self.available = tuple(available)
        super().__init__(
            f"the register has no language {lang!r}; use one of: {', '.join(self.available)} "
            "(or add it to `languages` in the register)"
        )


class UnknownFormatError(NoticeError):
    """The requested output format is not one Ombud renders."""

    def __init__(self, fmt: str, available: Iterable[str]) -> None:
        self.fmt = fmt
        self.available = tuple(available)
        super().__init__(f"unknown format {fmt!r}; use one of: {', '.join(self.available)}")
