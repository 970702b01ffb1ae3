"""The `ombud` command as a user runs it: a real process, real files."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

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
