"""The register in the console: its parts as readable pages, its lint, and the notice's versions.

The register is edited in version control, not here: these pages read the
register being served, lint the file it comes from (so a file that no longer
loads shows its errors while the last good version is still served), and list
every version of the notice ever published.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import HTMLResponse

from ombud import store
from ombud.register import RegisterError, load
from ombud.register.lint import lint
from ombud.register.model import Register
from ombud.register.text import Text
from ombud.web.admin.auth import CurrentUser, Role, console_language, console_page, require_role
from ombud.web.admin.labels import code, labels, local_time

router = APIRouter(tags=["console"], include_in_schema=False)

SECTIONS = ("activities", "categories", "recipients", "systems")

Viewer = Annotated[CurrentUser, Depends(require_role(Role.VIEWER))]


def _say(register: Register, value: Text | None, lang: str) -> str:
    return "" if value is None else value.get(lang, register.language)


def _activities(register: Register, lang: str) -> list[dict[str, Any]]:
    categories = register.categories
    recipients = register.recipients
    t = labels(lang)
    rows = []
    for activity in register.activities:
        retention = activity.retention
        if retention is None:
            kept = ""
        elif retention.notice is not None:
            kept = _say(register, retention.notice, lang)
        else:
            kept = f"{retention.period or ''} ({retention.from_.value})".strip()
        flags = [t["direct_marketing"]] * activity.direct_marketing + [t["profiling"]] * (
            activity.profiling
        )
        rows.append(
            {
                "id": activity.id,
                "name": _say(register, activity.name, lang),
                "purpose": _say(register, activity.purpose, lang),
                "basis": code(lang, "basis", activity.legal_basis.value),
                "categories": [
                    _say(register, categories[c].name, lang) if c in categories else c
                    for c in activity.categories
                ],
                "recipients": [
                    _say(register, recipients[r].name, lang) if r in recipients else r
                    for r in activity.recipients
                ],
                "retention": kept,
                "controller": activity.controller,
                "flags": flags,
            }
        )
    return rows


def _categories(register: Register, lang: str) -> list[dict[str, Any]]:
    return [
        {
            "id": category_id,
            "name": _say(register, category.name, lang),
            "examples": _say(register, category.examples, lang),
            "special": category.special,
        }
        for category_id, category in register.categories.items()
    ]


def _recipients(register: Register, lang: str) -> list[dict[str, Any]]:
    rows = []
    for recipient_id, recipient in register.recipients.items():
        transfer = recipient.transfer
        rows.append(
            {
                "id": recipient_id,
                "name": _say(register, recipient.name, lang),
                "role": code(lang, "role", recipient.role.value),
                "country": recipient.country or "",
                "third_country": recipient.third_country,
                "transfer": ""
                if transfer is None
                else ", ".join(m.value for m in transfer.mechanisms)
                + (f": {transfer.reference}" if transfer.reference else ""),
            }
        )
    return rows


def _systems(register: Register, lang: str) -> list[dict[str, Any]]:
    names = {a.id: _say(register, a.name, lang) for a in register.activities}
    return [
        {
            "id": system.id,
            "name": system.name,
            "connector": code(lang, "connector", system.connector.value),
            "controller": system.controller or "",
            "activities": [names.get(a, a) for a in system.activities],
            "collections": list(system.collections),
            "owner": system.owner or "",
        }
        for system in register.systems
    ]


_BUILDERS = {
    "activities": _activities,
    "categories": _categories,
    "recipients": _recipients,
    "systems": _systems,
}


@router.get("/admin/register", response_class=HTMLResponse)
def register_overview(request: Request, user: Viewer) -> HTMLResponse:
    """The organisation, the lint of the register file, and the notice's version history."""
    lang = console_language(request)
    t = labels(lang)
    served = request.app.state.register.current()
    register: Register = served.register
    path = request.app.state.settings.register_path
    broken = False
    try:
        problems = lint(load(path))
    except RegisterError as exc:
        problems, broken = exc.problems, True
    with store.transaction(request.app.state.engine) as session:
        versions = [
            {
                "hash": v.content_hash,
                "first_served": local_time(v.first_served_at),
                "updated": v.updated.isoformat(),
                "current": v.content_hash == served.version,
            }
            for v in store.list_versions(session)
        ]
    dpo = register.organisation.dpo
    return console_page(
        request,
        "admin/register.html.j2",
        user=user,
        lang=lang,
        t=t,
        nav="register",
        title=t["register_title"],
        register_file=str(path),
        version=served.version,
        organisation=register.organisation.name,
        controllers=[(c.id, c.name, c.lead) for c in register.organisation.controllers],
        dpo=", ".join(x for x in (dpo.email, dpo.postal) if x) if dpo is not None else "",
        problems=[
            {
                "line": p.line,
                "code": p.code,
                "level": p.level,
                "level_text": code(lang, "level", p.level),
                "message": p.message,
            }
            for p in problems
        ],
        errors=sum(p.level == "error" for p in problems),
        warnings=sum(p.level == "warning" for p in problems),
        broken=broken,
        versions=versions,
        parts=SECTIONS,
    )


@router.get("/admin/register/{section}", response_class=HTMLResponse)
def register_section(request: Request, section: str, user: Viewer) -> HTMLResponse:
    """One part of the register as a table: activities, categories, recipients or systems."""
    if section not in _BUILDERS:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such part of the register")
    lang = console_language(request)
    t = labels(lang)
    register: Register = request.app.state.register.current().register
    return console_page(
        request,
        "admin/register_section.html.j2",
        user=user,
        lang=lang,
        t=t,
        nav="register",
        title=t[f"section_{section}"],
        part=section,
        rows=_BUILDERS[section](register, lang),
        parts=SECTIONS,
    )
