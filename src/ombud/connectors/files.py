"""The files connector: CSV files, JSON-lines files and web server access logs.

Files are streamed, a record at a time, never loaded whole. A change rewrites
the file *atomically*: the new content goes to a temporary file in the same
directory, which is flushed, fsynced, given the original's permissions and owner,
and renamed over the original with :func:`os.replace`; the directory is fsynced
after. A failure at any point leaves the original as it was. A file in which
nothing changes is not rewritten at all.

A collection's ``path`` may end in a glob pattern (``logs/access.log*``) to
cover rotated files; compressed files are not read. A key is
``(file name, primary key values...)``, or ``(file name, record digest)`` when
no primary key is declared (access logs): the digest of a record changes when
the record does, so a repeated erasure finds nothing more to do.

Formats:

* ``csv``: a header row names the columns; an empty cell is no value (None).
* ``jsonl``: one JSON object per line; columns are its top-level keys.
* ``log``: the combined log format of Apache and nginx, whose columns are
  ``ip`` (the first field), ``ident``, ``user``, ``time``, ``request``,
  ``status``, ``size``, ``referer`` and ``user_agent``; ``-`` is no value. Lines
  of another shape have only ``ip``. A line is erased by deleting it, or by
  changing the fields in place (``truncate_ip`` on ``ip``).

Appends by another process during a rewrite are lost with the old file: erase
rotated log files, not the one a server is writing to.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import hashlib
import json
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from collections.abc import Collection as Values
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ombud.connectors.base import (
    CollectionSpec,
    Counts,
    Erasure,
    Found,
    InvalidSpec,
    Key,
    Rejected,
    SchemaMismatch,
    Strategy,
    SystemSpec,
    Value,
)
from ombud.connectors.masking import mask

__all__ = ["LOG_COLUMNS", "FilesConnector"]

#: The columns of a combined-format access log line.
LOG_COLUMNS = ("ip", "ident", "user", "time", "request", "status", "size", "referer", "user_agent")
_QUOTED = r'(?:[^"\\]|\\.)*'
_COMBINED = re.compile(
    r"(?P<ip>\S+) (?P<ident>\S+) (?P<user>\S+) \[(?P<time>[^\]]*)\] "
    rf'"(?P<request>{_QUOTED})" (?P<status>\S+) (?P<size>\S+)'
    rf'(?: "(?P<referer>{_QUOTED})" "(?P<user_agent>{_QUOTED})")?'
)
_FIRST_FIELD = re.compile(r"(?P<ip>\S+)")
_GLOB = re.compile(r"[*?\[]")

#: What a change does to one record: its new values, the same values, or None to delete it.
Change = Callable[[dict[str, Value]], dict[str, Value] | None]


@dataclass
class _Record:
    """One record as read: its values and the exact text it was read from."""

    values: dict[str, Value]
    text: str
    ending: str
    spans: dict[str, tuple[int, int]] | None = None  # log fields' positions in text
    header: list[str] | None = None  # a CSV file's header row: never a match


class FilesConnector:
    """Files of the register's folder (see the module docstring).

    ``fsync`` is the seam through which tests make a rewrite fail after the new
    content is written and before it replaces the original.
    """

    def __init__(self, spec: SystemSpec, *, fsync: Callable[[int], None] = os.fsync) -> None:
        for name, collection in spec.collections.items():
            if collection.path is None or collection.format is None:
                raise InvalidSpec(
                    spec.id,
                    "a files collection needs `path:` and `format:` (csv, jsonl or log)",
                    collection=name,
                )
        self._spec = spec
        self._fsync = fsync

    @property
    def spec(self) -> SystemSpec:
        return self._spec

    def close(self) -> None:
        """Nothing to release: every call opens and closes its files."""

    # --- the protocol -------------------------------------------------------------------------

    def check(self) -> None:
        for name, collection in self._spec.collections.items():
            declared = self._spec.columns(name)
            for path in self._files(collection):
                if not os.access(path, os.R_OK | os.W_OK):
                    raise Rejected(
                        self._spec.id,
                        f"file {path} cannot be read and written by this process; fix its "
                        "permissions",
                        collection=name,
                    )
                self._require(collection, path, declared)

    def _require(self, spec: CollectionSpec, path: Path, columns: Sequence[str]) -> None:
        """Raise SchemaMismatch for a column the file does not have (JSON lines have no
        schema to compare with: a key may be absent from some records).
        """
        if spec.format == "jsonl":
            return
        available: Sequence[str] = LOG_COLUMNS
        if spec.format == "csv":
            with path.open(encoding="utf-8", newline="") as handle:
                available = next(csv.reader(handle), [])
        for column in columns:
            if column not in available:
                raise SchemaMismatch(
                    self._spec.id,
                    f"column `{column}` is declared but {path.name} has no such column "
                    f"(it has {', '.join(available)})",
                    collection=spec.name,
                    column=column,
                )

    def find(self, collection: str, column: str, values: Values[Value]) -> list[Found]:
        spec = self._spec.collection(collection)
        wanted = {_text(value) for value in values if value is not None}
        if not wanted:
            return []
        names = self._spec.columns(collection)
        found: list[Found] = []
        for path in self._files(spec):
            for record in self._records(spec, path):
                if record.header is not None:
                    continue
                value = record.values.get(column)
                if value is not None and _text(value) in wanted:
                    selected = {name: record.values.get(name) for name in names}
                    if spec.restrict is not None:
                        selected[spec.restrict] = _flag(selected[spec.restrict])
                    found.append(Found(collection, self._key(spec, path, record), selected))
        return found

    def erase(
        self, collection: str, keys: Sequence[Key], strategy: Erasure, *, hash_key: bytes
    ) -> Counts:
        spec = self._spec.collection(collection)
        if spec.held:
            matched, restricted = self._rewrite(spec, keys, self._restrictor(spec, on=True))
            return Counts(collection, matched=matched, restricted=restricted, held=matched)
        if isinstance(strategy, str):
            matched, deleted = self._rewrite(spec, keys, lambda _: None)
            return Counts(collection, matched=matched, deleted=deleted)
        strategies = {column: Strategy(s) for column, s in strategy.items()}
        for path in self._files(spec):
            self._require(spec, path, list(strategies))

        def change(values: dict[str, Value]) -> dict[str, Value]:
            return values | {
                column: mask(s, values.get(column), hash_key=hash_key)
                for column, s in strategies.items()
                if column in values
            }

        matched, updated = self._rewrite(spec, keys, change)
        return Counts(collection, matched=matched, updated=updated)

    def restrict(self, collection: str, keys: Sequence[Key], *, on: bool) -> Counts:
        spec = self._spec.collection(collection)
        _, changed = self._rewrite(spec, keys, self._restrictor(spec, on=on))
        return Counts(collection, restricted=changed)

    def rectify(self, collection: str, key: Key, changes: Mapping[str, Value]) -> Counts:
        spec = self._spec.collection(collection)
        for column in changes:
            if column not in spec.fields:
                raise Rejected(
                    self._spec.id,
                    f"column `{column}` is not a declared field; rectification changes only "
                    f"the columns under `fields:` ({', '.join(spec.fields) or 'none'})",
                    collection=collection,
                )
        matched, updated = self._rewrite(spec, [key], lambda values: values | dict(changes))
        return Counts(collection, matched=matched, updated=updated)

    # --- reading ------------------------------------------------------------------------------

    def _files(self, spec: CollectionSpec) -> list[Path]:
        assert spec.path is not None
        if _GLOB.search(spec.path.name):
            return sorted(p for p in spec.path.parent.glob(spec.path.name) if p.is_file())
        if not spec.path.is_file():
            raise SchemaMismatch(
                self._spec.id,
                f"file {spec.path} does not exist; correct `path:` (relative to the register)",
                collection=spec.name,
            )
        return [spec.path]

    def _records(self, spec: CollectionSpec, path: Path) -> Iterator[_Record]:
        try:
            with path.open(encoding="utf-8", newline="") as handle:
                match spec.format:
                    case "csv":
                        yield from _csv_records(handle)
                    case "jsonl":
                        yield from _jsonl_records(self._spec.id, spec.name, path, handle)
                    case _:
                        yield from _log_records(handle)
        except (OSError, UnicodeDecodeError) as exc:
            raise Rejected(
                self._spec.id,
                f"cannot read {path.name} ({type(exc).__name__})",
                collection=spec.name,
            ) from None

    def _key(self, spec: CollectionSpec, path: Path, record: _Record) -> Key:
        if spec.primary_key:
            return (path.name, *(_text(record.values.get(c)) for c in spec.primary_key))
        return (path.name, hashlib.sha256(record.text.encode("utf-8")).hexdigest()[:32])

    # --- rewriting ----------------------------------------------------------------------------

    def _restrictor(self, spec: CollectionSpec, *, on: bool) -> Change:
        column = spec.restrict
        if column is None or spec.format == "log":
            if spec.held:
                return lambda values: values  # count the held rows, change nothing
            raise Rejected(
                self._spec.id,
                "no restrict column is declared (an access log has none); add `restrict: "
                "{column: ...}` to the collection",
                collection=spec.name,
            )
        flag: Value = ("true" if on else "false") if spec.format == "csv" else on
        return lambda values: values if _flag(values.get(column)) is on else values | {column: flag}

    def _rewrite(
        self, spec: CollectionSpec, keys: Sequence[Key], change: Change
    ) -> tuple[int, int]:
        """Apply ``change`` to the records with these keys; (records matched, changed)."""
        by_file: dict[str, set[Key]] = {}
        for key in keys:
            by_file.setdefault(str(key[0]), set()).add(tuple(_text(part) for part in key))
        matched = changed = 0
        for path in self._files(spec):
            wanted = by_file.get(path.name)
            if wanted:
                m, c = self._rewrite_file(spec, path, wanted, change)
                matched, changed = matched + m, changed + c
        return matched, changed

    def _rewrite_file(
        self, spec: CollectionSpec, path: Path, keys: set[Key], change: Change
    ) -> tuple[int, int]:
        with _locked(path):
            return self._rewrite_locked(spec, path, keys, change)

    def _rewrite_locked(
        self, spec: CollectionSpec, path: Path, keys: set[Key], change: Change
    ) -> tuple[int, int]:
        original = path.stat()
        matched = changed = 0
        # Not a `with`: the file must outlive the block to be renamed (SIM115).
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115
            "w",
            encoding="utf-8",
            newline="",
            dir=path.parent,
            prefix=f".{path.name}.",
            suffix=".ombud-tmp",
            delete=False,
        )
        temporary = Path(handle.name)
        try:
            with handle:
                writer = _Writer(spec, handle)
                for record in self._records(spec, path):
                    if record.header is not None or self._key(spec, path, record) not in keys:
                        writer.keep(record)
                        continue
                    matched += 1
                    new = change(dict(record.values))
                    if new is None:
                        changed += 1
                    elif new != record.values:
                        changed += 1
                        writer.write(record, new)
                    else:
                        writer.keep(record)
                handle.flush()
                self._fsync(handle.fileno())
            if changed:
                temporary.chmod(stat.S_IMODE(original.st_mode))
                with contextlib.suppress(PermissionError):  # only root may give files away
                    os.chown(temporary, original.st_uid, original.st_gid)
                temporary.replace(path)
                _fsync_directory(path.parent)
        except OSError as exc:
            raise Rejected(
                self._spec.id,
                f"cannot rewrite {path.name} ({type(exc).__name__}); the file is unchanged",
                collection=spec.name,
            ) from None
        finally:
            temporary.unlink(missing_ok=True)
        return matched, changed


class _Writer:
    """Writes records in the file's format: unchanged ones exactly as they were read."""

    def __init__(self, spec: CollectionSpec, handle: IO[str]) -> None:
        self._format = spec.format
        self._handle = handle
        self._header: list[str] = []

    def keep(self, record: _Record) -> None:
        if record.header is not None:
            self._header = record.header
        self._handle.write(record.text + record.ending)

    def write(self, record: _Record, values: Mapping[str, Value]) -> None:
        match self._format:
            case "csv":
                writer = csv.writer(self._handle, lineterminator=record.ending)
                writer.writerow(["" if values.get(c) is None else values[c] for c in self._header])
            case "jsonl":
                self._handle.write(json.dumps(dict(values), ensure_ascii=False) + record.ending)
            case _:
                self._handle.write(_log_line(record, values) + record.ending)


