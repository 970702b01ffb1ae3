from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ombud import store
from ombud.settings import Settings
from ombud.web import create_app
from smtp_server import Inbox

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
    return Settings(
        register_path=register_file,
        database_url=url,
        secret_key="test-secret-key-of-enough-length",
        # Mail never lands in the working directory; tests of mail use `smtp` below.
        mail_url=f"file:{tmp_path / 'outbox'}",
        # Requests run only where a test asks (test_request_flow.py runs them inline).
        worker="none",
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def mail_client(settings: Settings, smtp: Inbox) -> Iterator[TestClient]:
    """The app sending its mail (OMBUD_MAIL_URL) to the ``smtp`` server."""
    app = create_app(settings.model_copy(update={"mail_url": smtp.url}))
    with TestClient(app) as test_client:
        yield test_client
