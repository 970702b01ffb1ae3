"""Lint rules: what the GDPR and IMY ask before data may be processed or sent abroad."""

from __future__ import annotations

from collections.abc import Iterator

from ombud.register.loader import PathKey
from ombud.register.model import LegalBasis, Register

#: Legal bases on which direct marketing can rest (Art. 6(1)(a) and (f), recital 47).
_MARKETING_BASES = frozenset({LegalBasis.CONSENT, LegalBasis.LEGITIMATE_INTEREST})


def transfers_without_safeguard(register: Register) -> Iterator[tuple[PathKey, str]]:
    for key, recipient in register.recipients.items():
        if recipient.third_country and recipient.transfer is None:
            yield (
                ("recipients", key, "country"),
                (
                    f"recipient `{key}` is in {recipient.country}, outside the EU/EEA, but has no "
                    "transfer safeguard (Art. 44-49); add `transfer: {mechanism: adequacy|sccs|"
                    "bcrs|derogation, reference: ...}`"
                ),
            )


def personnummer_without_justification(register: Register) -> Iterator[tuple[PathKey, str]]:
    personnummer = {key for key, category in register.categories.items() if category.personnummer}
    # activity id -> the systems that identify people by personnummer for it
    identifying: dict[str, list[str]] = {}
    for system in register.systems:
        if any("personnummer" in c.identity for c in system.collections.values()):
            for activity_id in system.activities:
                identifying.setdefault(activity_id, []).append(system.id)
    fix = (
        "state why it is needed in `personnummer_justification` (IMY: only with consent or "
        "when clearly justified), or stop using it and write `personnummer: false`"
    )
    for i, activity in enumerate(register.activities):
        if (
            activity.legal_basis is LegalBasis.CONSENT
            or activity.personnummer_justification
            or activity.personnummer is False  # the activity states it does not use it
        ):
            continue
        basis = activity.legal_basis.value
        index = next(
            (j for j, category in enumerate(activity.categories) if category in personnummer),
            None,
        )
        if activity.personnummer:
            yield (
                ("activities", i, "personnummer"),
                f"activity `{activity.id}` ({basis}) processes personnummer; {fix}",
            )
        elif index is not None:
            yield (
                ("activities", i, "categories", index),
                (
                    f"activity `{activity.id}` ({basis}) processes personnummer in category "
                    f"`{activity.categories[index]}`; {fix}"
                ),
            )
        elif activity.id in identifying:
            systems = ", ".join(f"`{s}`" for s in identifying[activity.id])
            yield (
                ("activities", i),
                (
                    f"activity `{activity.id}` ({basis}) uses system {systems}, which "
                    f"identifies people by personnummer; {fix}"
                ),
            )


def special_category_without_condition(register: Register) -> Iterator[tuple[PathKey, str]]:
    for key, category in register.categories.items():
        if category.special and category.art9_condition is None:
            yield (
                ("categories", key, "special"),
                (
                    f"category `{key}` is a special category (Art. 9) without a condition that "
                    "permits processing it; add `art9_condition:` with the letter of "
                    "Art. 9(2), a-j (e.g. a for explicit consent)"
                ),
            )


def legitimate_interest_not_stated(register: Register) -> Iterator[tuple[PathKey, str]]:
    for i, activity in enumerate(register.activities):
        if (
            activity.legal_basis is LegalBasis.LEGITIMATE_INTEREST
            and activity.legitimate_interest is None
        ):
            yield (
                ("activities", i, "legal_basis"),
                (
                    f"activity `{activity.id}` rests on legitimate interest but does not say "
                    "which (Art. 13(1)(d)); add `legitimate_interest:` with the interest pursued"
                ),
            )


def direct_marketing_basis(register: Register) -> Iterator[tuple[PathKey, str]]:
    for i, activity in enumerate(register.activities):
        if activity.direct_marketing and activity.legal_basis not in _MARKETING_BASES:
            yield (
                ("activities", i, "direct_marketing"),
                (
                    f"direct-marketing activity `{activity.id}` rests on "
                    f"{activity.legal_basis.value}; direct marketing rests on consent or "
                    "legitimate interest, so change `legal_basis`"
                ),
            )


def profiling_without_logic(register: Register) -> Iterator[tuple[PathKey, str]]:
    for i, activity in enumerate(register.activities):
        if activity.profiling and activity.profiling_logic is None:
            yield (
                ("activities", i, "profiling"),
                (
                    f"activity `{activity.id}` profiles people without explaining how "
                    "(Art. 13(2)(f), 15(1)(h)); add `profiling_logic:` with the logic involved "
                    "and its consequences"
                ),
            )
