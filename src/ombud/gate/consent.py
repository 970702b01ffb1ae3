"""Where the gate learns about consent: a seam for the consent ledger.

The gate asks, for each subject of a batch and each consent purpose of the
activities checked, what state the person's consent is in. It does so through
two small protocols, so that the ledger (``ombud.consent``) plugs in without
the gate changing, and without a query per subject:

- :class:`ConsentSource` is asked once per batch, with every identifier digest
  of the batch and every purpose needed, and returns
- a :class:`ConsentState`, which then answers each subject from what it loaded.

Until the ledger exists, :data:`NO_CONSENT_LEDGER` answers ``"none"`` for
everyone: an activity resting on consent is refused with ``no_consent``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Set
from typing import Literal, Protocol

from sqlalchemy.orm import Session

__all__ = ["NO_CONSENT_LEDGER", "ConsentSource", "ConsentState", "ConsentValue", "NoConsentLedger"]

#: given: consent is in force; withdrawn: it was given and then withdrawn;
#: refused: the person said no; none: nothing recorded (or it lapsed).
ConsentValue = Literal["given", "withdrawn", "refused", "none"]


class ConsentState(Protocol):
    """The consent of the subjects of one batch, loaded beforehand."""

    def state(self, digests: set[str], purpose: str) -> ConsentValue:
        """The consent to ``purpose`` of the person known by any of ``digests``.

        ``digests`` are the HMACs (:meth:`ombud.store.crypto.Keys.identifier`) of
        the identifiers the caller gave for one person. When they disagree, the
        answer must err towards refusal: a withdrawal or refusal recorded under
        any of them after the consent was given wins.
        """
        ...


class ConsentSource(Protocol):
    """Loads the :class:`ConsentState` of a whole batch (one query per table, not per subject)."""

    def load(
        self,
        session: Session,
        digests: Set[str],
        purposes: Set[str],
        *,
        now: dt.datetime,
    ) -> ConsentState:
        """The state of ``purposes`` for everyone known by one of ``digests``, at ``now``."""
        ...


class NoConsentLedger:
    """The stand-in until the consent ledger exists: nobody has consented to anything."""

    def load(
        self,
        session: Session,  # noqa: ARG002 - the ConsentSource signature
        digests: Set[str],  # noqa: ARG002
        purposes: Set[str],  # noqa: ARG002
        *,
        now: dt.datetime,  # noqa: ARG002
    ) -> ConsentState:
        return self

    def state(self, digests: set[str], purpose: str) -> ConsentValue:  # noqa: ARG002
        return "none"


NO_CONSENT_LEDGER = NoConsentLedger()
