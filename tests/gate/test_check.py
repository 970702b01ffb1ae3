"""The processing gate decides from the suppression list, restrictions and consent."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Set
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from ombud import store
from ombud.discovery import normalise
from ombud.gate import (
    MAX_SUBJECTS,
    BatchTooLargeError,
    ConsentState,
    ConsentValue,
    Decision,
    InvalidSubjectError,
    UnknownActivityError,
    check,
    direct_marketing_scope,
)
from ombud.register.model import Connector, LegalBasis, Register, System
from ombud.rights.models import Restriction, Suppression
from ombud.store.crypto import Keys

NOW = dt.datetime(2026, 11, 28, 10, 0, tzinfo=dt.UTC)
ANNA = {"email": "anna@example.se"}
BERIT = {"email": "berit@example.se", "phone": "070-123 45 67"}
MARKETING = ["direct-marketing", "telemarketing", "marketing-profiling"]
EVERY_LEGITIMATE_INTEREST = [
    "customer-satisfaction",
    "customer-service",
    "statistics",
    "direct-marketing",
    "meeting-booking",
    "telemarketing",
]


def digest(keys: Keys, kind: str, value: str) -> str:
    return keys.identifier(kind, normalise(kind, value, today=NOW.date()))


def suppress(
    engine: Engine, keys: Keys, kind: str, value: str, *, reason: str, activity: str = ""
) -> None:
    with store.transaction(engine) as session:
        session.add(
            Suppression(
                digest=digest(keys, kind, value),
                kind=kind,
                reason=reason,
                activity=activity,
                created_at=NOW - dt.timedelta(days=3),
            )
        )


def restrict(
    engine: Engine,
    keys: Keys,
    kind: str,
    value: str,
    *,
    reason: str,
    activity: str = "",
    lifted_at: dt.datetime | None = None,
) -> None:
    with store.transaction(engine) as session:
        session.add(
            Restriction(
                digest=digest(keys, kind, value),
                reason=reason,
                activity=activity,
                created_at=NOW - dt.timedelta(days=3),
                lifted_at=lifted_at,
            )
        )


def decide(
    engine: Engine,
    keys: Keys,
    register: Register,
    activities: list[str],
    subjects: list[dict[str, str]],
    **kwargs: Any,
) -> list[Decision]:
    with store.transaction(engine) as session:
        return check(
            session, keys, register, activities=activities, subjects=subjects, now=NOW, **kwargs
        )


def refused(decisions: list[Decision], subject: int = 0) -> dict[str, tuple[str, ...]]:
    """activity -> reasons, for the refused activities of one subject."""
    return {d.activity: d.reasons for d in decisions if d.subject == subject and not d.allowed}


def test_nobody_on_any_list_is_allowed_every_legitimate_interest_activity(
    engine: Engine, keys: Keys, almi: Register
) -> None:
    decisions = decide(engine, keys, almi, EVERY_LEGITIMATE_INTEREST, [ANNA, BERIT])
    assert len(decisions) == 12
    assert all(d.allowed and d.reasons == () for d in decisions)
    # By subject, then the activities in the order asked.
    assert [(d.subject, d.activity) for d in decisions[:3]] == [
        (0, "customer-satisfaction"),
        (0, "customer-service"),
        (0, "statistics"),
    ]
    assert decisions[6].subject == 1


@pytest.mark.parametrize(
    "objected_to",
    ["", "direct-marketing", "telemarketing"],
    ids=["all-direct-marketing", "direct-marketing", "telemarketing-only"],
)
def test_an_objection_to_direct_marketing_stops_all_of_it_and_its_profiling(
    engine: Engine, keys: Keys, almi: Register, objected_to: str
) -> None:
    # Art. 21(2)-(3): absolute, and it includes the profiling related to direct marketing.
    suppress(engine, keys, "email", ANNA["email"], reason="objection", activity=objected_to)
    activities = [*MARKETING, "customer-satisfaction", "customer-service"]
    decisions = decide(engine, keys, almi, activities, [ANNA, BERIT])
    anna = refused(decisions)
    assert set(anna) == set(MARKETING)
    assert anna["direct-marketing"] == ("suppressed",)
    assert anna["telemarketing"] == ("suppressed",)
    # Marketing profiling rests on consent too, which nobody has given yet.
    assert anna["marketing-profiling"] == ("suppressed", "no_consent")
    assert refused(decisions, 1) == {"marketing-profiling": ("no_consent",)}


def test_an_upheld_objection_to_one_activity_stops_only_that_one(
    engine: Engine, keys: Keys, almi: Register
) -> None:
    # Art. 21(1): the DPO upheld an objection to customer satisfaction surveys.
    suppress(
        engine, keys, "email", ANNA["email"], reason="objection", activity="customer-satisfaction"
    )
    decisions = decide(engine, keys, almi, EVERY_LEGITIMATE_INTEREST, [ANNA])
    assert refused(decisions) == {"customer-satisfaction": ("suppressed",)}


def test_an_erased_person_is_not_processed_again(
    engine: Engine, keys: Keys, almi: Register
) -> None:
    suppress(engine, keys, "email", ANNA["email"], reason="erasure")
    decisions = decide(engine, keys, almi, EVERY_LEGITIMATE_INTEREST, [ANNA, BERIT])
    assert set(refused(decisions)) == set(EVERY_LEGITIMATE_INTEREST)
    assert set(refused(decisions)["statistics"]) == {"suppressed"}
    assert refused(decisions, 1) == {}


def test_an_objection_being_decided_holds_its_activity(
    engine: Engine, keys: Keys, almi: Register
) -> None:
    restrict(
        engine,
        keys,
        "email",
        ANNA["email"],
        reason="objection_pending",
        activity="customer-service",
    )
    decisions = decide(engine, keys, almi, EVERY_LEGITIMATE_INTEREST, [ANNA])
    assert refused(decisions) == {"customer-service": ("objected",)}


def test_an_objection_pending_for_all_processing_holds_everything(
    engine: Engine, keys: Keys, almi: Register
) -> None:
    restrict(engine, keys, "email", ANNA["email"], reason="objection_pending")
    decisions = decide(engine, keys, almi, EVERY_LEGITIMATE_INTEREST, [ANNA])
    assert set(refused(decisions)) == set(EVERY_LEGITIMATE_INTEREST)


def test_a_restriction_refuses_every_activity(engine: Engine, keys: Keys, almi: Register) -> None:
    # Art. 18(2): while restricted, only storage.
    restrict(engine, keys, "email", ANNA["email"], reason="restriction")
    everything = [a.id for a in almi.activities]
    decisions = decide(engine, keys, almi, everything, [ANNA, BERIT])
    anna = refused(decisions)
    assert set(anna) == set(everything)
    assert all("restricted" in reasons for reasons in anna.values())
    assert all(
        d.allowed for d in decisions if d.subject == 1 and d.activity in EVERY_LEGITIMATE_INTEREST
    )


@pytest.mark.parametrize(
    ("lifted", "still_restricted"),
    [(NOW - dt.timedelta(hours=1), False), (NOW + dt.timedelta(days=1), True)],
    ids=["lifted", "lifting-tomorrow"],
)
def test_a_lifted_restriction_no_longer_refuses(
    engine: Engine, keys: Keys, almi: Register, lifted: dt.datetime, still_restricted: bool
) -> None:
    restrict(engine, keys, "email", ANNA["email"], reason="restriction", lifted_at=lifted)
    decisions = decide(engine, keys, almi, EVERY_LEGITIMATE_INTEREST, [ANNA])
    assert bool(refused(decisions)) is still_restricted


def test_a_restriction_of_one_activity_refuses_only_that_one(
    engine: Engine, keys: Keys, almi: Register
) -> None:
    restrict(engine, keys, "email", ANNA["email"], reason="restriction", activity="statistics")
    decisions = decide(engine, keys, almi, EVERY_LEGITIMATE_INTEREST, [ANNA])
    assert refused(decisions) == {"statistics": ("restricted",)}


def test_a_protected_identity_is_never_in_marketing_selections(
    engine: Engine, keys: Keys, almi: Register
) -> None:
    restrict(engine, keys, "personnummer", "811218-9876", reason="protected_identity")
    subject = {"personnummer": "19811218-9876"}
    decisions = decide(
        engine, keys, almi, [*EVERY_LEGITIMATE_INTEREST, "marketing-profiling"], [subject]
    )
    assert refused(decisions) == {
        "direct-marketing": ("protected_identity",),
        "telemarketing": ("protected_identity",),
        "marketing-profiling": ("protected_identity", "no_consent"),
    }


def test_legal_hold_rows_do_not_refuse_processing(
    engine: Engine, keys: Keys, almi: Register
) -> None:
    # A legal hold keeps records instead of erasing them; it says nothing about the person.
    restrict(engine, keys, "email", ANNA["email"], reason="legal_hold", activity="customer-service")
    assert refused(decide(engine, keys, almi, EVERY_LEGITIMATE_INTEREST, [ANNA])) == {}


class Ledger:
    """A consent ledger standing in for ombud.consent, through the gate's public seam."""

    def __init__(self, states: dict[tuple[str, str], ConsentValue]) -> None:
        self.states = states
        self.loads: list[tuple[frozenset[str], frozenset[str]]] = []

    def load(
        self,
        session: Session,  # noqa: ARG002 - the ConsentSource signature
        digests: Set[str],
        purposes: Set[str],
        *,
        now: dt.datetime,
    ) -> ConsentState:
        assert now == NOW
        self.loads.append((frozenset(digests), frozenset(purposes)))
        return self

    def state(self, digests: set[str], purpose: str) -> ConsentValue:
        found = {self.states.get((d, purpose), "none") for d in digests}
        for value in ("withdrawn", "refused", "given"):  # a withdrawal anywhere wins
            if value in found:
                return value  # type: ignore[return-value]
        return "none"


