"""Problems found in a register, and the error that carries them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Level = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Problem:
    """One finding: where, which rule, how bad, and what to do about it."""

    file: str
    line: int
    code: str
    level: Level
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.code} {self.level}: {self.message}"


class RegisterError(Exception):
    """The register cannot be loaded; ``problems`` says where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
