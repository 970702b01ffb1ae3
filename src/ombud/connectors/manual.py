"""The manual connector: a task for a person where a system cannot be reached by code.

A manual system (``connector: manual``, with ``owner`` and ``instructions``)
gets a :class:`ManualTask` saying who should do what, in which language, for
which request. The task stays ``pending`` until the person completes it with
:meth:`ManualTask.complete`. Tasks are plain values: a later piece stores them
and mails the owner.

The task's ``summary`` and ``instructions`` hold no personal data, so they can
be mailed, logged and shown in lists. The subject's identifiers are in
``identifiers`` only, and only the kinds the system is declared to hold (all
kinds when it declares none): the person doing the task sees what they need
and nothing more.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from ombud.connectors.base import InvalidSpec, Lookup, SystemSpec, Value

__all__ = ["Action", "ManualConnector", "ManualTask", "TaskStatus"]


class Action(StrEnum):
    FIND = "find"  # access: report what the system holds
    ERASE = "erase"
    RESTRICT = "restrict"
    UNRESTRICT = "unrestrict"
    RECTIFY = "rectify"


class TaskStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"  # the person could not do it; ``note`` says why


_SUMMARIES: Mapping[str, Mapping[Action, str]] = {
    "en": {
        Action.FIND: "Find all personal data about the data subject of request {request} in "
        "{system} and report what you found.",
        Action.ERASE: "Erase all personal data about the data subject of request {request} "
        "from {system}, then report how many records you erased.",
        Action.RESTRICT: "Restrict the processing of the personal data about the data subject "
        "of request {request} in {system}: from now on the data may only be stored.",
        Action.UNRESTRICT: "Lift the restriction of processing of the personal data about the "
        "data subject of request {request} in {system}.",
        Action.RECTIFY: "Correct the personal data about the data subject of request {request} "
        "in {system} as listed under changes.",
    },
    "sv": {
        Action.FIND: "Ta fram alla personuppgifter om den registrerade i ärende {request} i "
        "{system} och rapportera vad du hittade.",
        Action.ERASE: "Radera alla personuppgifter om den registrerade i ärende {request} ur "
        "{system} och rapportera hur många poster du raderade.",
        Action.RESTRICT: "Begränsa behandlingen av personuppgifterna om den registrerade i "
        "ärende {request} i {system}: uppgifterna får hädanefter bara lagras.",
        Action.UNRESTRICT: "Häv begränsningen av behandlingen av personuppgifterna om den "
        "registrerade i ärende {request} i {system}.",
        Action.RECTIFY: "Rätta personuppgifterna om den registrerade i ärende {request} i "
        "{system} enligt ändringarna.",
    },
}


@dataclass(frozen=True)
class ManualTask:
    """One piece of work for a person; ``pending`` until :meth:`complete`."""

    system: str
    request: str
    action: Action
    language: str
    owner: str | None
    summary: str
    instructions: str
    #: identifier kind -> values: only what the person needs to find the subject.
    identifiers: Mapping[str, frozenset[str]] = field(repr=False)
    #: For rectification: what to change (field -> new value).
    changes: Mapping[str, Value] = field(default_factory=dict, repr=False)
    status: TaskStatus = TaskStatus.PENDING
    completed_by: str | None = None
    completed_at: datetime | None = None
    #: What the person reports: how many records, or why it could not be done.
    note: str = ""
    records: int | None = None

    @property
    def pending(self) -> bool:
        return self.status is TaskStatus.PENDING

    def complete(
        self,
        *,
        by: str,
        at: datetime,
        records: int | None = None,
        note: str = "",
        failed: bool = False,
    ) -> ManualTask:
        """The task as done (or failed) by ``by`` at ``at``; a finished task cannot change."""
        if not self.pending:
            raise ValueError(f"the task for system {self.system} is already {self.status}")
        if at.tzinfo is None:
            raise ValueError("completed_at must be timezone-aware")
        return replace(
            self,
            status=TaskStatus.FAILED if failed else TaskStatus.DONE,
            completed_by=by,
            completed_at=at,
            records=records,
            note=note,
        )


class ManualConnector:
    """Makes tasks for one manual system."""

    def __init__(self, spec: SystemSpec) -> None:
        self._spec = spec

    @property
    def spec(self) -> SystemSpec:
        return self._spec

    def task(
        self,
        action: Action,
        lookup: Lookup,
        *,
        request: str,
        language: str,
        changes: Mapping[str, Value] | None = None,
    ) -> ManualTask:
        """A pending task to do ``action`` for the subject of ``lookup`` (request ``request``).

        Instructions are in ``language`` when the register has them, else in its first
        language; the summary is in ``language`` when Ombud has it (sv, en), else English.
        """
        if action is Action.RECTIFY and not changes:
            raise InvalidSpec(self._spec.id, "a rectification task needs the changes to make")
        instructions = self._spec.instructions
        text = instructions.get(language) or next(iter(instructions.values()), "")
        summaries = _SUMMARIES.get(language, _SUMMARIES["en"])
        return ManualTask(
            system=self._spec.id,
            request=request,
            action=action,
            language=language,
            owner=self._spec.owner,
            summary=summaries[action].format(request=request, system=self._spec.id),
            instructions=text,
            identifiers=self._needed(lookup),
            changes=dict(changes or {}),
        )

    @staticmethod
    def status(task: ManualTask) -> TaskStatus:
        return task.status

    def _needed(self, lookup: Lookup) -> dict[str, frozenset[str]]:
        kinds = {
            kind for collection in self._spec.collections.values() for kind in collection.identity
        }
        return {
            kind: values
            for kind, values in lookup.identifiers.items()
            if values and (not kinds or kind in kinds)
        }
