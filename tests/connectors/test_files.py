"""The files connector on CSV, JSON-lines and access-log files written by the tests."""

from __future__ import annotations

import hashlib
import hmac
import json
import stat
import threading
import tracemalloc
from pathlib import Path

import pytest

from ombud.connectors import (
    REDACTED,
    Counts,
    FilesConnector,
    Lookup,
    Rejected,
    SchemaMismatch,
    Strategy,
    SystemSpec,
    spec_from_register,
    traverse,
)
from ombud.register.model import System

HASH_KEY = b"per-system key"

CSV = (
    "id,email,name,phone,note,restricted\r\n"
    '1,anna@example.se,Anna Andersson,070-123 45 67,"likes, commas",false\r\n'
    '2,bertil@example.se,Bertil Berg,,"two\r\nlines",false\r\n'
    "3,anna@example.se,Anna A.,,,false\r\n"
)
JSONL = (
    '{"id": 7, "user": "anna@example.se", "ip": "192.0.2.17", "event": "login"}\n'
    "\n"
    '{"id": 8, "user": "bertil@example.se", "ip": "198.51.100.4", "event": "login"}\n'
    '{"id": 9,  "user": "anna@example.se", "ip": null, "event": "logout"}\n'
)
ANNA_LINE = (
    '192.0.2.17 - anna [10/Oct/2024:13:55:36 +0200] "GET /konto?id=1 HTTP/1.1" 200 2326 '
    '"https://example.se/" "Mozilla/5.0 (X11; Linux)"\n'
)
OTHER_LINE = '198.51.100.4 - - [10/Oct/2024:13:55:37 +0200] "GET / HTTP/1.1" 304 - "-" "curl/8.0"\n'
LOG = ANNA_LINE + OTHER_LINE + ANNA_LINE.replace("13:55:36", "14:00:00") + "garbage\n"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    (tmp_path / "logs").mkdir()
    (tmp_path / "data" / "customers.csv").write_bytes(CSV.encode())
    (tmp_path / "data" / "events.jsonl").write_text(JSONL, encoding="utf-8")
    (tmp_path / "logs" / "access.log").write_text(LOG, encoding="utf-8")
    (tmp_path / "logs" / "access.log.1").write_text(OTHER_LINE + ANNA_LINE, encoding="utf-8")
    for path in (tmp_path / "data").iterdir():
        path.chmod(0o640)
    return tmp_path


def files_spec(folder: Path) -> SystemSpec:
    system = System.model_validate(
        {
            "id": "web",
            "name": "Website files",
            "connector": "files",
            "collections": {
                "customers": {
                    "path": "data/customers.csv",
                    "format": "csv",
                    "primary_key": "id",
                    "identity": {"email": "email", "phone": "phone"},
                    "fields": {"name": "identity", "email": "contact", "phone": "contact"},
                    "restrict": {"column": "restricted"},
                },
                "events": {
                    "path": "data/events.jsonl",
                    "format": "jsonl",
                    "primary_key": "id",
                    "identity": {"email": "user"},
                    "erasure": {"user": "hash", "ip": "truncate_ip"},
                },
                "access": {
                    "path": "logs/access.log*",
                    "format": "log",
                    "identity": {"ip": "ip", "customer_id": "user"},
                    "erasure": {"ip": "truncate_ip", "user": "null"},
                },
            },
        }
    )
    return spec_from_register(system, environ={}, base_dir=folder)


@pytest.fixture
def connector(folder: Path) -> FilesConnector:
    return FilesConnector(files_spec(folder))


def test_find_in_csv_jsonl_and_rotated_logs(connector: FilesConnector) -> None:
    customers = connector.find("customers", "email", ["anna@example.se"])
    assert [row.key for row in customers] == [("customers.csv", "1"), ("customers.csv", "3")]
    assert customers[0].values["name"] == "Anna Andersson"
    assert customers[0].values["restricted"] is False
    assert customers[1].values["phone"] is None  # an empty cell is no value

    events = connector.find("events", "user", ["anna@example.se"])
    assert [row.key for row in events] == [("events.jsonl", "7"), ("events.jsonl", "9")]

    hits = connector.find("access", "ip", ["192.0.2.17"])
    assert sorted(row.key[0] for row in hits) == ["access.log", "access.log", "access.log.1"]
    assert hits[0].values["user"] == "anna"


