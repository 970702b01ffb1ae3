"""The console served for real on the demo systems, with a few months of cases in it.

:func:`running_console` builds the demo (``ombud.demo.build_demo``: the Almi
register and its systems as SQLite files), migrates a fresh SQLite store,
serves the app in uvicorn on a thread (harness.py) and adds one user per role.
It runs with ``worker="none"``: an action that runs a request (``run``, a
decided objection) runs it during the POST, so the page the browser is sent
back to already shows the outcome and no test waits on a background thread.

:func:`seed_cases` then gives the console the look of a few months of work, the
way the docs' screenshots show it: closed requests in earlier months, open ones
in every state, one of them overdue, and banner choices in the last weeks.
Every test makes its own requests on top (most for the demo's ``everywhere``
person, who is in every system), so the tests do not depend on one another.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
import re
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import serving
from playwright.sync_api import Page, expect
from sqlalchemy import select

from console_cases import DemoConsole
from ombud import store
from ombud.consent.ledger import record_choice
from ombud.consent.texts import banner_text
from ombud.demo import build_demo
from ombud.rights.decisions import complete_task, decide_objection, extend, refuse
from ombud.rights.execution import run
from ombud.rights.intake import get_request
from ombud.rights.models import Channel, DataRequest, ManualTask
from ombud.settings import Settings
from ombud.store.users import Role, create_user
from ombud.web import create_app
from ombud.worker import runtime_from_settings

PASSWORD = "correct horse battery staple"
#: The people of the seeded cases, by their row in the demo CRM (``persons.id``); the
#: demo's edge cases (ids up to 9) are left to the tests.
SEEDED_PEOPLE = range(10, 30)


@dataclass
class Console(DemoConsole):
    """The console as served to the browser at ``url``, with a user of every role."""

    url: str
    #: The e-mail of the user of each role; every one has :data:`PASSWORD`.
    users: dict[Role, str]
    #: How the audit log names the user of each role (``user:<id>``).
    actors: dict[Role, str]
    #: Ids of the requests :func:`seed_cases` made, by what they show.
    seeded: dict[str, str] = field(default_factory=dict)

    def everywhere(self) -> list[tuple[str, str]]:
        """The identifiers of the demo's person who is in every system."""
        person = self.person("everywhere")
        return [("email", person["email"]), ("personnummer", person["personal_number"])]

    def run(self, request_id: str, *, at: dt.datetime, actor: str) -> DataRequest:
        """Run a verified request as it would have run at ``at``."""
        state = self.app.state
        runtime = runtime_from_settings(
            state.settings, state.keys, mail=state.mail, register=state.register.current().register
        )
        return run(
            self.engine, request_id, dataclasses.replace(runtime, clock=lambda: at, actor=actor)
        )

    def settle(self, request_id: str, *, at: dt.datetime, actor: str) -> DataRequest:
        """Do what a run left waiting as its owners would at ``at`` (each manual task done,
        each objection upheld), then run the request on to its end."""
        with store.transaction(self.engine) as session:
            request = get_request(session, request_id)
            pending = session.scalars(
                select(ManualTask.system_id).where(
                    ManualTask.request_id == request_id, ManualTask.state == "pending"
                )
            ).all()
            for system_id in pending:
                complete_task(session, request, system_id=system_id, actor=actor, now=at)
            decided = (request.decisions or {}).get("objection", {})
            for activity in request.activities or []:
                if activity not in decided:
                    decide_objection(
                        session,
                        request,
                        activity_id=activity,
                        upheld=True,
                        grounds="Nothing outweighs the person's wish to be left out.",
                        actor=actor,
                        keys=self.app.state.keys,
                        now=at,
                    )
        return self.run(request_id, at=at, actor=actor)

    def log_in(self, page: Page, role: Role, *, lang: str = "en") -> None:
        """Log ``page`` in through the login form as the user of ``role``."""
        email, password, submit = LOGIN_FORM[lang]
        page.goto(f"{self.url}/admin/login?lang={lang}")
        page.get_by_label(email).fill(self.users[role])
        page.get_by_label(password).fill(PASSWORD)
        page.get_by_role("button", name=submit).click()
        # The console that opens speaks the browser's language, whichever the form's was.
        expect(page.get_by_role("button", name=re.compile("^(Log out|Logga ut)$"))).to_be_visible()


#: The login form's labels: e-mail, password, button.
LOGIN_FORM = {
    "sv": ("E-postadress", "Lösenord", "Logga in"),
    "en": ("E-mail address", "Password", "Log in"),
}


@contextmanager
def running_console(directory: Path) -> Iterator[Console]:
    """The console on the demo systems in ``directory``, a fresh store, and a user per role."""
    demo = directory / "demo"
    build_demo(demo, size=60, seed=5)
    url = f"sqlite:///{directory / 'ombud.db'}"
    store.upgrade(url)
    outbox = directory / "outbox"
    settings = Settings(
        register_path=demo / "ombud.yaml",
        database_url=url,
        secret_key="console browser tests' secret key",
        mail_url=f"file:{outbox}",
        worker="none",
    )
    app = create_app(settings)
    manifest = json.loads((demo / "demo.json").read_text(encoding="utf-8"))
    users = {role: f"{role.value}@almi.example" for role in Role}
    actors = {}
    with store.transaction(app.state.engine) as session:
        for role, email in users.items():
            user = create_user(
                session,
                email=email,
                password=PASSWORD,
                role=role,
                controller_id=None,
                actor="cli",
                now=dt.datetime.now(dt.UTC),
            )
            actors[role] = f"user:{user.id}"
    with serving(app) as base_url:
        yield Console(app, demo, manifest, outbox, url=base_url, users=users, actors=actors)
    app.state.engine.dispose()


