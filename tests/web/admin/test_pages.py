# ruff: noqa: RUF001 - the console writes ranges and missing figures with an en dash
"""The console's pages, read by users of each role after logging in through the real form.

Each page answers 200 with its content to the roles allowed and 403 to a lower
one; the dashboard marks deadlines in words; lists filter; a user limited to a
controller sees only that controller's requests; the charts carry their
figures as text.
"""

from __future__ import annotations

import datetime as dt
import html
import itertools
import json
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient

from console_cases import DemoConsole
from ombud import store
from ombud.consent.ledger import record_choice
from ombud.consent.texts import banner_text
from ombud.demo import build_demo
from ombud.rights.intake import get_request
from ombud.rights.models import RequestState
from ombud.rights.states import move
from ombud.settings import Settings
from ombud.store.users import Role, create_user
from ombud.web import create_app
from ombud.web.admin.charts import Series, bar_chart, line_chart
from ombud.web.admin.labels import LABELS

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_LOGIN_TOKEN = re.compile(r'name="login_token" value="([^"]+)"')


@pytest.fixture(scope="session", name="built_demo")
def built_demo_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo systems, built once; each test works on a copy."""
    directory = tmp_path_factory.mktemp("console-demo") / "demo"
    build_demo(directory, size=60, seed=5)
    return directory


@dataclass
class Console(DemoConsole):
    """The app on a copy of the demo, with helpers to log in as a role and make requests."""

    _emails: itertools.count[int] = field(default_factory=itertools.count)

    def client(self, role: Role, *, controller: str | None = None) -> TestClient:
        """A browser logged in (through /admin/login) as a new user with ``role``."""
        email = f"{role.value}{next(self._emails)}@console.example"
        with store.transaction(self.engine) as session:
            create_user(
                session,
                email=email,
                password=PASSWORD,
                role=role,
                controller_id=controller,
                actor="test",
                now=dt.datetime.now(dt.UTC),
            )
        browser = TestClient(self.app, base_url="http://testserver")
        page = browser.get("/admin/login")
        token = _LOGIN_TOKEN.search(page.text)
        assert token is not None
        answer = browser.post(
            "/admin/login",
            data={"email": email, "password": PASSWORD, "login_token": token.group(1)},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
        return browser


def csrf(browser: TestClient) -> str:
    """The session's CSRF token, from the logout form every console page has."""
    found = _CSRF.search(browser.get("/admin").text)
    assert found is not None
    return found.group(1)


def post(browser: TestClient, path: str, data: dict[str, Any] | None = None) -> httpx2.Response:
    """A form post with the session's CSRF token, not following the redirect."""
    return browser.post(
        path, data={**(data or {}), "csrf_token": csrf(browser)}, follow_redirects=False
    )


@contextmanager
def open_console(
    built_demo: Path, tmp_path: Path, *, worker: str = "none", database_url: str | None = None
) -> Iterator[Console]:
    """The app on a fresh copy of the demo systems and a fresh database (SQLite unless
    ``database_url`` names another)."""
    directory = tmp_path / "demo"
    shutil.copytree(built_demo, directory)
    url = database_url or f"sqlite:///{tmp_path / 'ombud.db'}"
    store.upgrade(url)
    settings = Settings(
        register_path=directory / "ombud.yaml",
        database_url=url,
        secret_key="console test secret key, long enough",
        mail_url=f"file:{tmp_path / 'outbox'}",
        base_url="http://testserver",
        worker=worker,
    )
    app = create_app(settings)
    manifest = json.loads((directory / "demo.json").read_text(encoding="utf-8"))
    with TestClient(app):
        yield Console(app, directory, manifest, tmp_path / "outbox")
    app.state.engine.dispose()


@pytest.fixture(name="console")
def console_fixture(built_demo: Path, tmp_path: Path) -> Iterator[Console]:
    # No worker: actions run requests here and now, so a test sees the outcome at once.
    with open_console(built_demo, tmp_path) as console:
        yield console


def everywhere(console: Console) -> list[tuple[str, str]]:
    person = console.person("everywhere")
    return [("email", person["email"]), ("personnummer", person["personal_number"])]


# --- every page, every role ----------------------------------------------------------------