def test_traverse_over_files(connector: FilesConnector) -> None:
    result = traverse(connector, Lookup.of(phone="+46701234567", email="anna@example.se"))
    assert len(result.keys("customers")) == 2
    assert len(result.keys("events")) == 2


def test_delete_csv_rows_keeps_the_rest_byte_for_byte_and_the_permissions(
    folder: Path, connector: FilesConnector
) -> None:
    path = folder / "data" / "customers.csv"
    keys = [row.key for row in connector.find("customers", "email", ["anna@example.se"])]
    assert connector.erase("customers", keys, "delete", hash_key=HASH_KEY) == Counts(
        "customers", matched=2, deleted=2
    )
    lines = CSV.split("\r\n")
    assert path.read_bytes().decode() == "\r\n".join([lines[0], lines[2], lines[3], ""])
    assert stat.S_IMODE(path.stat().st_mode) == 0o640

    before = path.stat().st_mtime_ns
    again = connector.erase("customers", keys, "delete", hash_key=HASH_KEY)
    assert again.changed == 0
    assert path.stat().st_mtime_ns == before  # nothing to change: not rewritten


def test_erase_jsonl_columns_and_again(folder: Path, connector: FilesConnector) -> None:
    path = folder / "data" / "events.jsonl"
    keys = [row.key for row in connector.find("events", "user", ["anna@example.se"])]
    strategy = connector.spec.collections["events"].erasure
    assert connector.erase("events", keys, strategy, hash_key=HASH_KEY).updated == 2
    lines = path.read_text(encoding="utf-8").split("\n")
    first = json.loads(lines[0])
    assert first == {
        "id": 7,
        "user": hmac.new(HASH_KEY, b"anna@example.se", hashlib.sha256).hexdigest(),
        "ip": "192.0.2.0",
        "event": "login",
    }
    assert lines[1:3] == JSONL.split("\n")[1:3]  # the blank line and Bertil's, as they were
    assert json.loads(lines[3])["ip"] is None

    content = path.read_bytes()
    assert connector.erase("events", keys, strategy, hash_key=HASH_KEY).changed == 0
    assert path.read_bytes() == content


def test_truncate_ips_in_access_logs(folder: Path, connector: FilesConnector) -> None:
    hits = connector.find("access", "ip", ["192.0.2.17"])
    strategy = {"ip": Strategy.TRUNCATE_IP, "user": Strategy.NULL}
    assert connector.erase("access", [r.key for r in hits], strategy, hash_key=HASH_KEY) == Counts(
        "access", matched=3, updated=3
    )
    log = (folder / "logs" / "access.log").read_text(encoding="utf-8").splitlines(keepends=True)
    assert log[0] == ANNA_LINE.replace("192.0.2.17 - anna", "192.0.2.0 - -")
    assert log[1] == OTHER_LINE
    assert log[3] == "garbage\n"
    rotated = (folder / "logs" / "access.log.1").read_text(encoding="utf-8")
    assert "192.0.2.17" not in rotated
    assert not connector.find("access", "ip", ["192.0.2.17"])
    # the old keys match nothing any more: a repeated erasure changes nothing
    again = connector.erase("access", [r.key for r in hits], strategy, hash_key=HASH_KEY)
    assert again == Counts("access")


def test_delete_access_log_lines(folder: Path, connector: FilesConnector) -> None:
    hits = connector.find("access", "user", ["anna"])
    assert (
        connector.erase("access", [r.key for r in hits], "delete", hash_key=HASH_KEY).deleted == 3
    )
    assert (folder / "logs" / "access.log").read_text(encoding="utf-8") == OTHER_LINE + "garbage\n"


class DiskFullError(OSError):
    pass


def test_a_rewrite_that_fails_leaves_the_original_intact(folder: Path) -> None:
    def fail(_fd: int) -> None:
        raise DiskFullError(28, "No space left on device")

    connector = FilesConnector(files_spec(folder), fsync=fail)
    path = folder / "data" / "customers.csv"
    keys = [row.key for row in connector.find("customers", "email", ["anna@example.se"])]
    with pytest.raises(Rejected, match=r"cannot rewrite customers\.csv .* the file is unchanged"):
        connector.erase("customers", keys, "delete", hash_key=HASH_KEY)
    assert path.read_bytes() == CSV.encode()
    assert sorted(p.name for p in path.parent.iterdir()) == ["customers.csv", "events.jsonl"]


