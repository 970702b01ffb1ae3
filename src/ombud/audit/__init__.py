"""The tamper-evident audit log (Art. 5(2)): hash-chained, append-only, verifiable.

Write with :func:`append` inside the transaction of the change it records;
check with :func:`verify`; record :func:`head` somewhere else as an anchor.
The format is described in docs/audit.md.
"""

from ombud.audit.errors import AuditChainError, AuditEntryError, PersonalDataInAuditError
from ombud.audit.log import Head, append, canonical_entry, entry_hash, head
from ombud.audit.personal_data import find_personal_data
from ombud.audit.verification import Verification, verify
from ombud.store.models import GENESIS_HASH, AuditEntry

__all__ = [
    "GENESIS_HASH",
    "AuditChainError",
    "AuditEntry",
    "AuditEntryError",
    "Head",
    "PersonalDataInAuditError",
    "Verification",
    "append",
    "canonical_entry",
    "entry_hash",
    "find_personal_data",
    "head",
    "verify",
]
