"""The demo on SQLite: sizes, valid identifiers, the edge cases, its register, determinism."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, func, inspect, select, text

from ombud.connectors.files import LOG_COLUMNS
from ombud.demo import MANIFEST, METADATA, MIN_SIZE, SYSTEM_FILES, build_demo, resolve_sqlite_url
from ombud.demo.rows import planned_counts
from ombud.demo.schema import TABLES
from ombud.discovery import (
    Personnummer,
    find_personal_data,
    normalise_email,
    normalise_ip,
    normalise_phone,
    parse_company_id,
    parse_orgnr,
    parse_personnummer,
)
from ombud.register import load
from ombud.register.lint import lint

SIZE = 200
SEED = 1
TODAY = date(2025, 6, 30)

# remote_addr - remote_user [time_local] "request" status bytes "referer" "user agent"
COMBINED = re.compile(
    r'(?P<remote_addr>\S+) - (?P<remote_user>\S+) \[(?P<time_local>[^]]+)\] "(?P<request>[^"]*)" '
    r'(?P<status>\d{3}) (?P<body_bytes_sent>\d+) "(?P<http_referer>[^"]*)" '
    r'"(?P<http_user_agent>[^"]*)"'
)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo of SIZE persons built with SEED on TODAY, shared by the module's tests."""
    directory = tmp_path_factory.mktemp("demo")
    build_demo(directory, size=SIZE, seed=SEED, today=TODAY)
    return directory


@pytest.fixture(scope="module")
def engines(demo_dir: Path) -> Iterator[dict[str, Engine]]:
    """An engine on each system's SQLite file, by system id."""
    made = {
        system: create_engine(f"sqlite:///{demo_dir / file}")
        for system, file in SYSTEM_FILES.items()
    }
    yield made
    for engine in made.values():
        engine.dispose()


def rows(engine: Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(text(sql), params))


def column(engine: Engine, sql: str, **params: Any) -> list[Any]:
    return [row[0] for row in rows(engine, sql, **params)]


def access_lines(demo_dir: Path) -> list[re.Match[str]]:
    lines = []
    for path in sorted((demo_dir / "logs").glob("access.log*")):
        for line in path.read_text(encoding="utf-8").splitlines():
            match = COMBINED.fullmatch(line)
            assert match is not None, line
            lines.append(match)
    return lines


def events(demo_dir: Path) -> list[dict[str, Any]]:
    path = demo_dir / "logs" / "events.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --- sizes ----------------------------------------------------------------------------------


def test_tables_have_the_planned_rows(engines: dict[str, Engine]) -> None:
    planned = planned_counts(SIZE)
    found = {}
    for system, metadata in METADATA.items():
        with engines[system].connect() as connection:
            for table in metadata.sorted_tables:
                count = connection.execute(select(func.count()).select_from(table)).scalar_one()
                found[table.name] = count
    assert found["persons"] == SIZE
    assert found["cases"] == SIZE * 3 // 2
    for name, count in planned.items():
        if name == "company_contacts":  # one or two a company: about the plan
            assert 0.8 * count <= found[name] <= 1.2 * count
        else:
            assert found[name] == count, name


def test_the_manifest_counts_what_is_in_the_files(
    demo_dir: Path, engines: dict[str, Engine]
) -> None:
    manifest = json.loads((demo_dir / MANIFEST).read_text(encoding="utf-8"))
    assert (manifest["size"], manifest["seed"], manifest["today"]) == (SIZE, SEED, "2025-06-30")
    assert manifest["rows"]["cases"] == column(engines["crm"], "SELECT count(*) FROM cases")[0]
    assert len(manifest["files"]["access_log"]) == 4


def test_logs_rotate_by_day_and_scale_with_size(demo_dir: Path) -> None:
    names = sorted(p.name for p in (demo_dir / "logs").glob("access.log*"))
    assert names == [
        "access.log",
        "access.log-20250627",
        "access.log-20250628",
        "access.log-20250629",
    ]
    assert abs(len(access_lines(demo_dir)) - SIZE * 1.5) <= 4
    assert len(events(demo_dir)) == SIZE


# --- identifiers ----------------------------------------------------------------------------


