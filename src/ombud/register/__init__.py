"""The privacy register: model, loader, linter and JSON Schema."""

from ombud.register.errors import Problem, RegisterError
from ombud.register.loader import LoadedRegister, SourceMap, load, loads
from ombud.register.model import Activity, Category, LegalBasis, Recipient, Register, System
from ombud.register.text import Text

__all__ = [
    "Activity",
    "Category",
    "LegalBasis",
    "LoadedRegister",
    "Problem",
    "Recipient",
    "Register",
    "RegisterError",
    "SourceMap",
    "System",
    "Text",
    "load",
    "loads",
]