def test_consent_activities_answer_no_consent_until_the_ledger_lands(
    engine: Engine, keys: Keys, almi: Register
) -> None:
    decisions = decide(engine, keys, almi, ["newsletter", "network", "customer-service"], [ANNA])
    assert refused(decisions) == {"newsletter": ("no_consent",), "network": ("no_consent",)}


@pytest.mark.parametrize(
    ("state", "reasons"),
    [
        ("given", ()),
        ("withdrawn", ("withdrawn",)),
        ("refused", ("no_consent",)),
        ("none", ("no_consent",)),
    ],
)
def test_consent_activities_follow_the_ledger(
    engine: Engine, keys: Keys, almi: Register, state: ConsentValue, reasons: tuple[str, ...]
) -> None:
    phone = digest(keys, "phone", BERIT["phone"])
    ledger = Ledger({(phone, "newsletter"): state})
    decisions = decide(
        engine, keys, almi, ["newsletter", "customer-service"], [ANNA, BERIT], consent=ledger
    )
    assert refused(decisions, 1) == ({"newsletter": reasons} if reasons else {})
    assert refused(decisions, 0) == {"newsletter": ("no_consent",)}
    # One load for the whole batch, with every digest and only the purposes needed.
    assert len(ledger.loads) == 1
    loaded_digests, purposes = ledger.loads[0]
    assert phone in loaded_digests
    assert len(loaded_digests) == 3
    assert purposes == {"newsletter"}


