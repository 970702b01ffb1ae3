"""The register linter: every rule, the line it reports, and the documentation of its codes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

import pytest

from ombud.register import Problem, load, loads
from ombud.register.lint import RULES, lint

ROOT = Path(__file__).resolve().parents[2]
FILE = "ombud.yaml"
#: Marks, in a case's edited text, each line the linter must report.
MARK = "# <-"

BASE = """\
version: 1
languages: [sv, en]
organisation:
  name: Exempel
  controllers:
    - id: main
      name: Exempel AB
      lead: true
  dpo:
    email: dpo@example.se
  authority:
    name: {sv: Integritetsskyddsmyndigheten, en: Swedish Authority for Privacy Protection}
    email: imy@imy.se
categories:
  contact:
    name: {sv: Kontaktuppgifter, en: Contact data}
subjects:
  customer:
    name: {sv: Kund, en: Customer}
recipients:
  mailer:
    name: {sv: Utskickstjänst, en: Mailing service}
    role: processor
    country: SE
activities:
  - id: newsletter
    name: {sv: Nyhetsbrev, en: Newsletter}
    purpose: {sv: Skicka nyhetsbrev, en: Send newsletters}
    legal_basis: consent
    categories: [contact]
    subjects: [customer]
    recipients: [mailer]
    retention:
      until: consent_withdrawn
    consent:
      purpose: newsletter
  - id: customer-service
    name: {sv: Kundtjänst, en: Customer service}
    purpose: {sv: Svara på frågor, en: Answer questions}
    legal_basis: legitimate_interest
    legitimate_interest: {sv: Att kunna svara, en: Being able to answer}
    categories:
      - contact
    retention:
      period: P24M
consent:
  cookie_categories:
    necessary: {name: {sv: Nödvändiga, en: Necessary}, required: true}
  forms:
    signup:
      name: {sv: Anmälan, en: Sign-up}
      purposes: [newsletter]
systems:
  - id: crm
    name: CRM
    connector: sql
    url: env:CRM_URL
    controller: main
    activities: [newsletter, customer-service]
    collections:
      persons:
        primary_key: id
        identity: {email: email}
        fields: {email: contact}
notice:
  updated: 2024-07-02
