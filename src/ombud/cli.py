"""The `ombud` command line (DESIGN §4): parse input, call one service, map errors to exit codes.

Exit codes: 0 success, 1 bad input or a failed check, 2 usage.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from pydantic import SecretStr
from sqlalchemy import Engine

from ombud import audit, store
from ombud.mail import MailError
from ombud.notice import render_notice, render_ropa
from ombud.register import RegisterError, load
from ombud.register.env import MissingEnvironmentError
from ombud.register.lint import lint
from ombud.register.model import Register
from ombud.rights.deadlines import swedish_date
from ombud.rights.errors import RightsError
from ombud.rights.execution import run
from ombud.rights.intake import NewRequest, create_request, get_request, list_requests
from ombud.rights.models import Channel
from ombud.rights.summary import summarise
from ombud.settings import Settings
from ombud.store.crypto import Keys, SecretKeyError
from ombud.worker import runtime_from_settings

app = typer.Typer(
    name="ombud",
    help="Privacy operations under the GDPR, from one privacy register.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Ombud's own database.", no_args_is_help=True)
request_app = typer.Typer(help="Data subject requests.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")
app.add_typer(request_app, name="request")


class NoticeFormat(StrEnum):
    HTML = "html"
    MD = "md"
    PDF = "pdf"
    JSON = "json"


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class UserRole(StrEnum):
    VIEWER = "viewer"
    HANDLER = "handler"
    DPO = "dpo"
    ADMIN = "admin"


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


def _keys(settings: Settings) -> Keys:
    if settings.secret_key is None:
        _fail("OMBUD_SECRET_KEY is not set; requests store identifiers encrypted with it")
    try:
        return Keys.from_secret(settings.secret_key.get_secret_value())
    except SecretKeyError as exc:
        _fail(str(exc))


def _engine(settings: Settings) -> Engine:
    try:
        engine = store.make_engine(settings.database_url)
        store.check_current(engine)
    except store.StoreError as exc:
        _fail(str(exc))
    return engine


@request_app.command("new")
def request_new(  # noqa: PLR0917 - Typer reads options from the signature
    kind: Annotated[
        str,
        typer.Option(
            "--type",
            help="access, rectification, erasure, "
            "restriction, objection, portability, withdraw-consent",
        ),
    ],
    email: Annotated[list[str] | None, typer.Option(help="E-mail address.")] = None,
    phone: Annotated[list[str] | None, typer.Option(help="Phone number.")] = None,
    personnummer: Annotated[list[str] | None, typer.Option(help="Personnummer.")] = None,
    orgnr: Annotated[list[str] | None, typer.Option(help="Organisationsnummer.")] = None,
    customer_id: Annotated[list[str] | None, typer.Option(help="Customer id.")] = None,
    visitor_id: Annotated[list[str] | None, typer.Option(help="The banner's visitor id.")] = None,
    ip: Annotated[list[str] | None, typer.Option(help="IP address.")] = None,
    identifier: Annotated[
        list[str] | None, typer.Option("--id", help="Any identifier as KIND=VALUE.")
    ] = None,
    activity: Annotated[
        list[str] | None, typer.Option(help="Limit to this activity (objection, withdrawal).")
    ] = None,
    language: Annotated[str | None, typer.Option(help="The person's language.")] = None,
    controller: Annotated[str | None, typer.Option(help="The controller concerned.")] = None,
    details: Annotated[
        str | None, typer.Option(help="What the person asked, in their words.")
    ] = None,
    verified: Annotated[
        bool, typer.Option("--verified", help="The identity was verified by you (needs --note).")
    ] = False,
    note: Annotated[str | None, typer.Option(help="How the identity was verified.")] = None,
) -> None:
    """Register a request received by letter or phone; prints only the new id."""
    given = {
        "email": email,
        "phone": phone,
        "personnummer": personnummer,
        "orgnr": orgnr,
        "customer_id": customer_id,
        "visitor_id": visitor_id,
        "ip": ip,
    }
    identifiers = [(k, v) for k, values in given.items() for v in values or []]
    for pair in identifier or []:
        k, sep, v = pair.partition("=")
        if not sep or not k or not v:
            _fail(f"--id {pair!r}: write it as KIND=VALUE, e.g. --id customer_id=K-1042")
        identifiers.append((k.strip(), v))
    if verified and not (note and note.strip()):
        _fail("--verified needs --note saying how the identity was verified")
    if note and not verified:
        _fail("--note goes with --verified")
    settings = _settings()
    loaded = _load(None)
    keys = _keys(settings)
    engine = _engine(settings)
    new = NewRequest(
        type=kind,
        identifiers=identifiers,
        channel=Channel.HANDLER,
        language=language,
        controller_id=controller,
        activities=activity or [],
        details=details,
        verified_note=note if verified else None,
    )
    now = dt.datetime.now(dt.UTC)
    try:
        with store.transaction(engine) as session:
            version = store.record_served(session, loaded).content_hash
            request = create_request(
                session,
                new,
                register=loaded,
                register_version=version,
                keys=keys,
                actor="cli",
                now=now,
            )
    except RightsError as exc:
        _fail(str(exc))
    typer.echo(request.id)


@request_app.command("list")
def request_list(
    open_only: Annotated[bool, typer.Option("--open", help="Only requests not closed.")] = False,
    fmt: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = (
        OutputFormat.TEXT
    ),
) -> None:
    """Requests by due date, the most urgent first."""
    engine = _engine(_settings())
    today = swedish_date(dt.datetime.now(dt.UTC))
    with store.transaction(engine) as session:
        rows = [summarise(r, today=today) for r in list_requests(session, open_only=open_only)]
    if fmt is OutputFormat.JSON:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for row in rows:
        left = f"{row['days_left']:>4} days" if "days_left" in row else "  closed"
        typer.echo(f"{row['id']}  {row['type']:<17} {row['state']:<10} due {row['due']} {left}")


@request_app.command("show")
def request_show(
    request_id: Annotated[str, typer.Argument(help="The request's id.")],
    fmt: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = (
        OutputFormat.TEXT
    ),
) -> None:
    """One request: state, due date, per-system results."""
    engine = _engine(_settings())
    today = swedish_date(dt.datetime.now(dt.UTC))
    try:
        with store.transaction(engine) as session:
            row = summarise(get_request(session, request_id), today=today)
    except RightsError as exc:
        _fail(str(exc))
    if fmt is OutputFormat.JSON:
        typer.echo(json.dumps(row, indent=2, ensure_ascii=False))
        return
    for key, value in row.items():
        if key != "steps":
            typer.echo(f"{key:<17} {value}")
    for step in row["steps"]:
        typer.echo(
            f"step              {step['system']} {step['action']}: {step['state']}"
            + (f" ({step['error']})" if step["error"] else "")
        )


# --- API keys ----------------------------------------------------------------------------

apikey_app = typer.Typer(help="API keys for integrators (the processing gate, ...).")
app.add_typer(apikey_app, name="apikey", no_args_is_help=True)


@apikey_app.command("add")
def apikey_add(
    name: Annotated[str, typer.Argument(help="Who or what uses the key, e.g. crm-export.")],
    scope: Annotated[
        list[str],
        typer.Option(
            help="What the key may do: processing:check, consent:read, requests:write, "
            "requests:read; repeat for several."
        ),
    ],
) -> None:
    """Create an API key; prints the key, once: it cannot be shown again."""
    from ombud.store import apikeys  # noqa: PLC0415 - kept with the commands using it

    engine = _engine(_settings())
    try:
        scopes = apikeys.parse_scopes(scope)
        with store.transaction(engine) as session:
            created = apikeys.create_key(
                session, name=name, scopes=scopes, actor="cli", now=dt.datetime.now(dt.UTC)
            )
    except apikeys.ApiKeyError as exc:
        _fail(str(exc))
    typer.echo(
        f"API key {created.row.id} ({created.row.name}: {', '.join(created.row.scopes)}) "
        "created; store it now, it is not shown again:",
        err=True,
    )
    typer.echo(created.key)


@apikey_app.command("list")
def apikey_list(
    fmt: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = (
        OutputFormat.TEXT
    ),
) -> None:
    """API keys with their scopes and last use; never the keys themselves."""
    from ombud.store import apikeys  # noqa: PLC0415 - kept with the commands using it

    def moment(value: dt.datetime | None) -> str | None:
        return value.isoformat(timespec="seconds") if value is not None else None

    engine = _engine(_settings())
    with store.transaction(engine) as session:
        keys = apikeys.list_keys(session)
    if fmt is OutputFormat.JSON:
        rows = [
            {
                "id": key.id,
                "name": key.name,
                "scopes": key.scopes,
                "created_at": moment(key.created_at),
                "last_used_at": moment(key.last_used_at),
                "revoked_at": moment(key.revoked_at),
            }
            for key in keys
        ]
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for key in keys:
        state = f"revoked {moment(key.revoked_at)}" if key.revoked_at else "active"
        typer.echo(
            f"{key.id:>4}  {key.name:<24} {','.join(key.scopes):<40} {state}, "
            f"last used {moment(key.last_used_at) or 'never'}"
        )


@apikey_app.command("revoke")
def apikey_revoke(key_id: Annotated[int, typer.Argument(help="The key's id.")]) -> None:
    """Revoke an API key at once; requests with it are refused from then on."""
    from ombud.store import apikeys  # noqa: PLC0415 - kept with the commands using it

    engine = _engine(_settings())
    try:
        with store.transaction(engine) as session:
            row = apikeys.revoke_key(session, key_id, actor="cli", now=dt.datetime.now(dt.UTC))
    except apikeys.ApiKeyError as exc:
        _fail(str(exc))
    assert row.revoked_at is not None
    typer.echo(
        f"API key {row.id} ({row.name}) revoked {row.revoked_at.isoformat(timespec='seconds')}",
        err=True,
    )


# --- console users -----------------------------------------------------------------------

user_app = typer.Typer(help="Users of the admin console (/admin).")
app.add_typer(user_app, name="user", no_args_is_help=True)

#: Lets scripts give the new user's password without a terminal.
NEW_PASSWORD_VARIABLE = "OMBUD_NEW_PASSWORD"  # noqa: S105 - the variable's name, not a password


@user_app.command("add")
def user_add(
    email: Annotated[str, typer.Argument(help="The user's e-mail address; they log in with it.")],
    role: Annotated[
        UserRole,
        typer.Option(
            help="viewer reads; handler also runs cases; dpo also decides; admin also "
            "manages users and API keys."
        ),
    ],
    controller: Annotated[
        str | None,
        typer.Option(
            help="Limit the user to this controller's requests (a controller id of the "
            "register); omit for all controllers."
        ),
    ] = None,
) -> None:
    """Add a console user; asks for the password twice (or reads $OMBUD_NEW_PASSWORD)."""
    import os  # noqa: PLC0415 - kept with the command using it

    from ombud.store import users  # noqa: PLC0415 - kept with the commands using it

    settings = _settings()
    if controller is not None:
        known = [c.id for c in _load(None).organisation.controllers]
        if controller not in known:
            _fail(f"the register has no controller {controller!r}; use one of: {', '.join(known)}")
    engine = _engine(settings)
    password = os.environ.get(NEW_PASSWORD_VARIABLE)
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with store.transaction(engine) as session:
            user = users.create_user(
                session,
                email=email,
                password=password,
                role=users.Role(role.value),
                controller_id=controller,
                actor="cli",
                now=dt.datetime.now(dt.UTC),
            )
            summary = f"user {user.id} ({user.email}, {user.role}"
    except users.UserError as exc:
        _fail(str(exc))
    limit = f", only {controller}" if controller else ""
    typer.echo(f"{summary}{limit}) added; they log in at /admin/login", err=True)


@user_app.command("list")
def user_list(
    fmt: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = (
        OutputFormat.TEXT
    ),
) -> None:
    """Console users with their role, controller and state; never a password hash."""
    from ombud.store import users  # noqa: PLC0415 - kept with the commands using it

    def moment(value: dt.datetime | None) -> str | None:
        return value.isoformat(timespec="seconds") if value is not None else None

    engine = _engine(_settings())
    with store.transaction(engine) as session:
        rows = [
            {
                "id": user.id,
                "email": user.email,
                "role": user.role,
                "controller": user.controller_id,
                "created_at": moment(user.created_at),
                "disabled_at": moment(user.disabled_at),
            }
            for user in users.list_users(session)
        ]
    if fmt is OutputFormat.JSON:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for row in rows:
        state = f"disabled {row['disabled_at']}" if row["disabled_at"] else "active"
        typer.echo(
            f"{row['id']:>4}  {row['email']:<36} {row['role']:<8} "
            f"{row['controller'] or 'all controllers':<20} {state}"
        )


@user_app.command("disable")
def user_disable(
    email: Annotated[str, typer.Argument(help="The user's e-mail address.")],
) -> None:
    """Disable a console user at once: their sessions end and they can no longer log in."""
    from ombud.store import users  # noqa: PLC0415 - kept with the commands using it

    engine = _engine(_settings())
    try:
        with store.transaction(engine) as session:
            user = users.disable_user(session, email, actor="cli", now=dt.datetime.now(dt.UTC))
            user_id = user.id
    except users.UserError as exc:
        _fail(str(exc))
    typer.echo(f"user {user_id} disabled; their sessions have ended", err=True)


@request_app.command("run")
def request_run(
    request_id: Annotated[str, typer.Argument(help="The request's id.")],
) -> None:
    """Run every automated step of a verified request now, and wait until it is done."""
    settings = _settings()
    keys = _keys(settings)
    engine = _engine(settings)
    try:
        runtime = runtime_from_settings(settings, keys)
        request = run(engine, request_id, runtime)
    except (RightsError, MailError) as exc:
        _fail(str(exc))
    except RegisterError as exc:
        for problem in exc.problems:
            typer.echo(str(problem), err=True)
        raise typer.Exit(1) from None
    with store.transaction(engine) as session:
        row = summarise(get_request(session, request.id))
    waiting = [
        f"{s['system']} {s['action']}: {s['state']}" + (f" ({s['error']})" if s["error"] else "")
        for s in row["steps"]
        if s["state"] != "done"
    ]
    typer.echo(f"{row['id']} {row['state']}")
    for line in waiting:
        typer.echo(f"  {line}")


# --- consent ----------------------------------------------------------------------------

consent_app = typer.Typer(help="The consent ledger: proof of consent.", no_args_is_help=True)
app.add_typer(consent_app, name="consent")


@consent_app.command("proof")
def consent_proof(
    receipt_id: Annotated[str, typer.Argument(help="The receipt id (= the consent event's id).")],
) -> None:
    """Print the receipt of a consent event as JSON, with the exact text that was shown."""
    from ombud import consent  # noqa: PLC0415 - kept with the commands using it

    settings = _settings()
    engine = _engine(settings)
    try:
        with store.transaction(engine) as session:
            proof = consent.receipt(session, receipt_id, base_url=settings.base_url)
    except consent.ConsentError as exc:
        _fail(str(exc))
    typer.echo(json.dumps(proof, indent=2, ensure_ascii=False))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Server processes (PostgreSQL only); one of them runs the background work.",
        ),
    ] = 1,
) -> None:
    """Serve the web app: the published notice, portal, API and console."""
    settings = _settings()
    if settings.secret_key is None and not settings.demo:
        _fail(
            "OMBUD_SECRET_KEY is not set; export a long random value "
            "(e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)"
        )
    _serve(settings, host, port, workers=workers)


@app.command()
def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Where to build the demo.")] = Path(
        "demo"
    ),
    size: Annotated[int, typer.Option(help="How many synthetic people.", min=10)] = 200,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Only build.")] = False,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Build the Almi example with demo systems full of synthetic people in DIR, then serve it.

    A DIR built before with the same --size is served as it is, requests and all.
    """
    from ombud.demo import build_demo  # noqa: PLC0415 - Faker-sized work only for the demo

    manifest = directory / "demo.json"
    built = (
        manifest.is_file() and json.loads(manifest.read_text(encoding="utf-8")).get("size") == size
    )
    if not built:
        build_demo(directory, size=size, progress=sys.stderr)
    register_path = directory / "ombud.yaml"
    database_url = f"sqlite:///{(directory / 'ombud.db').resolve()}"
    store.upgrade(database_url)
    typer.echo(
        f"demo {'kept' if built else 'built'} in {directory}: {size} people, "
        f"register {register_path}, Ombud's database {directory / 'ombud.db'}",
        err=True,
    )
    if no_serve:
        return
    base = _settings()
    settings = base.model_copy(
        update={
            "register_path": register_path,
            "database_url": database_url,
            "demo": True,
            "secret_key": base.secret_key or SecretStr(_demo_secret(directory)),
        }
    )
    _serve(settings, host, port)


