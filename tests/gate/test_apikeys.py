"""API keys: shown once, stored as a digest, audited, revocable; and the `ombud apikey` commands."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from ombud import audit, store
from ombud.audit import AuditEntry
from ombud.store.apikeys import (
    ApiKey,
    ApiKeyNotFoundError,
    Scope,
    UnknownScopeError,
    create_key,
    list_keys,
    parse_scopes,
    revoke_key,
    verify_key,
)

NOW = dt.datetime(2026, 11, 28, 10, 0, tzinfo=dt.UTC)
KEY = re.compile(r"omb_[A-Za-z0-9_-]{43}")


def actions(engine: Engine) -> list[tuple[str, str | None]]:
    with store.transaction(engine) as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.seq))
        return [(e.action, e.object_id) for e in entries]


def test_a_key_is_stored_as_its_digest_and_audited(engine: Engine) -> None:
    with store.transaction(engine) as session:
        created = create_key(
            session, name="crm-export", scopes=[Scope.PROCESSING_CHECK], actor="cli", now=NOW
        )
    assert KEY.fullmatch(created.key)
    with store.transaction(engine) as session:
        row = session.scalars(select(ApiKey)).one()
        assert row.digest == hashlib.sha256(created.key.encode()).hexdigest()
        assert created.key not in repr(row.__dict__)
        assert row.scopes == ["processing:check"]
        assert row.last_used_at is None
    assert actions(engine) == [("apikey.created", f"apikey:{row.id}")]


def test_verify_finds_an_active_key_and_records_its_use(engine: Engine) -> None:
    with store.transaction(engine) as session:
        created = create_key(
            session, name="crm", scopes=[Scope.PROCESSING_CHECK], actor="cli", now=NOW
        )
    with store.transaction(engine) as session:
        found = verify_key(session, created.key, now=NOW + dt.timedelta(hours=1))
        assert found is not None
        assert found.allows(Scope.PROCESSING_CHECK)
        assert not found.allows(Scope.REQUESTS_WRITE)
    with store.transaction(engine) as session:
        assert session.get(ApiKey, found.id).last_used_at == NOW + dt.timedelta(hours=1)  # type: ignore[union-attr]
        # Within the minute the use is not written again.
        verify_key(session, created.key, now=NOW + dt.timedelta(hours=1, seconds=30))
    with store.transaction(engine) as session:
        assert session.get(ApiKey, found.id).last_used_at == NOW + dt.timedelta(hours=1)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "given",
    ["", "omb_", "omb_" + "A" * 43, "not-a-key", "omb_" + "x" * 500],
)
def test_verify_refuses_what_is_not_a_key(engine: Engine, given: str) -> None:
    with store.transaction(engine) as session:
        create_key(session, name="crm", scopes=[Scope.PROCESSING_CHECK], actor="cli", now=NOW)
        assert verify_key(session, given, now=NOW) is None


def test_a_revoked_key_no_longer_verifies_and_revoking_again_changes_nothing(
    engine: Engine,
) -> None:
    with store.transaction(engine) as session:
        created = create_key(
            session, name="crm", scopes=[Scope.PROCESSING_CHECK], actor="cli", now=NOW
        )
    with store.transaction(engine) as session:
        revoked = revoke_key(session, created.row.id, actor="user:dpo", now=NOW)
        assert revoked.revoked_at == NOW
    with store.transaction(engine) as session:
        assert verify_key(session, created.key, now=NOW) is None
        again = revoke_key(session, created.row.id, actor="cli", now=NOW + dt.timedelta(days=1))
        assert again.revoked_at == NOW
        assert [k.id for k in list_keys(session)] == [created.row.id]
    assert actions(engine) == [
        ("apikey.created", f"apikey:{created.row.id}"),
        ("apikey.revoked", f"apikey:{created.row.id}"),
    ]
    with store.transaction(engine) as session:
        assert audit.verify(session).ok


def test_revoking_an_unknown_key_is_an_error(engine: Engine) -> None:
    with store.transaction(engine) as session, pytest.raises(ApiKeyNotFoundError, match="42"):
        revoke_key(session, 42, actor="cli", now=NOW)


def test_scopes_are_checked_and_sorted() -> None:
    assert parse_scopes(["requests:read", "processing:check", "requests:read"]) == [
        Scope.PROCESSING_CHECK,
        Scope.REQUESTS_READ,
    ]
    with pytest.raises(UnknownScopeError, match=r"'processing:write'.*processing:check"):
        parse_scopes(["processing:write"])
    with pytest.raises(UnknownScopeError, match="at least one"):
        parse_scopes([])


def ombud(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from ombud.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )


def test_the_apikey_commands_print_a_key_once_and_never_list_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'o.db'}"
    env = {"OMBUD_DATABASE_URL": url, "PATH": "/usr/bin:/bin"}
    assert ombud("db", "upgrade", env=env).returncode == 0

    added = ombud(
        "apikey",
        "add",
        "crm-export",
        "--scope",
        "processing:check",
        "--scope",
        "consent:read",
        env=env,
    )
    assert added.returncode == 0, added.stderr
    key = added.stdout.strip()
    assert KEY.fullmatch(key), added.stdout
    assert key not in added.stderr
    assert "not shown again" in added.stderr

    listed = ombud("apikey", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "crm-export" in listed.stdout
    assert "consent:read,processing:check" in listed.stdout
    assert "active" in listed.stdout
    as_json = ombud("apikey", "list", "--format", "json", env=env)
    for output in (listed.stdout + listed.stderr, as_json.stdout + as_json.stderr):
        assert key not in output
        assert key[4:20] not in output

    engine = store.make_engine(url)
    try:
        with store.transaction(engine) as session:
            assert verify_key(session, key, now=NOW) is not None
        revoked = ombud("apikey", "revoke", "1", env=env)
        assert revoked.returncode == 0, revoked.stderr
        with store.transaction(engine) as session:
            assert verify_key(session, key, now=NOW) is None
    finally:
        engine.dispose()
    assert "revoked" in ombud("apikey", "list", env=env).stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("apikey", "add", "crm", "--scope", "everything"), "unknown scope 'everything'"),
        (("apikey", "add", " ", "--scope", "processing:check"), "give the key a name"),
        (("apikey", "revoke", "7"), "no API key 7"),
    ],
)
def test_apikey_mistakes_are_one_clear_line(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    env = {"OMBUD_DATABASE_URL": f"sqlite:///{tmp_path / 'o.db'}", "PATH": "/usr/bin:/bin"}
    assert ombud("db", "upgrade", env=env).returncode == 0
    result = ombud(*args, env=env)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
