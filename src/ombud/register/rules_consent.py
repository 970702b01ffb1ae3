"""Lint rules: consent is asked for where it is needed, and can be given and refused.

The consent ledger, the banner and the processing gate key on the purpose of a
consent activity; a purpose nobody can give, or a banner choice that stops
nothing, makes the published notice untrue.
"""

from __future__ import annotations

from collections.abc import Iterator

from ombud.register.loader import PathKey
from ombud.register.model import LegalBasis, Register


def consent_without_purpose(register: Register) -> Iterator[tuple[PathKey, str]]:
    for i, activity in enumerate(register.activities):
        if activity.legal_basis is LegalBasis.CONSENT and activity.consent is None:
            yield (
                ("activities", i, "legal_basis"),
                (
                    f"activity `{activity.id}` rests on consent but names no consent purpose; "
                    f"add `consent: {{purpose: {activity.id}}}` (the id the banner, forms and "
                    "consent ledger use)"
                ),
            )


def consent_block_without_consent_basis(register: Register) -> Iterator[tuple[PathKey, str]]:
    for i, activity in enumerate(register.activities):
        if activity.legal_basis is not LegalBasis.CONSENT and activity.consent is not None:
            yield (
                ("activities", i, "consent"),
                (
                    f"activity `{activity.id}` has a `consent` block but rests on "
                    f"{activity.legal_basis.value}; remove the block or make the legal basis "
                    "consent"
                ),
            )


def unreachable_consent_purposes(register: Register) -> Iterator[tuple[PathKey, str]]:
    reachable = {purpose for form in register.consent.forms.values() for purpose in form.purposes}
    by_id = {activity.id: activity for activity in register.activities}
    for category in register.consent.cookie_categories.values():
        for activity_id in category.activities:
            activity = by_id.get(activity_id)
            if activity is not None and activity.consent is not None:
                reachable.add(activity.consent.purpose)
    for i, activity in enumerate(register.activities):
        consent = activity.consent
        if (
            activity.legal_basis is LegalBasis.CONSENT
            and consent is not None
            and (consent.purpose not in reachable)
        ):
            yield (
                ("activities", i, "consent", "purpose"),
                (
                    f"consent purpose `{consent.purpose}` of activity `{activity.id}` can be "
                    "given nowhere; list the activity under a cookie category's `activities` "
                    "or the purpose under a `consent.forms` entry's `purposes`"
                ),
            )


def optional_cookie_category_without_consent(
    register: Register,
) -> Iterator[tuple[PathKey, str]]:
    by_id = {activity.id: activity for activity in register.activities}
    for key, category in register.consent.cookie_categories.items():
        if category.required:
            continue
        for j, activity_id in enumerate(category.activities):
            activity = by_id.get(activity_id)
            if activity is not None and activity.legal_basis is not LegalBasis.CONSENT:
                yield (
                    ("consent", "cookie_categories", key, "activities", j),
                    (
                        f"cookie category `{key}` can be refused but activity `{activity_id}` "
                        f"rests on {activity.legal_basis.value}, so refusing stops nothing; "
                        "make the activity consent-based or move it to a required category"
                    ),
                )


def required_cookie_category_with_consent(
    register: Register,
) -> Iterator[tuple[PathKey, str]]:
    by_id = {activity.id: activity for activity in register.activities}
    for key, category in register.consent.cookie_categories.items():
        if not category.required:
            continue
        for j, activity_id in enumerate(category.activities):
            activity = by_id.get(activity_id)
            if activity is not None and activity.legal_basis is LegalBasis.CONSENT:
                yield (
                    ("consent", "cookie_categories", key, "activities", j),
                    (
                        f"cookie category `{key}` is required but activity `{activity_id}` "
                        "rests on consent, which must be refusable; move the activity to an "
                        "optional category"
                    ),
                )
