"""The `ombud` command as a user runs it: a real process, real files."""

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx
import psycopg
import pytest

from ombud import store

ROOT = Path(__file__).resolve().parents[1]
ALMI = ROOT / "examples" / "almi" / "ombud.yaml"


def ombud(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from ombud.cli import main; main()", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        check=False,
        timeout=120,
    )


def test_check_almi_has_no_errors() -> None:
    result = ombud("check", str(ALMI))
    assert result.returncode == 0, result.stdout + result.stderr
    assert " error:" not in result.stdout
    assert "0 error(s)" in result.stderr


@pytest.mark.parametrize(
    ("content", "line", "code"),
    [
        ("version: 1\nlanguages: [sv, en\norganisation: {}\n", 3, "YML001"),
        ("version: 1\nlanguages: sv\n", 2, "SCH001"),
        ("version: 1\nlanguages: [sv]\nbogus: true\n", 3, "SCH001"),
    ],
    ids=["syntax", "wrong-type", "unknown-field"],
)
def test_check_bad_yaml_gives_one_clear_line(
    tmp_path: Path, content: str, line: int, code: str
) -> None:
    register = tmp_path / "bad.yaml"
    register.write_text(content, encoding="utf-8")
    result = ombud("check", str(register))
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    lines = [x for x in result.stdout.splitlines() if f"{register}:{line}: {code} error:" in x]
    assert len(lines) == 1, result.stdout


def test_missing_register_is_a_clear_error(tmp_path: Path) -> None:
    result = ombud("check", str(tmp_path / "nope.yaml"))
    assert result.returncode == 1
    assert "no such file" in result.stdout
    assert "Traceback" not in result.stderr


def test_usage_error_exits_2() -> None:
    result = ombud("notice", str(ALMI), "--format", "docx")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_schema_is_json_schema() -> None:
    result = ombud("schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert {"version", "languages", "organisation", "activities", "notice"} <= set(
        schema["properties"]
    )


@pytest.mark.parametrize("fmt", ["html", "md", "json", "pdf"])
def test_notice_formats(tmp_path: Path, fmt: str) -> None:
    output = tmp_path / f"notice.{fmt}"
    result = ombud("notice", str(ALMI), "--lang", "en", "--format", fmt, "-o", str(output))
    assert result.returncode == 0, result.stderr
    data = output.read_bytes()
    if fmt == "pdf":
        assert data.startswith(b"%PDF")
    else:
        assert "Telemarketing" in data.decode("utf-8")


def test_notice_unknown_language(tmp_path: Path) -> None:
    result = ombud("notice", str(ALMI), "--lang", "fi")
    assert result.returncode == 1
    assert "sv, en" in result.stderr


@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx"])
def test_ropa_formats(tmp_path: Path, fmt: str) -> None:
    output = tmp_path / f"ropa.{fmt}"
    result = ombud("ropa", str(ALMI), "--format", fmt, "-o", str(output))
    assert result.returncode == 0, result.stderr
    assert output.stat().st_size > 0


def test_db_upgrade_and_audit_verify(tmp_path: Path) -> None:
    env = {"OMBUD_DATABASE_URL": f"sqlite:///{tmp_path / 'o.db'}", "PATH": "/usr/bin:/bin"}
    assert ombud("db", "upgrade", env=env).returncode == 0
    result = ombud("audit", "verify", env=env)
    assert result.returncode == 0, result.stderr
    assert "intact" in result.stdout


def test_serve_refuses_without_secret(tmp_path: Path) -> None:
    env = {
        "OMBUD_DATABASE_URL": f"sqlite:///{tmp_path / 'o.db'}",
        "PATH": "/usr/bin:/bin",
        "OMBUD_REGISTER": str(ALMI),
    }
    result = ombud("serve", env=env)
    assert result.returncode == 1
    assert "OMBUD_SECRET_KEY" in result.stderr


def test_demo_builds_without_serving(tmp_path: Path) -> None:
    result = ombud("demo", "--dir", str(tmp_path / "demo"), "--no-serve")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "demo" / "ombud.yaml").is_file()
    assert (tmp_path / "demo" / "ombud.db").is_file()


def test_serve_with_several_processes_needs_postgresql(tmp_path: Path) -> None:
    env = {
        "OMBUD_DATABASE_URL": f"sqlite:///{tmp_path / 'o.db'}",
        "PATH": "/usr/bin:/bin",
        "OMBUD_REGISTER": str(ALMI),
        "OMBUD_SECRET_KEY": "test-secret-key-of-enough-length",
    }
    assert ombud("db", "upgrade", env=env).returncode == 0
    result = ombud("serve", "--workers", "2", env=env)
    assert result.returncode == 1
    assert "--workers 2 needs PostgreSQL" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.postgres
def test_serve_with_two_processes_on_postgresql(tmp_path: Path, postgres_schema_url: str) -> None:
    """Both processes answer; one of them (and only one) holds the lead's lock."""
    store.upgrade(postgres_schema_url)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        "OMBUD_DATABASE_URL": postgres_schema_url,
        "PATH": "/usr/bin:/bin",
        "OMBUD_REGISTER": str(ALMI),
        "OMBUD_SECRET_KEY": "test-secret-key-of-enough-length",
        "OMBUD_MAIL_URL": f"file:{tmp_path / 'outbox'}",
        "OMBUD_WORKER": "inline",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from ombud.cli import main; main()",
            "serve",
            "--port",
            str(port),
            "--workers",
            "2",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "ombud serve did not answer"
                time.sleep(0.2)
        # Both processes take connections: every new one is answered.
        for _ in range(10):
            assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
        assert len(_server_processes(server.pid)) == 2
        admin = postgres_schema_url.replace("+psycopg", "").split("?")[0]
        with psycopg.connect(admin) as connection:
            locks = connection.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ).fetchone()
        assert locks == (1,)
    finally:
        server.send_signal(signal.SIGTERM)
        _, errors = server.communicate(timeout=60)
    assert server.returncode == 0, errors
    assert "Traceback" not in errors


def _server_processes(parent: int) -> list[int]:
    """The worker processes uvicorn started for ``parent`` (spawned Pythons)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == parent and b"spawn_main" in cmdline:
            found.append(int(stat.parent.name))
    return found
