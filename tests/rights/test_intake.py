import datetime as dt

import pytest
from sqlalchemy import Engine, func, select

from ombud import audit, store
from ombud.audit import AuditEntry
from ombud.register.model import Register
from ombud.rights.errors import InvalidRequestError, RequestStateError
from ombud.rights.intake import (
    NewRequest,
    count_requests,
    create_request,
    get_request,
    list_requests,
    plaintext_identifiers,
)
from ombud.rights.models import (
    Channel,
    DataRequest,
    RequestIdentifier,
    RequestState,
    RequestType,
)
from ombud.rights.states import OPEN_STATES, move
from ombud.store.crypto import Keys

NOW = dt.datetime(2025, 11, 6, 9, 30, tzinfo=dt.UTC)


def _create(
    engine: Engine, almi: Register, keys: Keys, new: NewRequest, *, now: dt.datetime = NOW
) -> DataRequest:
    with store.transaction(engine) as session:
        return create_request(
            session,
            new,
            register=almi,
            register_version="a" * 64,
            keys=keys,
            actor="user:1",
            now=now,
        )


def test_request_is_stored_with_deadline_and_no_plaintext(
    engine: Engine, almi: Register, keys: Keys
) -> None:
    new = NewRequest(
        type="access",
        identifiers=[
            ("email", " Anna.Svensson@Example.SE "),
            ("personnummer", "811218-9876"),
            ("phone", "070-123 45 67"),
        ],
        channel=Channel.PORTAL,
        language="en",
        details="Jag vill veta vad ni har om mig, ring 070-123 45 67",
    )
    request = _create(engine, almi, keys, new)
    assert request.id.startswith("R")
    assert request.state == RequestState.RECEIVED
    # Received 2025-11-06: a month later is Saturday 2025-12-06, so Monday the 8th.
    assert request.due_on == dt.date(2025, 12, 8)
    assert request.controller_id == "almi-ab"

    with store.transaction(engine) as session:
        stored = get_request(session, request.id.lower())
        assert sorted(plaintext_identifiers(stored, keys)) == [
            ("email", "anna.svensson@example.se"),
            ("personnummer", "198112189876"),
            ("phone", "+46701234567"),
        ]
        assert stored.details is not None
        assert keys.decrypt(stored.details, context=stored.id).startswith("Jag vill")
        raw = session.execute(select(RequestIdentifier.ciphertext, RequestIdentifier.digest))
        dump = b"".join(c or b"" for c, _ in raw) + str(list(raw)).encode()
        for plain in (b"anna", b"198112189876", b"701234567"):
            assert plain not in dump
        assert b"ring" not in stored.details
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
        assert entry is not None
        assert (entry.action, entry.object_id, entry.counts) == (
            "request.received",
            f"request:{request.id}",
            {"identifiers": 3},
        )
        assert audit.verify(session).ok


def test_handler_verified_request_starts_verified(
    engine: Engine, almi: Register, keys: Keys
) -> None:
    request = _create(
        engine,
        almi,
        keys,
        NewRequest(
            type="erasure",
            identifiers=[("phone", "+46 70 123 45 67")],
            channel=Channel.HANDLER,
            verified_note="Called back on the number in the CRM",
        ),
    )
    assert request.state == RequestState.VERIFIED
    assert request.verification == "handler"
    with store.transaction(engine) as session:
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)).all()
    assert actions[-2:] == ["request.received", "request.verified"]


def test_objection_without_activities_means_direct_marketing(
    engine: Engine, almi: Register, keys: Keys
) -> None:
    request = _create(
        engine,
        almi,
        keys,
        NewRequest(
            type="objection",
            identifiers=[("email", "a@example.se")],
            channel=Channel.API,
        ),
    )
    marketing = {a.id for a in almi.activities if a.direct_marketing}
    assert set(request.activities or []) == marketing
    assert {"direct-marketing", "telemarketing", "marketing-profiling"} <= marketing


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"type": "forget-me"}, "unknown request type 'forget-me'"),
        ({"identifiers": []}, "give at least one identifier"),
        ({"identifiers": [("shoe_size", "42")]}, "unknown identifier type 'shoe_size'"),
        ({"identifiers": [("personnummer", "19810231-1234")]}, "personnummer"),
        ({"identifiers": [("email", "not-an-address")]}, "not a valid email"),
        ({"language": "fi"}, "language 'fi'"),
        ({"controller_id": "almi-nowhere"}, "unknown controller 'almi-nowhere'"),
        ({"activities": ["space-travel"]}, "unknown activity 'space-travel'"),
        ({"details": "x" * 10_001}, "keep it under 10000"),
    ],
)
def test_bad_input_is_refused_and_nothing_stored(
    engine: Engine, almi: Register, keys: Keys, change: dict[str, object], message: str
) -> None:
    fields: dict[str, object] = {
        "type": "access",
        "identifiers": [("email", "a@example.se")],
        "channel": Channel.PORTAL,
    }
    fields.update(change)
    with pytest.raises(InvalidRequestError, match=message):
        _create(engine, almi, keys, NewRequest(**fields))  # type: ignore[arg-type]
    with store.transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(DataRequest)) == 0
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_state_machine_refuses_impossible_moves(engine: Engine, almi: Register, keys: Keys) -> None:
    request = _create(
        engine,
        almi,
        keys,
        NewRequest(
            type="access",
            identifiers=[("email", "a@example.se")],
            channel=Channel.PORTAL,
        ),
    )
    with store.transaction(engine) as session:
        stored = get_request(session, request.id)
        with pytest.raises(RequestStateError, match="received and cannot become completed"):
            move(session, stored, RequestState.COMPLETED, actor="user:1", now=NOW)
        move(session, stored, RequestState.WITHDRAWN, actor="subject", now=NOW)
        assert stored.closed_at == NOW
    with store.transaction(engine) as session:
        assert list_requests(session, open_only=True) == []
        assert [r.id for r in list_requests(session)] == [request.id]


