"""Fixtures: the Almi register, the keys, and a migrated ledger on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from consent_ledger import Ledger, open_ledger
from sqlalchemy import Engine

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


@pytest.fixture
def ledger(engine: Engine, almi: Register, keys: Keys) -> Ledger:
    return open_ledger(engine, almi, keys)