# --- formats ----------------------------------------------------------------------------------


def _split_ending(line: str) -> tuple[str, str]:
    stripped = line.rstrip("\r\n")
    return stripped, line[len(stripped) :]


def _csv_records(handle: IO[str]) -> Iterator[_Record]:
    lines = _RawLines(handle)
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        return
    text, ending = lines.take()
    yield _Record({}, text, ending, header=header)
    for cells in reader:
        text, record_ending = lines.take()
        values = {c: (cells[i] if i < len(cells) else "") or None for i, c in enumerate(header)}
        yield _Record(values, text, record_ending or ending or "\n")


class _RawLines:
    """Lines for csv.reader that remember the raw text of the record being read (a quoted
    cell may span lines), so an unchanged record is written back byte for byte.
    """

    def __init__(self, handle: IO[str]) -> None:
        self._handle = handle
        self._parts: list[str] = []

    def __iter__(self) -> _RawLines:
        return self

    def __next__(self) -> str:
        line = self._handle.readline()
        if not line:
            raise StopIteration
        self._parts.append(line)
        return line

    def take(self) -> tuple[str, str]:
        text, ending = _split_ending("".join(self._parts))
        self._parts = []
        return text, ending


def _jsonl_records(system: str, collection: str, path: Path, handle: IO[str]) -> Iterator[_Record]:
    for number, line in enumerate(handle, start=1):
        text, ending = _split_ending(line)
        if not text.strip():
            yield _Record({}, text, ending)
            continue
        try:
            values = json.loads(text)
        except json.JSONDecodeError:
            raise SchemaMismatch(
                system,
                f"{path.name} line {number} is not JSON; fix or remove the line",
                collection=collection,
            ) from None
        if not isinstance(values, dict):
            raise SchemaMismatch(
                system, f"{path.name} line {number} is not a JSON object", collection=collection
            )
        yield _Record(values, text, ending)


