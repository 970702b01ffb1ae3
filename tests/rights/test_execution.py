"""Every request type, end to end on the demo systems, checking the systems afterwards."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from demo_systems import KEYS, NOW, Demo, copy_demo
from sqlalchemy import func, select

from ombud import audit, store
from ombud.audit import AuditEntry
from ombud.demo import build_demo
from ombud.rights import decisions
from ombud.rights.answer import download
from ombud.rights.errors import RequestStateError
from ombud.rights.execution import lift_restriction
from ombud.rights.intake import get_request
from ombud.rights.models import DataRequest, RequestState, Restriction, Suppression


@pytest.fixture(scope="session")
def built_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("demo") / "built"
    build_demo(directory, size=120, seed=3)
    return directory


@pytest.fixture
def demo(built_demo: Path, tmp_path: Path, sqlite_url: str) -> Iterator[Demo]:
    built = copy_demo(built_demo, tmp_path / "demo", sqlite_url)
    yield built
    built.engine.dispose()


def _everywhere(demo: Demo) -> list[tuple[str, str]]:
    person = demo.person("everywhere")
    return [
        ("email", person["email"]),
        ("personnummer", person["personal_number"]),
        ("visitor_id", person["visitor_id"]),
        ("ip", person["ip"]),
    ]


def _steps(request: DataRequest) -> list[tuple[str, str, str, object, str | None]]:
    return [(s.system_id, s.action, s.state, s.result, s.error) for s in request.steps]


def _answer(demo: Demo) -> zipfile.ZipFile:
    (message,) = demo.mail.sent
    link = next(line for line in message.get_content().splitlines() if "/answer/" in line)
    token = link.rsplit("/", 1)[1]
    with store.transaction(demo.engine) as session:
        _, content = download(session, token, keys=KEYS, now=NOW)
    return zipfile.ZipFile(io.BytesIO(content))


def test_access_finds_the_person_everywhere_and_delivers_once(demo: Demo) -> None:
    person = demo.person("everywhere")
    request_id = demo.request("access", _everywhere(demo))
    request = demo.run(request_id)
    assert request.state == RequestState.COMPLETED, _steps(request)
    found = {s.system_id: (s.result or {}).get("found", {}) for s in request.steps}
    assert found["crm"]["persons"] == 1
    assert found["newsletter"] == {"newsletter_subscribers": 1}
    assert found["accounting"]["invoices"] >= 1
    assert found["website"]["events"] >= 1
    assert found["website"]["access_log"] >= 1

    archive = _answer(demo)
    assert sorted(archive.namelist()) == [
        "registerutdrag.html",
        "registerutdrag.json",
        "registerutdrag.pdf",
    ]
    html = archive.read("registerutdrag.html").decode()
    assert person["email"] in html
    assert "Integritetsskyddsmyndigheten" in html
    document = json.loads(archive.read("registerutdrag.json"))
    assert document["request"]["id"] == request_id
    # The link works once.
    (message,) = demo.mail.sent
    token = message.get_content().split("/answer/")[1].split()[0]
    with store.transaction(demo.engine) as session, pytest.raises(Exception, match="used"):
        download(session, token, keys=KEYS, now=NOW)
    # The found rows are not kept once the answer is packaged.
    assert all(step.payload is None for step in demo.load(request_id).steps)


def test_access_with_unknown_identifiers_answers_no_data(demo: Demo) -> None:
    request = demo.run(demo.request("access", [("email", "nobody@nowhere.example")]))
    assert request.state == RequestState.COMPLETED, _steps(request)
    html = _answer(demo).read("registerutdrag.html").decode()
    assert "inga personuppgifter" in html


def test_erasure_leaves_nothing_outside_legal_holds(demo: Demo) -> None:
    person = demo.person("everywhere")
    identifiers = {
        "ip": person["ip"],
        "email": person["email"],
        "personnummer": person["personal_number"],
        "visitor_id": person["visitor_id"],
    }
    before = demo.scan(identifiers)
    assert {"crm", "newsletter", "accounting", "website"} <= set(before)

    logs = "".join(p.read_text() for p in (demo.directory / "logs").glob("access.log*"))
    assert person["ip"] in logs

    request_id = demo.request("erasure", _everywhere(demo))
    request = demo.run(request_id)
    # Google, Meta, Bing and LinkedIn are told by a person (Art. 19): the request waits.
    assert request.state == RequestState.AWAITING, _steps(request)
    waiting = {s.system_id for s in request.steps if s.state == "waiting"}
    assert waiting == {"google-analytics", "meta-pixel", "microsoft-bing", "linkedin-insight"}

    after = demo.scan(identifiers)
    assert after == {"accounting": before["accounting"]}, after
    # The log lines stay, for statistics and security, without the host part of the address.
    logs = "".join(p.read_text() for p in (demo.directory / "logs").glob("access.log*"))
    assert person["ip"] not in logs
    assert person["ip"].rsplit(".", 1)[0] + ".0 " in logs
    restricted = demo.sql(
        "accounting",
        f"SELECT restricted FROM invoices WHERE personal_number = '{person['personal_number']}'",
    )
    assert restricted
    assert all(row[0] for row in restricted)

    with store.transaction(demo.engine) as session:
        digests = set(session.scalars(select(Suppression.digest)))
        assert KEYS.identifier("email", person["email"]) in digests
        request = get_request(session, request_id)
        for system_id in waiting:
            decisions.complete_task(session, request, system_id=system_id, actor="user:2", now=NOW)
    request = demo.run(request_id)
    assert request.state == RequestState.COMPLETED, _steps(request)
    (answer,) = demo.mail.sent
    text = answer.get_content()
    assert "raderat" in text
    assert "bokföringslagen" in text  # why the invoices were kept
    assert "Google Analytics" in text  # the recipients told (Art. 19)
    with store.transaction(demo.engine) as session:
        suppress = next(s for s in get_request(session, request_id).steps if s.action == "suppress")
        assert suppress.result is not None
        assert suppress.result["grounds"]["newsletter"] == "17(1)(b)"
        assert suppress.result["grounds"]["customer-service"] == "17(1)(c)"
        assert suppress.result["grounds"]["accounting"] == "17(3)(b)"
        assert audit.verify(session).ok
        completed = session.scalars(
            select(AuditEntry).where(
                AuditEntry.object_id == f"request:{request_id}",
                AuditEntry.action == "request.completed",
            )
        ).all()
    assert len(completed) == 1


def test_ambiguous_email_waits_for_a_handler(demo: Demo) -> None:
    shared = demo.person("shared_email")
    request_id = demo.request("access", [("email", shared["email"])])
    request = demo.run(request_id)
    assert request.state == RequestState.AWAITING, _steps(request)
    crm = next(s for s in request.steps if s.system_id == "crm")
    assert crm.state == "waiting"
    assert crm.result == {"ambiguous": {"persons": 2}}

    first = shared["person_ids"][0]
    with store.transaction(demo.engine) as session:
        request = demo.load(request_id)
        stored = session.merge(request)
        decisions.choose_rows(
            session, stored, system_id="crm", collection="persons", keys=[[first]], actor="user:2"
        )
    request = demo.run(request_id)
    assert request.state == RequestState.COMPLETED, _steps(request)
    html = _answer(demo).read("registerutdrag.html").decode()
    names = demo.sql(
        "crm",
        "SELECT id, first_name FROM persons WHERE id IN "
        f"({', '.join(str(i) for i in shared['person_ids'])})",
    )
    by_id = dict(names)
    assert by_id[first] in html
    other = next(i for i in shared["person_ids"] if i != first)
    assert by_id[other] not in html or by_id[other] == by_id[first]


def test_strong_identifier_settles_a_shared_email(demo: Demo) -> None:
    shared = demo.person("shared_email")
    first = shared["person_ids"][0]
    (number,) = demo.sql("crm", f"SELECT personal_number FROM persons WHERE id = {first}")[0]
    request = demo.run(
        demo.request("access", [("email", shared["email"]), ("personnummer", number)])
    )
    assert request.state == RequestState.COMPLETED, _steps(request)
    crm = next(s for s in request.steps if s.system_id == "crm")
    assert (crm.result or {})["found"]["persons"] == 1


def test_restriction_sets_the_flags_and_records_it(demo: Demo) -> None:
    person = demo.person("everywhere")
    request = demo.run(demo.request("restriction", _everywhere(demo)))
    # The recipients that are independent controllers are told by a person (Art. 19).
    assert request.state == RequestState.AWAITING, _steps(request)
    assert {s.system_id for s in request.steps if s.state == "waiting"} == {
        "google-analytics",
        "meta-pixel",
        "microsoft-bing",
        "linkedin-insight",
    }
    rows = demo.sql(
        "crm",
        f"SELECT restricted FROM persons WHERE personal_number = '{person['personal_number']}'",
    )
    assert rows in ([(1,)], [(True,)])
    with store.transaction(demo.engine) as session:
        request = get_request(session, request.id)
        # One per identifier: the four given, and the customer number the CRM revealed.
        assert {i.kind for i in request.identifiers} == {
            "email",
            "personnummer",
            "visitor_id",
            "ip",
            "customer_id",
        }
        assert (
            session.scalar(
                select(func.count())
                .select_from(Restriction)
                .where(Restriction.reason == "restriction")
            )
            == 5
        )


def test_objection_to_marketing_is_immediate_and_to_other_waits_for_the_dpo(
    demo: Demo,
) -> None:
    person = demo.person("everywhere")
    request_id = demo.request(
        "objection",
        [("email", person["email"])],
        activities=["direct-marketing", "telemarketing", "customer-satisfaction"],
    )
    request = demo.run(request_id)
    assert request.state == RequestState.AWAITING, _steps(request)
    with store.transaction(demo.engine) as session:
        suppressed = set(
            session.scalars(select(Suppression.activity).where(Suppression.reason == "objection"))
        )
        assert suppressed == {"direct-marketing", "telemarketing"}
        pending = set(
            session.scalars(
                select(Restriction.activity).where(
                    Restriction.reason == "objection_pending", Restriction.lifted_at.is_(None)
                )
            )
        )
        assert pending == {"customer-satisfaction"}
        decisions.decide_objection(
            session,
            get_request(session, request_id),
            activity_id="customer-satisfaction",
            upheld=False,
            grounds="Surveys are needed to follow up the advice given",
            actor="user:dpo",
            keys=KEYS,
            now=NOW,
        )
    request = demo.run(request_id)
    assert request.state == RequestState.COMPLETED, _steps(request)
    with store.transaction(demo.engine) as session:
        assert (
            session.scalar(
                select(func.count()).select_from(Restriction).where(Restriction.lifted_at.is_(None))
            )
            == 0
        )


def test_portability_holds_only_consent_data(demo: Demo) -> None:
    request = demo.run(demo.request("portability", _everywhere(demo)))
    assert request.state == RequestState.COMPLETED, _steps(request)
    archive = _answer(demo)
    names = archive.namelist()
    assert any("newsletter" in n for n in names)
    assert not any("cases" in n for n in names)


def test_withdrawing_consent_erases_what_rested_on_it(demo: Demo) -> None:
    person = demo.person("everywhere")
    request = demo.run(
        demo.request("withdraw-consent", [("email", person["email"])], activities=["newsletter"])
    )
    assert request.state == RequestState.COMPLETED, _steps(request)
    assert "newsletter" not in demo.scan({"email": person["email"]})
    assert "crm" in demo.scan({"email": person["email"]})


def test_rectification_applies_the_handlers_correction(demo: Demo) -> None:
    person = demo.person("everywhere")
    request_id = demo.request("rectification", [("email", person["email"])])
    request = demo.run(request_id)
    assert request.state == RequestState.AWAITING, _steps(request)
    (pid,) = demo.sql("crm", f"SELECT id FROM persons WHERE email = '{person['email']}'")[0]
    with store.transaction(demo.engine) as session:
        decisions.rectify(
            session,
            get_request(session, request_id),
            corrections=[("crm", "persons", [pid], "last_name", "Rättad")],
            register=demo.register,
            keys=KEYS,
            actor="user:2",
            now=NOW,
        )
    request = demo.run(request_id)
    assert demo.sql("crm", f"SELECT last_name FROM persons WHERE id = {pid}") == [("Rättad",)]
    # The recipients Ombud does not reach are told by a person (Art. 19).
    assert request.state == RequestState.AWAITING, _steps(request)
    _complete_tasks(demo, request_id)
    request = demo.run(request_id)
    assert request.state == RequestState.COMPLETED, _steps(request)


def _complete_tasks(demo: Demo, request_id: str) -> None:
    with store.transaction(demo.engine) as session:
        request = get_request(session, request_id)
        for step in request.steps:
            if step.action == "tell" and step.state == "waiting":
                decisions.complete_task(
                    session, request, system_id=step.system_id, actor="user:2", now=NOW
                )


def test_lifting_a_restriction_tells_the_person_first(demo: Demo) -> None:
    person = demo.person("everywhere")
    request_id = demo.request("restriction", _everywhere(demo))
    demo.run(request_id)
    _complete_tasks(demo, request_id)
    assert demo.run(request_id).state == RequestState.COMPLETED
    flagged = f"SELECT restricted FROM persons WHERE email = '{person['email']}'"
    assert [bool(r[0]) for r in demo.sql("crm", flagged)] == [True]

    with pytest.raises(RequestStateError, match="could not be told"):
        lift_restriction(demo.engine, request_id, demo.runtime(), tell=lambda _: False)
    assert [bool(r[0]) for r in demo.sql("crm", flagged)] == [True]

    told: list[str] = []
    lift_restriction(
        demo.engine, request_id, demo.runtime(), tell=lambda r: told.append(r.id) or True
    )
    assert told == [request_id]
    assert [bool(r[0]) for r in demo.sql("crm", flagged)] == [False]
    with store.transaction(demo.engine) as session:
        open_restrictions = (
            select(func.count()).select_from(Restriction).where(Restriction.lifted_at.is_(None))
        )
        assert session.scalar(open_restrictions) == 0


def test_unreachable_system_is_reported_and_retried(demo: Demo) -> None:
    text = demo.register_path.read_text(encoding="utf-8")
    broken = text.replace("sqlite:///survey.db", "postgresql+psycopg://nobody@127.0.0.1:1/x")
    assert broken != text
    demo.register_path.write_text(broken, encoding="utf-8")
    request_id = demo.request("access", _everywhere(demo))
    request = demo.run(request_id)
    assert request.state == RequestState.AWAITING, _steps(request)
    survey = next(s for s in request.steps if s.system_id == "survey")
    assert survey.state == "failed"
    assert "survey" in (survey.error or "")
    package = next(s for s in request.steps if s.action == "package")
    assert package.state == "pending"

    demo.register_path.write_text(text, encoding="utf-8")
    request = demo.run(request_id)
    assert request.state == RequestState.COMPLETED, _steps(request)


def test_a_sole_traders_company_is_their_own_data(demo: Demo) -> None:
    # An enskild firma's organisation number is the owner's personnummer: the company row
    # is the person's data, found by access and gone after erasure (not another party's
    # row that only loses its link to the person).
    sole = demo.person("sole_trader")
    ((email,),) = demo.sql("crm", f"SELECT email FROM persons WHERE id = {sole['person_id']}")
    identifiers = [("email", email), ("personnummer", sole["orgnr"])]
    access = demo.run(demo.request("access", identifiers))
    assert access.state == RequestState.COMPLETED, _steps(access)
    crm = next(s for s in access.steps if s.system_id == "crm")
    assert (crm.result or {})["found"]["companies"] == 1
    document = json.loads(_answer(demo).read("registerutdrag.json"))
    assert sole["orgnr"] in json.dumps(document, ensure_ascii=False)

    demo.run(demo.request("erasure", identifiers))
    assert demo.sql("crm", f"SELECT orgnr FROM companies WHERE id = {sole['company_id']}") == []
    # The invoices to the firm stay, restricted, for the bookkeeping hold.
    kept = demo.sql(
        "accounting", f"SELECT restricted FROM invoices WHERE company_id = {sole['company_id']}"
    )
    assert kept
    assert all(row[0] for row in kept)
