"""The Art. 30(1) record of processing activities in CSV, XLSX and JSON."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from openpyxl import load_workbook

from ombud.notice import render_ropa
from ombud.notice.ropa import COLUMNS
from ombud.register import Register

#: Art. 30(1)(a)-(g) and what Ombud adds, as the JSON keys.
ART30 = {
    "controller",
    "controller_contact",
    "joint_controllers",
    "dpo_contact",  # (a)
    "purpose",
    "legal_basis",  # (b)
    "data_subjects",
    "personal_data",
    "special_categories",  # (c)
    "recipients",  # (d)
    "third_country_transfers",
    "transfer_safeguards",  # (e)
    "retention_period",
    "retention_from",
    "retention_notice",
    "retention_example",  # (f)
    "security_measures",  # (g)
    "activity",
    "sources",
    "profiling",
    "direct_marketing",
}


def rows_json(register: Register, lang: str | None = None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(render_ropa(register, fmt="json", lang=lang))
    return rows


def rows_csv(register: Register, lang: str | None = None) -> list[list[str]]:
    data = render_ropa(register, fmt="csv", lang=lang)
    assert not data.startswith(b"\xef\xbb\xbf"), "plain UTF-8, no BOM"
    return list(csv.reader(io.StringIO(data.decode("utf-8"))))


def test_json_has_one_object_per_activity_with_every_field(almi: Register) -> None:
    rows = rows_json(almi)
    assert [r["activity_id"] for r in rows] == [a.id for a in almi.activities]
    for row in rows:
        assert set(row) >= ART30
        assert set(row) == {c.key for c in COLUMNS}
        assert row["dpo_contact"].startswith("Dataskyddsombud, dataskyddsombud@almi.se")
        assert "Almi AB (ledande)" in row["joint_controllers"]
        assert row["security_measures"]
        assert row["retention_notice"]
    by_id = {r["activity_id"]: r for r in rows}
    assert by_id["marketing-profiling"]["profiling"] is True
    assert by_id["direct-marketing"]["direct_marketing"] is True
    assert by_id["newsletter"]["dpv_legal_basis"] == "dpv:Consent"
    assert by_id["customer-satisfaction"]["retention_example"] is True
    recipients = " ".join(by_id["marketing-profiling"]["recipients"])
    assert all(name in recipients for name in ("Google", "Meta", "Bing", "LinkedIn"))
    assert by_id["marketing-profiling"]["transfer_safeguards"]
    # suppliers without a country whose sub-processors may sit in third countries
    satisfaction = by_id["customer-satisfaction"]
    assert "Systemleverantörer" in satisfaction["third_country_transfers"]
    assert any("standardavtalsklausuler" in s for s in satisfaction["transfer_safeguards"])


def test_csv_has_a_header_and_one_row_per_activity(almi: Register) -> None:
    header, *rows = rows_csv(almi, "en")
    assert header == [c.en for c in COLUMNS]
    assert len(rows) == len(almi.activities)
    assert all(len(row) == len(COLUMNS) for row in rows)
    column = header.index("Activity")
    assert [row[column] for row in rows] == [a.name.get("en") for a in almi.activities]
    assert rows_csv(almi)[0] == [c.sv for c in COLUMNS]  # the first language by default


def test_xlsx_sheets_header_panes_and_filter(almi: Register) -> None:
    book = load_workbook(io.BytesIO(render_ropa(almi, fmt="xlsx", lang="sv")))
    activities, parties = book.worksheets
    values = [[cell.value for cell in row] for row in activities.iter_rows()]
    assert values[0] == [c.sv for c in COLUMNS]
    assert len(values) == 1 + len(almi.activities)
    assert [row[0] for row in values[1:]] == [a.id for a in almi.activities]
    assert activities.freeze_panes == "C2"
    assert activities.auto_filter.ref == activities.dimensions
    assert activities["A1"].font.bold

    people = [[cell.value or "" for cell in row] for row in parties.iter_rows()]
    assert people[0][:2] == ["Roll", "Namn"]
    text = " ".join(" ".join(row) for row in people)
    for expected in (
        "Almi AB",
        "Almi Invest AB",
        "556484-0527",
        "dataskyddsombud@almi.se",
        "Almi AB, Dataskyddsombud, Box 70396, 107 24 Stockholm",
        "imy@imy.se",
        "Integritetsskyddsmyndigheten",
        "gemensamt personuppgiftsansvar",
    ):
        assert expected in text
    assert parties.freeze_panes == "A2"


def test_record_values_for_transfers_bases_and_special_categories(acme: Register) -> None:
    by_id = {r["activity_id"]: r for r in rows_json(acme, "en")}
    newsletter = by_id["newsletter"]
    assert newsletter["recipients"] == ["Mailer Inc (Processor)"]
    assert newsletter["third_country_transfers"] == ["Mailer Inc: United States"]
    assert newsletter["transfer_safeguards"] == [
        "Mailer Inc: the EU Commission's standard contractual clauses (Decision (EU) 2021/914)"
    ]
    assert newsletter["retention_until"] == "consent_withdrawn"
    assert newsletter["consent_purpose"] == "newsletter"
    assert newsletter["systems"] == ["Shop database"]
    assert newsletter["data_subjects"] == ["Customers"]
    assert by_id["bookkeeping"]["recipients"] == ["Swedish Tax Agency (Public authority)"]
    assert by_id["bookkeeping"]["third_country_transfers"] == []
    assert by_id["bookkeeping"]["retention_period"] == "P7Y"
    assert by_id["bookkeeping"]["retention_example"] is True
    assert by_id["bookkeeping"]["legal_basis"] == "Legal obligation (Art. 6(1)(c))"
    assert by_id["first-aid"]["special_categories"] == ["Health data (art. 9.2 c)"]
    assert by_id["direct-marketing"]["legitimate_interest"] == "Reaching customers with offers"
    assert by_id["order-handling"]["controller_contact"] == [
        "Acme AB: 556000-0001, privacy@acme.example",
        "Acme Labs AB",
    ]
    assert by_id["order-handling"]["dpo_contact"] == (
        "dpo@acme.example, +46 8 123 45 67, Acme AB, DPO, Box 1, 111 11 Stockholm"
    )


def test_booleans_and_lists_read_well_in_csv(acme: Register) -> None:
    header, *rows = rows_csv(acme, "sv")
    row = dict(zip(header, rows[1], strict=True))  # direct marketing
    assert row["Direkt marknadsföring"] == "ja"
    assert row["Profilering"] == "nej"
    first = dict(zip(header, rows[0], strict=True))
    assert first["Gemensamt personuppgiftsansvariga"] == "Acme AB (ledande); Acme Labs AB"


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_every_format_has_every_column(acme: Register, fmt: str) -> None:
    data = render_ropa(acme, fmt=fmt)  # type: ignore[arg-type]
    if fmt == "json":
        keys = set(json.loads(data)[0])
        assert keys == {c.key for c in COLUMNS}
    elif fmt == "csv":
        assert next(csv.reader(io.StringIO(data.decode()))) == [c.en for c in COLUMNS]
    else:
        sheet = load_workbook(io.BytesIO(data)).worksheets[0]
        assert [c.value for c in sheet[1]] == [c.en for c in COLUMNS]
        assert sheet.max_row == 1 + len(acme.activities)
