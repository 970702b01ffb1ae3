"""Errors of the audit log.

::

    ValueError
     └── AuditEntryError              an entry that may not be written (bad shape)
          └── PersonalDataInAuditError  it would put personal data in the log
    RuntimeError
     └── AuditChainError              the chain cannot be appended to (not migrated)

A broken chain is not an error: :func:`ombud.audit.verify` reports it.
"""

from __future__ import annotations


class AuditEntryError(ValueError):
    """The entry may not be written as given; nothing was written."""


class PersonalDataInAuditError(AuditEntryError):
    """The entry would hold plaintext personal data (DESIGN §5); nothing was written.

    The message names the field and the kind of data, never the data itself.
    """


class AuditChainError(RuntimeError):
    """The audit chain cannot be used: its head record is missing."""
