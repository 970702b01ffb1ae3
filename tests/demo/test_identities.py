"""Synthetic identifiers are valid by Ombud's own rules, and written as people write them."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from ombud.demo.identities import (
    Days,
    PersonnummerFactory,
    ipv4,
    ipv6,
    make_orgnr,
    phone_written,
    random_phone,
    random_phones,
    visitor_id,
)
from ombud.demo.pools import seeded
from ombud.discovery import normalise_ip, normalise_phone, parse_orgnr, parse_personnummer

TODAY = date(2025, 6, 30)


@pytest.mark.parametrize("coordination", [False, True])
def test_personnummer_are_valid_unique_and_match_sex_and_birth(coordination: bool) -> None:
    days = Days(TODAY, past=90 * 365, future=0)
    factory = PersonnummerFactory(seeded(1, "test"))
    rng = seeded(2, "test")
    seen = set()
    for k in range(5000):
        birth = days.compact(18 * 365 + int(rng.random() * 60 * 365))
        female = k % 2 == 0
        number = factory.make(birth, female=female, coordination=coordination)
        parsed = parse_personnummer(number, today=TODAY)
        assert parsed.canonical == number
        assert parsed.is_coordination is coordination
        assert parsed.sex == ("female" if female else "male")
        assert parsed.birth_date.strftime("%Y%m%d") == birth
        seen.add(number)
    assert len(seen) == 5000


def test_personnummer_never_repeat_until_a_day_runs_out() -> None:
    factory = PersonnummerFactory(seeded(1, "test"))
    # a day has 499 numbers for women: serials 001-998 with an even last digit, not 000
    numbers = [factory.make("19800101", female=True, coordination=False) for _ in range(499)]
    assert len(set(numbers)) == 499
    assert {n[8:11] for n in numbers} == {f"{s:03d}" for s in range(2, 1000, 2)}


def test_organisation_numbers_are_valid_for_their_legal_form() -> None:
    rng, taken = seeded(1, "orgnr"), set[str]()
    for digit in "579":
        for _ in range(500):
            orgnr = parse_orgnr(make_orgnr(rng, digit, taken))
            assert orgnr.canonical[0] == digit
    assert len(taken) == 1500


@pytest.mark.parametrize(
    ("form", "written"),
    [
        (0, "+46701234567"),
        (1, "070-123 45 67"),
        (2, "+46 70 123 45 67"),
        (3, "0701234567"),
    ],
)
def test_phone_written_forms(form: int, written: str) -> None:
    assert phone_written("+46701234567", form) == written
    assert normalise_phone(written) == "+46701234567"


@pytest.mark.parametrize("form", [0, 1, 2, 3])
def test_random_phones_are_in_the_numbering_plan_in_every_form(form: int) -> None:
    rng = seeded(1, "phones")
    for _ in range(300):
        e164 = random_phone(rng)
        assert normalise_phone(phone_written(e164, form)) == e164


def test_stockholm_numbers_keep_the_one_digit_area_code() -> None:
    assert phone_written("+4681234567", 1) == "08-123 45 67"
    assert normalise_phone("08-123 45 67") == "+4681234567"


def test_addresses_are_canonical_and_in_reserved_ranges() -> None:
    rng = seeded(1, "ips")
    for _ in range(300):
        v4, v6 = ipv4(rng), ipv6(rng)
        assert normalise_ip(v4) == v4
        assert normalise_ip(v6) == v6
        assert v4.startswith(("198.18.", "198.19."))
        assert v6.startswith("2001:db8:")


def test_visitor_ids_are_uuid4() -> None:
    rng = seeded(1, "visitors")
    for _ in range(300):
        value = visitor_id(rng)
        parsed = uuid.UUID(value)
        assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, value)


def test_the_bulk_makers_make_what_the_single_ones_make() -> None:
    births = ["19800101", "19991231", "20040229"] * 50
    females = [k % 2 == 0 for k in range(150)]
    coordination = [k % 7 == 0 for k in range(150)]
    one = PersonnummerFactory(seeded(1, "bulk"))
    singles = [
        one.make(b, female=f, coordination=c)
        for b, f, c in zip(births, females, coordination, strict=True)
    ]
    bulk = PersonnummerFactory(seeded(1, "bulk")).make_many(births, females, coordination)
    assert bulk == singles
    rng = seeded(1, "phones")
    assert random_phones(seeded(1, "phones"), 200) == [random_phone(rng) for _ in range(200)]