def _demo_secret(directory: Path) -> str:
    """The demo's own key, kept beside its synthetic data so a restart can still read the
    requests it stored. Only the demo does this: real deployments take OMBUD_SECRET_KEY.
    """
    path = directory / "demo-secret-key"
    if not path.is_file():
        path.write_text(secrets.token_hex(32), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def _serve(settings: Settings, host: str, port: int, *, workers: int = 1) -> None:
    import uvicorn  # noqa: PLC0415 - the server is only needed by the commands that serve

    from ombud.web import create_app  # noqa: PLC0415 - FastAPI stays out of the other commands
    from ombud.web.app import LOG_FORMAT  # noqa: PLC0415 - as above

    try:
        application = create_app(settings)
    except RegisterError as exc:
        for problem in exc.problems:
            typer.echo(str(problem), err=True)
        raise typer.Exit(1) from None
    except (store.StoreError, SecretKeyError) as exc:
        _fail(str(exc))
    if workers > 1 and application.state.engine.dialect.name != "postgresql":
        _fail(
            f"--workers {workers} needs PostgreSQL: SQLite takes one writer at a time, so "
            "more processes would only wait for each other; serve it with one process"
        )
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    # Uvicorn's access log prints client addresses (personal data); ours does not.
    if workers == 1:
        uvicorn.run(application, host=host, port=port, log_level="info", access_log=False)
        return
    # Checked above in this process; each server process builds its own from the environment.
    del application
    from ombud.web.server import serve_processes  # noqa: PLC0415 - as above

    raise typer.Exit(serve_processes(host, port, workers))


def main() -> None:
    """Entry point of the `ombud` script."""
    try:
        app()
    except MissingEnvironmentError as exc:
        typer.echo(f"ombud: {exc}", err=True)
        sys.exit(1)