def _people(console: Console) -> list[dict[str, Any]]:
    with sqlite3.connect(console.directory / "crm.db") as crm:
        crm.row_factory = sqlite3.Row
        rows = crm.execute(
            "SELECT id, email, personal_number, phone FROM persons WHERE id BETWEEN ? AND ? "
            "ORDER BY id",
            (SEEDED_PEOPLE.start, SEEDED_PEOPLE.stop - 1),
        )
        return [dict(row) for row in rows if row["email"] and row["personal_number"]]


def seed_cases(console: Console) -> dict[str, str]:
    """A few months of the console's work: closed requests in earlier months, open ones in
    every state (one overdue, one due within a week, one extended), and banner choices.

    Returns the ids of a few of them: ``completed_access``, ``refused``, ``overdue``,
    ``extended`` and ``awaiting_objection`` (an objection waiting for the DPO's decision).
    """
    seeded: dict[str, str] = {}
    now = dt.datetime.now(dt.UTC)
    _seed_banner_choices(console, now)
    people = iter(_people(console))
    state = console.app.state
    served = state.register.current()
    handler, dpo = console.actors[Role.HANDLER], console.actors[Role.DPO]

    def days_ago(days: float) -> dt.datetime:
        return now - dt.timedelta(days=days)

    def ids(*kinds: str) -> list[tuple[str, str]]:
        person = next(people)
        found = {"email": person["email"], "personnummer": person["personal_number"]}
        return [(kind, found[kind]) for kind in kinds]

    def received(kind: str, *kinds: str, age: float, channel: Channel, **more: Any) -> str:
        """A request of a new person, sent by them (web form) or registered by the handler."""
        actor = "subject" if channel == Channel.PORTAL else handler
        return console.request(
            kind, ids(*kinds), received=days_ago(age), channel=channel, actor=actor, **more
        )

    # Closed: answered in earlier months.
    for kind, age, took in [
        ("access", 300, 9),
        ("erasure", 250, 14),
        ("withdraw-consent", 160, 1),
        ("portability", 120, 12),
        ("access", 95, 8),
        ("objection", 45, 2),
    ]:
        activities = ["customer-satisfaction"] if kind == "objection" else None
        request_id = received(
            kind,
            "email",
            "personnummer",
            age=age,
            channel=Channel.PORTAL,
            verified=True,
            activities=activities,
        )
        if console.run(request_id, at=days_ago(age - took), actor=handler).state != "completed":
            console.settle(request_id, at=days_ago(age - took), actor=dpo)
        if kind == "access":
            seeded["completed_access"] = request_id

    # Refused: the same person's third identical request in a month.
    refused = seeded["refused"] = received("erasure", "email", age=130, channel=Channel.HANDLER)
    with store.transaction(console.engine) as session:
        refuse(
            session,
            get_request(session, refused),
            reason="Manifestly unfounded: the third identical request within a month "
            "(Art. 12(5)); the first two were answered in full.",
            register=served.register,
            actor=dpo,
            now=days_ago(128),
            keys=state.keys,
            mail=state.mail,
        )

    # Open, most urgent first: one overdue, one due within a week, one extended.
    seeded["overdue"] = received(
        "access", "email", "personnummer", age=38, channel=Channel.HANDLER, verified=True
    )
    received("erasure", "email", age=27, channel=Channel.PORTAL)
    extended = seeded["extended"] = received(
        "access", "email", "personnummer", age=40, channel=Channel.HANDLER, verified=True
    )
    with store.transaction(console.engine) as session:
        extend(
            session,
            get_request(session, extended),
            reason="The person asked for every record since 2015 across all ten regional "
            "companies; gathering the archived files takes longer than a month.",
            actor=dpo,
            now=days_ago(25),
            keys=state.keys,
            mail=state.mail,
        )
    # Received this morning, so that its timeline (the audit log's times: when it was
    # written, today) reads true in the docs' screenshot of it.
    awaiting = seeded["awaiting_objection"] = received(
        "objection",
        "email",
        "personnummer",
        age=0.05,
        channel=Channel.PORTAL,
        verified=True,
        activities=["customer-satisfaction"],
    )
    console.run(awaiting, at=now, actor=handler)
    received("rectification", "email", "personnummer", age=6, channel=Channel.HANDLER)
    received("restriction", "email", age=3, channel=Channel.HANDLER, controller="almi-vast")
    received("access", "email", age=1, channel=Channel.PORTAL)

    return seeded


def _seed_banner_choices(console: Console, now: dt.datetime) -> None:
    """Banner choices over the last twelve weeks, a dozen or so a week: statistics given
    about twice as often as marketing, and both a little more often as the weeks go by."""
    state = console.app.state
    served = state.register.current()
    text = banner_text(served.register, "sv")
    purposes = {p: c["id"] for c in text["categories"] for p in c["purposes"]}
    chance = random.Random(12)  # made-up visitors: the same ones every run
    with store.transaction(console.engine) as session:
        for weeks_ago in range(12):
            rising = (12 - weeks_ago) / 100
            for visitor in range(chance.randint(9, 16)):
                given = {
                    "statistics": chance.random() < 0.5 + rising,
                    "marketing": chance.random() < 0.2 + rising,
                }
                record_choice(
                    session,
                    keys=state.keys,
                    register=served.register,
                    register_version=served.version,
                    subject=("visitor_id", str(uuid.UUID(int=chance.getrandbits(128), version=4))),
                    choices={purpose: given[category] for purpose, category in purposes.items()},
                    method="banner",
                    language="sv",
                    text=text,
                    now=now - dt.timedelta(weeks=weeks_ago, hours=visitor * 9),
                )
