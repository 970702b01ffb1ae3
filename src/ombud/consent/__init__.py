"""Consent (Art. 7): an append-only ledger with the exact text shown, receipts and statistics.

:func:`record_choice` writes a choice (one event per purpose) with its derived
state and one audit entry; :func:`current` and :data:`LEDGER` (the gate's
consent source) read the state; :func:`receipt` proves one event;
:func:`statistics` gives the banner's consent rates; :func:`erase_subject` is
the only way events are deleted. docs/consent.md is the contract.

Errors::

    ConsentError (ValueError)            .field names the input at fault
    ├── InvalidChoiceError               unknown purpose, method, language; bad visitor id
    ├── UnknownVersionError              a register version never served
    ├── UnknownTextError                 a text digest never stored
    └── ReceiptNotFoundError (LookupError)
"""

from ombud.consent.errors import (
    ConsentError,
    InvalidChoiceError,
    ReceiptNotFoundError,
    UnknownTextError,
    UnknownVersionError,
)
from ombud.consent.ledger import (
    Choice,
    RecordedEvent,
    current,
    erase_subject,
    expiry,
    record_choice,
    record_expired,
    subject_digest,
    user_agent_family,
)
from ombud.consent.models import (
    ConsentEvent,
    ConsentSignup,
    ConsentStateRow,
    ConsentText,
    ConsentWebhook,
    EventType,
    Method,
)
from ombud.consent.purposes import PurposeMap, purpose_map, stored_register
from ombud.consent.receipts import receipt
from ombud.consent.source import LEDGER, LedgerConsentSource
from ombud.consent.statistics import DayStatistics, statistics
from ombud.consent.texts import banner_text, digest, form_text, get_text, store_text

__all__ = [
    "LEDGER",
    "Choice",
    "ConsentError",
    "ConsentEvent",
    "ConsentSignup",
    "ConsentStateRow",
    "ConsentText",
    "ConsentWebhook",
    "DayStatistics",
    "EventType",
    "InvalidChoiceError",
    "LedgerConsentSource",
    "Method",
    "PurposeMap",
    "ReceiptNotFoundError",
    "RecordedEvent",
    "UnknownTextError",
    "UnknownVersionError",
    "banner_text",
    "current",
    "digest",
    "erase_subject",
    "expiry",
    "form_text",
    "get_text",
    "purpose_map",
    "receipt",
    "record_choice",
    "record_expired",
    "statistics",
    "store_text",
    "stored_register",
    "subject_digest",
    "user_agent_family",
]
