"""ombud.demo's public names: what ``__all__`` promises exists, and nothing more is promised."""

from __future__ import annotations

import ombud.demo


def test_the_public_api() -> None:
    assert sorted(ombud.demo.__all__) == [
        "EdgeCases",
        "MANIFEST",
        "METADATA",
        "MIN_SIZE",
        "SYSTEM_FILES",
        "build_database",
        "build_demo",
        "demo_register",
        "resolve_sqlite_url",
    ]
    assert all(hasattr(ombud.demo, name) for name in ombud.demo.__all__)