#: (path, least role, text the page shows in English)
PAGES = [
    ("/admin?lang=en", Role.VIEWER, "Open requests by due date"),
    ("/admin/requests?lang=en", Role.VIEWER, "Filter the requests"),
    ("/admin/requests/new?lang=en", Role.HANDLER, "Register a request"),
    ("/admin/register?lang=en", Role.VIEWER, "Register check"),
    ("/admin/register/activities?lang=en", Role.VIEWER, "Measuring customer satisfaction"),
    ("/admin/register/categories?lang=en", Role.VIEWER, "Identity data"),
    ("/admin/register/recipients?lang=en", Role.VIEWER, "Google"),
    ("/admin/register/systems?lang=en", Role.VIEWER, "Database (SQL)"),
    ("/admin/consent?lang=en", Role.VIEWER, "Cookie banner statistics"),
    ("/admin/audit?lang=en", Role.VIEWER, "Verify the chain"),
    ("/admin/users?lang=en", Role.ADMIN, "Create an API key"),
]


@pytest.mark.parametrize(("path", "least", "text"), PAGES)
def test_each_page_for_each_role(console: Console, path: str, least: Role, text: str) -> None:
    for role in Role:
        page = console.client(role).get(path)
        if role >= least:
            assert page.status_code == 200, (role, page.text[:500])
            assert text in page.text
            assert page.headers["cache-control"] == "no-store"
        else:
            assert page.status_code == 403, role


