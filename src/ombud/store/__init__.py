"""Ombud's own database: models, migrations, engines, transactions and served register versions.

Build an engine at the edge with :func:`make_engine`, apply the migrations
with :func:`upgrade`, and do work inside :func:`transaction`.
"""

from ombud.store.engine import display_url, make_engine, session_factory, transaction
from ombud.store.errors import StoreError
from ombud.store.models import Base, RegisterVersion
from ombud.store.schema import check_current, upgrade
from ombud.store.versions import (
    content_hash,
    get_version,
    list_versions,
    load_version,
    record_served,
)

__all__ = [
    "Base",
    "RegisterVersion",
    "StoreError",
    "check_current",
    "content_hash",
    "display_url",
    "get_version",
    "list_versions",
    "load_version",
    "make_engine",
    "record_served",
    "session_factory",
    "transaction",
    "upgrade",
]
