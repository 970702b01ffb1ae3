from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ombud import store
from ombud.settings import Settings
from ombud.web import create_app

ALMI = Path(__file__).resolve().parents[2] / "examples" / "almi" / "ombud.yaml"


@pytest.fixture
def register_file(tmp_path: Path) -> Path:
    """A copy of the Almi register that a test may change."""
    path = tmp_path / "ombud.yaml"
    path.write_text(ALMI.read_text(encoding="utf-8"), encoding="utf-8")
    return path


@pytest.fixture
def settings(tmp_path: Path, register_file: Path) -> Settings:
    url = f"sqlite:///{tmp_path / 'ombud.db'}"
    store.upgrade(url)
    return Settings(register_path=register_file, database_url=url, secret_key="test-secret-key")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client
