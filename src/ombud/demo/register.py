"""The demo's register: the Almi example with its systems pointed at the demo's files.

``examples/almi/systems.yaml`` holds the systems (and any activity they need that
the register lacks). :func:`demo_register` merges it into
``examples/almi/ombud.yaml`` with ruamel's round-trip mode, so the comments and
layout of both files survive, and points each SQL system at its SQLite file by a
path relative to the register.

The rule for such paths: a relative SQLite path in a register
(``sqlite:///crm.db``, three slashes and no leading ``/``) is relative to the
directory of the register file, not to the working directory, so a demo
directory can be moved or served from anywhere. ``sqlite:////abs/path.db``
(four slashes) stays absolute.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from sqlalchemy.engine import make_url

__all__ = ["EXAMPLE", "demo_register", "resolve_sqlite_url"]


def _example() -> Path:
    # a wheel carries the example inside the package (hatch force-include to
    # ombud/demo/almi); a source checkout has it in examples/almi
    packaged = Path(__file__).resolve().parent / "almi"
    if (packaged / "ombud.yaml").is_file():
        return packaged
    return Path(__file__).resolve().parents[3] / "examples" / "almi"


#: The Almi example: its register (ombud.yaml) and its systems (systems.yaml).
EXAMPLE = _example()


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap the register's lines
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def demo_register(urls: Mapping[str, str], *, example: Path = EXAMPLE) -> str:
    """The text of ``example/ombud.yaml`` with the systems of ``example/systems.yaml``.

    A system of ``systems.yaml`` replaces the register's system of the same id;
    the register's other systems (the manual ones for Google, Meta, Bing and
    LinkedIn) follow them. Activities of ``systems.yaml`` are added unless the
    register has one of the same id. ``urls`` maps system ids to the url each
    gets instead of its ``env:`` reference.
    """
    yaml = _yaml()
    register: Any = yaml.load((example / "ombud.yaml").read_text(encoding="utf-8"))
    extra: Any = yaml.load((example / "systems.yaml").read_text(encoding="utf-8"))
    known = {activity["id"] for activity in register["activities"]}
    for activity in extra.get("activities") or []:
        if activity["id"] not in known:
            register["activities"].append(activity)
    systems = extra["systems"]
    ids = {system["id"] for system in systems}
    for system in systems:
        if system["id"] in urls:
            system["url"] = urls[system["id"]]
    for system in register.get("systems") or []:
        if system["id"] not in ids:
            systems.append(system)
    register["systems"] = systems
    out = io.StringIO()
    yaml.dump(register, out)
    return out.getvalue()


def resolve_sqlite_url(url: str, register: Path) -> str:
    """``url`` with a relative SQLite path made absolute against ``register``'s directory.

    Other urls are returned as they are. This is the rule every connector follows for
    urls written in a register (see the module's docstring).
    """
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return url
    if Path(database).is_absolute():
        return url
    absolute = (register.parent / database).resolve()
    return parsed.set(database=str(absolute)).render_as_string(hide_password=False)
