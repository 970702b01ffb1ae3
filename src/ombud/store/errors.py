"""Errors of Ombud's own database.

::

    Exception
     └── StoreError        the database cannot be used as asked: bad URL, unreachable,
                           not migrated, or migrated by a newer Ombud

Messages say what went wrong, which database (password hidden) and how to fix it,
so the CLI and the web app can show them as they are.
"""

from __future__ import annotations


class StoreError(Exception):
    """Ombud's database cannot be used as asked; the message says how to fix it."""
