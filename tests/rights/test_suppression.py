"""The processing gate after a request: erased people and objections to direct marketing stay
suppressed, whichever way their identifiers are written.

The suppression list holds only HMACs of normalised identifiers (DESIGN §5), so the
gate (:func:`ombud.gate.check`) must normalise what it is asked about the same way:
a personnummer with a dash or without the century, a phone number in the national
form, an address in capitals, an IPv4 address written as IPv6 all name the same person.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import phonenumbers
import pytest
from demo_systems import KEYS, NOW, Demo, build_once, copy_demo, everywhere

from ombud import gate, store
from ombud.gate import Decision, Reason
from ombud.register import Register
from ombud.register.model import LegalBasis
from ombud.rights.models import RequestState

#: Ways the person's identifiers are written elsewhere than in the request.
FORMS = [
    "email in capitals",
    "personnummer without century, with a dash",
    "personnummer with century and a dash",
    "phone in the national form",
    "phone in the international form with spaces",
    "ip as IPv4-mapped IPv6",
]


def written(person: Mapping[str, Any], form: str) -> dict[str, str]:
    """The subject for the gate: one identifier of ``person``, written as ``form`` says."""
    number = person["personal_number"]  # 12 digits: YYYYMMDDNNNC
    phone = phonenumbers.parse(person["phone"])
    subjects = {
        "email in capitals": {"email": person["email"].upper()},
        "personnummer without century, with a dash": {
            "personnummer": f"{number[2:8]}-{number[8:]}"
        },
        "personnummer with century and a dash": {"personnummer": f"{number[:8]}-{number[8:]}"},
        "phone in the national form": {
            "phone": phonenumbers.format_number(phone, phonenumbers.PhoneNumberFormat.NATIONAL)
        },
        "phone in the international form with spaces": {
            "phone": phonenumbers.format_number(phone, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        },
        "ip as IPv4-mapped IPv6": {"ip": f"::ffff:{person['ip']}"},
    }
    canonical = {
        "email": person["email"],
        "personnummer": number,
        "phone": person["phone"],
        "ip": person["ip"],
    }
    ((kind, value),) = subjects[form].items()
    assert value != canonical[kind]  # really another form than the request's
    return {kind: value}


@dataclass
class Gate:
    """A demo after a request, and the gate over its store."""

    demo: Demo
    register: Register

    def check(self, subjects: list[dict[str, str]]) -> list[Decision]:
        """Every activity of the register for each subject."""
        with store.transaction(self.demo.engine) as session:
            return gate.check(
                session,
                KEYS,
                self.register,
                activities=[a.id for a in self.register.activities],
                subjects=subjects,
                now=NOW,
            )

    def refused(self, subject: dict[str, str], reason: Reason) -> set[str]:
        """The activities refused to ``subject`` for ``reason``."""
        return {d.activity for d in self.check([subject]) if reason in d.reasons}

    @property
    def consent_based(self) -> set[str]:
        return {a.id for a in self.register.activities if a.legal_basis is LegalBasis.CONSENT}


def _demo(factory: pytest.TempPathFactory, name: str) -> Demo:
    directory = factory.mktemp(name)
    return copy_demo(build_once(factory), directory / "demo", f"sqlite:///{directory / 'o.db'}")


@pytest.fixture(scope="module")
def erased(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gate]:
    """The demo after the person in every system asked for erasure (by e-mail, personnummer,
    phone, visitor id and IP, each in its canonical form).
    """
    demo = _demo(tmp_path_factory, "erased")
    checked = Gate(demo, demo.register)
    person = demo.person("everywhere")
    assert not checked.refused(written(person, "email in capitals"), Reason.SUPPRESSED)
    request = demo.run(demo.request("erasure", everywhere(demo, phone=True)))
    # The suppression list is written at once; the manual tasks can take their time.
    assert request.state == RequestState.AWAITING
    yield checked
    demo.engine.dispose()


@pytest.fixture(scope="module")
def objected(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gate]:
    """The demo after the person objected to direct marketing, giving e-mail and phone."""
    demo = _demo(tmp_path_factory, "objected")
    person = demo.person("everywhere")
    request = demo.run(
        demo.request("objection", [("email", person["email"]), ("phone", person["phone"])])
    )
    # An objection naming no activity is to direct marketing: absolute, nothing to decide.
    assert request.state == RequestState.COMPLETED
    yield Gate(demo, demo.register)
    demo.engine.dispose()


@pytest.mark.parametrize("form", FORMS)
def test_an_erased_person_is_suppressed_for_every_activity(erased: Gate, form: str) -> None:
    subject = written(erased.demo.person("everywhere"), form)
    decisions = erased.check([subject])
    assert {d.activity for d in decisions} == {a.id for a in erased.register.activities}
    refused = {d.activity for d in decisions if not d.allowed and Reason.SUPPRESSED in d.reasons}
    assert refused == {a.id for a in erased.register.activities}


def test_other_people_are_not_suppressed_by_an_erasure(erased: Gate) -> None:
    other = erased.demo.person("coordination_number")
    decisions = erased.check(
        [{"personnummer": other["personal_number"]}, {"email": "someone.else@example.org"}]
    )
    assert not [d for d in decisions if Reason.SUPPRESSED in d.reasons]
    assert {d.activity for d in decisions if d.allowed} == (
        {a.id for a in erased.register.activities} - erased.consent_based
    )


@pytest.mark.parametrize(
    "form",
    [
        "email in capitals",
        "phone in the national form",
        "phone in the international form with spaces",
    ],
)
def test_an_objection_to_direct_marketing_stops_it_and_only_it(objected: Gate, form: str) -> None:
    scope = gate.direct_marketing_scope(objected.register)
    assert {"direct-marketing", "telemarketing", "marketing-profiling"} <= scope
    subject = written(objected.demo.person("everywhere"), form)
    decisions = {d.activity: d for d in objected.check([subject])}
    assert {a for a, d in decisions.items() if Reason.SUPPRESSED in d.reasons} == scope
    assert not any(decisions[a].allowed for a in scope)
    for activity, decision in decisions.items():
        if activity in scope:
            continue
        # Everything else goes on; consent-based activities wait for consent, as for anyone.
        expected = (Reason.NO_CONSENT,) if activity in objected.consent_based else ()
        assert decision.reasons == expected, activity
        assert decision.allowed is (not expected)


def test_an_objection_holds_the_identifiers_given_and_no_others(objected: Gate) -> None:
    person = objected.demo.person("everywhere")
    # The person gave no personnummer: the list holds HMACs only, it cannot know it.
    by_number = {"personnummer": person["personal_number"]}
    assert not objected.refused(by_number, Reason.SUPPRESSED)
    # Named together with an identifier that is on the list, the person is suppressed.
    both = {**by_number, **written(person, "phone in the national form")}
    assert objected.refused(both, Reason.SUPPRESSED) == gate.direct_marketing_scope(
        objected.register
    )
