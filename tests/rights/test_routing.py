"""Joint controllers (Art. 26): a request reaches the systems of the controller it is made to.

A copy of the demo's register where the survey tool belongs to the subsidiary
Almi Invest and the newsletter tool to no controller in particular (shared by the
group, so every controller's requests reach it); everything else stays Almi AB's.
A request to the lead reaches every system, since joint controllers answer
together; a request to a subsidiary reaches its own systems and the shared ones.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from demo_systems import Demo, build_once, copy_demo, everywhere
from ruamel.yaml import YAML

from ombud import store
from ombud.connectors import REDACTED
from ombud.demo import demo_register
from ombud.register import Register, loads
from ombud.register.lint import lint
from ombud.rights.errors import InvalidRequestError
from ombud.rights.intake import list_requests
from ombud.rights.models import RequestState, RequestType
from ombud.rights.plan import OMBUD, StepAction, plan, systems_in_scope
from ombud.rights.summary import summarise

LEAD = "almi-ab"
SUBSIDIARY = "almi-invest"
#: The changes to the demo's register: system -> its controller (None: shared).
CONTROLLERS: dict[str, str | None] = {"survey": SUBSIDIARY, "newsletter": None}


def with_controllers(text: str, controllers: Mapping[str, str | None]) -> str:
    """The register ``text`` with these systems' ``controller:`` set, or removed for None."""
    yaml = YAML(typ="rt")
    yaml.width = 4096
    document = yaml.load(text)
    systems = {system["id"]: system for system in document["systems"]}
    for system_id, controller in controllers.items():
        if controller is None:
            del systems[system_id]["controller"]
        else:
            systems[system_id]["controller"] = controller
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()


@pytest.fixture(scope="module")
def register() -> Register:
    loaded = loads(with_controllers(demo_register({}), CONTROLLERS))
    errors = [problem for problem in lint(loaded) if problem.level == "error"]
    assert not errors, errors  # the copy is a register its owner could ship
    return loaded.register


@pytest.fixture
def demo(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, sqlite_url: str
) -> Iterator[Demo]:
    built = copy_demo(build_once(tmp_path_factory), tmp_path / "demo", sqlite_url)
    text = built.register_path.read_text(encoding="utf-8")
    built.register_path.write_text(with_controllers(text, CONTROLLERS), encoding="utf-8")
    yield built
    built.engine.dispose()


def test_the_copy_has_a_subsidiary_system_and_a_shared_one(register: Register) -> None:
    by_id = {s.id: s.controller for s in register.systems}
    assert by_id.pop("survey") == SUBSIDIARY
    assert by_id.pop("newsletter") is None
    assert set(by_id.values()) == {LEAD}


@pytest.mark.parametrize(
    ("controller", "expected"),
    [
        pytest.param(SUBSIDIARY, {"survey", "newsletter"}, id="subsidiary: own and shared"),
        pytest.param("almi-vast", {"newsletter"}, id="subsidiary without systems: shared"),
    ],
)
def test_a_subsidiary_reaches_its_own_systems_and_the_shared_ones(
    register: Register, controller: str, expected: set[str]
) -> None:
    assert {s.id for s in systems_in_scope(register, controller)} == expected


def test_the_lead_reaches_every_system(register: Register) -> None:
    assert systems_in_scope(register, LEAD) == register.systems
    planned = {system for system, _ in plan(register, RequestType.ERASURE, LEAD, [])}
    assert planned == {s.id for s in register.systems} | {OMBUD}


@pytest.mark.parametrize(
    ("request_type", "steps"),
    # Systems that know people by a strong identifier (the survey: the CRM's customer
    # number) come first: what they reveal is searched for in the others.
    [
        (
            RequestType.ERASURE,
            [
                ("survey", StepAction.ERASE),
                ("newsletter", StepAction.ERASE),
                ("survey", StepAction.VERIFY),
                ("newsletter", StepAction.VERIFY),
                (OMBUD, StepAction.SUPPRESS),
            ],
        ),
        (
            RequestType.ACCESS,
            [
                ("survey", StepAction.FIND),
                ("newsletter", StepAction.FIND),
                (OMBUD, StepAction.PACKAGE),
            ],
        ),
        (
            RequestType.RESTRICTION,
            [
                ("survey", StepAction.RESTRICT),
                ("newsletter", StepAction.RESTRICT),
                (OMBUD, StepAction.RECORD),
            ],
        ),
    ],
)
def test_a_request_to_a_subsidiary_plans_only_its_steps(
    register: Register, request_type: RequestType, steps: list[tuple[str, StepAction]]
) -> None:
    assert plan(register, request_type, SUBSIDIARY, []) == steps


def test_an_erasure_for_a_subsidiary_changes_only_its_systems(demo: Demo) -> None:
    pid = demo.person("everywhere")["person_id"]
    # The survey knows the person by the CRM's customer number only.
    identifiers = [*everywhere(demo), ("customer_id", str(pid))]
    answers = [
        row[0]
        for row in demo.sql("survey", f"SELECT id FROM survey_answers WHERE person_id = {pid}")
    ]
    before = demo.scan(dict(identifiers))
    assert {"crm", "newsletter", "survey", "accounting", "website"} <= set(before)

    request = demo.run(demo.request("erasure", identifiers, controller_id=SUBSIDIARY))

    assert request.state == RequestState.COMPLETED  # no manual system is Almi Invest's
    summary = summarise(request)
    assert summary["controller"] == SUBSIDIARY
    assert {s["system"] for s in summary["steps"]} == {"survey", "newsletter", OMBUD}
    # Almi Invest's survey and the shared newsletter have forgotten the person ...
    assert demo.scan(dict(identifiers)) == {
        system: counts for system, counts in before.items() if system not in CONTROLLERS
    }
    kept = demo.sql(
        "survey",
        "SELECT person_id, email, comment FROM survey_answers "
        f"WHERE id IN ({', '.join(str(i) for i in answers)})",
    )
    assert len(kept) == len(answers)  # the anonymous scores stay
    assert all(p is None and e is None and c in (None, REDACTED) for p, e, c in kept)
    # ... and Almi AB's systems are Almi AB's to answer for: not even restricted.
    flags = demo.sql("accounting", f"SELECT restricted FROM invoices WHERE person_id = {pid}")
    assert flags
    assert not any(flag for (flag,) in flags)


def test_a_request_to_the_lead_reaches_every_system(demo: Demo) -> None:
    request = demo.run(demo.request("access", everywhere(demo)))  # the lead by default
    summary = summarise(request)
    assert summary["controller"] == LEAD
    found = {s["system"] for s in summary["steps"]} - {OMBUD}
    # access: independent controllers (Google, Meta, ...) answer for themselves
    own = {s.id for s in demo.register.systems if s.recipient is None}
    assert found == own
    assert {"survey", "newsletter", "crm"} <= found


def test_an_unknown_controller_is_refused_and_nothing_is_stored(demo: Demo) -> None:
    with pytest.raises(InvalidRequestError, match="unknown controller 'almi-nowhere'") as caught:
        demo.request("access", everywhere(demo), controller_id="almi-nowhere")
    assert SUBSIDIARY in str(caught.value)  # the message lists the register's controllers
    with store.transaction(demo.engine) as session:
        assert list_requests(session) == []
