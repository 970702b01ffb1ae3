"""Loading a register: one clear line per mistake, env references kept, the schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ombud.register import Register, RegisterError, load, loads
from ombud.register.env import MissingEnvironmentError, resolve

FILE = "ombud.yaml"

MINIMAL = """\
version: 1
languages: [sv, en]
organisation:
  name: Exempel
  controllers:
    - id: main
      name: Exempel AB
      lead: true
categories:
  contact:
    name: {sv: Kontaktuppgifter, en: Contact data}
systems:
  - id: crm
    name: CRM
    connector: sql
    url: env:CRM_URL
notice:
  updated: 2024-07-02
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(RegisterError) as caught:
        loads(text, FILE)
    return [str(p) for p in caught.value.problems]


def test_the_minimal_register_loads() -> None:
    loaded = loads(MINIMAL, FILE)

    assert loaded.register.organisation.controllers[0].id == "main"
    assert loaded.line("systems", 0, "url") == 16


@pytest.mark.parametrize(
    ("old", "new", "line", "code", "says"),
    [
        pytest.param(
            "    connector: sql\n",
            "    connector: [sql\n",
            16,
            "YML001",
            "YAML syntax",
            id="yaml-syntax",
        ),
        pytest.param(
            "      lead: true\n",
            "      lead: maybe\n",
            8,
            "SCH001",
            "organisation.controllers[0].lead: Input should be a valid boolean",
            id="wrong-type",
        ),
        pytest.param(
            "    connector: sql\n",
            "    connector: oracle\n",
            15,
            "SCH001",
            "systems[0].connector: Input should be 'sql', 'files', 'http' or 'manual'",
            id="wrong-choice",
        ),
        pytest.param(
            "    name: CRM\n",
            "    name: CRM\n    colour: red\n",
            15,
            "SCH001",
            "unknown field `colour`",
            id="unknown-field",
        ),
        pytest.param(
            "  updated: 2024-07-02\n",
            "  published: 2024-07-02\n",
            17,
            "SCH001",
            "notice.updated: required field `updated` is missing",
            id="missing-field",
        ),
        pytest.param(
            "    connector: sql\n",
            "    connector: sql\n    name: Other\n",
            16,
            "YML001",
            'duplicate key "name"',
            id="duplicate-key",
        ),
        pytest.param(
            "  - id: crm\n", "  - id: CRM\n", 13, "SCH001", "'CRM' is not a valid id", id="bad-id"
        ),
        pytest.param("version: 1\n", "version: 2\n", 1, "SCH001", "version", id="version"),
    ],
)
def test_a_mistake_gives_one_line_where_it_is(
    old: str, new: str, line: int, code: str, says: str
) -> None:
    assert MINIMAL.count(old) == 1

    problems = problems_of(MINIMAL.replace(old, new))

    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{FILE}:{line}: {code} error: ")
    assert says in problems[0]
    assert "\n" not in problems[0]


def test_every_mistake_is_reported_at_once() -> None:
    text = MINIMAL.replace("      lead: true\n", "      lead: maybe\n").replace(
        "    connector: sql\n", "    connector: oracle\n"
    )

    problems = problems_of(text)

    assert [p.split(": ", 2)[0:2] for p in problems] == [
        [f"{FILE}:8", "SCH001 error"],
        [f"{FILE}:15", "SCH001 error"],
    ]


@pytest.mark.parametrize(
    "text",
    ["", "# only a comment\n", "- version: 1\n", "just a sentence\n"],
    ids=["empty", "comment-only", "list", "scalar"],
)
def test_a_document_that_is_not_a_mapping(text: str) -> None:
    assert problems_of(text) == [
        f"{FILE}:1: YML002 error: the register must be a YAML mapping starting with `version: 1`"
    ]


def test_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"

    with pytest.raises(RegisterError) as caught:
        load(path)

    [problem] = caught.value.problems
    assert str(problem).startswith(f"{path}:1: REG000 error: no such file")


def test_load_names_the_file_in_its_problems(tmp_path: Path) -> None:
    path = tmp_path / "ombud.yaml"
    path.write_text(MINIMAL.replace("      lead: true\n", "      lead: maybe\n"), encoding="utf-8")

    with pytest.raises(RegisterError) as caught:
        load(path)

    assert str(caught.value).startswith(f"{path}:8: SCH001 error: ")


# --- env: references -----------------------------------------------------------------------


def test_env_references_are_not_resolved_at_load() -> None:
    text = MINIMAL.replace("env:CRM_URL", "env:NOT_SET")

    loaded = loads(text, FILE)

    assert loaded.register.systems[0].url == "env:NOT_SET"


def test_resolving_an_unset_variable_names_it() -> None:
    with pytest.raises(MissingEnvironmentError, match=r"NOT_SET is not set \(used by system crm\)"):
        resolve("env:NOT_SET", {}, where="system crm")


def test_resolving_reads_the_environment_given() -> None:
    environ = {"CRM_URL": "sqlite:///crm.db"}

    assert resolve("env:CRM_URL", environ) == "sqlite:///crm.db"
    assert resolve("sqlite:///other.db", environ) == "sqlite:///other.db"


# --- the JSON Schema and texts -------------------------------------------------------------


def test_the_json_schema_is_json() -> None:
    schema = Register.model_json_schema(by_alias=True)

    again = json.loads(json.dumps(schema))

    assert again == schema
    assert {"version", "languages", "organisation", "notice"} <= set(schema["required"])
    assert "from" in schema["$defs"]["Retention"]["properties"]
    assert schema["$defs"]["Category"]["properties"]["name"] == {"$ref": "#/$defs/Text"}
    assert {"type": "string"} in schema["$defs"]["Text"]["anyOf"]


@pytest.mark.parametrize(("languages", "expected"), [("[sv, en]", "sv"), ("[en, sv]", "en")])
def test_a_plain_string_text_is_in_the_first_language(languages: str, expected: str) -> None:
    text = MINIMAL.replace("[sv, en]", languages).replace(
        "{sv: Kontaktuppgifter, en: Contact data}", "Kontakt"
    )

    category = loads(text, FILE).register.categories["contact"]

    assert category.name.root == {expected: "Kontakt"}
