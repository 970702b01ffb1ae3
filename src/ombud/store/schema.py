"""The schema of Ombud's database: applying the migrations and checking they were applied.

The migrations ship inside the package (``ombud/store/migrations``) and Alembic
is configured here in code, so an installed Ombud needs no ``alembic.ini``.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from ombud.store.engine import display_url, make_engine
from ombud.store.errors import StoreError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

#: PostgreSQL advisory lock key held while migrating, so that two Ombud processes
#: upgrading at once take turns (SQLite's write lock does the same there).
MIGRATION_LOCK = 0x0B_B0D_0001


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration for Ombud; migrations run on ``connection`` when given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` to ``revision`` (the newest by default), in one transaction.

    Idempotent: an up-to-date database is left as it is. Raises
    :class:`StoreError` when the database cannot be reached or migrated.
    """
    engine = make_engine(url)
    where = display_url(engine.url)
    sqlite = engine.dialect.name == "sqlite"
    try:
        with engine.connect() as connection:
            if sqlite:
                # SQLite alters a table by copying it and dropping the old one (batch
                # mode); with foreign keys on, that drop would cascade into other tables.
                # The pragma only works outside a transaction, hence the raw connection.
                connection.connection.driver_connection.execute(  # type: ignore[union-attr]
                    "PRAGMA foreign_keys = OFF"
                )
            with connection.begin():
                if not sqlite:
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
                    )
                command.upgrade(alembic_config(connection), revision)
                if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first():
                    raise StoreError(
                        f"migrating {where} would break foreign keys; nothing was changed. "
                        "Report this as a bug in Ombud's migrations"
                    )
    except CommandError as exc:
        raise StoreError(
            f"cannot migrate {where}: {exc}. A database migrated by a newer Ombud needs that "
            "version of Ombud"
        ) from None
    except DBAPIError as exc:
        raise StoreError(
            f"cannot migrate {where}: {_first_line(exc.orig)}. Check OMBUD_DATABASE_URL and "
            "that the database server is running"
        ) from None
    finally:
        engine.dispose()


def check_current(engine: Engine) -> None:
    """Return if the database behind ``engine`` has every migration; else raise StoreError."""
    where = display_url(engine.url)
    script = ScriptDirectory.from_config(alembic_config())
    expected = set(script.get_heads())
    try:
        with engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    except DBAPIError as exc:
        raise StoreError(
            f"cannot open the database {where}: {_first_line(exc.orig)}. Check "
            "OMBUD_DATABASE_URL and that the database server is running"
        ) from None
    if current == expected:
        return
    if not current:
        raise StoreError(f"the database {where} has no tables yet; run `ombud db upgrade`")
    known = {revision.revision for revision in script.walk_revisions()}
    if not current <= known:
        raise StoreError(
            f"the database {where} was migrated by a newer Ombud (revision "
            f"{', '.join(sorted(current - known))}); run that version of Ombud"
        )
    raise StoreError(
        f"the database {where} is not up to date (at {', '.join(sorted(current))}, needs "
        f"{', '.join(sorted(expected))}); run `ombud db upgrade`"
    )


def _first_line(error: BaseException | None) -> str:
    return (
        str(error).strip().splitlines()[0]
        if error is not None and str(error).strip()
        else "unknown error"
    )