"""

#: An activity to append (before the top-level `consent:`) with `{extra}` lines of its own.
OFFERS = """\
  - id: offers
    name: {{sv: Erbjudanden, en: Offers}}
    purpose: {{sv: Skicka erbjudanden, en: Send offers}}
    legal_basis: consent
    categories: [contact]
    retention: {{until: consent_withdrawn}}
{extra}consent:
"""
APPEND_ACTIVITY = "\nconsent:\n"
NEW_CATEGORY = "  contact:\n    name: {sv: Kontaktuppgifter, en: Contact data}\n"
CS_RETENTION = "    retention:\n      period: P24M\n"
CS_BASIS = "    legal_basis: legitimate_interest\n"
CS_INTEREST = "    legitimate_interest: {sv: Att kunna svara, en: Being able to answer}\n"
PERSONS = "        primary_key: id\n"
CRM_ACTIVITIES = "    activities: [newsletter, customer-service]\n"
CONTROLLER = "      lead: true\n"
NOTICE_UPDATED = "  updated: 2024-07-02\n"


def edit(text: str, edits: list[tuple[str, str]]) -> str:
    """``text`` with each ``old`` (which must occur exactly once) replaced by ``new``."""
    for old, new in edits:
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
        text = text.replace(old, new)
    return text


def head(problem: Problem) -> str:
    """``file:line: CODE level: `` of the printed problem."""
    match = re.match(r"[^:]+:\d+: [A-Z]{3}\d{3} (error|warning): ", str(problem))
    assert match, str(problem)
    return match[0]


def marked_lines(text: str) -> list[int]:
    return [number for number, line in enumerate(text.splitlines(), 1) if MARK in line]


class Case(NamedTuple):
    """``edits`` to BASE mark each line where ``code`` must be reported; each of its
    messages must contain ``fragment``."""

    id: str
    code: str
    fragment: str
    edits: list[tuple[str, str]]


def case(case_id: str, code: str, fragment: str, *edits: tuple[str, str]) -> Case:
    return Case(case_id, code, fragment, list(edits))


NEWSLETTER_CATEGORIES = "    categories: [contact]\n    subjects"
CS_CATEGORY = "      - contact\n"
CS_ITEM = "  - id: customer-service\n"
CUSTOMER_NAME = "    name: {sv: Kund, en: Customer}\n"
NECESSARY = "required: true}\n"
DPO = "  dpo:\n    email: dpo@example.se\n"
URL = "    url: env:CRM_URL\n"
FIELDS = "fields: {email: contact}"

CASES = [
    case(
        "REF001-activity",
        "REF001",
        "`identification`",
        (NEWSLETTER_CATEGORIES, f"    categories: [contact, identification]  {MARK}\n    subjects"),
    ),
    case(
        "REF001-column",
        "REF001",
        "`competence`",
        (FIELDS, f"fields: {{email: contact, cv: competence}}  {MARK}"),
    ),
    case(
        "REF002",
        "REF002",
        "`google`",
        ("    recipients: [mailer]\n", f"    recipients: [mailer, google]  {MARK}\n"),
    ),
    case(
        "REF003",
        "REF003",
        "`marketing`",
        (CRM_ACTIVITIES, f"    activities: [newsletter, customer-service, marketing]  {MARK}\n"),
    ),
    case(
        "REF004",
        "REF004",
        "`almi-invest`",
        ("    controller: main\n", f"    controller: almi-invest  {MARK}\n"),
    ),
    case(
        "REF005",
        "REF005",
        "`visitor`",
        ("    subjects: [customer]\n", f"    subjects: [customer, visitor]  {MARK}\n"),
    ),
    case(
        "REF006",
        "REF006",
        "`offers`",
        ("      purposes: [newsletter]\n", f"      purposes: [newsletter, offers]  {MARK}\n"),
    ),
    case(
        "REF007",
        "REF007",
        "`orders`",
        (PERSONS, f"{PERSONS}        references: {{order_id: orders.id}}  {MARK}\n"),
    ),
    case(
        "DUP001-controller",
        "DUP001",
        "`main`",
        (CONTROLLER, f"{CONTROLLER}    - id: main  {MARK}\n      name: Exempel Invest AB\n"),
    ),
    case(
        "DUP001-activity",
        "DUP001",
        "`newsletter`",
        (
            APPEND_ACTIVITY,
            "\n"
            + OFFERS.format(extra="    consent: {purpose: newsletter}\n").replace(
                "id: offers", f"id: newsletter  {MARK}"
            ),
        ),
    ),
    case(
        "CNS001",
        "CNS001",
        "`offers`",
        (
            APPEND_ACTIVITY,
            "\n" + OFFERS.format(extra="").replace("basis: consent", f"basis: consent  {MARK}"),
        ),
    ),
    case(
        "CNS002",
        "CNS002",
        "`customer-service`",
        (CS_INTEREST, f"{CS_INTEREST}    consent: {{purpose: newsletter}}  {MARK}\n"),
    ),
    case(
        "CNS003",
        "CNS003",
        "`offers`",
        (
            APPEND_ACTIVITY,
            "\n" + OFFERS.format(extra=f"    consent: {{purpose: offers}}  {MARK}\n"),
        ),
    ),
    case(
        "CNS004",
        "CNS004",
        "`customer-service`",
        (
            NECESSARY,
            (
                f"{NECESSARY}    statistics: {{name: {{sv: Statistik, en: Statistics}}, "
                f"activities: [customer-service]}}  {MARK}\n"
            ),
        ),
    ),
    case(
        "CNS005",
        "CNS005",
        "`newsletter`",
        (NECESSARY, f"required: true, activities: [newsletter]}}  {MARK}\n"),
    ),
    case(
        "RET001-no-period",
        "RET001",
        "`customer-service`",
        (CS_RETENTION, f"    retention:  {MARK}\n      from: last_activity\n"),
    ),
    case(
        "RET001-no-retention",
        "RET001",
        "`customer-service`",
        (CS_RETENTION, ""),
        (CS_ITEM, f"  - id: customer-service  {MARK}\n"),
    ),
    case(
        "RET002",
        "RET002",
        "example value, decide the real period",
        (CS_RETENTION, f"{CS_RETENTION}      example: true  {MARK}\n"),
    ),
    case(
        "RET003",
        "RET003",
        "`customer-service`",
        (CS_RETENTION, f"{CS_RETENTION}      until: consent_withdrawn  {MARK}\n"),
    ),
    case(
        "RET004",
        "RET004",
        "`customer-service`",
        (PERSONS, f"{PERSONS}        legal_hold: customer-service  {MARK}\n"),
    ),
    case(
        "SYS001",
        "SYS001",
        "`persons.born`",
        (NEW_CATEGORY, f"{NEW_CATEGORY}  demographic:\n    name: {{sv: Demografi, en: Age}}\n"),
        (FIELDS, f"fields: {{email: contact, born: demographic}}  {MARK}"),
    ),
    case(
        "SYS002",
        "SYS002",
        "`customer-service`",
        (NEW_CATEGORY, f"{NEW_CATEGORY}  usage:\n    name: {{sv: Användning, en: Usage}}\n"),
        (CS_CATEGORY, "      - usage\n"),
        (CRM_ACTIVITIES, f"    activities: [newsletter, customer-service]  {MARK}\n"),
    ),
    case(
        "SYS003",
        "SYS003",
        "`customer-service`",
        (CRM_ACTIVITIES, "    activities: [newsletter]\n"),
        (
            PERSONS,
            f"{PERSONS}        retention: {{activity: customer-service, timestamp: at}}  {MARK}\n",
        ),
    ),
    case(
        "SEC001-url",
        "SEC001",
        "env:CRM_URL",
        (URL, f"    url: postgresql://crm:hunter2@db.example.se/crm  {MARK}\n"),
    ),
    case("SEC001-secret", "SEC001", "env:CRM_SECRET", (URL, f"{URL}    secret: s3cret  {MARK}\n")),
    case(
        "TRF001",
        "TRF001",
        "`cloud`",
        (
            "    country: SE\n",
            (
                "    country: SE\n  cloud:\n    name: {sv: Moln, en: Cloud}\n"
                f"    role: processor\n    country: US  {MARK}\n"
            ),
        ),
    ),
    case(
        "PNR001-category",
        "PNR001",
        "`customer-service`",
        (NEW_CATEGORY, f"{NEW_CATEGORY}    personnummer: true\n"),
        (CS_CATEGORY, f"      - contact  {MARK}\n"),
    ),
    case(
        "PNR001-identity",
        "PNR001",
        "`crm`",
        ("identity: {email: email}", "identity: {email: email, personnummer: pnr}"),
        (CS_ITEM, f"  - id: customer-service  {MARK}\n"),
    ),
    case(
        "PNR001-stated",
        "PNR001",
        "`customer-service`",
        (CS_INTEREST, f"{CS_INTEREST}    personnummer: true  {MARK}\n"),
    ),
    case(
        "SPC001",
        "SPC001",
        "`contact`",
        (NEW_CATEGORY, f"{NEW_CATEGORY}    special: true  {MARK}\n"),
    ),
    case(
        "ACT001",
        "ACT001",
        "`customer-service`",
        (CS_INTEREST, ""),
        (CS_BASIS, f"    legal_basis: legitimate_interest  {MARK}\n"),
    ),
    case(
        "ACT002",
        "ACT002",
        "`customer-service`",
        (CS_BASIS, "    legal_basis: contract\n"),
        (CS_INTEREST, f"    direct_marketing: true  {MARK}\n"),
    ),
    case(
        "ACT003",
        "ACT003",
        "`customer-service`",
        (CS_INTEREST, f"{CS_INTEREST}    profiling: true  {MARK}\n"),
    ),
    case(
        "ORG001-none",
        "ORG001",
        "lead: true",
        (CONTROLLER, ""),
        ("  controllers:\n", f"  controllers:  {MARK}\n"),
    ),
    case(
        "ORG001-two",
        "ORG001",
        "`invest`",
        (
            CONTROLLER,
            (
                f"{CONTROLLER}    - id: invest\n      name: Exempel Invest AB\n"
                f"      lead: true  {MARK}\n"
            ),
        ),
    ),
    case(
        "ORG002-none",
        "ORG002",
        "organisation.dpo",
        (DPO, ""),
        ("organisation:\n", f"organisation:  {MARK}\n"),
    ),
    case(
        "ORG002-no-contact",
        "ORG002",
        "email",
        (DPO, f"  dpo:  {MARK}\n    phone: '+46 8 123 45 67'\n"),
    ),
    case(
        "ORG003",
        "ORG003",
        "contact",
        ("  authority:\n", f"  authority:  {MARK}\n"),
        ("    email: imy@imy.se\n", ""),
    ),
    case(
        "NOT001",
        "NOT001",
        "2024-07-01",
        (NOTICE_UPDATED, f"{NOTICE_UPDATED}  published: 2024-07-01  {MARK}\n"),
    ),
    case(
        "NOT002",
        "NOT002",
        "2024-08-01",
        (
            NOTICE_UPDATED,
            (
                f"{NOTICE_UPDATED}  history:\n    - date: 2024-08-01  {MARK}\n"
                "      text: {sv: Ändrad, en: Changed}\n"
            ),
        ),
    ),
    case(
        "LNG001",
        "LNG001",
        "`subjects.customer.name` has no text in en",
        (CUSTOMER_NAME, f"    name: Kund  {MARK}\n"),
    ),
    case(
        "LNG001-nested",
        "LNG001",
        "`notice.rights.access.conditions[0]` has no text in sv",
        (
            NOTICE_UPDATED,
            (
                f"{NOTICE_UPDATED}  rights:\n    access:\n      conditions:\n"
                f"        - {{en: Only your own data}}  {MARK}\n"
            ),
        ),
    ),
    case(
        "LNG002",
        "LNG002",
        "de",
        (CUSTOMER_NAME, f"    name: {{sv: Kund, en: Customer, de: Kunde}}  {MARK}\n"),
    ),
]


def test_the_base_register_is_clean() -> None:
    assert lint(loads(BASE, FILE)) == []


@pytest.mark.parametrize(
    ("code", "edits", "fragment"),
    [pytest.param(c.code, c.edits, c.fragment, id=c.id) for c in CASES],
)
def test_rule_reports_its_code_level_and_line(
    code: str, edits: list[tuple[str, str]], fragment: str
) -> None:
    text = edit(BASE, edits)
    lines = marked_lines(text)
    assert lines, "a case must mark the line it expects"

    problems = lint(loads(text, FILE))

    expected = [f"{FILE}:{line}: {code} {RULES[code].level}: " for line in lines]
    assert [head(p) for p in problems] == expected, "\n".join(map(str, problems))
    for problem in problems:
        assert fragment in problem.message
        assert "\n" not in problem.message


def test_every_rule_has_a_case() -> None:
    assert {case.code for case in CASES} == set(RULES)


def test_rule_codes_are_stable_in_form() -> None:
    for code, rule in RULES.items():
        assert re.fullmatch(r"[A-Z]{3}\d{3}", code)
        assert rule.code == code
        assert rule.level in ("error", "warning")
    assert len(RULES) >= 15


def test_problems_come_sorted_by_line() -> None:
    text = edit(
        BASE,
        [
            (NOTICE_UPDATED, f"{NOTICE_UPDATED}  published: 2024-07-01\n"),
            (CUSTOMER_NAME, "    name: Kund\n"),
            (CONTROLLER, ""),
        ],
    )

    problems = lint(loads(text, FILE))

    assert [p.code for p in problems] == ["ORG001", "LNG001", "NOT001"]
    assert [p.line for p in problems] == sorted(p.line for p in problems)


def test_a_required_cookie_category_of_necessary_activities_is_fine() -> None:
    text = edit(BASE, [(NECESSARY, "required: true, activities: [customer-service]}\n")])

    assert lint(loads(text, FILE)) == []


@pytest.mark.parametrize(
    "edits",
    [
        [(NEW_CATEGORY, f"{NEW_CATEGORY}    personnummer: true\n")],
        [("identity: {email: email}", "identity: {email: email, personnummer: pnr}")],
    ],
    ids=["category", "identity"],
)
def test_an_activity_that_does_not_use_personnummer_says_so(
    edits: list[tuple[str, str]],
) -> None:
    text = edit(BASE, [*edits, (CS_INTEREST, f"{CS_INTEREST}    personnummer: false\n")])

    assert lint(loads(text, FILE)) == []


def test_personnummer_is_fine_with_consent_or_a_justification() -> None:
    justified = f"{CS_INTEREST}    personnummer_justification: {{sv: Krävs, en: Required}}\n"
    text = edit(
        BASE, [(NEW_CATEGORY, f"{NEW_CATEGORY}    personnummer: true\n"), (CS_INTEREST, justified)]
    )

    assert lint(loads(text, FILE)) == []


def test_a_consent_purpose_shared_by_activities_is_no_duplicate() -> None:
    second = OFFERS.format(extra="    consent: {purpose: newsletter}\n")

    assert lint(loads(edit(BASE, [(APPEND_ACTIVITY, "\n" + second)]), FILE)) == []


@pytest.mark.parametrize(
    ("url", "level"),
    [
        ("sqlite:///crm.db", None),
        ("postgresql://crm@db.example.se/crm", None),
        ("env:CRM_URL", None),
        ("postgresql://crm:hunter2@db.example.se/crm", "error"),
        ("https://api.example.se/v1?token=abc", "error"),
    ],
)
def test_secret_in_url(url: str, level: str | None) -> None:
    text = edit(BASE, [(URL, f"    url: '{url}'\n")])

    problems = lint(loads(text, FILE))

    assert [(p.code, p.level) for p in problems] == ([("SEC001", level)] if level else [])


# --- the documentation ---------------------------------------------------------------------


def documented_rules() -> dict[str, str]:
    """Code -> level from the rows of the lint-rules table in docs/lint-rules.md."""
    text = (ROOT / "docs" / "lint-rules.md").read_text(encoding="utf-8")
    section = text.split("## Lint rules", 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"^\| ([A-Z]{3}\d{3}) \| (error|warning) \|", section, re.MULTILINE))


def test_every_rule_is_documented_with_its_level() -> None:
    assert documented_rules() == {code: rule.level for code, rule in RULES.items()}


def test_the_documentation_names_no_code_that_does_not_exist() -> None:
    text = (ROOT / "docs" / "lint-rules.md").read_text(encoding="utf-8")
    load_errors = {"REG000", "YML001", "YML002", "SCH001"}

    assert set(re.findall(r"\b[A-Z]{3}\d{3}\b", text)) == set(RULES) | load_errors


# --- Almi's notice taken word for word -----------------------------------------------------

ALMI_VERBATIM = Path(__file__).parent / "fixtures" / "almi-seed-verbatim.yaml"


@pytest.mark.parametrize("category", ["identification", "competence"])
def test_almi_verbatim_names_categories_its_notice_never_declares(category: str) -> None:
    # The seed notice lists "Identifieringsuppgifter" and "Kompetensuppgifter" under
    # activities but not in its table of categories: the register taken word for word
    # must say so, on the line of the activity that names them.
    text = ALMI_VERBATIM.read_text(encoding="utf-8")
    lines = [
        number
        for number, line in enumerate(text.splitlines(), 1)
        if re.match(rf"\s*categories:.*\b{category}\b", line)
    ]
    assert len(lines) == 1

    problems = [str(p) for p in lint(load(ALMI_VERBATIM))]

    expected = f"{ALMI_VERBATIM}:{lines[0]}: REF001 error: "
    assert [p for p in problems if p.startswith(expected) and f"`{category}`" in p], problems
