"""Markers of the demo's server tests."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    # Until pyproject.toml registers it next to `postgres` (pytest runs with --strict-markers).
    config.addinivalue_line("markers", "mariadb: needs the MariaDB server at 127.0.0.1:3306")