def test_every_personal_number_is_valid(engines: dict[str, Engine]) -> None:
    crm = column(engines["crm"], "SELECT personal_number FROM persons")
    invoiced = column(
        engines["accounting"],
        "SELECT personal_number FROM invoices WHERE personal_number IS NOT NULL",
    )
    assert invoiced
    numbers = [n for n in crm if n is not None]
    assert 0.75 * SIZE <= len(numbers) < SIZE  # not every customer gave theirs
    parsed = [parse_personnummer(n, today=TODAY) for n in numbers + invoiced]
    assert all(p.canonical == n for p, n in zip(parsed, numbers + invoiced, strict=True))
    assert len(set(numbers)) == len(numbers)
    coordination = [p for p in parsed if p.is_coordination]
    assert 1 <= len(coordination) < len(parsed) // 5


def test_birth_date_and_gender_agree_with_the_personal_number(engines: dict[str, Engine]) -> None:
    checked = 0
    for number, birth, gender in rows(
        engines["crm"],
        "SELECT personal_number, birth_date, gender FROM persons WHERE personal_number IS NOT NULL",
    ):
        parsed = parse_personnummer(number, today=TODAY)
        assert parsed.birth_date.isoformat() == birth
        assert gender in (parsed.sex, None)
        assert 18 <= (TODAY - parsed.birth_date).days // 365 <= 86
        checked += 1
    assert checked > SIZE // 2


def test_company_ids_are_organisation_numbers_or_a_sole_traders_personnummer(
    engines: dict[str, Engine],
) -> None:
    forms = Counter()
    for orgnr, legal_form, owner in rows(
        engines["crm"], "SELECT orgnr, legal_form, owner_person_id FROM companies"
    ):
        if legal_form == "EF":
            assert isinstance(parse_company_id(orgnr, today=TODAY), Personnummer)
            assert owner is not None
        else:
            assert parse_orgnr(orgnr).canonical == orgnr
            assert orgnr[2] >= "2"
            assert owner is None
        forms[legal_form] += 1
    assert forms["EF"] >= 10
    assert forms["AB"] > forms["EF"]
    for system, table in (("accounting", "invoices"), ("telemarketing", "call_list")):
        for (orgnr,) in rows(engines[system], f"SELECT orgnr FROM {table} WHERE orgnr IS NOT NULL"):
            parse_company_id(orgnr, today=TODAY)


def test_phones_are_valid_and_written_in_several_forms(engines: dict[str, Engine]) -> None:
    phones = column(engines["crm"], "SELECT phone FROM persons WHERE phone IS NOT NULL")
    called = column(engines["telemarketing"], "SELECT phone FROM call_list")
    for phone in phones + called:
        normalise_phone(phone)
    shapes = Counter(re.sub(r"\d", "9", p) for p in phones)
    e164 = sum(n for shape, n in shapes.items() if re.fullmatch(r"\+9{10,11}", shape))
    assert e164 > len(phones) // 3  # mostly, as the CRM's import wrote them
    assert shapes["999-999 99 99"] > 0
    assert shapes["+99 99 999 99 99"] > 0
    assert len(shapes) >= 4
    assert all(re.fullmatch(r"0\d{1,2}-\d{3} \d{2} \d{2}", p) for p in called)


def test_emails_and_addresses_are_valid(engines: dict[str, Engine], demo_dir: Path) -> None:
    emails = column(engines["crm"], "SELECT email FROM persons WHERE email IS NOT NULL")
    emails += column(engines["crm"], "SELECT email FROM network_members")
    typed = column(engines["newsletter"], "SELECT email FROM newsletter_subscribers")
    for email in emails + typed:
        assert (
            normalise_email(email)
            .rsplit("@", 1)[1]
            .endswith(("example.com", "example.net", "example.org", ".example"))
        )
    assert len(set(typed)) == len(typed)
    ips = column(engines["newsletter"], "SELECT signup_ip FROM newsletter_subscribers")
    ips += [m["remote_addr"] for m in access_lines(demo_dir)]
    ips += [e["ip"] for e in events(demo_dir)]
    assert all(normalise_ip(ip) == ip for ip in ips)
    assert any(":" in ip for ip in ips)


def test_case_notes_sometimes_hold_personal_data(engines: dict[str, Engine]) -> None:
    kinds = Counter(
        match.kind
        for body in column(engines["crm"], "SELECT body FROM cases")
        for match in find_personal_data(body, today=TODAY)
    )
    assert set(kinds) == {"phone", "email", "personnummer"}
    assert sum(kinds.values()) < SIZE  # most notes hold nothing but the matter


