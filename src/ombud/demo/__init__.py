"""The demo systems: synthetic people where Almi's personal data lives.

``ombud demo`` builds them with :func:`build_demo`: a CRM, the newsletter tool,
the survey tool, the accounting system and the telemarketing lists as SQLite
files, the website's access logs and banner events as files, and the Almi
register (``examples/almi/ombud.yaml``) with those systems
(``examples/almi/systems.yaml``) pointing at them. :func:`build_database` puts
the same tables and rows into one PostgreSQL or MariaDB database.

The data is synthetic but shaped like the real thing, edge cases included
(:class:`EdgeCases`); see ``docs/demo.md``.
"""

from ombud.demo.build import MANIFEST, build_database, build_demo
from ombud.demo.people import MIN_SIZE, EdgeCases
from ombud.demo.register import demo_register, resolve_sqlite_url
from ombud.demo.schema import METADATA, SYSTEM_FILES

__all__ = [
    "MANIFEST",
    "METADATA",
    "MIN_SIZE",
    "SYSTEM_FILES",
    "EdgeCases",
    "build_database",
    "build_demo",
    "demo_register",
    "resolve_sqlite_url",
]
