"""The `ombud` command line (DESIGN §4): parse input, call one service, map errors to exit codes.

Exit codes: 0 success, 1 bad input or a failed check, 2 usage.
"""

from __future__ import annotations

import json
import logging
import secrets
import shutil
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from ombud import audit, store
from ombud.notice import render_notice, render_ropa
from ombud.register import RegisterError, load
from ombud.register.env import MissingEnvironmentError
from ombud.register.lint import lint
from ombud.register.model import Register
from ombud.settings import Settings

app = typer.Typer(
    name="ombud",
    help="Privacy operations under the GDPR, from one privacy register.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Ombud's own database.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")

EXAMPLE_REGISTER = Path(__file__).resolve().parents[2] / "examples" / "almi" / "ombud.yaml"


class NoticeFormat(StrEnum):
    HTML = "html"
    MD = "md"
    PDF = "pdf"
    JSON = "json"


class RopaFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    JSON = "json"


RegisterArg = Annotated[
    Path | None,
    typer.Argument(help="The register file (default: $OMBUD_REGISTER, else ./ombud.yaml)."),
]
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write to FILE instead of standard output.")
]


def _fail(message: str) -> NoReturn:
    typer.echo(f"ombud: {message}", err=True)
    raise typer.Exit(1)


def _settings() -> Settings:
    return Settings()


def _load(path: Path | None) -> Register:
    try:
        return load(path or _settings().register_path).register
    except RegisterError as exc:
        for problem in exc.problems:
            typer.echo(str(problem), err=True)
        raise typer.Exit(1) from None


def _write(data: bytes, output: Path | None) -> None:
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        output.write_bytes(data)
    except OSError as exc:
        _fail(f"cannot write {output}: {exc.strerror}; check the directory exists and is writable")


@app.command()
def check(
    register: RegisterArg = None,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on warnings too.")] = False,
) -> None:
    """Validate and lint the register: `file:line: CODE level: message`."""
    path = register or _settings().register_path
    try:
        problems = lint(load(path))
    except RegisterError as exc:
        problems = exc.problems
    for problem in problems:
        typer.echo(str(problem))
    errors = sum(p.level == "error" for p in problems)
    warnings = len(problems) - errors
    typer.echo(f"{path}: {errors} error(s), {warnings} warning(s)", err=True)
    if errors or (strict and warnings):
        raise typer.Exit(1)


@app.command()
def schema() -> None:
    """Print the register's JSON Schema."""
    document = Register.model_json_schema(by_alias=True)
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["title"] = "Ombud privacy register"
    typer.echo(json.dumps(document, indent=2, ensure_ascii=False))


@app.command()
def notice(
    register: RegisterArg = None,
    lang: Annotated[str, typer.Option(help="Language code, e.g. sv or en.")] = "sv",
    fmt: Annotated[NoticeFormat, typer.Option("--format", help="Output format.")] = (
        NoticeFormat.HTML
    ),
    output: OutputOpt = None,
) -> None:
    """Render the privacy notice (Art. 13/14)."""
    loaded = _load(register)
    if lang not in loaded.languages:
        _fail(f"the register has no language {lang!r}; use one of: {', '.join(loaded.languages)}")
    _write(render_notice(loaded, lang=lang, fmt=fmt.value), output)


@app.command()
def ropa(
    register: RegisterArg = None,
    fmt: Annotated[RopaFormat, typer.Option("--format", help="Output format.")] = RopaFormat.CSV,
    lang: Annotated[str | None, typer.Option(help="Language (default: the first).")] = None,
    output: OutputOpt = None,
) -> None:
    """Export the Art. 30(1) record of processing activities."""
    loaded = _load(register)
    if lang is not None and lang not in loaded.languages:
        _fail(f"the register has no language {lang!r}; use one of: {', '.join(loaded.languages)}")
    if fmt is RopaFormat.XLSX and output is None and sys.stdout.isatty():
        _fail("xlsx is binary; write it to a file with -o record.xlsx")
    _write(render_ropa(loaded, fmt=fmt.value, lang=lang), output)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the migrations to $OMBUD_DATABASE_URL."""
    url = _settings().database_url
    try:
        store.upgrade(url)
    except store.StoreError as exc:
        _fail(str(exc))
    typer.echo("database is up to date", err=True)


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit chain; exit 1 naming the first bad entry if it is broken."""
    engine = store.make_engine(_settings().database_url)
    with store.transaction(engine) as session:
        result = audit.verify(session)
    if not result.ok:
        _fail(
            f"audit log broken at entry {result.first_bad_seq}: {result.reason} "
            f"({result.checked} entries checked)"
        )
    typer.echo(f"audit log intact: {result.checked} entries")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the web app: the published notice, portal, API and console."""
    settings = _settings()
    if settings.secret_key is None and not settings.demo:
        _fail(
            "OMBUD_SECRET_KEY is not set; export a long random value "
            "(e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)"
        )
    _serve(settings, host, port)


@app.command()
def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Where to build the demo.")] = Path(
        "demo"
    ),
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Only build.")] = False,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Build the Almi example in DIR (register and SQLite store), then serve it."""
    if not EXAMPLE_REGISTER.is_file():
        _fail(f"the Almi example is missing at {EXAMPLE_REGISTER}; run from a source checkout")
    directory.mkdir(parents=True, exist_ok=True)
    register_path = directory / "ombud.yaml"
    shutil.copyfile(EXAMPLE_REGISTER, register_path)
    database_url = f"sqlite:///{(directory / 'ombud.db').resolve()}"
    store.upgrade(database_url)
    typer.echo(f"demo built in {directory}: {register_path}, {database_url}", err=True)
    if no_serve:
        return
    base = _settings()
    settings = base.model_copy(
        update={
            "register_path": register_path,
            "database_url": database_url,
            "demo": True,
            # The demo's data is synthetic: a throwaway key is acceptable here and only here.
            "secret_key": base.secret_key or secrets.token_hex(32),
        }
    )
    _serve(settings, host, port)


def _serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn  # noqa: PLC0415 - the server is only needed by the commands that serve

    from ombud.web import create_app  # noqa: PLC0415 - FastAPI stays out of the other commands

    try:
        application = create_app(settings)
    except RegisterError as exc:
        for problem in exc.problems:
            typer.echo(str(problem), err=True)
        raise typer.Exit(1) from None
    except store.StoreError as exc:
        _fail(str(exc))
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # Uvicorn's access log prints client addresses (personal data); ours does not.
    uvicorn.run(application, host=host, port=port, log_level="info", access_log=False)


def main() -> None:
    """Entry point of the `ombud` script."""
    try:
        app()
    except MissingEnvironmentError as exc:
        typer.echo(f"ombud: {exc}", err=True)
        sys.exit(1)