def test_timestamps_are_in_order(engines: dict[str, Engine]) -> None:
    crm, call = engines["crm"], engines["telemarketing"]
    assert not rows(crm, "SELECT id FROM cases WHERE closed_at < opened_at")
    assert not rows(crm, "SELECT id FROM meetings WHERE starts_at < booked_at")
    assert not rows(crm, "SELECT id FROM persons WHERE last_activity_at < created_at")
    assert not rows(crm, "SELECT id FROM network_members WHERE left_at < joined_at")
    assert not rows(
        engines["newsletter"],
        "SELECT id FROM newsletter_subscribers WHERE "
        "confirmed_at < subscribed_at OR unsubscribed_at < confirmed_at",
    )
    assert not rows(
        call,
        "SELECT id FROM call_list WHERE called_at IS NOT NULL AND "
        "(nix_checked_at IS NULL OR nix_listed OR called_at < nix_checked_at)",
    )
    newest = column(crm, "SELECT max(opened_at) FROM cases")[0]
    assert datetime.fromisoformat(newest).date() <= TODAY


def test_foreign_keys_are_declared_and_hold(engines: dict[str, Engine]) -> None:
    for system, engine in engines.items():
        inspector = inspect(engine)
        for name, table in METADATA[system].tables.items():
            assert len(inspector.get_foreign_keys(name)) == len(table.foreign_key_constraints)
        assert rows(engine, "PRAGMA foreign_key_check") == []
    assert len(inspect(engines["crm"]).get_foreign_keys("cases")) == 1


# --- edge cases -----------------------------------------------------------------------------


def test_two_persons_share_an_email_address(engines: dict[str, Engine], demo_dir: Path) -> None:
    shared = json.loads((demo_dir / MANIFEST).read_text())["edge_cases"]["shared_email"]
    assert column(
        engines["crm"], "SELECT id FROM persons WHERE email = :e ORDER BY id", e=shared["email"]
    ) == [1, 2]
    emails = column(engines["crm"], "SELECT email FROM persons WHERE email IS NOT NULL")
    assert [e for e, n in Counter(emails).items() if n > 1] == [shared["email"]]


def test_one_phone_is_written_differently_in_two_systems(engines: dict[str, Engine]) -> None:
    (crm,) = column(engines["crm"], "SELECT phone FROM persons WHERE id = 3")
    listed = column(
        engines["telemarketing"], "SELECT phone FROM call_list WHERE phone = :p", p="070-174 06 05"
    )
    assert crm == "+46701740605"
    assert [normalise_phone(p) for p in listed] == [crm]


def test_a_sole_traders_orgnr_is_the_owners_personnummer(engines: dict[str, Engine]) -> None:
    (number,) = column(engines["crm"], "SELECT personal_number FROM persons WHERE id = 4")
    assert rows(
        engines["crm"], "SELECT orgnr, legal_form, owner_person_id FROM companies WHERE id = 1"
    ) == [(number, "EF", 4)]
    invoiced = column(engines["accounting"], "SELECT orgnr FROM invoices WHERE company_id = 1")
    assert invoiced
    assert {parse_company_id(o, today=TODAY).canonical for o in invoiced} == {number}
    assert all(o == f"{number[2:8]}-{number[8:]}" for o in invoiced)  # printed short


def test_protected_identities_have_no_address(engines: dict[str, Engine]) -> None:
    protected = rows(
        engines["crm"],
        "SELECT id, street_address, postal_code, city FROM persons WHERE protected_identity",
    )
    assert 5 in [p[0] for p in protected]
    assert 1 <= len(protected) <= SIZE // 10
    assert all(p[1:] == (None, None, None) for p in protected)
    # never on a call list: the public registers do not disclose them
    phones = column(
        engines["crm"], "SELECT phone FROM persons WHERE protected_identity AND phone IS NOT NULL"
    )
    listed = {
        normalise_phone(p) for p in column(engines["telemarketing"], "SELECT phone FROM call_list")
    }
    assert phones
    assert not {normalise_phone(p) for p in phones} & listed


