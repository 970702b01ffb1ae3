"""Ombud's own database: models, migrations, engines and transactions."""

from ombud.store.engine import make_engine, session_factory, transaction
from ombud.store.errors import StoreError
from ombud.store.schema import check_current, upgrade
