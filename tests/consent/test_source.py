"""The ledger answers the processing gate: given, withdrawn, lapsed, several identifiers."""

from __future__ import annotations

import datetime as dt

from consent_ledger import NOW, Ledger, visitor

from ombud import consent, gate, store
from ombud.consent import LEDGER


def decide(ledger: Ledger, subject: dict[str, str], *, at: dt.datetime = NOW) -> tuple[str, ...]:
    with store.transaction(ledger.engine) as session:
        (decision,) = gate.check(
            session,
            ledger.keys,
            ledger.register,
            activities=["marketing-profiling"],
            subjects=[subject],
            now=at,
            consent=LEDGER,
        )
    return tuple(r.value for r in decision.reasons)


def test_the_gate_follows_the_ledger_for_a_visitor(ledger: Ledger) -> None:
    anna = visitor()
    assert decide(ledger, {"visitor_id": anna}) == ("no_consent",)
    ledger.choose(anna, {"statistics": True, "marketing": True})
    assert decide(ledger, {"visitor_id": anna}) == ()
    ledger.choose(anna, {"statistics": True, "marketing": False}, at=NOW + dt.timedelta(hours=1))
    assert decide(ledger, {"visitor_id": anna}, at=NOW + dt.timedelta(hours=2)) == ("withdrawn",)


def test_a_lapsed_consent_is_no_consent(ledger: Ledger) -> None:
    anna = visitor()
    ledger.choose(anna, {"statistics": True, "marketing": True})
    assert decide(ledger, {"visitor_id": anna}, at=NOW + dt.timedelta(days=366)) == ("no_consent",)


def test_with_several_identifiers_the_latest_wins_and_a_tie_errs_to_refusal(
    ledger: Ledger,
) -> None:
    anna = visitor()
    email = ledger.keys.identifier("email", "anna@example.se")
    visitor_digest = ledger.digest(anna)

    def record(subject: tuple[str, str], *, answer: bool, at: dt.datetime) -> None:
        with store.transaction(ledger.engine) as session:
            consent.record_choice(
                session,
                keys=ledger.keys,
                register=ledger.register,
                register_version=ledger.version,
                subject=subject,
                choices={"marketing": answer},
                method="api",
                language="sv",
                text_digest=ledger.texts["sv"],
                now=at,
            )

    def state(at: dt.datetime) -> str:
        with store.transaction(ledger.engine) as session:
            loaded = LEDGER.load(session, {visitor_digest, email}, {"marketing"}, now=at)
        return loaded.state({visitor_digest, email}, "marketing")

    record(("visitor_id", anna), answer=True, at=NOW)
    record(("email", "anna@example.se"), answer=True, at=NOW + dt.timedelta(hours=1))
    assert state(NOW + dt.timedelta(hours=2)) == "given"
    # Withdrawn under the e-mail address after the visitor id's consent: withdrawn.
    record(("email", "anna@example.se"), answer=False, at=NOW + dt.timedelta(hours=3))
    assert state(NOW + dt.timedelta(hours=4)) == "withdrawn"
    # Given again by the visitor later: given.
    record(("visitor_id", anna), answer=True, at=NOW + dt.timedelta(hours=5))
    assert state(NOW + dt.timedelta(hours=6)) == "given"
    # Same moment, one yes and one no (a refusal: nothing was given under the address).
    tie = NOW + dt.timedelta(hours=7)
    record(("visitor_id", anna), answer=True, at=tie)
    record(("email", "anna@example.se"), answer=False, at=tie)
    assert state(tie) == "refused"


def test_one_query_answers_a_batch(ledger: Ledger) -> None:
    people = [visitor() for _ in range(5)]
    for index, person in enumerate(people):
        ledger.choose(person, {"statistics": True, "marketing": index % 2 == 0})
    digests = {ledger.digest(p) for p in people}
    with store.transaction(ledger.engine) as session:
        loaded = LEDGER.load(session, digests, {"marketing"}, now=NOW)
    answers = [loaded.state({ledger.digest(p)}, "marketing") for p in people]
    assert answers == ["given", "refused", "given", "refused", "given"]
    assert loaded.state({"0" * 64}, "marketing") == "none"
