"""Lint rules: every activity has a retention Ombud can enforce, and holds are lawful.

Retention sweeps erase what an activity no longer needs; they can only do that
for a period Ombud can count (ISO 8601) or an end it can see (consent withdrawn).
"""

from __future__ import annotations

from collections.abc import Iterator

from ombud.register.loader import PathKey
from ombud.register.model import LegalBasis, Register, RetentionStart


def unenforceable_retention(register: Register) -> Iterator[tuple[PathKey, str]]:
    for i, activity in enumerate(register.activities):
        if activity.retention is None:
            yield (
                ("activities", i),
                (
                    f"activity `{activity.id}` has no retention, so Ombud never erases its "
                    "data; add `retention: {period: P24M}` (an ISO 8601 duration) or "
                    "`until: consent_withdrawn`"
                ),
            )
        elif activity.retention.period is None and activity.retention.until is None:
            yield (
                ("activities", i, "retention"),
                (
                    f"retention of activity `{activity.id}` has neither `period` nor `until`, "
                    "so Ombud cannot enforce it; add `period:` (e.g. P24M) and keep `notice:` "
                    "for the published wording"
                ),
            )


def example_retention(register: Register) -> Iterator[tuple[PathKey, str]]:
    for i, activity in enumerate(register.activities):
        retention = activity.retention
        if retention is not None and retention.example:
            yield (
                ("activities", i, "retention", "example"),
                (
                    f"retention period {retention.period or '(none)'} of activity "
                    f"`{activity.id}` is an example value, decide the real period and remove "
                    "`example: true`"
                ),
            )


def consent_withdrawn_without_consent(register: Register) -> Iterator[tuple[PathKey, str]]:
    for i, activity in enumerate(register.activities):
        retention = activity.retention
        if retention is None or activity.legal_basis is LegalBasis.CONSENT:
            continue
        place = ("activities", i, "retention")
        fix = "use a period, or make the legal basis consent"
        if retention.until == "consent_withdrawn":
            yield (
                (*place, "until"),
                (
                    f"activity `{activity.id}` rests on {activity.legal_basis.value}, so its "
                    f"retention cannot end when consent is withdrawn; {fix}"
                ),
            )
        if retention.from_ is RetentionStart.CONSENT_WITHDRAWN:
            yield (
                (*place, "from"),
                (
                    f"activity `{activity.id}` rests on {activity.legal_basis.value}, so its "
                    f"retention cannot count from consent withdrawal; {fix}"
                ),
            )


def legal_hold_without_legal_obligation(register: Register) -> Iterator[tuple[PathKey, str]]:
    by_id = {activity.id: activity for activity in register.activities}
    for i, system in enumerate(register.systems):
        for name, collection in system.collections.items():
            hold = by_id.get(collection.legal_hold or "")
            if hold is not None and hold.legal_basis is not LegalBasis.LEGAL_OBLIGATION:
                yield (
                    ("systems", i, "collections", name, "legal_hold"),
                    (
                        f"collection `{name}` of system `{system.id}` is held for activity "
                        f"`{hold.id}`, which rests on {hold.legal_basis.value}; only a legal "
                        "obligation (Art. 17(3)(b)) overrides erasure: name a legal_obligation "
                        "activity or remove `legal_hold`"
                    ),
                )
