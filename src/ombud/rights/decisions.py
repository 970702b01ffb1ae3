"""What people decide on a request: the DPO, a handler, the owner of a manual task.

Each decision is recorded on the request and audited in the same transaction;
the next run of the request (:func:`ombud.rights.execution.run`) carries on
from it. Extension and refusal tell the person, with reasons (Art. 12(3)-(4)).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ombud import audit
from ombud.mail import Mail, MailTransport
from ombud.register.model import Register
from ombud.rights.deadlines import extended_due_date, swedish_date
from ombud.rights.errors import InvalidRequestError, RequestStateError
from ombud.rights.intake import plaintext_identifiers
from ombud.rights.models import (
    DataRequest,
    ManualTask,
    RequestState,
    RequestStep,
    RequestType,
    Restriction,
    StepState,
    Suppression,
)
from ombud.rights.plan import StepAction, is_automated, systems_in_scope
from ombud.rights.states import OPEN_STATES, move
from ombud.store.crypto import Keys


def _decide(request: DataRequest, kind: str, key: str, value: Any) -> None:
    decisions = dict(request.decisions or {})
    section = dict(decisions.get(kind) or {})
    section[key] = value
    decisions[kind] = section
    request.decisions = decisions  # a new dict, so SQLAlchemy sees the change


def choose_rows(
    session: Session,
    request: DataRequest,
    *,
    system_id: str,
    collection: str,
    keys: Sequence[Sequence[object]],
    actor: str,
) -> None:
    """A handler settles an ambiguous match: these rows of ``collection`` are the person's."""
    match = dict(((request.decisions or {}).get("match") or {}).get(system_id) or {})
    match[collection] = [list(k) for k in keys]
    _decide(request, "match", system_id, match)
    _reopen(request, system_id)
    audit.append(
        session,
        actor=actor,
        action="request.match_decided",
        object_id=f"request:{request.id}",
        counts={"rows": len(keys)},
    )


def decide_objection(
    session: Session,
    request: DataRequest,
    *,
    activity_id: str,
    upheld: bool,
    grounds: str,
    actor: str,
    keys: Keys,
    now: dt.datetime,
) -> None:
    """The DPO decides an Art. 21(1) objection to one activity, with reasons.

    Upheld: processing stops (the person is suppressed for the activity). Not upheld:
    the controller has shown compelling legitimate grounds, which are recorded, and the
    restriction while deciding is lifted.
    """
    if request.type != RequestType.OBJECTION or activity_id not in (request.activities or []):
        raise InvalidRequestError(
            f"request {request.id} has no objection to activity {activity_id!r}"
        )
    if not grounds.strip():
        raise InvalidRequestError("give the reasons for the decision (Art. 21(1), 12(4))")
    _decide(
        request,
        "objection",
        activity_id,
        {
            "upheld": upheld,
            "grounds": keys.encrypt(grounds.strip(), context=request.id).hex(),
        },
    )
    digests = {(i.kind, i.digest) for i in request.identifiers}
    for restriction in session.scalars(
        select(Restriction).where(
            Restriction.request_id == request.id,
            Restriction.activity == activity_id,
            Restriction.reason == "objection_pending",
            Restriction.lifted_at.is_(None),
        )
    ):
        restriction.lifted_at = now
    if upheld:
        for kind, digest in sorted(digests):
            session.add(
                Suppression(
                    digest=digest,
                    kind=kind,
                    reason="objection",
                    activity=activity_id,
                    request_id=request.id,
                    created_at=now,
                )
            )
    _reopen(request, "ombud")
    audit.append(
        session,
        actor=actor,
        action="request.objection_upheld" if upheld else "request.objection_overridden",
        object_id=f"request:{request.id}",
    )


def rectify(
    session: Session,
    request: DataRequest,
    *,
    corrections: Sequence[tuple[str, str, Sequence[object], str, str]],
    register: Register,
    keys: Keys,
    actor: str,
    now: dt.datetime,
) -> None:
    """A handler picks found values and their corrections: (system, collection, key,
    column, new value). They are applied by primary key in the next run.
    """
    if request.type != RequestType.RECTIFICATION:
        raise InvalidRequestError(f"request {request.id} is not a rectification")
    by_system: dict[str, list[dict[str, Any]]] = {}
    for system_id, collection, key, column, value in corrections:
        by_system.setdefault(system_id, []).append(
            {
                "collection": collection,
                "key": list(key),
                "column": column,
                "value": keys.encrypt(value, context=f"{request.id}:rectify").hex(),
            }
        )
    for system_id, items in by_system.items():
        _decide(request, "rectify", system_id, items)
        _add_step(request, system_id, StepAction.RECTIFY, now)
    # Art. 19: the systems Ombud does not reach are told by a person.
    for system in systems_in_scope(register, request.controller_id):
        if not is_automated(system):
            _add_step(request, system.id, StepAction.TELL, now)
    session.flush()
    audit.append(
        session,
        actor=actor,
        action="request.rectification_decided",
        object_id=f"request:{request.id}",
        counts={"corrections": len(corrections)},
    )