def test_the_ledger_is_not_asked_when_no_activity_rests_on_consent(
    engine: Engine, keys: Keys, almi: Register
) -> None:
    ledger = Ledger({})
    decide(engine, keys, almi, ["customer-service"], [ANNA], consent=ledger)
    assert ledger.loads == []


def test_a_subject_matches_by_any_of_its_identifiers_in_any_written_form(
    engine: Engine, keys: Keys, almi: Register
) -> None:
    # The erasure was recorded under the phone number; the caller knows the person by
    # e-mail and phone, written differently.
    suppress(engine, keys, "phone", "+46701234567", reason="erasure")
    subjects = [
        {"email": "berit@example.se", "phone": "+46 (0)70-123 45 67"},
        {"email": "BERIT@example.se"},
        {"phone": "0046701234567"},
        {"customer_id": "K-1042", "email": "anna@example.se"},
    ]
    decisions = decide(engine, keys, almi, ["customer-service"], subjects)
    assert [d.allowed for d in decisions] == [False, True, False, True]


def test_an_unknown_activity_is_an_error(engine: Engine, keys: Keys, almi: Register) -> None:
    with pytest.raises(UnknownActivityError, match="'cold-calling'") as caught:
        decide(engine, keys, almi, ["customer-service", "cold-calling"], [ANNA])
    assert caught.value.activities == ["cold-calling"]


def test_malformed_identifiers_are_named_by_subject_and_field_without_the_value(
    engine: Engine, keys: Keys, almi: Register
) -> None:
    subjects = [
        ANNA,
        {"email": "anna.example.se"},
        {},
        {"personnummer": "811218-9875", "phone": "070-123 45 67"},
        {"shoe_size": "43"},
    ]
    with pytest.raises(InvalidSubjectError) as caught:
        decide(engine, keys, almi, ["customer-service"], subjects)
    problems = [(p.index, p.field) for p in caught.value.problems]
    assert problems == [(1, "email"), (2, None), (3, "personnummer"), (4, "shoe_size")]
    text = str(caught.value) + " ".join(str(p) for p in caught.value.problems)
    assert "anna.example" not in text
    assert "9875" not in text
    assert "43" not in text
    assert "check digit" in caught.value.problems[2].reason