def test_restrict_and_rectify_csv(folder: Path, connector: FilesConnector) -> None:
    key = ("customers.csv", "2")
    assert connector.restrict("customers", [key], on=True).restricted == 1
    assert connector.restrict("customers", [key], on=True).restricted == 0
    assert connector.find("customers", "id", ["2"])[0].values["restricted"] is True
    assert connector.rectify("customers", key, {"name": "Bertil Bergström"}).updated == 1
    assert connector.find("customers", "id", ["2"])[0].values["name"] == "Bertil Bergström"
    # the quoted cell over two lines is written back as it was
    text = (folder / "data" / "customers.csv").read_bytes().decode()
    assert '2,bertil@example.se,Bertil Bergström,,"two\r\nlines",true\r\n' in text
    with pytest.raises(Rejected, match="`restricted` is not a declared field"):
        connector.rectify("customers", key, {"restricted": "false"})
    with pytest.raises(Rejected, match="no restrict column"):
        connector.restrict("access", [("access.log", "x")], on=True)


def test_check_names_the_missing_column_and_file(folder: Path) -> None:
    FilesConnector(files_spec(folder)).check()
    (folder / "data" / "customers.csv").write_text("id,email,name\n1,a@example.se,A\n")
    with pytest.raises(SchemaMismatch) as caught:
        FilesConnector(files_spec(folder)).check()
    assert caught.value.column == "phone"
    (folder / "data" / "events.jsonl").unlink()
    with pytest.raises(SchemaMismatch, match=r"events.jsonl does not exist"):
        FilesConnector(files_spec(folder)).find("events", "user", ["a@example.se"])


def test_large_files_are_streamed(folder: Path, connector: FilesConnector) -> None:
    path = folder / "logs" / "access.log"
    lines = 40_000
    with path.open("w", encoding="utf-8") as handle:
        for i in range(lines):
            handle.write(OTHER_LINE.replace("198.51.100.4", f"198.51.{i // 250}.{i % 250}"))
        handle.write(ANNA_LINE)
    size = path.stat().st_size
    tracemalloc.start()
    try:
        hits = connector.find("access", "ip", ["192.0.2.17"])
        strategy = {"ip": Strategy.TRUNCATE_IP}
        connector.erase("access", [h.key for h in hits], strategy, hash_key=HASH_KEY)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(hits) == 2  # one in access.log, one in access.log.1
    assert peak < size / 10, f"peak {peak} bytes for a file of {size}"
    assert path.stat().st_size == size - len("17") + len("0")


def test_log_fields_written_in_place_are_escaped(folder: Path, connector: FilesConnector) -> None:
    hits = connector.find("access", "user", ["anna"])[:1]
    strategy = {"user": Strategy.REDACT, "request": Strategy.HASH}
    connector.erase("access", [hits[0].key], strategy, hash_key=HASH_KEY)
    first = (folder / "logs" / "access.log").read_text(encoding="utf-8").splitlines()[0]
    hashed = hmac.new(HASH_KEY, b"GET /konto?id=1 HTTP/1.1", hashlib.sha256).hexdigest()
    assert first.startswith(f'192.0.2.17 - {REDACTED} [10/Oct/2024:13:55:36 +0200] "{hashed}" 200')


def test_a_strategy_on_a_column_the_file_lacks_is_a_schema_mismatch(
    connector: FilesConnector,
) -> None:
    with pytest.raises(SchemaMismatch) as caught:
        connector.erase("access", [], {"cookie": Strategy.NULL}, hash_key=HASH_KEY)
    assert caught.value.column == "cookie"


def test_concurrent_rewrites_of_one_file_lose_nothing(folder: Path) -> None:
    path = folder / "logs" / "access.log"
    path.write_text("".join(f'192.0.2.{i} - - [x] "GET /" 200 1\n' for i in range(200)))
    connectors = [FilesConnector(files_spec(folder)) for _ in range(8)]
    hits = connectors[0].find("access", "ip", [f"192.0.2.{i}" for i in range(0, 200, 5)])

    def erase(n: int) -> None:
        connectors[n].erase(
            "access", [hits[i].key for i in range(n, 40, 8)], "delete", hash_key=HASH_KEY
        )

    threads = [threading.Thread(target=erase, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    remaining = path.read_text().splitlines()
    assert len(remaining) == 160
    assert not any(line.split()[0].endswith(("0", "5")) for line in remaining)
