"""Errors of the processing gate; messages say what, where (subject index, field) and how to fix.

They never contain an identifier's value: a caller may log them.

::

    GateError (ValueError)
    ├── UnknownActivityError   an activity the register does not have
    ├── InvalidSubjectError    subjects without identifiers, or with malformed or unknown ones
    └── BatchTooLargeError     more subjects than one call may check
"""

from __future__ import annotations

from dataclasses import dataclass


class GateError(ValueError):
    """Base of the errors of :mod:`ombud.gate`; nothing was checked."""


class UnknownActivityError(GateError):
    """One or more activities are not in the register; ``activities`` names them."""

    def __init__(self, activities: list[str], known: list[str]) -> None:
        self.activities = activities
        self.known = known
        super().__init__(
            f"unknown activit{'y' if len(activities) == 1 else 'ies'} "
            f"{', '.join(repr(a) for a in activities)}; the register has: {', '.join(known)}"
        )


@dataclass(frozen=True)
class SubjectProblem:
    """What is wrong with one subject: its index in the batch, the field, and why."""

    index: int
    #: The identifier kind; None for the subject as a whole.
    field: str | None
    reason: str

    def __str__(self) -> str:
        where = f"subject {self.index}" + (f", {self.field}" if self.field else "")
        return f"{where}: {self.reason}"


class InvalidSubjectError(GateError):
    """Subjects that cannot be checked; ``problems`` lists them (the first 100)."""

    def __init__(self, problems: list[SubjectProblem]) -> None:
        self.problems = problems
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{problems[0]}{more}")


class BatchTooLargeError(GateError):
    """More subjects than :data:`ombud.gate.MAX_SUBJECTS` in one call."""