def _log_records(handle: IO[str]) -> Iterator[_Record]:
    for line in handle:
        text, ending = _split_ending(line)
        match = _COMBINED.match(text) or _FIRST_FIELD.match(text)
        if match is None:
            yield _Record({}, text, ending, {})
            continue
        values: dict[str, Value] = {}
        spans: dict[str, tuple[int, int]] = {}
        for name, value in match.groupdict().items():
            if value is not None:
                values[name] = None if value == "-" else value
                spans[name] = match.span(name)
        yield _Record(values, text, ending, spans)


def _log_line(record: _Record, values: Mapping[str, Value]) -> str:
    """The line with changed fields replaced in place, right to left so spans hold."""
    text = record.text
    spans = record.spans or {}
    for name, (start, end) in sorted(spans.items(), key=lambda item: -item[1][0]):
        new = values.get(name)
        if new != record.values.get(name):
            text = text[:start] + _log_field(name, new) + text[end:]
    return text


def _log_field(name: str, value: Value) -> str:
    if value is None:
        return "-"
    if name in ("request", "referer", "user_agent"):  # quoted fields
        return str(value).replace("\\", "\\\\").replace('"', '\\"')
    return re.sub(r"\s", "_", str(value)) or "-"  # unquoted: one token


# --- small things -----------------------------------------------------------------------------


def _text(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def _flag(value: Value) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "t", "y")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on the file, across threads and processes: two workers
    rewriting one file would otherwise each replace it and lose the other's change.
    The lock is on the inode, so after taking it, check that the path still names it
    (a rewrite that finished meanwhile replaced the file).
    """
    while True:
        fd = os.open(path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if os.fstat(fd).st_ino == path.stat().st_ino:
                break
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    try:
        yield
    finally:
        os.close(fd)  # releases the lock


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
