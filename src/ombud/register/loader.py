"""Load a register from YAML, keeping the line of every key for error messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from ombud.register.errors import Problem, RegisterError
from ombud.register.model import Register
from ombud.register.text import DEFAULT_LANGUAGE_KEY

PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class SourceMap:
    """Where each key of the YAML document stands: path -> (line, column), 1-based."""

    file: str
    positions: dict[PathKey, tuple[int, int]] = field(default_factory=dict)

    def line(self, path: PathKey) -> int:
        """The line of ``path``, or of its nearest ancestor that is in the file."""
        for end in range(len(path), -1, -1):
            position = self.positions.get(path[:end])
            if position is not None:
                return position[0]
        return 1


@dataclass(frozen=True)
class LoadedRegister:
    """A validated register with the file and positions it came from."""

    register: Register
    source: SourceMap
    data: dict[str, Any]
    path: Path

    def line(self, *path: str | int) -> int:
        return self.source.line(path)


def load(path: Path | str) -> LoadedRegister:
    """Read, parse and validate the register at ``path``.

    Raises :class:`RegisterError` listing every problem with its line.
    """
    path = Path(path)
    try:
        content = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RegisterError(
            [
                Problem(
                    str(path),
                    1,
                    "REG000",
                    "error",
                    "no such file; pass the register's path or set OMBUD_REGISTER",
                )
            ]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RegisterError(
            [Problem(str(path), 1, "REG000", "error", f"cannot read the file: {exc}")]
        ) from None
    return loads(content, str(path), base=path)


def loads(content: str, file: str = "<register>", base: Path | None = None) -> LoadedRegister:
    """Parse and validate register text; ``file`` names it in error messages."""
    source = SourceMap(file)
    yaml = YAML(typ="rt")
    try:
        document = yaml.load(content)
    except DuplicateKeyError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise RegisterError(
            [
                Problem(
                    file,
                    mark.line + 1 if mark else 1,
                    "YML001",
                    "error",
                    f"YAML: {exc.problem}; remove or rename one of the two keys",
                )
            ]
        ) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        message = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise RegisterError(
            [
                Problem(
                    file,
                    line,
                    "YML001",
                    "error",
                    f"YAML syntax: {message}; fix the indentation or quoting on this line",
                )
            ]
        ) from None
    except YAMLError as exc:
        raise RegisterError([Problem(file, 1, "YML001", "error", f"YAML syntax: {exc}")]) from None
    if not isinstance(document, CommentedMap):
        raise RegisterError(
            [
                Problem(
                    file,
                    1,
                    "YML002",
                    "error",
                    "the register must be a YAML mapping starting with `version: 1`",
                )
            ]
        )
    data = _plain(document, (), source.positions)
    languages = data.get("languages")
    default_language = (
        languages[0]
        if isinstance(languages, list) and languages and isinstance(languages[0], str)
        else "sv"
    )
    try:
        register = Register.model_validate(data, context={DEFAULT_LANGUAGE_KEY: default_language})
    except ValidationError as exc:
        raise RegisterError(_problems(exc, data, source)) from None
    return LoadedRegister(register, source, data, base or Path(file))


def _plain(node: Any, path: PathKey, positions: dict[PathKey, tuple[int, int]]) -> Any:
    """ruamel's round-trip nodes as plain Python values, recording key positions."""
    if isinstance(node, CommentedMap):
        result: dict[Any, Any] = {}
        for key, value in node.items():
            line, column = node.lc.key(key)
            child = (*path, str(key))
            positions[child] = (line + 1, column + 1)
            result[str(key)] = _plain(value, child, positions)
        return result
    if isinstance(node, CommentedSeq):
        items = []
        for index, value in enumerate(node):
            line, column = node.lc.item(index)
            positions[(*path, index)] = (line + 1, column + 1)
            items.append(_plain(value, (*path, index), positions))
        return items
    # ruamel's scalar subclasses (ScalarInt, LiteralScalarString, ...) as the plain types.
    for plain in (str, int, float):
        if isinstance(node, plain) and not isinstance(node, bool):
            return plain(node)
    return node


def _problems(exc: ValidationError, data: Any, source: SourceMap) -> list[Problem]:
    """One problem per offending place, with pydantic's union branches merged."""
    grouped: dict[PathKey, list[str]] = {}
    given: dict[PathKey, str] = {}
    for error in exc.errors(include_url=False):
        path, message = _describe(error, data)
        messages = grouped.setdefault(path, [])
        if message not in messages:
            messages.append(message)
        value = error.get("input")
        if (
            isinstance(value, str | int | float | bool)
            and repr(value) not in message
            and error["type"] not in ("extra_forbidden", "missing")
        ):
            given[path] = f" (got {value!r})"
    return [
        Problem(
            source.file,
            source.line(path),
            "SCH001",
            "error",
            f"{format_path(path)}: {' or '.join(messages)}{given.get(path, '')}",
        )
        for path, messages in grouped.items()
    ]


def _describe(error: ErrorDetails, data: Any) -> tuple[PathKey, str]:
    path: list[str | int] = []
    node = data
    loc = error["loc"]
    for part in loc:
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            node = node[part]
            path.append(part)
        elif error["type"] in ("extra_forbidden", "missing") and part == loc[-1]:
            path.append(part)
    kind = error["type"]
    if kind == "extra_forbidden":
        return tuple(path), (
            f"unknown field `{path[-1]}`; check its spelling and indentation "
            "(`ombud schema` lists the allowed fields)"
        )
    if kind == "missing":
        return tuple(path), f"required field `{path[-1]}` is missing"
    if kind == "string_pattern_mismatch":
        return tuple(path), (
            f"{error.get('input')!r} is not a valid id: use lower-case letters, digits, '-' and '_'"
        )
    return tuple(path), error["msg"].removeprefix("Value error, ")


def format_path(path: PathKey) -> str:
    """``("activities", 3, "name")`` -> ``activities[3].name``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(top level)"