# --- listing: filters and pages in SQL --------------------------------------------------------

TODAY = dt.date(2025, 11, 6)  # NOW's date in Sweden, a Thursday

#: name: (type, controller, day received at 09:30 UTC); the due dates, a month on, follow.
LISTED: dict[str, tuple[str, str, dt.date]] = {
    # due Wed 1 Oct; withdrawn, so never overdue
    "d": ("erasure", "almi-ab", dt.date(2025, 9, 1)),
    # due Wed 15 Oct: overdue
    "a": ("access", "almi-ab", dt.date(2025, 9, 15)),
    # due Wed 22 Oct, but extended to 22 Dec: not overdue
    "b": ("erasure", "almi-vast", dt.date(2025, 9, 22)),
    # due Wed 5 Nov, yesterday: overdue by a day
    "f": ("portability", "almi-invest", dt.date(2025, 10, 5)),
    # due Thu 6 Nov, today: still in time
    "e": ("restriction", "almi-vast", dt.date(2025, 10, 6)),
    # due Mon 8 Dec (6 Dec is a Saturday)
    "c": ("access", "almi-invest", dt.date(2025, 11, 6)),
}


@pytest.fixture
def listed(engine: Engine, almi: Register, keys: Keys) -> dict[str, str]:
    """The requests of LISTED in the database: name -> request id."""
    ids: dict[str, str] = {}
    for name, (kind, controller, day) in LISTED.items():
        received = dt.datetime.combine(day, dt.time(9, 30), tzinfo=dt.UTC)
        new = NewRequest(
            type=kind,
            identifiers=[("email", f"{name}@example.se")],
            channel=Channel.PORTAL,
            controller_id=controller,
        )
        ids[name] = _create(engine, almi, keys, new, now=received).id
    with store.transaction(engine) as session:
        move(session, get_request(session, ids["d"]), RequestState.WITHDRAWN, actor="x", now=NOW)
        get_request(session, ids["b"]).extended_due_on = dt.date(2025, 12, 22)
    return ids


S, T = RequestState, RequestType

#: (filters, the requests listed in order: by due date, b by its extended one). Every one
#: also checks count_requests.
LISTINGS: list[tuple[dict[str, object], str]] = [
    ({}, "dafecb"),
    ({"open_only": True}, "afecb"),
    ({"states": OPEN_STATES}, "afecb"),
    ({"states": [S.WITHDRAWN]}, "d"),
    ({"states": [S.COMPLETED, S.REFUSED]}, ""),
    ({"states": []}, ""),
    ({"types": [T.ERASURE]}, "db"),
    ({"types": [T.ACCESS, T.RESTRICTION]}, "aec"),
    ({"overdue_on": TODAY}, "af"),
    ({"overdue_on": TODAY + dt.timedelta(days=1)}, "afe"),
    ({"overdue_on": dt.date(2025, 10, 15)}, ""),
    # due within a week: today counts, yesterday does not; b by its extended date
    ({"open_only": True, "due_between": (TODAY, TODAY + dt.timedelta(days=7))}, "e"),
    ({"due_between": (dt.date(2025, 11, 5), dt.date(2025, 12, 8))}, "fec"),
    ({"due_between": (dt.date(2025, 12, 9), dt.date(2025, 12, 22))}, "b"),
    ({"due_between": (dt.date(2025, 10, 22), dt.date(2025, 10, 22))}, ""),
    ({"controller_ids": ["almi-vast"]}, "eb"),
    ({"controller_ids": ["almi-vast", "almi-invest"], "overdue_on": TODAY}, "f"),
    ({"controller_ids": []}, ""),
    ({"types": [T.ERASURE], "open_only": True}, "b"),
    ({"types": [T.ERASURE], "states": OPEN_STATES, "controller_ids": ["almi-ab"]}, ""),
]


@pytest.mark.parametrize(("filters", "expected"), LISTINGS)
def test_list_requests_filters_in_the_database(
    engine: Engine, listed: dict[str, str], filters: dict[str, object], expected: str
) -> None:
    with store.transaction(engine) as session:
        found = [r.id for r in list_requests(session, **filters)]
        counted = count_requests(session, **filters)
    assert found == [listed[name] for name in expected]
    assert counted == len(expected)


@pytest.mark.parametrize(
    ("limit", "offset", "expected"),
    [(2, 0, "da"), (2, 2, "fe"), (2, 4, "cb"), (10, 4, "cb"), (2, 6, ""), (None, 3, "ecb")],
)
def test_list_requests_pages(
    engine: Engine, listed: dict[str, str], limit: int | None, offset: int, expected: str
) -> None:
    with store.transaction(engine) as session:
        found = [r.id for r in list_requests(session, limit=limit, offset=offset)]
        # Counting ignores the page: it is what the pages add up to.
        assert count_requests(session) == len(LISTED)
    assert found == [listed[name] for name in expected]


def test_requests_received_at_the_same_moment_page_in_a_stable_order(
    engine: Engine, almi: Register, keys: Keys
) -> None:
    new = NewRequest(type="access", identifiers=[("email", "a@example.se")], channel=Channel.API)
    ids = sorted(_create(engine, almi, keys, new).id for _ in range(5))
    with store.transaction(engine) as session:
        pages = [[r.id for r in list_requests(session, limit=2, offset=o)] for o in (0, 2, 4)]
    assert [i for page in pages for i in page] == ids
