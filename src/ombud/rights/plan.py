"""Which steps a request takes, in which systems (DESIGN §6: one idempotent step per system).

A step is ``(system id, action)``; ``ombud`` is Ombud itself (suppression list,
restrictions, packaging the answer). Steps are stored with the request, so any
worker can resume them; planning the same request twice gives the same steps.
"""

from __future__ import annotations

from enum import StrEnum

from ombud.register.model import Connector, LegalBasis, RecipientRole, Register, System
from ombud.rights.models import RequestType

OMBUD = "ombud"


class StepAction(StrEnum):
    FIND = "find"  # read the person's rows (access, portability, rectification)
    ERASE = "erase"  # erase or, under a legal hold or Art. 17(3), restrict
    VERIFY = "verify"  # prove no matching rows remain outside legal holds
    RESTRICT = "restrict"  # set the restrict column
    RECTIFY = "rectify"  # apply a handler's corrections by primary key
    WITHDRAW = "withdraw"  # erase data held only on the withdrawn consent
    TELL = "tell"  # a manual task: a system or recipient must act (Art. 19)
    SUPPRESS = "suppress"  # Ombud: the suppression list
    RECORD = "record"  # Ombud: restrictions and objections for the gate
    PACKAGE = "package"  # Ombud: the extract or the portability zip


def systems_in_scope(register: Register, controller_id: str) -> list[System]:
    """The systems a request to ``controller_id`` concerns: all of them for the lead
    (joint controllers answer together), else the controller's own and the shared ones.
    """
    lead = register.organisation.lead
    if lead is not None and lead.id == controller_id:
        return list(register.systems)
    return [s for s in register.systems if s.controller in (None, controller_id)]


def is_automated(system: System) -> bool:
    return system.connector is not Connector.MANUAL


def independent_recipient(register: Register, system: System) -> bool:
    """A manual system run by an independent controller (Google, Meta ...): the person
    is told how to reach them, and they are told of erasure and restriction (Art. 19).
    """
    recipient = register.recipients.get(system.recipient or "")
    return recipient is not None and recipient.role is RecipientRole.INDEPENDENT_CONTROLLER


def plan(  # noqa: PLR0911 - one return per request type reads best
    register: Register, request_type: RequestType, controller_id: str, activities: list[str]
) -> list[tuple[str, StepAction]]:
    """The steps of a request, in the order they run."""
    systems = systems_in_scope(register, controller_id)
    # Systems that know people by strong identifiers first: what they reveal (a customer
    # number, a personnummer) is searched for in the systems that come after.
    automated = [
        s.id
        for s in sorted((s for s in systems if is_automated(s)), key=lambda s: -_strong_kinds(s))
    ]
    manual = [s.id for s in systems if not is_automated(s)]
    # Independent controllers answer access themselves: the answer says how to reach them.
    own_manual = [
        s.id for s in systems if not is_automated(s) and not independent_recipient(register, s)
    ]
    match request_type:
        case RequestType.ACCESS:
            return [
                *((s, StepAction.FIND) for s in automated),
                *((s, StepAction.TELL) for s in own_manual),
                (OMBUD, StepAction.PACKAGE),
            ]
        case RequestType.PORTABILITY:
            return [*((s, StepAction.FIND) for s in automated), (OMBUD, StepAction.PACKAGE)]
        case RequestType.RECTIFICATION:
            return [(s, StepAction.FIND) for s in automated]
        case RequestType.ERASURE:
            return [
                *((s, StepAction.ERASE) for s in automated),
                *((s, StepAction.VERIFY) for s in automated),
                *((s, StepAction.TELL) for s in manual),
                (OMBUD, StepAction.SUPPRESS),
            ]
        case RequestType.RESTRICTION:
            return [
                *((s, StepAction.RESTRICT) for s in automated),
                *((s, StepAction.TELL) for s in manual),
                (OMBUD, StepAction.RECORD),
            ]
        case RequestType.OBJECTION:
            return [(OMBUD, StepAction.RECORD)]
        case RequestType.WITHDRAW_CONSENT:
            withdrawn = set(activities)
            held_only_on_consent = [
                s.id
                for s in systems
                if is_automated(s)
                and s.activities
                and all(_consent_activity(register, a, withdrawn) for a in s.activities)
            ]
            return [
                *((s, StepAction.WITHDRAW) for s in held_only_on_consent),
                (OMBUD, StepAction.SUPPRESS),
            ]
    raise AssertionError(request_type)  # pragma: no cover - the match is exhaustive


def _consent_activity(register: Register, activity_id: str, withdrawn: set[str]) -> bool:
    activity = register.activity(activity_id)
    return (
        activity is not None
        and activity.legal_basis is LegalBasis.CONSENT
        and activity.id in withdrawn
    )


def _strong_kinds(system: System) -> int:
    kinds = {k for c in system.collections.values() for k in c.identity}
    return len(kinds & {"personnummer", "customer_id"})
