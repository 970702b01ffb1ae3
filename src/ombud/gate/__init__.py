"""The processing gate: may activity A touch subject S now? (DESIGN §2)

:func:`check` answers for a batch of activities and subjects from the
suppression list, the restrictions and the consent ledger, set-based. The
consent ledger plugs in through :class:`ConsentSource`; until it exists,
:data:`NO_CONSENT_LEDGER` says nobody consented. docs/gate.md has the rules.

Errors::

    GateError (ValueError)
    ├── UnknownActivityError   an activity the register does not have
    ├── InvalidSubjectError    subjects without identifiers, or with malformed or unknown ones
    └── BatchTooLargeError     more than MAX_SUBJECTS subjects
"""

from ombud.gate.consent import (
    NO_CONSENT_LEDGER,
    ConsentSource,
    ConsentState,
    ConsentValue,
    NoConsentLedger,
)
from ombud.gate.errors import (
    BatchTooLargeError,
    GateError,
    InvalidSubjectError,
    SubjectProblem,
    UnknownActivityError,
)
from ombud.gate.service import (
    CHUNK_SIZE,
    MAX_SUBJECTS,
    Decision,
    Reason,
    check,
    direct_marketing_scope,
)

__all__ = [
    "CHUNK_SIZE",
    "MAX_SUBJECTS",
    "NO_CONSENT_LEDGER",
    "BatchTooLargeError",
    "ConsentSource",
    "ConsentState",
    "ConsentValue",
    "Decision",
    "GateError",
    "InvalidSubjectError",
    "NoConsentLedger",
    "Reason",
    "SubjectProblem",
    "UnknownActivityError",
    "check",
    "direct_marketing_scope",
]