def test_pages_send_anonymous_callers_to_log_in(console: Console) -> None:
    anonymous = TestClient(console.app)
    for path, _, _ in PAGES:
        answer = anonymous.get(path, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/admin/login?next=")


def test_a_case_page_shows_facts_steps_and_timeline(console: Console) -> None:
    request_id = console.request("access", everywhere(console))
    page = console.client(Role.VIEWER).get(f"/admin/requests/{request_id}?lang=en")
    assert page.status_code == 200
    assert f"Request {request_id}: Access" in page.text
    assert "Received – identity not confirmed" in page.text
    assert "Request received" in page.text  # the timeline: its audit entry
    assert "The request has not run yet" in page.text
    # A viewer sees the case but is offered no action.
    assert "There is nothing you can do on this request right now." in page.text
    assert "/verify" not in page.text


def test_the_console_speaks_swedish(console: Console) -> None:
    request_id = console.request("erasure", everywhere(console))
    browser = console.client(Role.HANDLER)
    page = browser.get(f"/admin/requests/{request_id}?lang=sv")
    assert page.headers["content-language"] == "sv"
    assert "Bekräfta identiteten" in page.text
    assert '<html lang="sv">' in page.text
    assert "Öppna ärenden efter sista svarsdag" in browser.get("/admin?lang=sv").text


def test_labels_exist_in_both_languages() -> None:
    assert set(LABELS["sv"]) == set(LABELS["en"])


# --- the dashboard ----------------------------------------------------------------------------


def test_dashboard_marks_overdue_and_due_soon_requests_in_words(console: Console) -> None:
    now = dt.datetime.now(dt.UTC)
    late = console.request("access", everywhere(console), received=now - dt.timedelta(days=50))
    soon = console.request("erasure", everywhere(console), received=now - dt.timedelta(days=27))
    calm = console.request("restriction", everywhere(console))
    browser = console.client(Role.VIEWER)
    page = browser.get("/admin?lang=en").text

    def urgency(request_id: str) -> str:
        row = re.search(rf'<tr class="(\w*)">\s*<th scope="row"><a[^>]*>{request_id}<', page)
        assert row is not None
        return row.group(1)

    assert (urgency(late), urgency(soon), urgency(calm)) == ("overdue", "soon", "")
    assert re.search(r"Overdue by \d+ days", page)
    assert "Due within 7 days" in page or "Due today" in page
    assert "Open requests: 3. Overdue: 1. Due within 7 days: 1." in page
    # Most urgent first.
    assert page.index(late) < page.index(soon) < page.index(calm)
    swedish = browser.get("/admin?lang=sv").text
    assert re.search(r"Försenad \d+ dagar", swedish)


def test_dashboard_charts_have_text_alternatives(console: Console) -> None:
    console.request("access", everywhere(console))
    console.request("erasure", everywhere(console))
    _banner_choice(console, statistics=True)
    page = console.client(Role.VIEWER).get("/admin?lang=en").text
    assert page.count('<svg class="chart"') == 2
    assert 'role="img"' in page
    assert "Requests per type and month</title>" in page
    assert "Requests in all: 2." in page
    # The figures as a table: this month has one access and one erasure request.
    month = dt.datetime.now(dt.UTC).strftime("%Y-%m")
    assert re.search(rf'<th scope="row">{month}</th><td>1</td><td>1</td>', page)
    assert "Consent rate per category and week</title>" in page
    assert "100 %" in page  # the one banner choice gave consent to statistics
    assert "Latest entries in the audit log" in page


# --- the list -----------------------------------------------------------------------------------


def test_request_list_filters(console: Console) -> None:
    now = dt.datetime.now(dt.UTC)
    late = console.request("access", everywhere(console), received=now - dt.timedelta(days=50))
    erasure = console.request("erasure", everywhere(console))
    invest = console.request("access", everywhere(console), controller="almi-invest")
    browser = console.client(Role.VIEWER)

    def listed(**params: str) -> set[str]:
        page = browser.get("/admin/requests", params={"lang": "en", **params}).text
        return {r for r in (late, erasure, invest) if f">{r}</a>" in page}

    assert listed() == {late, erasure, invest}
    assert listed(type="erasure") == {erasure}
    assert listed(overdue="1") == {late}
    assert listed(controller="almi-invest") == {invest}
    assert listed(state="completed") == set()
    assert listed(state="received") == {late, erasure, invest}


_LISTED = re.compile(r'<th scope="row"><a href="[^"]*">(R\w+)</a>')
_PAGER = re.compile(r'<a href="([^"]+)" rel="(prev|next)">')


def listed_ids(page: str) -> list[str]:
    """The request ids of a list page, in the order shown."""
    return _LISTED.findall(page)


def pager_links(page: str) -> dict[str, str]:
    """The list's previous and next links: rel -> URL."""
    return {rel: html.unescape(href) for href, rel in _PAGER.findall(page)}


def test_request_list_pages_keep_the_filters(
    built_demo: Path, tmp_path: Path, database_url: str
) -> None:
    with open_console(built_demo, tmp_path, database_url=database_url) as console:
        now = dt.datetime.now(dt.UTC)
        # Newest first here, so the oldest (the most urgent) is last.
        erasures = [
            console.request("erasure", everywhere(console), received=now - dt.timedelta(days=d))
            for d in range(53)
        ]
        others = [console.request("access", everywhere(console)) for _ in range(2)]
        browser = console.client(Role.VIEWER)

        first = browser.get("/admin/requests?lang=en&type=erasure")
        assert first.status_code == 200
        assert "Showing 1–50 of 53" in first.text
        links = pager_links(first.text)
        assert set(links) == {"next"}
        assert "type=erasure" in links["next"]
        assert "state=open" in links["next"]
        assert "page=2" in links["next"]

        second = browser.get(links["next"])
        assert second.status_code == 200
        assert "Showing 51–53 of 53" in second.text
        links = pager_links(second.text)
        assert set(links) == {"prev"}
        assert "type=erasure" in links["prev"]
        assert "page=1" in links["prev"]
        # Every erasure once, most urgent (oldest) first, and nothing else.
        shown = listed_ids(first.text) + listed_ids(second.text)
        assert shown == erasures[::-1]
        assert not set(others) & set(shown)

        # A page past the end is the last one.
        beyond = browser.get("/admin/requests?lang=en&type=erasure&page=99").text
        assert listed_ids(beyond) == listed_ids(second.text)
        # Unfiltered there are two pages of 55.
        assert "Showing 1–50 of 55" in browser.get("/admin/requests?lang=en").text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"state": "bogus"}, "There is no state “bogus”, so the list is not filtered by state."),
        ({"type": "forget-me"}, "There is no request type “forget-me”"),
        ({"page": "two"}, "There is no page “two”: a page number is a whole number from 1."),
        ({"page": "0"}, "There is no page “0”"),
        ({"page": "-3"}, "There is no page “-3”"),
        ({"page": "9" * 5000}, "There is no page “" + "9" * 40 + "”"),
    ],
)
def test_bad_list_filters_are_explained_not_failed(
    console: Console, params: dict[str, str], message: str
) -> None:
    withdrawn = console.request("erasure", everywhere(console))
    with store.transaction(console.engine) as session:
        move(
            session,
            get_request(session, withdrawn),
            RequestState.WITHDRAWN,
            actor="test",
            now=dt.datetime.now(dt.UTC),
        )
    access = console.request("access", everywhere(console))
    page = console.client(Role.VIEWER).get("/admin/requests", params={"lang": "en", **params})
    assert page.status_code == 400
    assert message in page.text
    assert "Traceback" not in page.text
    expected = {access}
    if "state" in params:
        expected.add(withdrawn)  # a bad state filters nothing out
    assert set(listed_ids(page.text)) == expected


