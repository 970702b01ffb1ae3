"""``env:NAME`` references in the register, resolved only when a value is used.

Checking a register needs no secrets: the model keeps the reference as written,
and a connector asks for the value when it connects.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

ENV_REFERENCE = re.compile(r"^env:(?P<name>[A-Za-z_][A-Za-z0-9_]*)$")


class MissingEnvironmentError(LookupError):
    """A register value names an environment variable that is not set."""


def is_reference(value: str | None) -> bool:
    return value is not None and ENV_REFERENCE.match(value) is not None


def resolve(value: str, environ: Mapping[str, str], where: str = "") -> str:
    """The value itself, or the environment variable that ``env:NAME`` names."""
    match = ENV_REFERENCE.match(value)
    if match is None:
        return value
    name = match["name"]
    try:
        return environ[name]
    except KeyError:
        place = f" (used by {where})" if where else ""
        raise MissingEnvironmentError(
            f"environment variable {name} is not set{place}; export it before running"
        ) from None
