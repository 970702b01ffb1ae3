"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Engine, Integer, MetaData, inspect, text

from ombud.store import StoreError, check_current, make_engine, upgrade
from ombud.store.models import all_tables
from ombud.store.schema import alembic_config


def differences(engine: Engine, metadata: MetaData) -> list[Any]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def test_models_and_migrations_agree(engine: Engine) -> None:
    assert differences(engine, all_tables()) == []


def test_the_comparison_notices_a_model_the_migrations_lack(engine: Engine) -> None:
    # Guards the test above: a model change without a migration must show up.
    changed = MetaData(naming_convention=all_tables().naming_convention)
    for table in all_tables().tables.values():
        table.to_metadata(changed)
    changed.tables["register_versions"].append_column(Column("extra", Integer))
    assert [diff[0] for diff in differences(engine, changed)] == ["add_column"]


def test_constraints_are_named_by_the_convention(engine: Engine) -> None:
    inspector = inspect(engine)
    unique = {c["name"] for c in inspector.get_unique_constraints("audit_entries")}
    assert unique == {"uq_audit_entries_hash", "uq_audit_entries_prev_hash"}
    indexes = {i["name"] for i in inspector.get_indexes("audit_entries")}
    assert "ix_audit_entries_object_id" in indexes
    assert inspector.get_pk_constraint("audit_entries")["name"] == "pk_audit_entries"


def test_upgrade_is_idempotent_and_leaves_the_database_current(
    database_url: str, engine: Engine
) -> None:
    upgrade(database_url)
    check_current(engine)


def test_the_migrations_go_down_and_up_again(database_url: str, engine: Engine) -> None:
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(database_url)
    assert differences(engine, all_tables()) == []


def test_an_empty_database_is_not_current(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        with pytest.raises(StoreError, match="run `ombud db upgrade`"):
            check_current(engine)
    finally:
        engine.dispose()


def test_a_database_from_a_newer_ombud_is_refused(database_url: str, engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'f00d'"))
    with pytest.raises(StoreError, match="newer Ombud"):
        check_current(engine)
    with pytest.raises(StoreError, match="newer Ombud"):
        upgrade(database_url)


def test_upgrade_creates_the_directory_of_a_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "var" / "lib" / "ombud" / "ombud.db"
    upgrade(f"sqlite:///{path}")
    assert path.is_file()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "is not a database URL"),
        ("mysql+pymysql://ombud@localhost/ombud", "SQLite or PostgreSQL"),
        ("postgresql+psycopg://ombud:s3cret@127.0.0.1:1/ombud", "database server is running"),
    ],
)
def test_an_unusable_database_url_is_a_store_error(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message) as caught:
        upgrade(url)
    assert "s3cret" not in str(caught.value)


@pytest.mark.parametrize(
    "fresh_url", ["sqlite_url", pytest.param("postgres_schema_url", marks=pytest.mark.postgres)]
)
def test_concurrent_upgrades_take_turns(request: pytest.FixtureRequest, fresh_url: str) -> None:
    # Several replicas running `ombud db upgrade` at once on a new database.
    url: str = request.getfixturevalue(fresh_url)
    with ThreadPoolExecutor(max_workers=4) as pool:
        for future in [pool.submit(upgrade, url) for _ in range(4)]:
            future.result()
    engine = make_engine(url)
    try:
        check_current(engine)
    finally:
        engine.dispose()
