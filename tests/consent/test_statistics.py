"""The banner's consent rates per day and category, with the GPC and reject-all shares."""

from __future__ import annotations

import datetime as dt

import pytest
from consent_ledger import NOW, Ledger, visitor

from ombud import consent, store

DAY_1 = NOW
DAY_2 = NOW + dt.timedelta(days=1)


def test_statistics_per_day_and_category(ledger: Ledger) -> None:
    # Day 1: four people. One accepts all, one rejects all, one takes statistics only,
    # and one accepts all with GPC on (marketing refused whatever was sent).
    ledger.choose(visitor(), {"statistics": True, "marketing": True}, at=DAY_1)
    ledger.choose(visitor(), {"statistics": False, "marketing": False}, at=DAY_1)
    ledger.choose(visitor(), {"statistics": True, "marketing": False}, at=DAY_1)
    ledger.choose(visitor(), {"statistics": True, "marketing": True}, gpc=True, at=DAY_1)
    # Day 2: someone who accepted all withdraws marketing in the settings; a GPC user
    # rejects all.
    anna = visitor()
    ledger.choose(anna, {"statistics": True, "marketing": True}, at=DAY_2)
    ledger.choose(anna, {"marketing": False}, method="banner_settings", at=DAY_2)
    ledger.choose(visitor(), {"statistics": False, "marketing": False}, gpc=True, at=DAY_2)
    # A form's consent has no category: not counted.
    with store.transaction(ledger.engine) as session:
        consent.record_choice(
            session,
            keys=ledger.keys,
            register=ledger.register,
            register_version=ledger.version,
            subject=("email", "anna@example.se"),
            choices={"newsletter": True},
            method="form",
            language="sv",
            text=consent.form_text(ledger.register, "newsletter", "sv"),
            now=DAY_1,
        )

    # A sweep of the consents lapsed a year later is nobody's answer: not counted.
    sweep = DAY_2 + dt.timedelta(days=400)
    with store.transaction(ledger.engine) as session:
        assert consent.record_expired(session, now=sweep) > 0
    with store.transaction(ledger.engine) as session:
        assert consent.statistics(session, since=sweep.date(), until=sweep.date()) == []
        rows = consent.statistics(session, since=DAY_1.date(), until=DAY_2.date())
    assert rows == [
        {
            "day": "2026-03-02",
            "category": "marketing",
            "shown": 4,
            "given": 1,
            "refused": 3,
            "withdrawn": 0,
            "gpc_share": 0.25,
            "reject_all_share": 0.25,
        },
        {
            "day": "2026-03-02",
            "category": "statistics",
            "shown": 4,
            "given": 3,
            "refused": 1,
            "withdrawn": 0,
            "gpc_share": 0.25,
            "reject_all_share": 0.25,
        },
        {
            "day": "2026-03-03",
            "category": "marketing",
            "shown": 3,
            "given": 1,
            "refused": 1,
            "withdrawn": 1,
            "gpc_share": 0.3333,
            "reject_all_share": 0.6667,
        },
        {
            "day": "2026-03-03",
            "category": "statistics",
            "shown": 2,
            "given": 1,
            "refused": 1,
            "withdrawn": 0,
            "gpc_share": 0.5,
            "reject_all_share": 0.5,
        },
    ]


def test_the_days_are_utc_days_and_the_period_includes_both_ends(ledger: Ledger) -> None:
    late = dt.datetime(2026, 3, 2, 23, 59, 59, tzinfo=dt.UTC)
    early = dt.datetime(2026, 3, 3, 0, 0, 0, tzinfo=dt.UTC)
    ledger.choose(visitor(), {"statistics": True, "marketing": True}, at=late)
    ledger.choose(visitor(), {"statistics": True, "marketing": True}, at=early)
    with store.transaction(ledger.engine) as session:
        first = consent.statistics(session, since=late.date(), until=late.date())
        both = consent.statistics(session, since=late.date(), until=early.date())
    assert {r["day"] for r in first} == {"2026-03-02"}
    assert {(r["day"], r["shown"]) for r in both} == {("2026-03-02", 1), ("2026-03-03", 1)}


@pytest.mark.parametrize(
    ("since", "until"),
    [(dt.date(2026, 3, 2), dt.date(2026, 3, 1)), (dt.date(2024, 1, 1), dt.date(2026, 1, 1))],
)
def test_an_unusable_period_is_refused(ledger: Ledger, since: dt.date, until: dt.date) -> None:
    with (
        store.transaction(ledger.engine) as session,
        pytest.raises(ValueError, match=r"day|period"),
    ):
        consent.statistics(session, since=since, until=until)