def test_at_most_max_subjects_per_check(engine: Engine, keys: Keys, almi: Register) -> None:
    with pytest.raises(BatchTooLargeError, match="at most 10000"):
        decide(engine, keys, almi, ["customer-service"], [ANNA] * (MAX_SUBJECTS + 1))


def test_direct_marketing_scope_takes_in_related_profiling(almi: Register) -> None:
    assert direct_marketing_scope(almi) == {
        "direct-marketing",
        "telemarketing",
        "marketing-profiling",
    }
    # A profiling activity not marked direct_marketing, in the CRM with direct marketing,
    # is related to it; profiling for a contract there is not marketing.
    lead_scoring = almi.activities[0].model_copy(
        update={"id": "lead-scoring", "profiling": True, "direct_marketing": False}
    )
    credit_check = lead_scoring.model_copy(
        update={"id": "credit-check", "legal_basis": LegalBasis.CONTRACT}
    )
    crm = System(
        id="crm",
        name="CRM",
        connector=Connector.MANUAL,
        activities=["direct-marketing", "lead-scoring", "credit-check"],
    )
    changed = almi.model_copy(
        update={
            "activities": [*almi.activities, lead_scoring, credit_check],
            "systems": [*almi.systems, crm],
        }
    )
    scope = direct_marketing_scope(changed)
    assert "lead-scoring" in scope
    assert "credit-check" not in scope


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def many(count: int) -> list[dict[str, str]]:
    return [{"email": f"person{i}@example.se"} for i in range(count)]


@pytest.mark.parametrize("size", [1, 900, 2_500])
def test_one_statement_per_table_and_thousand_digests_never_per_subject(
    engine: Engine, keys: Keys, almi: Register, size: int
) -> None:
    suppress(engine, keys, "email", "person7@example.se", reason="erasure")
    with store.transaction(engine) as session, statements(engine) as seen:
        decisions = check(
            session,
            keys,
            almi,
            activities=["customer-service", "direct-marketing"],
            subjects=many(size),
            now=NOW,
        )
    reads = [s for s in seen if "suppressions" in s or "restrictions" in s]
    assert len(reads) == 2 * math.ceil(size / 1_000)
    assert len(decisions) == 2 * size
    assert (size > 7) == any(not d.allowed for d in decisions)


def test_the_largest_batch_is_answered_whole(engine: Engine, keys: Keys, almi: Register) -> None:
    # Its speed is measured in bench/gate_check.py, not asserted here (a loaded CI machine).
    subjects = [
        {"email": f"person{i}@example.se", "phone": f"070-{1_000_000 + i}"}
        if i % 2
        else {"email": f"person{i}@example.se"}
        for i in range(MAX_SUBJECTS)
    ]
    with store.transaction(engine) as session:
        for i in range(0, MAX_SUBJECTS, 10):
            session.add(
                Suppression(
                    digest=digest(keys, "email", f"person{i}@example.se"),
                    kind="email",
                    reason="objection",
                    activity="",
                    created_at=NOW,
                )
            )
    decisions = decide(
        engine, keys, almi, ["direct-marketing", "customer-service", "newsletter"], subjects
    )
    assert len(decisions) == 30_000
    assert sum(not d.allowed for d in decisions if d.activity == "direct-marketing") == 1_000


def test_a_person_suppressed_by_personnummer_is_suppressed_as_a_sole_trader_too(
    engine: Engine, keys: Keys, almi: Register
) -> None:
    # An enskild firma's organisation number is the owner's personnummer: a bought list
    # that names the firm reaches the person who objected.
    suppress(engine, keys, "personnummer", "811218-9876", reason="objection")
    firm = {"orgnr": "811218-9876"}
    legal_person = {"orgnr": "556036-0793"}
    decisions = decide(engine, keys, almi, ["telemarketing"], [firm, legal_person])
    assert refused(decisions) == {"telemarketing": ("suppressed",)}
    assert refused(decisions, 1) == {}
    # And the other way round: the firm's objection covers its owner.
    suppress(engine, keys, "orgnr", "19560101-1231", reason="objection")
    decisions = decide(engine, keys, almi, ["telemarketing"], [{"personnummer": "560101-1231"}])
    assert refused(decisions) == {"telemarketing": ("suppressed",)}