def test_a_bad_filter_is_explained_in_swedish_too(console: Console) -> None:
    page = console.client(Role.VIEWER).get("/admin/requests?lang=sv&type=glom&page=x")
    assert page.status_code == 400
    assert "Ärendetypen ”glom” finns inte" in page.text
    assert "Sidan ”x” finns inte" in page.text


def test_a_controller_limited_user_sees_only_its_controller(console: Console) -> None:
    ours = console.request("access", everywhere(console), controller="almi-vast")
    theirs = console.request("access", everywhere(console), controller="almi-invest")
    lead = console.request("access", everywhere(console))
    browser = console.client(Role.HANDLER, controller="almi-vast")
    listing = browser.get("/admin/requests?lang=en").text
    assert f">{ours}</a>" in listing
    assert f">{theirs}</a>" not in listing
    assert f">{lead}</a>" not in listing
    # Asking for another controller's requests shows no more.
    asked = browser.get("/admin/requests?lang=en&controller=almi-invest").text
    assert listed_ids(asked) == [ours]
    assert browser.get(f"/admin/requests/{ours}").status_code == 200
    for other in (theirs, lead):
        page = browser.get(f"/admin/requests/{other}?lang=en")
        assert page.status_code == 404
        assert "No such request" in page.text
    dashboard = browser.get("/admin?lang=en").text
    assert ours in dashboard
    assert theirs not in dashboard
    audit = browser.get("/admin/audit?lang=en").text
    assert f"request:{ours}" in audit
    assert f"request:{theirs}" not in audit
    # The lead's DPO sees all of them.
    everything = console.client(Role.DPO).get("/admin/requests?lang=en").text
    assert all(f">{r}</a>" in everything for r in (ours, theirs, lead))


def test_an_unknown_request_is_not_found(console: Console) -> None:
    assert console.client(Role.VIEWER).get("/admin/requests/RNOSUCH222").status_code == 404


# --- register, consent, audit, users --------------------------------------------------------


def test_register_page_shows_lint_results_and_versions(console: Console) -> None:
    version = console.app.state.register.current().version
    page = console.client(Role.VIEWER).get("/admin/register?lang=en").text
    assert "Register check" in page
    assert f'href="/privacy/history/{version}"' in page
    assert "(current)" in page
    assert "Almi AB" in page
    for part in ("activities", "categories", "recipients", "systems"):
        assert f'href="/admin/register/{part}?lang=en"' in page

    register = console.directory / "ombud.yaml"
    text = register.read_text(encoding="utf-8")
    register.write_text(text.replace("categories: [contact]", "categories: [nosuch]", 1))
    broken = console.client(Role.VIEWER).get("/admin/register?lang=en").text
    assert "REF001" in broken
    assert "nosuch" in broken


def _banner_choice(console: Console, *, statistics: bool, visitor: str | None = None) -> str:
    served = console.app.state.register.current()
    purposes = {p for c in banner_text(served.register, "sv")["categories"] for p in c["purposes"]}
    with store.transaction(console.engine) as session:
        choice = record_choice(
            session,
            keys=console.app.state.keys,
            register=served.register,
            register_version=served.version,
            subject=("visitor_id", visitor or "3f2b8c1e-5a4d-4c2b-9e1f-7a6b5c4d3e2f"),
            choices={p: statistics and p != "marketing" for p in purposes},
            method="banner",
            language="sv",
            text=banner_text(served.register, "sv"),
            now=dt.datetime.now(dt.UTC),
        )
    return choice.events[0].receipt_id


def test_consent_search_and_receipt(console: Console) -> None:
    visitor = "9f1c2a6e-5b7d-4c3e-8a2f-0d4e6b8c1a93"
    _banner_choice(console, statistics=True, visitor=visitor)
    browser = console.client(Role.VIEWER)
    found = post(browser, "/admin/consent/search?lang=en", {"kind": "visitor_id", "value": visitor})
    assert found.status_code == 200
    assert "Consent in force" in found.text
    assert "Given" in found.text
    receipt = re.search(r'href="(/admin/consent/receipts/[0-9a-f-]+\?lang=en)"', found.text)
    assert receipt is not None
    page = browser.get(receipt.group(1))
    assert page.status_code == 200
    # The text that was shown, word for word: the banner's Swedish withdrawal statement.
    assert "Du kan när som helst ändra eller återkalla ditt samtycke" in page.text
    assert "KI-CR-v1.1.0" in page.text

    nobody = post(
        browser,
        "/admin/consent/search?lang=en",
        {"kind": "email", "value": "nobody@nowhere.example"},
    )
    assert "The consent ledger holds nothing under that identifier." in nobody.text
    bad = post(browser, "/admin/consent/search?lang=en", {"kind": "visitor_id", "value": "x"})
    assert bad.status_code == 400
    assert "visitor_id must be a UUID" in bad.text
    assert browser.get("/admin/consent/receipts/not-a-uuid").status_code == 404


