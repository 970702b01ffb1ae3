from pathlib import Path

import pytest

from ombud.register import load
from ombud.register.model import Register
from ombud.store.crypto import Keys

ALMI = Path(__file__).resolve().parents[2] / "examples" / "almi" / "ombud.yaml"


@pytest.fixture(scope="session")
def almi() -> Register:
    return load(ALMI).register


@pytest.fixture(scope="session")
def keys() -> Keys:
    return Keys.from_secret("a test secret key of enough length")
