"""The ledger as the processing gate's :class:`~ombud.gate.ConsentSource`.

One statement per 1,000 digests loads every state row of a batch; each
subject is then answered from memory. A person known by several identifiers
(a visitor id and an e-mail address) may have rows under each: the most
recent one decides, and on a tie a refusal wins over consent, so a withdrawal
recorded under any identifier after the consent was given stops processing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Set

from sqlalchemy.orm import Session

from ombud.consent.ledger import read_value, state_rows
from ombud.gate.consent import ConsentState, ConsentValue

__all__ = ["LEDGER", "LedgerConsentSource", "LedgerConsentState"]

#: On equal times the more cautious answer wins.
_CAUTION: dict[ConsentValue, int] = {"given": 0, "none": 1, "refused": 2, "withdrawn": 3}


class LedgerConsentState:
    """The consent of one batch's subjects, loaded by :class:`LedgerConsentSource`."""

    def __init__(self, rows: dict[tuple[str, str], tuple[dt.datetime, ConsentValue]]) -> None:
        self._rows = rows

    def state(self, digests: set[str], purpose: str) -> ConsentValue:
        """The consent to ``purpose`` of the person known by any of ``digests``."""
        best: tuple[dt.datetime, int, ConsentValue] | None = None
        for digest in digests:
            found = self._rows.get((digest, purpose))
            if found is None:
                continue
            candidate = (found[0], _CAUTION[found[1]], found[1])
            if best is None or candidate[:2] > best[:2]:
                best = candidate
        return "none" if best is None else best[2]


class LedgerConsentSource:
    """Reads ``consent_state`` for a whole batch of the gate."""

    def load(
        self,
        session: Session,
        digests: Set[str],
        purposes: Set[str],
        *,
        now: dt.datetime,
    ) -> ConsentState:
        """The state of ``purposes`` for everyone known by one of ``digests``, at ``now``."""
        rows: dict[tuple[str, str], tuple[dt.datetime, ConsentValue]] = {
            (digest, purpose): (updated_at, read_value(state, expires_at, now))
            for digest, purpose, state, updated_at, expires_at in state_rows(
                session, digests, purposes
            )
        }
        return LedgerConsentState(rows)


#: The source the web gate uses.
LEDGER = LedgerConsentSource()
