"""A demo built once per session: 200 persons in SQLite files and logs, on a fixed day."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine

from ombud.demo import SYSTEM_FILES, build_demo

SIZE = 200
SEED = 1
TODAY = date(2025, 6, 30)


def pytest_configure(config: pytest.Config) -> None:
    # Until pyproject.toml registers it next to `postgres` (strict markers).
    config.addinivalue_line("markers", "mariadb: needs the MariaDB server at 127.0.0.1:3306")


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The directory of a demo of :data:`SIZE` persons built with :data:`SEED` on :data:`TODAY`."""
    directory = tmp_path_factory.mktemp("demo")
    build_demo(directory, size=SIZE, seed=SEED, today=TODAY)
    return directory


@pytest.fixture(scope="session")
def engines(demo_dir: Path) -> Iterator[dict[str, Engine]]:
    """An engine on each system's SQLite file of the demo, by system id."""
    made = {
        system: create_engine(f"sqlite:///{demo_dir / file}")
        for system, file in SYSTEM_FILES.items()
    }
    yield made
    for engine in made.values():
        engine.dispose()
