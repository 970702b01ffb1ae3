"""The life of a request: which state may follow which, each move audited.

::

    received ──verify──> verified ──run──> running ──> completed
        │                   │  ^             │  ^
        │                   │  └── awaiting <┘  │   (a decision, a manual task, an ambiguity)
        │                   │         └─────────┘
        └──────────── refused / withdrawn (from any open state)
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from ombud import audit
from ombud.rights.errors import RequestStateError
from ombud.rights.models import DataRequest, RequestState

S = RequestState

#: state -> the states it may move to
TRANSITIONS: dict[RequestState, frozenset[RequestState]] = {
    S.RECEIVED: frozenset({S.VERIFIED, S.REFUSED, S.WITHDRAWN}),
    S.VERIFIED: frozenset({S.RUNNING, S.AWAITING, S.COMPLETED, S.REFUSED, S.WITHDRAWN}),
    S.RUNNING: frozenset({S.RUNNING, S.AWAITING, S.COMPLETED, S.REFUSED}),
    S.AWAITING: frozenset({S.RUNNING, S.COMPLETED, S.REFUSED, S.WITHDRAWN}),
    S.COMPLETED: frozenset(),
    S.REFUSED: frozenset(),
    S.WITHDRAWN: frozenset(),
}

OPEN_STATES = frozenset({S.RECEIVED, S.VERIFIED, S.RUNNING, S.AWAITING})


def move(
    session: Session,
    request: DataRequest,
    to: RequestState,
    *,
    actor: str,
    now: dt.datetime,
    counts: dict[str, int] | None = None,
) -> None:
    """Move ``request`` to state ``to`` and audit it in the same transaction.

    Raises :class:`RequestStateError` when the move is not allowed, changing nothing.
    """
    current = RequestState(request.state)
    if to not in TRANSITIONS[current]:
        raise RequestStateError(
            f"request {request.id} is {current.value} and cannot become {to.value}"
        )
    request.state = to.value
    if to not in OPEN_STATES:
        request.closed_at = now
    session.flush()
    audit.append(
        session,
        actor=actor,
        action=f"request.{to.value}",
        object_id=f"request:{request.id}",
        counts=counts,
    )