def complete_task(
    session: Session,
    request: DataRequest,
    *,
    system_id: str,
    actor: str,
    now: dt.datetime,
    failed: bool = False,
    note: str | None = None,
) -> None:
    """The owner of a manual task reports it done (or not possible, with a note)."""
    task = session.scalars(
        select(ManualTask).where(
            ManualTask.request_id == request.id,
            ManualTask.system_id == system_id,
        )
    ).one_or_none()
    if task is None or task.state != "pending":
        raise RequestStateError(f"request {request.id} has no open task for {system_id}")
    if failed and not (note and note.strip()):
        raise InvalidRequestError("say why the task could not be done")
    task.state = "failed" if failed else "done"
    task.completed_at = now
    task.completed_by = actor
    task.note = note
    _reopen(request, system_id)
    audit.append(
        session, actor=actor, action="request.task_" + task.state, object_id=f"request:{request.id}"
    )


def extend(
    session: Session,
    request: DataRequest,
    *,
    reason: str,
    actor: str,
    now: dt.datetime,
    keys: Keys,
    mail: MailTransport | None,
) -> dt.date:
    """Extend by two months (Art. 12(3)): only with a reason, and only within the first
    month, telling the person why. Returns the new due date.
    """
    if RequestState(request.state) not in OPEN_STATES:
        raise RequestStateError(f"request {request.id} is {request.state}")
    if request.extended_due_on is not None:
        raise RequestStateError(f"request {request.id} is already extended")
    if swedish_date(now) > request.due_on:
        raise RequestStateError(
            f"the first month of request {request.id} ended on {request.due_on}; an extension "
            "must be told to the person before the original due date"
        )
    if not reason.strip():
        raise InvalidRequestError("an extension needs a reason (complexity, number of requests)")
    request.extended_due_on = extended_due_date(request.received_at)
    request.extension_reason = reason.strip()
    texts = _TEXTS.get(request.language, _TEXTS["en"])
    _tell(
        request,
        keys,
        mail,
        texts["extended_subject"],
        texts["extended_body"].format(
            id=request.id, due=request.extended_due_on.isoformat(), reason=reason.strip()
        ),
    )
    audit.append(session, actor=actor, action="request.extended", object_id=f"request:{request.id}")
    return request.extended_due_on


def refuse(
    session: Session,
    request: DataRequest,
    *,
    reason: str,
    register: Register,
    actor: str,
    now: dt.datetime,
    keys: Keys,
    mail: MailTransport | None,
) -> None:
    """Refuse with reasons and the right to complain to the authority and go to court
    (Art. 12(4)); the person is told.
    """
    if not reason.strip():
        raise InvalidRequestError("a refusal needs its reasons (Art. 12(4))")
    request.refusal_reason = reason.strip()
    move(session, request, RequestState.REFUSED, actor=actor, now=now)
    authority = register.organisation.authority
    name = authority.name.get(request.language) if authority and authority.name else ""
    contact = ", ".join(
        x
        for x in (
            authority.email if authority else None,
            authority.postal if authority else None,
        )
        if x
    )
    texts = _TEXTS.get(request.language, _TEXTS["en"])
    _tell(
        request,
        keys,
        mail,
        texts["refused_subject"],
        texts["refused_body"].format(
            id=request.id, reason=reason.strip(), authority=name, contact=contact
        ),
    )


def _add_step(request: DataRequest, system_id: str, action: StepAction, now: dt.datetime) -> None:
    if not any(s.system_id == system_id and s.action == action for s in request.steps):
        request.steps.append(
            RequestStep(
                system_id=system_id, action=action, state=StepState.PENDING.value, updated_at=now
            )
        )


def _reopen(request: DataRequest, system_id: str) -> None:
    for step in request.steps:
        if step.system_id == system_id and step.state in (StepState.WAITING, StepState.FAILED):
            step.state = StepState.PENDING.value


def _tell(
    request: DataRequest, keys: Keys, mail: MailTransport | None, subject: str, body: str
) -> None:
    if mail is None:
        return
    addresses = [v for kind, v in plaintext_identifiers(request, keys) if kind == "email"]
    if addresses:
        mail.send(
            Mail(
                to=addresses[0],
                subject=subject.format(id=request.id),
                text=body,
                language=request.language,
            )
        )


_TEXTS = {
    "sv": {
        "extended_subject": "Vi behöver mer tid för ärende {id}",
        "extended_body": (
            "Hej!\n\nVi behöver förlänga tiden för att besvara din begäran (ärende {id}). "
            "Skälet är: {reason}\n\nDu får vårt svar senast {due}. Förlängningen görs enligt "
            "artikel 12.3 i dataskyddsförordningen.\n"
        ),
        "refused_subject": "Svar på din begäran {id}",
        "refused_body": (
            "Hej!\n\nVi kan inte tillmötesgå din begäran (ärende {id}). Skälen är: {reason}\n\n"
            "Du har rätt att lämna klagomål till {authority} ({contact}) och att begära "
            "prövning i domstol.\n"
        ),
    },
    "en": {
        "extended_subject": "We need more time for case {id}",
        "extended_body": (
            "Hello,\n\nWe need to extend the time to answer your request (case {id}). "
            "The reason is: {reason}\n\nYou will have our answer by {due}. The extension is "
            "made under Article 12(3) of the GDPR.\n"
        ),
        "refused_subject": "Answer to your request {id}",
        "refused_body": (
            "Hello,\n\nWe cannot act on your request (case {id}). The reasons are: {reason}\n\n"
            "You have the right to lodge a complaint with the {authority} ({contact}) and to "
            "seek a judicial remedy.\n"
        ),
    },
}
