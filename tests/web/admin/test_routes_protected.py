"""Every route of the app outside the public list of DESIGN §4 refuses an anonymous caller,
and every console page gives each role exactly what its declared minimum role allows.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from ombud import store
from ombud.settings import Settings
from ombud.store.users import Role, create_user
from ombud.web import create_app
from ombud.web.admin.auth import ConsoleConfig

PASSWORD = "correct horse battery staple"

#: DESIGN §4's public routes: (path pattern, methods or "*" for all, why it is public).
PUBLIC: list[tuple[str, str, str]] = [
    ("/privacy", "*", "the published notice"),
    ("/privacy*", "*", "the notice's formats and history, the portal's forms and pages"),
    ("/consent/*", "*", "the cookie banner's script and assets"),
    ("/.well-known/*", "*", "well-known files (security.txt, ...)"),
    ("/api/v1/consent/events", "POST,OPTIONS", "websites record consent choices (CORS)"),
    ("/api/v1/requests", "POST", "a request from a web form (verification follows)"),
    ("/api/v1/newsletter*", "*", "newsletter sign-up and unsubscribe"),
    ("/api/v1/network*", "*", "network membership sign-up"),
    ("/healthz", "*", "health checks"),
    ("/docs", "*", "the OpenAPI docs"),
    ("/docs/oauth2-redirect", "*", "the OpenAPI docs"),
    ("/redoc", "*", "the OpenAPI docs"),
    ("/openapi.json", "*", "the OpenAPI description"),
    ("/admin/login", "*", "the login page itself"),
]

#: Not in DESIGN §4's list, but public by design: a capability URL, whose unguessable path
#: parameter (a random UUID handed only to the person) is the permission. Anonymous callers
#: must get nothing for an id they make up.
CAPABILITY_URLS: list[tuple[str, str, str]] = [
    (
        "/api/v1/consent/receipts/{receipt_id}",
        "GET",
        "a consent receipt, linked from the banner's answer and the confirmation page",
    ),
]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    route: APIRoute | None


def endpoints(app: FastAPI) -> list[Endpoint]:
    """Every (method, path) the app answers, included routers flattened."""
    found = []
    for context in iter_route_contexts(app.routes):
        path = context.path
        assert path is not None
        route = context.original_route
        api_route = route if isinstance(route, APIRoute) else None
        methods = context.methods or {"GET"}
        found.extend(Endpoint(method, path, api_route) for method in sorted(methods - {"HEAD"}))
    return found


def is_public(method: str, path: str) -> bool:
    return any(
        fnmatch.fnmatchcase(path, pattern) and (methods == "*" or method in methods.split(","))
        for pattern, methods, _ in PUBLIC
    ) or any(path == p and method == m for p, m, _ in CAPABILITY_URLS)


def concrete(path: str) -> str:
    """``path`` with each parameter filled in with something of its type."""

    def value(match: re.Match[str]) -> str:
        return "00000000-0000-4000-8000-000000000000" if match.group(2) == "uuid" else "1"

    return re.sub(r"\{(\w+)(?::(\w+))?\}", value, path)


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


def test_the_public_list_names_only_routes_that_exist(app: FastAPI) -> None:
    # A pattern matching nothing is a typo or a stale entry, and would hide nothing real;
    # /.well-known/* may be empty until something is published there.
    paths = {e.path for e in endpoints(app)}
    for pattern, _, why in PUBLIC:
        if pattern != "/.well-known/*":
            assert any(fnmatch.fnmatchcase(p, pattern) for p in paths), (pattern, why)


def test_the_app_has_protected_routes_of_both_kinds(app: FastAPI) -> None:
    protected = [e for e in endpoints(app) if not is_public(e.method, e.path)]
    assert any(e.path.startswith("/api/") for e in protected)
    assert any(e.path.startswith("/admin") for e in protected)


def test_every_route_outside_the_public_list_refuses_an_anonymous_caller(
    app: FastAPI, client: TestClient
) -> None:
    let_in = []
    for endpoint in endpoints(app):
        if is_public(endpoint.method, endpoint.path):
            continue
        response = client.request(endpoint.method, concrete(endpoint.path))
        location = response.headers.get("location", "")
        if endpoint.path.startswith("/admin"):
            # A session is needed: the login page for people, 401 for JSON; or 403.
            refused = response.status_code in {401, 403} or (
                response.status_code == 303 and location.startswith("/admin/login?next=")
            )
        else:
            # An API key is needed.
            refused = response.status_code in {401, 403}
        if not refused:
            let_in.append(f"{endpoint.method} {endpoint.path}: {response.status_code}")
    assert let_in == []


@pytest.mark.parametrize(("path", "method", "why"), CAPABILITY_URLS)
def test_a_capability_url_gives_nothing_for_a_made_up_id(
    app: FastAPI, client: TestClient, path: str, method: str, why: str
) -> None:
    assert any(e.path == path and e.method == method for e in endpoints(app)), why
    assert client.request(method, concrete(path)).status_code == 404


def test_console_json_callers_get_401_not_a_redirect(app: FastAPI, client: TestClient) -> None:
    for endpoint in endpoints(app):
        if endpoint.path.startswith("/admin") and not is_public(endpoint.method, endpoint.path):
            response = client.request(
                endpoint.method, concrete(endpoint.path), headers={"Accept": "application/json"}
            )
            assert response.status_code == 401, f"{endpoint.method} {endpoint.path}"


# --- each role gets exactly its pages --------------------------------------------------------


def declared_role(route: APIRoute) -> Role | None:
    """The minimum role a route declares through ``require_role`` (named ``require_<role>``)."""
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        name = getattr(dependency.call, "__name__", "")
        role = name.removeprefix("require_")
        if name.startswith("require_") and role in {r.value for r in Role}:
            return Role(role)
        pending.extend(dependency.dependencies)
    return None


def console_pages(app: FastAPI) -> list[Endpoint]:
    return [
        e
        for e in endpoints(app)
        if e.path.startswith("/admin") and not is_public(e.method, e.path) and e.route is not None
    ]


def test_every_console_route_declares_its_minimum_role(app: FastAPI) -> None:
    undeclared = [
        f"{e.method} {e.path}"
        for e in console_pages(app)
        # Logging out needs only a session (and its CSRF token), whatever the role.
        if e.path != "/admin/logout" and e.route is not None and declared_role(e.route) is None
    ]
    assert undeclared == []


@pytest.mark.parametrize("role", list(Role))
def test_each_role_gets_exactly_the_console_pages_its_role_allows(app: FastAPI, role: Role) -> None:
    app.state.console = ConsoleConfig()
    with store.transaction(app.state.engine) as session:
        create_user(
            session,
            email=f"{role.value}@example.org",
            password=PASSWORD,
            role=role,
            controller_id=None,
            actor="test",
            now=app.state.console.clock(),
        )
    pages = [
        e
        for e in console_pages(app)
        if e.method == "GET" and "{" not in e.path and e.route is not None
    ]
    with TestClient(app, follow_redirects=False) as client:
        form = client.get("/admin/login")
        token = re.search(r'name="login_token" value="([^"]+)"', form.text)
        assert token is not None
        login = client.post(
            "/admin/login",
            data={
                "email": f"{role.value}@example.org",
                "password": PASSWORD,
                "login_token": token.group(1),
            },
        )
        assert login.status_code == 303
        wrong = []
        for page in pages:
            assert page.route is not None
            minimum = declared_role(page.route)
            assert minimum is not None, page.path
            status = client.get(page.path).status_code
            expected = 200 if role >= minimum else 403
            if status != expected:
                wrong.append(f"{page.path} (needs {minimum.value}): {status}, not {expected}")
    assert wrong == []