def test_referrals_form_one_cycle(engines: dict[str, Engine]) -> None:
    referrals = dict(
        rows(
            engines["crm"],
            "SELECT id, referred_by_person_id FROM persons WHERE referred_by_person_id IS NOT NULL",
        )
    )
    assert referrals[6] == 7
    assert referrals[7] == 6
    assert all(referrer < person for person, referrer in referrals.items() if person != 6)


def test_an_ip_address_only_in_the_access_logs(engines: dict[str, Engine], demo_dir: Path) -> None:
    ip = "203.0.113.7"
    assert sum(m["remote_addr"] == ip for m in access_lines(demo_dir)) >= 2
    assert all(e["ip"] != ip for e in events(demo_dir))
    assert not column(
        engines["newsletter"], "SELECT id FROM newsletter_subscribers WHERE signup_ip = :ip", ip=ip
    )


def test_one_person_is_in_every_system(engines: dict[str, Engine], demo_dir: Path) -> None:
    person = json.loads((demo_dir / MANIFEST).read_text())["edge_cases"]["everywhere"]
    assert person["person_id"] == 9
    crm = engines["crm"]
    (email, number) = rows(crm, "SELECT email, personal_number FROM persons WHERE id = 9")[0]
    assert (email, number) == (person["email"], person["personal_number"])
    for table in ("cases", "meetings", "network_members", "company_contacts"):
        if table != "company_contacts":
            assert column(crm, f"SELECT count(*) FROM {table} WHERE person_id = 9")[0] >= 1, table
    assert (
        column(
            crm, "SELECT visitor_id FROM meetings WHERE person_id = 9 AND visitor_id IS NOT NULL"
        )[0]
        == person["visitor_id"]
    )
    assert rows(
        engines["newsletter"],
        "SELECT visitor_id, signup_ip FROM newsletter_subscribers WHERE email = :e",
        e=email,
    ) == [(person["visitor_id"], person["ip"])]
    assert column(engines["survey"], "SELECT count(*) FROM survey_answers WHERE person_id = 9")[0]
    invoiced = column(
        engines["accounting"], "SELECT personal_number FROM invoices WHERE person_id = 9"
    )
    assert invoiced
    assert set(invoiced) == {number}
    seen = [e["ip"] for e in events(demo_dir) if e["visitor_id"] == person["visitor_id"]]
    assert len(seen) >= 3
    assert set(seen) == {person["ip"]}
    assert any(m["remote_addr"] == person["ip"] for m in access_lines(demo_dir))


def test_identities_are_shared_across_systems(engines: dict[str, Engine], demo_dir: Path) -> None:
    crm_emails = set(column(engines["crm"], "SELECT email FROM persons"))
    subscribed = {
        normalise_email(e)
        for e in column(engines["newsletter"], "SELECT email FROM newsletter_subscribers")
    }
    assert len(subscribed & crm_emails) > 20
    assert len(subscribed - crm_emails) > 10  # and outsiders
    booked = set(column(engines["crm"], "SELECT visitor_id FROM meetings"))
    assert len(booked & {e["visitor_id"] for e in events(demo_dir)}) > 5


# --- the register ---------------------------------------------------------------------------


def test_the_register_loads_and_lints_without_errors(demo_dir: Path) -> None:
    loaded = load(demo_dir / "ombud.yaml")
    problems = lint(loaded)
    assert [p for p in problems if p.level == "error"] == []
    assert {p.code for p in problems} <= {"RET002"}  # the example's retention periods
    systems = {s.id: s for s in loaded.register.systems}
    assert set(systems) >= {
        "crm",
        "newsletter",
        "survey",
        "accounting",
        "telemarketing",
        "website",
        "google-analytics",
        "meta-pixel",
        "microsoft-bing",
        "linkedin-insight",
    }
    assert systems["accounting"].collections["invoices"].legal_hold == "accounting"
    assert loaded.register.activity("accounting") is not None


def test_register_urls_are_sqlite_paths_relative_to_the_register(demo_dir: Path) -> None:
    register = demo_dir / "ombud.yaml"
    for system in load(register).register.systems:
        if system.connector == "sql":
            assert system.url == f"sqlite:///{SYSTEM_FILES[system.id]}"
            resolved = resolve_sqlite_url(system.url, register)
            assert resolved == f"sqlite:///{(demo_dir / SYSTEM_FILES[system.id]).resolve()}"


