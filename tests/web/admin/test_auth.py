"""Console users: logging in and out, sessions, CSRF, throttling and who may do what."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import select

from ombud import store
from ombud.settings import Settings
from ombud.store.models import AuditEntry
from ombud.store.users import (
    LoginFailure,
    Role,
    UserExistsError,
    UserSession,
    WeakPasswordError,
    create_user,
    disable_user,
)
from ombud.web import create_app
from ombud.web.admin.auth import (
    PERMISSIONS,
    ConsoleConfig,
    CurrentUser,
    can,
    check_csrf,
    csrf_token,
    require_role,
)
from ombud.web.forms import first, read_form

PASSWORD = "correct horse battery staple"
START = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
#: Where the test client's cookie jar files cookies from http://testserver.
COOKIE_DOMAIN = "testserver.local"


@dataclass
class Clock:
    now: dt.datetime = START

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@dataclass
class Console:
    """The app with a test clock, a client and helpers to add users and log in."""

    app: FastAPI
    client: TestClient
    clock: Clock
    emails: dict[Role, str] = field(default_factory=dict)

    def add_user(
        self, email: str, role: Role, *, controller: str | None = None, password: str = PASSWORD
    ) -> int:
        with store.transaction(self.app.state.engine) as session:
            user = create_user(
                session,
                email=email,
                password=password,
                role=role,
                controller_id=controller,
                actor="test",
                now=self.clock(),
            )
            return user.id

    def login_token(self, lang: str = "en") -> str:
        page = self.client.get("/admin/login", params={"lang": lang})
        assert page.status_code == 200
        found = re.search(r'name="login_token" value="([^"]+)"', page.text)
        assert found is not None
        return found.group(1)

    def login(self, email: str, password: str = PASSWORD, *, next_path: str = "") -> int:
        response = self.client.post(
            "/admin/login",
            data={
                "email": email,
                "password": password,
                "login_token": self.login_token(),
                "next": next_path,
            },
        )
        return response.status_code

    def csrf(self) -> str:
        page = self.client.get("/admin/probe/whoami")
        assert page.status_code == 200
        return str(page.json()["csrf"])

    def audit(self) -> list[AuditEntry]:
        with store.transaction(self.app.state.engine) as session:
            return list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


def _probe_router() -> APIRouter:
    """Console routes made for the test, one per role, using the contract as pages do."""
    router = APIRouter()
    for role in Role:

        def page(user: CurrentUser = Depends(require_role(role))) -> dict[str, str]:  # noqa: B008
            return {"role": user.role.value}

        router.add_api_route(f"/admin/probe/{role.value}", page, methods=["GET"])

    @router.get("/admin/probe/whoami")
    def whoami(
        request: Request,
        user: CurrentUser = Depends(require_role(Role.VIEWER)),  # noqa: B008
    ) -> dict[str, object]:
        return {"id": user.id, "role": user.role.value, "csrf": csrf_token(request)}

    @router.post("/admin/probe/change", dependencies=[Depends(check_csrf)])
    async def change(
        request: Request,
        user: CurrentUser = Depends(require_role(Role.HANDLER)),  # noqa: B008
    ) -> dict[str, str]:
        # The body stays readable after check_csrf has read the token from it.
        form = await read_form(request)
        return {"note": first(form, "note"), "actor": user.actor}

    return router


@pytest.fixture
def console(settings: Settings) -> Iterator[Console]:
    app = create_app(settings)
    clock = Clock()
    app.state.console = ConsoleConfig(clock=clock)
    app.include_router(_probe_router())
    with TestClient(app, follow_redirects=False) as client:
        yield Console(app, client, clock)


# --- who may do what -----------------------------------------------------------------------

V, H, D, A = Role.VIEWER, Role.HANDLER, Role.DPO, Role.ADMIN

#: The role-by-action table: which roles may take each console action.
ROLE_ACTIONS: list[tuple[str, set[Role]]] = [
    ("view", {V, H, D, A}),
    ("verify_audit", {V, H, D, A}),
    ("create_request", {H, D, A}),
    ("verify", {H, D, A}),
    ("run", {H, D, A}),
    ("choose_rows", {H, D, A}),
    ("rectify", {H, D, A}),
    ("complete_task", {H, D, A}),
    ("send_answer", {H, D, A}),
    ("download_extract", {H, D, A}),
    ("decide_objection", {D, A}),
    ("extend", {D, A}),
    ("refuse", {D, A}),
    ("lift_restriction", {D, A}),
    ("manage_users", {A}),
    ("manage_api_keys", {A}),
]


def test_the_table_covers_every_action() -> None:
    assert {action for action, _ in ROLE_ACTIONS} == set(PERMISSIONS)


@pytest.mark.parametrize(("action", "allowed"), ROLE_ACTIONS)
@pytest.mark.parametrize("role", list(Role))
def test_each_role_may_take_exactly_its_actions(
    action: str, allowed: set[Role], role: Role
) -> None:
    user = CurrentUser(id=1, email="a@example.org", role=role, controller_id=None)
    assert can(user, action) is (role in allowed)


def test_roles_are_ordered() -> None:
    assert Role.VIEWER < Role.HANDLER < Role.DPO < Role.ADMIN
    assert sorted([A, V, D, H]) == [V, H, D, A]
    assert Role.ADMIN >= Role.DPO
    assert not Role.HANDLER >= Role.DPO


@pytest.mark.parametrize(
    ("user_controller", "request_controller", "expected"),
    [
        (None, "almi-vast", True),  # the lead's DPO acts on every controller's requests
        (None, None, True),
        ("almi-vast", "almi-vast", True),
        ("almi-vast", "almi-skane", False),  # not another subsidiary's
        ("almi-vast", None, True),  # an action about no one request
    ],
)
def test_controller_limited_users_act_on_their_controller_only(
    user_controller: str | None, request_controller: str | None, expected: bool
) -> None:
    user = CurrentUser(id=1, email="a@example.org", role=D, controller_id=user_controller)
    assert can(user, "decide_objection", controller_id=request_controller) is expected


def test_a_controller_limited_admin_cannot_manage_users_or_keys() -> None:
    limited = CurrentUser(id=1, email="a@example.org", role=A, controller_id="almi-vast")
    assert not can(limited, "manage_users")
    assert not can(limited, "manage_api_keys")
    assert can(limited, "refuse", controller_id="almi-vast")


def test_an_unknown_action_fails_loudly() -> None:
    user = CurrentUser(id=1, email="a@example.org", role=A, controller_id=None)
    with pytest.raises(KeyError):
        can(user, "edit_register")


@pytest.mark.parametrize("role", list(Role))
def test_each_role_reaches_exactly_the_pages_at_or_below_it(console: Console, role: Role) -> None:
    console.add_user(f"{role.value}@example.org", role)
    assert console.login(f"{role.value}@example.org") == 303
    for minimum in Role:
        response = console.client.get(f"/admin/probe/{minimum.value}")
        if role >= minimum:
            assert response.status_code == 200, minimum
            assert response.json() == {"role": role.value}
        else:
            assert response.status_code == 403, minimum
            assert "text/html" in response.headers["content-type"]


# --- logging in ----------------------------------------------------------------------------


def test_anonymous_pages_redirect_to_login_and_json_gets_401(console: Console) -> None:
    page = console.client.get("/admin/probe/viewer?filter=open")
    assert page.status_code == 303
    assert page.headers["location"] == "/admin/login?next=/admin/probe/viewer%3Ffilter%3Dopen"
    api = console.client.get("/admin/probe/viewer", headers={"Accept": "application/json"})
    assert api.status_code == 401


def test_login_goes_on_to_next_and_sets_a_safe_cookie(console: Console) -> None:
    console.add_user("DPO@Example.org", D)
    response = console.client.post(
        "/admin/login",
        data={
            "email": "dpo@example.org",
            "password": PASSWORD,
            "login_token": console.login_token(),
            "next": "/admin/probe/dpo?x=1",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/probe/dpo?x=1"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("ombud_session=")
    )
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "path=/admin", "samesite=lax"} <= flags
    assert "secure" not in flags  # plain http here; see the https test
    assert console.client.get("/admin/probe/dpo").status_code == 200


@pytest.mark.parametrize(
    ("next_path", "lang", "location"),
    [
        ("/admin/requests?state=open", "en", "/admin/requests?state=open&lang=en"),
        ("/admin", "sv", "/admin?lang=sv"),
        ("/admin?lang=sv", "en", "/admin?lang=sv"),  # the page asked for one already
    ],
)
def test_login_keeps_the_language_of_the_login_form(
    console: Console, next_path: str, lang: str, location: str
) -> None:
    console.add_user("dpo@example.org", D)
    response = console.client.post(
        f"/admin/login?lang={lang}",
        data={
            "email": "dpo@example.org",
            "password": PASSWORD,
            "login_token": console.login_token(),
            "next": next_path,
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == location


def test_the_cookie_is_secure_when_the_base_url_is_https(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"base_url": "https://ombud.example.org"}))
    with TestClient(app, base_url="https://ombud.example.org", follow_redirects=False) as client:
        helper = Console(app, client, Clock())
        helper.add_user("dpo@example.org", D)
        response = client.post(
            "/admin/login",
            data={
                "email": "dpo@example.org",
                "password": PASSWORD,
                "login_token": helper.login_token(),
            },
        )
    assert response.status_code == 303
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("ombud_session=")
    )
    assert "secure" in {part.strip().lower() for part in cookie.split(";")}


@pytest.mark.parametrize(
    "next_path",
    ["https://evil.example/", "//evil.example/admin", "/privacy", "/admin/login", "/admin\\x"],
)
def test_login_never_redirects_out_of_the_console(console: Console, next_path: str) -> None:
    console.add_user("dpo@example.org", D)
    response = console.client.post(
        "/admin/login",
        data={
            "email": "dpo@example.org",
            "password": PASSWORD,
            "login_token": console.login_token(),
            "next": next_path,
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/admin"


def test_unknown_email_and_wrong_password_get_the_same_answer(console: Console) -> None:
    console.add_user("dpo@example.org", D)
    answers = []
    for email, password in [
        ("dpo@example.org", "wrong password!"),
        ("nobody@example.org", PASSWORD),
    ]:
        response = console.client.post(
            "/admin/login",
            data={"email": email, "password": password, "login_token": console.login_token()},
        )
        answers.append((response.status_code, _problem(response.text)))
    assert answers[0] == answers[1]
    assert answers[0][0] == 401
    assert "ombud_session" not in console.client.cookies


def test_a_disabled_user_cannot_log_in_and_their_session_ends(console: Console) -> None:
    console.add_user("dpo@example.org", D)
    assert console.login("dpo@example.org") == 303
    with store.transaction(console.app.state.engine) as session:
        disable_user(session, "dpo@example.org", actor="test", now=console.clock())
    assert console.client.get("/admin/probe/viewer").status_code == 303
    assert console.login("dpo@example.org") == 401


def test_the_login_form_needs_its_token(console: Console) -> None:
    console.add_user("dpo@example.org", D)
    response = console.client.post(
        "/admin/login", data={"email": "dpo@example.org", "password": PASSWORD}
    )
    assert response.status_code == 403
    assert "ombud_session" not in console.client.cookies


def test_the_login_form_refuses_another_sites_post(console: Console) -> None:
    console.add_user("dpo@example.org", D)
    response = console.client.post(
        "/admin/login",
        data={
            "email": "dpo@example.org",
            "password": PASSWORD,
            "login_token": console.login_token(),
        },
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("query", "accept_language", "heading", "lang"),
    [
        ({"lang": "en"}, None, "Log in", "en"),
        ({"lang": "sv"}, "en", "Logga in", "sv"),
        ({}, "en-GB,en;q=0.9", "Log in", "en"),
        ({}, "sv-SE", "Logga in", "sv"),
    ],
)
def test_the_login_page_speaks_swedish_and_english(
    console: Console,
    query: dict[str, str],
    accept_language: str | None,
    heading: str,
    lang: str,
) -> None:
    headers = {"Accept-Language": accept_language} if accept_language else {}
    page = console.client.get("/admin/login", params=query, headers=headers)
    assert page.status_code == 200
    assert f"<h1>{heading}</h1>" in page.text
    assert f'<html lang="{lang}">' in page.text
    # Every input has a label, and the browser may fill the credentials in.
    assert '<label for="email">' in page.text
    assert '<label for="password">' in page.text
    assert 'autocomplete="current-password"' in page.text


# --- session fixation, timeouts ------------------------------------------------------------


def test_a_session_id_set_before_login_is_not_the_one_after(console: Console) -> None:
    console.add_user("dpo@example.org", D)
    console.add_user("viewer@example.org", V)
    # An attacker's own, real session planted in the victim's browser.
    assert console.login("viewer@example.org") == 303
    planted = console.client.cookies["ombud_session"]
    assert console.login("dpo@example.org") == 303
    after = console.client.cookies["ombud_session"]
    assert after != planted
    # The planted id is dropped, not merely replaced in this browser.
    attacker = TestClient(console.app, follow_redirects=False)
    attacker.cookies.set("ombud_session", planted, domain=COOKIE_DOMAIN, path="/admin")
    assert attacker.get("/admin/probe/viewer").status_code == 303
    assert console.client.get("/admin/probe/dpo").json() == {"role": "dpo"}


def test_a_made_up_session_id_is_replaced_at_login(console: Console) -> None:
    console.add_user("dpo@example.org", D)
    console.client.cookies.set(
        "ombud_session", "chosen-by-the-attacker", domain=COOKIE_DOMAIN, path="/admin"
    )
    assert console.client.get("/admin/probe/viewer").status_code == 303
    assert console.login("dpo@example.org") == 303
    assert console.client.cookies["ombud_session"] != "chosen-by-the-attacker"


def test_a_session_idle_for_30_minutes_ends(console: Console) -> None:
    console.add_user("dpo@example.org", D)
    console.login("dpo@example.org")
    console.clock.advance(minutes=29)
    assert console.client.get("/admin/probe/dpo").status_code == 200
    console.clock.advance(minutes=29)  # 58 minutes since login, but used 29 minutes ago
    assert console.client.get("/admin/probe/dpo").status_code == 200
    console.clock.advance(minutes=30)
    response = console.client.get("/admin/probe/dpo")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/admin/login?next=")
    with store.transaction(console.app.state.engine) as session:
        assert session.scalars(select(UserSession)).all() == []


def test_a_session_ends_after_12_hours_however_busy(console: Console) -> None:
    console.add_user("dpo@example.org", D)
    console.login("dpo@example.org")
    for _ in range(23):
        console.clock.advance(minutes=30, seconds=-1)
        assert console.client.get("/admin/probe/dpo").status_code == 200
    console.clock.advance(minutes=30)  # 12 h since login
    assert console.client.get("/admin/probe/dpo").status_code == 303


def test_logout_ends_the_session(console: Console) -> None:
    console.add_user("dpo@example.org", D)
    console.login("dpo@example.org")
    token = console.client.cookies["ombud_session"]
    response = console.client.post("/admin/logout", data={"csrf_token": console.csrf()})
    assert response.status_code == 303
    assert response.headers["location"].startswith("/admin/login?logged_out")
    assert "ombud_session" not in console.client.cookies
    # Even a copy of the cookie is worthless now.
    console.client.cookies.set("ombud_session", token, domain=COOKIE_DOMAIN, path="/admin")
    assert console.client.get("/admin/probe/viewer").status_code == 303


# --- CSRF ----------------------------------------------------------------------------------


@pytest.fixture
def handler(console: Console) -> Console:
    console.add_user("handler@example.org", H)
    assert console.login("handler@example.org") == 303
    return console


def test_a_post_without_the_csrf_token_is_refused(handler: Console) -> None:
    response = handler.client.post("/admin/probe/change", data={"note": "x"})
    assert response.status_code == 403
    assert "text/html" in response.headers["content-type"]
    assert handler.client.post("/admin/logout").status_code == 403
    assert handler.client.get("/admin/probe/handler").status_code == 200  # still logged in


def test_a_post_with_a_wrong_csrf_token_is_refused(handler: Console) -> None:
    wrong = "0" * 64
    assert handler.client.post("/admin/probe/change", data={"csrf_token": wrong}).status_code == 403
    response = handler.client.post("/admin/probe/change", headers={"X-CSRF-Token": wrong})
    assert response.status_code == 403


def test_another_sessions_csrf_token_is_refused(handler: Console) -> None:
    stale = handler.csrf()
    assert handler.login("handler@example.org") == 303  # a new session, a new token
    response = handler.client.post("/admin/probe/change", data={"csrf_token": stale})
    assert response.status_code == 403


def test_a_post_with_the_csrf_token_passes_and_the_form_stays_readable(handler: Console) -> None:
    token = handler.csrf()
    response = handler.client.post(
        "/admin/probe/change", data={"csrf_token": token, "note": "hej då"}
    )
    assert response.status_code == 200
    assert response.json()["note"] == "hej då"
    via_header = handler.client.post(
        "/admin/probe/change",
        headers={"X-CSRF-Token": token},
        data={"note": "header"},
    )
    assert via_header.json()["note"] == "header"


def test_a_post_from_another_site_is_refused_even_with_the_token(handler: Console) -> None:
    response = handler.client.post(
        "/admin/probe/change",
        data={"csrf_token": handler.csrf()},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403


def test_an_anonymous_post_is_sent_to_log_in_before_any_csrf_check(console: Console) -> None:
    response = console.client.post("/admin/probe/change", data={"note": "x"})
    assert response.status_code == 303
    assert response.headers["location"].startswith("/admin/login")


# --- brute force ---------------------------------------------------------------------------


def _problem(html: str) -> str:
    found = re.search(r'<div class="problem"[^>]*>\s*<p>(.*?)</p>', html, re.DOTALL)
    assert found is not None, "no problem shown"
    return found.group(1)


def test_the_sixth_attempt_is_refused_even_with_the_right_password(console: Console) -> None:
    console.add_user("dpo@example.org", D)
    for _ in range(5):
        assert console.login("dpo@example.org", "not the password") == 401
        console.clock.advance(minutes=1)
    response = console.client.post(
        "/admin/login",
        data={
            "email": "dpo@example.org",
            "password": PASSWORD,
            "login_token": console.login_token(),
        },
    )
    assert response.status_code == 401
    assert "ombud_session" not in console.client.cookies
    # The same words as for a wrong password: nothing says the account is locked.
    wrong = console.client.post(
        "/admin/login",
        data={
            "email": "someone@example.org",
            "password": "nope",
            "login_token": console.login_token(),
        },
    )
    assert _problem(response.text) == _problem(wrong.text)
    # Still refused later within the window ...
    console.clock.advance(minutes=9)
    assert console.login("dpo@example.org") == 401
    # ... and possible once the failures are 15 minutes old.
    console.clock.advance(minutes=2)
    assert console.login("dpo@example.org") == 303


def test_twenty_failures_from_one_address_refuse_every_email(console: Console) -> None:
    console.add_user("dpo@example.org", D)
    for index in range(20):
        assert console.login(f"guess{index}@example.org", "guess") == 401
    assert console.login("dpo@example.org") == 401


def test_a_successful_login_forgets_the_emails_failures(console: Console) -> None:
    console.add_user("dpo@example.org", D)
    for _ in range(4):
        console.login("dpo@example.org", "typo typo typo")
    assert console.login("dpo@example.org") == 303
    for _ in range(4):
        console.login("dpo@example.org", "typo typo typo")
    assert console.login("dpo@example.org") == 303


def test_old_failures_are_deleted(console: Console) -> None:
    console.login("nobody@example.org", "x")
    console.clock.advance(minutes=16)
    console.login("nobody@example.org", "x")
    with store.transaction(console.app.state.engine) as session:
        kept = session.scalars(select(LoginFailure)).all()
    assert {row.failed_at for row in kept} == {console.clock()}


# --- audit ---------------------------------------------------------------------------------


def test_logins_are_audited_by_user_id_never_by_email(console: Console) -> None:
    user_id = console.add_user("dpo@example.org", D)
    console.login("dpo@example.org", "wrong password!")
    console.login("ghost@example.org", "wrong password!")
    console.login("dpo@example.org")
    console.client.post("/admin/logout", data={"csrf_token": console.csrf()})
    entries = [
        (e.actor, e.action, e.object_id, e.counts)
        for e in console.audit()
        if e.action.startswith("user.")
    ]
    assert entries == [
        ("test", "user.created", f"user:{user_id}", None),
        (
            "anonymous",
            "user.login_failed",
            f"user:{user_id}",
            {"email_failures": 1, "address_failures": 1},
        ),
        ("anonymous", "user.login_failed", None, {"email_failures": 1, "address_failures": 2}),
        (f"user:{user_id}", "user.login", f"user:{user_id}", None),
        (f"user:{user_id}", "user.logout", f"user:{user_id}", None),
    ]


# --- the store -----------------------------------------------------------------------------


def test_emails_are_unique_regardless_of_case(console: Console) -> None:
    console.add_user("DPO@example.org", D)
    with pytest.raises(UserExistsError):
        console.add_user("dpo@EXAMPLE.org", V)


def test_short_passwords_are_refused(console: Console) -> None:
    with pytest.raises(WeakPasswordError, match="at least 12"):
        console.add_user("dpo@example.org", D, password="short")


def test_passwords_are_stored_as_argon2id(console: Console) -> None:
    console.add_user("dpo@example.org", D)
    with store.transaction(console.app.state.engine) as session:
        from ombud.store.users import User  # noqa: PLC0415 - only this test reads the row

        stored = session.scalars(select(User.password_hash)).one()
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


# --- the `ombud user` commands, as a real process ---------------------------------------


def ombud_user(
    settings: Settings, *args: str, password: str | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "OMBUD_DATABASE_URL": settings.database_url,
        "OMBUD_REGISTER": str(settings.register_path),
    }
    if password is not None:
        env["OMBUD_NEW_PASSWORD"] = password
    return subprocess.run(
        [sys.executable, "-c", "from ombud.cli import main; main()", "user", *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        check=False,
        timeout=120,
    )


def test_a_user_added_on_the_command_line_can_log_in(settings: Settings, console: Console) -> None:
    added = ombud_user(
        settings, "add", "Handl@Example.org", "--role", "handler", "--controller", "almi-vast",
        password=PASSWORD,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert console.login("handl@example.org") == 303
    assert console.client.get("/admin/probe/handler").status_code == 200
    listed = json.loads(ombud_user(settings, "list", "--format", "json").stdout)
    assert [(u["email"], u["role"], u["controller"]) for u in listed] == [
        ("handl@example.org", "handler", "almi-vast")
    ]


def test_the_password_is_asked_for_twice(settings: Settings) -> None:
    mismatch = ombud_user(
        settings, "add", "a@example.org", "--role", "viewer", stdin=f"{PASSWORD}\nother\n"
    )
    assert mismatch.returncode != 0
    same = ombud_user(
        settings, "add", "a@example.org", "--role", "viewer", stdin=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert same.returncode == 0, same.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "dpo", "--controller", "almi-nowhere"], "no controller 'almi-nowhere'"),
        (["--role", "dpo"], "at least 12"),
    ],
)
def test_user_add_explains_bad_input(settings: Settings, args: list[str], message: str) -> None:
    result = ombud_user(settings, "add", "a@example.org", *args, password="short")
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_user_disable_ends_logins(settings: Settings, console: Console) -> None:
    console.add_user("dpo@example.org", D)
    assert ombud_user(settings, "disable", "DPO@example.org").returncode == 0
    assert console.login("dpo@example.org") == 401
