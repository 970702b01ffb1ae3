"""Text shown to people: a map of language code to string.

A plain string in the YAML means the register's first language; the loader
passes that language in the validation context as ``default_language``.
"""

from __future__ import annotations

from typing import Any

from pydantic import GetJsonSchemaHandler, RootModel, ValidationInfo, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

DEFAULT_LANGUAGE_KEY = "default_language"


class Text(RootModel[dict[str, str]]):
    """A text in one or more languages, e.g. ``{sv: Namn, en: Name}``."""

    @model_validator(mode="before")
    @classmethod
    def _plain_string(cls, data: Any, info: ValidationInfo) -> Any:
        if isinstance(data, str):
            context = info.context or {}
            return {context.get(DEFAULT_LANGUAGE_KEY, "sv"): data}
        return data

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "title": "Text",
            "description": "A string in the register's first language, or a map of "
            "language code to string.",
            "anyOf": [
                {"type": "string"},
                {"type": "object", "additionalProperties": {"type": "string"}},
            ],
        }

    def get(self, lang: str, fallback: str | None = None) -> str:
        """The text in ``lang``, else in ``fallback``, else in any language."""
        if lang in self.root:
            return self.root[lang]
        if fallback is not None and fallback in self.root:
            return self.root[fallback]
        return next(iter(self.root.values()), "")

    @property
    def languages(self) -> set[str]:
        return set(self.root)


def text(value: dict[str, str] | str, lang: str = "sv") -> Text:
    """Build a Text in code (tests, built-in defaults)."""
    return Text({lang: value} if isinstance(value, str) else value)