def test_every_annotated_column_exists(demo_dir: Path) -> None:
    """examples/almi/systems.yaml and ombud.demo.schema describe the same tables."""
    access_fields = set(LOG_COLUMNS)  # the names the files connector gives log fields
    event_fields = set(events(demo_dir)[0])
    for system in load(demo_dir / "ombud.yaml").register.systems:
        for name, collection in system.collections.items():
            if system.connector == "sql":
                columns = set(TABLES[name].c.keys())
                assert TABLES[name].metadata is METADATA[system.id]
            else:
                assert collection.path is not None
                assert list(demo_dir.glob(collection.path)), collection.path
                columns = access_fields if collection.format == "log" else event_fields
            named = {
                *collection.identity.values(),
                *collection.fields,
                *(collection.erasure if isinstance(collection.erasure, dict) else ()),
                *collection.references,
                *([collection.restrict.column] if collection.restrict else []),
                *([collection.retention.timestamp] if collection.retention else []),
                *(
                    [collection.primary_key]
                    if isinstance(collection.primary_key, str)
                    else collection.primary_key or []
                ),
            }
            assert named <= columns, (system.id, name, named - columns)
            for target in collection.references.values():
                table, _, target_column = target.partition(".")
                assert target_column in TABLES[table].c


def test_every_demo_table_is_in_the_register(demo_dir: Path) -> None:
    collections = {
        name
        for system in load(demo_dir / "ombud.yaml").register.systems
        for name in system.collections
    }
    assert set(TABLES) <= collections


# --- determinism and arguments ----------------------------------------------------------------


def _persons(directory: Path) -> list[Any]:
    engine = create_engine(f"sqlite:///{directory / 'crm.db'}")
    try:
        with engine.connect() as connection:
            return list(connection.execute(text("SELECT * FROM persons ORDER BY id")))
    finally:
        engine.dispose()


def test_the_same_seed_gives_the_same_demo(tmp_path: Path, demo_dir: Path) -> None:
    build_demo(tmp_path / "again", size=SIZE, seed=SEED, today=TODAY)
    assert _persons(tmp_path / "again") == _persons(demo_dir)
    for name in ("logs/access.log", "logs/events.jsonl", "ombud.yaml", MANIFEST):
        assert (tmp_path / "again" / name).read_bytes() == (demo_dir / name).read_bytes()


def test_another_seed_gives_other_people(tmp_path: Path, demo_dir: Path) -> None:
    build_demo(tmp_path, size=MIN_SIZE, seed=SEED + 1, today=TODAY)
    other = _persons(tmp_path)
    assert len(other) == MIN_SIZE
    assert other[0] != _persons(demo_dir)[0]


def test_building_again_replaces_the_demo(tmp_path: Path) -> None:
    build_demo(tmp_path, size=50, today=TODAY)
    (tmp_path / "mine.txt").write_text("kept")
    build_demo(tmp_path, size=MIN_SIZE, today=date(2025, 7, 1))
    assert len(_persons(tmp_path)) == MIN_SIZE
    rotated = sorted(p.name for p in (tmp_path / "logs").glob("access.log*"))
    assert rotated == [
        "access.log",
        "access.log-20250628",
        "access.log-20250629",
        "access.log-20250630",
    ]
    assert (tmp_path / "mine.txt").read_text() == "kept"


def test_too_small_a_demo_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=f"at least {MIN_SIZE}"):
        build_demo(tmp_path, size=MIN_SIZE - 1)


def test_a_missing_example_is_named_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"has no ombud\.yaml"):
        build_demo(tmp_path / "demo", size=MIN_SIZE, example=tmp_path / "nowhere")
    assert not (tmp_path / "demo").exists()


@pytest.mark.parametrize(
    ("url", "resolved"),
    [
        ("sqlite:///crm.db", "sqlite:////srv/demo/crm.db"),
        ("sqlite:///data/crm.db", "sqlite:////srv/demo/data/crm.db"),
        ("sqlite:////var/crm.db", "sqlite:////var/crm.db"),
        ("sqlite://", "sqlite://"),
        ("sqlite:///:memory:", "sqlite:///:memory:"),
        ("postgresql+psycopg://crm@db/crm", "postgresql+psycopg://crm@db/crm"),
    ],
)
def test_relative_sqlite_paths_are_relative_to_the_register(url: str, resolved: str) -> None:
    assert resolve_sqlite_url(url, Path("/srv/demo/ombud.yaml")) == resolved
