"""Lint a loaded register: do its parts fit together, and does it say what the law asks?

The model (:mod:`ombud.register.model`) checks shape and types; every rule here
checks one thing across the whole register and reports each place it fails, so
one run lists every problem with its line. A rule is a plain function taking the
:class:`~ombud.register.model.Register` and yielding ``(key path, message)``;
:func:`lint` turns the path into a line of the file. ``RULES`` is the table of
stable codes that ``docs/lint-rules.md`` documents.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ombud.register import (
    rules_consent,
    rules_lawfulness,
    rules_notice,
    rules_references,
    rules_retention,
    rules_systems,
)
from ombud.register.errors import Level, Problem
from ombud.register.loader import LoadedRegister, PathKey
from ombud.register.model import Register

#: What a rule reports: the key path of the offending value, and what to do about it.
Finding = tuple[PathKey, str]
Check = Callable[[Register], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    """One lint rule: its stable code, how bad a finding is, and what it checks."""

    code: str
    level: Level
    summary: str
    check: Check


RULES: dict[str, Rule] = {
    rule.code: rule
    for rule in (
        # references between the parts of the register
        Rule(
            "REF001",
            "error",
            "an activity or a collection column names a category that is "
            "not declared under `categories`",
            rules_references.unknown_categories,
        ),
        Rule(
            "REF002",
            "error",
            "an activity, cookie category or system names a recipient that "
            "is not declared under `recipients`",
            rules_references.unknown_recipients,
        ),
        Rule(
            "REF003",
            "error",
            "a cookie category, system or collection names an activity that "
            "is not declared under `activities`",
            rules_references.unknown_activities,
        ),
        Rule(
            "REF004",
            "error",
            "an activity or system names a controller that is not declared "
            "under `organisation.controllers`",
            rules_references.unknown_controllers,
        ),
        Rule(
            "REF005",
            "error",
            "an activity names a data subject category that is not declared "
            "under `subjects` (checked when `subjects` is declared)",
            rules_references.unknown_subjects,
        ),
        Rule(
            "REF006",
            "error",
            "a consent form offers a purpose that no consent activity rests on",
            rules_references.unknown_form_purposes,
        ),
        Rule(
            "REF007",
            "error",
            "a collection references a column of a collection that its system does not have",
            rules_references.unresolved_collection_references,
        ),
        Rule(
            "DUP001",
            "error",
            "two controllers, activities or systems share an id",
            rules_references.duplicate_ids,
        ),
        # consent
        Rule(
            "CNS001",
            "error",
            "an activity with legal basis consent has no `consent.purpose`",
            rules_consent.consent_without_purpose,
        ),
        Rule(
            "CNS002",
            "error",
            "an activity with another legal basis has a `consent` block",
            rules_consent.consent_block_without_consent_basis,
        ),
        Rule(
            "CNS003",
            "error",
            "a consent purpose can be given neither in the banner (a cookie "
            "category's activities) nor in a form (`consent.forms`)",
            rules_consent.unreachable_consent_purposes,
        ),
        Rule(
            "CNS004",
            "warning",
            "an optional cookie category lists an activity that does not "
            "rest on consent, so refusing the category cannot stop it",
            rules_consent.optional_cookie_category_without_consent,
        ),
        Rule(
            "CNS005",
            "error",
            "a required cookie category lists an activity that rests on "
            "consent, which the visitor then cannot refuse",
            rules_consent.required_cookie_category_with_consent,
        ),
        # retention
        Rule(
            "RET001",
            "warning",
            "an activity has no enforceable retention: no `retention`, or "
            "neither `period` nor `until`",
            rules_retention.unenforceable_retention,
        ),
        Rule(
            "RET002",
            "warning",
            "a retention period is marked `example: true`: an example "
            "value, decide the real period",
            rules_retention.example_retention,
        ),
        Rule(
            "RET003",
            "error",
            "retention counts from or ends at `consent_withdrawn` on an "
            "activity that does not rest on consent",
            rules_retention.consent_withdrawn_without_consent,
        ),
        Rule(
            "RET004",
            "error",
            "a collection's `legal_hold` names an activity whose legal basis "
            "is not legal_obligation",
            rules_retention.legal_hold_without_legal_obligation,
        ),
        # systems: where the data really lives
        Rule(
            "SYS001",
            "error",
            "a collection column holds a category that no activity of its "
            "system processes: personal data without a declared purpose",
            rules_systems.columns_without_purpose,
        ),
        Rule(
            "SYS002",
            "warning",
            "a system lists an activity none of whose categories its collections hold",
            rules_systems.activities_without_data,
        ),
        Rule(
            "SYS003",
            "warning",
            "a collection's retention follows an activity its system does not list",
            rules_systems.retention_activity_outside_system,
        ),
        Rule(
            "SEC001",
            "error",
            "a system's `url` holds a password or its `secret` is a literal instead of `env:NAME`",
            rules_systems.literal_secrets,
        ),
        # lawfulness
        Rule(
            "TRF001",
            "error",
            "a recipient outside the EU/EEA has no `transfer` safeguard",
            rules_lawfulness.transfers_without_safeguard,
        ),
        Rule(
            "PNR001",
            "error",
            "an activity processes personnummer without consent and without "
            "`personnummer_justification`",
            rules_lawfulness.personnummer_without_justification,
        ),
        Rule(
            "SPC001",
            "error",
            "a special category of personal data (Art. 9) has no `art9_condition`",
            rules_lawfulness.special_category_without_condition,
        ),
        Rule(
            "ACT001",
            "warning",
            "a legitimate-interest activity does not state the interest (`legitimate_interest`)",
            rules_lawfulness.legitimate_interest_not_stated,
        ),
        Rule(
            "ACT002",
            "warning",
            "a direct-marketing activity rests on neither consent nor legitimate interest",
            rules_lawfulness.direct_marketing_basis,
        ),
        Rule(
            "ACT003",
            "warning",
            "a profiling activity does not explain its logic (`profiling_logic`)",
            rules_lawfulness.profiling_without_logic,
        ),
        # the published notice
        Rule(
            "ORG001",
            "error",
            "no controller, or more than one, is marked `lead: true`",
            rules_notice.lead_controller,
        ),
        Rule(
            "ORG002",
            "error",
            "no contact for the data protection officer (`organisation.dpo` "
            "with `email` or `postal`)",
            rules_notice.dpo_contact,
        ),
        Rule(
            "ORG003",
            "error",
            "no supervisory authority to complain to (`organisation.authority`"
            " with a name and a contact)",
            rules_notice.authority_contact,
        ),
        Rule(
            "NOT001",
            "error",
            "`notice.published` is before `notice.updated`",
            rules_notice.published_before_updated,
        ),
        Rule(
            "NOT002",
            "warning",
            "a `notice.history` entry is dated after `notice.updated`",
            rules_notice.history_after_update,
        ),
        Rule(
            "LNG001",
            "error",
            "a text lacks one of the register's `languages`",
            rules_notice.missing_translations,
        ),
        Rule(
            "LNG002",
            "warning",
            "a text is in a language the register does not declare in `languages`",
            rules_notice.undeclared_languages,
        ),
    )
}


def lint(loaded: LoadedRegister) -> list[Problem]:
    """Every problem every rule finds in ``loaded``, sorted by line."""
    file = loaded.source.file
    return sorted(
        Problem(file, loaded.line(*path), rule.code, rule.level, message)
        for rule in RULES.values()
        for path, message in rule.check(loaded.register)
    )