def test_consent_statistics_period(console: Console) -> None:
    _banner_choice(console, statistics=False)
    browser = console.client(Role.VIEWER)
    page = browser.get("/admin/consent?lang=en").text
    assert "0 %" in page  # refused: the rate is 0 of 1 choice
    backwards = browser.get("/admin/consent?lang=en&since=2026-05-01&until=2026-04-01")
    assert backwards.status_code == 400
    assert "does not start after it ends" in backwards.text


def test_audit_log_filters_pages_and_verifies_the_chain(console: Console) -> None:
    first = console.request("access", everywhere(console))
    for _ in range(55):
        console.request("erasure", everywhere(console))
    browser = console.client(Role.VIEWER)
    page = browser.get("/admin/audit?lang=en").text
    assert "Showing 1–50 of" in page
    assert 'rel="next"' in page
    only = browser.get(f"/admin/audit?lang=en&object=request:{first}").text
    assert "Showing 1–1 of 1" in only
    assert f'href="/admin/requests/{first}?lang=en"' in only
    actions = browser.get("/admin/audit?lang=en&action=user.").text
    assert "request.received" not in actions
    assert "Login" in actions
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert "Showing 1–50" in browser.get(f"/admin/audit?lang=en&since={today}").text
    assert browser.get("/admin/audit?lang=en&since=yesterday").status_code == 400

    verified = post(browser, "/admin/audit/verify?lang=en")
    assert verified.status_code == 200
    assert "The chain is intact" in verified.text


def test_audit_verification_finds_tampering(console: Console) -> None:
    console.request("access", everywhere(console))
    with console.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE audit_entries SET actor = 'mallory' WHERE seq = 2")
    browser = console.client(Role.VIEWER)
    answer = post(browser, "/admin/audit/verify?lang=en")
    assert "The chain is broken at entry 2" in answer.text


# --- charts ---------------------------------------------------------------------------------


def test_charts_escape_their_words_and_tabulate_the_figures() -> None:
    chart = str(
        bar_chart(
            chart_id="c",
            title="<script>",
            description="a & b",
            x_name="Month",
            x_labels=["2026-01", "2026-02"],
            series=[Series("Access", [1, 2]), Series("Erasure <x>", [0, None])],
            table_label="Figures",
        )
    )
    assert "<script>" not in chart
    assert "&lt;script&gt;" in chart
    assert "Erasure &lt;x&gt;" in chart
    assert '<th scope="row">2026-02</th><td>2</td><td>–</td>' in chart
    lines = str(
        line_chart(
            chart_id="l",
            title="Rates",
            description="d",
            x_name="Week",
            x_labels=["W1", "W2"],
            series=[Series("Statistics", [50.0, 75.0])],
            table_label="Figures",
            suffix=" %",
            maximum=100,
        )
    )
    assert "<polyline" in lines
    assert "75 %" in lines


def test_chart_axes_name_the_labels_that_fit_and_always_the_latest() -> None:
    def named(x_labels: list[str]) -> list[str]:
        chart = str(
            bar_chart(
                chart_id="c",
                title="t",
                description="d",
                x_name="Month",
                x_labels=x_labels,
                series=[Series("Access", [1.0] * len(x_labels))],
                table_label="Figures",
            )
        )
        # Every label is in the table of figures, whatever the axis shows.
        assert all(f'<th scope="row">{label}</th>' in chart for label in x_labels)
        return re.findall(r'<text [^>]*text-anchor="middle"[^>]*>([^<]+)</text>', chart)

    assert named(["2026-01", "2026-02", "2026-03"]) == ["2026-01", "2026-02", "2026-03"]
    # Twelve months do not fit side by side: every other one, ending with this month.
    months = [f"2026-{month:02d}" for month in range(1, 13)]
    assert named(months) == months[1::2]
