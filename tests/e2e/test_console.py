# ruff: noqa: RUF001 - the console writes states and captions with an en dash
"""The console in real Chromium: logging in and out, the dashboard's deadlines, and working a
case from verification to the answer's download and the DPO's decisions (docs/console.md).

The console runs on the demo systems without a worker (console_site.py), so a
run finishes within the click that started it. Elements are found by their
role and accessible name, the way a screen reader finds them.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import sqlite3
import zipfile

import pytest
from console_site import PASSWORD, Console
from playwright.sync_api import Browser, Locator, Page, expect

from ombud.rights.deadlines import due_date, extended_due_date, swedish_date
from ombud.rights.models import RequestState
from ombud.store.users import Role

#: How the console names each role after "Signed in as".
ROLE_NAMES = {
    Role.VIEWER: "viewer",
    Role.HANDLER: "handler",
    Role.DPO: "data protection officer",
    Role.ADMIN: "administrator",
}


def case_url(console: Console, request_id: str) -> str:
    return f"{console.url}/admin/requests/{request_id}?lang=en"


def action(page: Page, title: str) -> Locator:
    """The case page's action section headed ``title`` (each is a labelled region)."""
    return page.get_by_role("region", name=title, exact=True)


def fact(page: Page, term: str) -> Locator:
    """The value of the case's fact ``term`` (a ``<dd>`` after its ``<dt>``)."""
    about = page.get_by_role("region", name="About the request")
    return (
        about.locator("dt")
        .filter(has_text=re.compile(f"^{re.escape(term)}$"))
        .locator("xpath=following-sibling::dd[1]")
    )


def timeline(page: Page) -> Locator:
    return page.get_by_role("region", name="Timeline").get_by_role("listitem")


def done_message(page: Page) -> Locator:
    return page.get_by_role("status")


# --- logging in and out -------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_log_in_and_out(console_page: Page, console: Console, role: Role) -> None:
    page = console_page
    # Without a session the console sends the browser to the login form, keeping the way back.
    page.goto(f"{console.url}/admin/requests?lang=en")
    expect(page).to_have_url(re.compile(r"/admin/login\?"))
    expect(page.get_by_role("heading", name="Log in", level=1)).to_be_visible()

    page.get_by_label("E-mail address").fill(console.users[role])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/admin/requests"))
    expect(page.get_by_role("heading", name="Requests", level=1)).to_be_visible()
    expect(page.get_by_role("banner")).to_contain_text(
        f"Signed in as {console.users[role]} ({ROLE_NAMES[role]})"
    )
    menu = page.get_by_role("navigation", name="Console menu")
    expect(menu.get_by_role("link", name="Dashboard")).to_be_visible()
    # Only an admin manages users.
    expect(menu.get_by_role("link", name="Users")).to_have_count(1 if role == Role.ADMIN else 0)
    session = next(c for c in page.context.cookies() if c["name"] == "ombud_session")
    assert session["httpOnly"]
    assert session["path"] == "/admin"

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/admin/login\?logged_out"))
    expect(page.get_by_role("status")).to_have_text("You are logged out.")
    # The session is over: the console is the login form again.
    page.goto(f"{console.url}/admin?lang=en")
    expect(page).to_have_url(re.compile(r"/admin/login\?"))
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)


def test_a_wrong_password_is_refused(console_page: Page, console: Console) -> None:
    page = console_page
    page.goto(f"{console.url}/admin/login?lang=en")
    page.get_by_label("E-mail address").fill(console.users[Role.DPO])
    page.get_by_label("Password").fill("not the password at all")
    page.get_by_role("button", name="Log in").click()
    # One generic message, announced, and the form again with the address kept.
    expect(page.get_by_role("alert")).to_contain_text("Login failed")
    expect(page.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("E-mail address")).to_have_value(console.users[Role.DPO])
    assert "ombud_session" not in {c["name"] for c in page.context.cookies()}


def test_the_console_speaks_swedish_by_default(browser: Browser, console: Console) -> None:
    # A browser asking for a language the console does not speak gets Swedish.
    context = browser.new_context(locale="de-DE")
    try:
        page = context.new_page()
        console.log_in(page, Role.VIEWER, lang="sv")
        page.goto(f"{console.url}/admin")
        expect(page.locator("html")).to_have_attribute("lang", "sv")
        expect(page.get_by_role("heading", name="Översikt", level=1)).to_be_visible()
        expect(page.get_by_role("navigation", name="Konsolens meny")).to_be_visible()
    finally:
        context.close()


# --- the dashboard ------------------------------------------------------------------------------


def test_an_overdue_request_is_highlighted_on_the_dashboard(
    console_page: Page, console: Console
) -> None:
    received = dt.datetime.now(dt.UTC) - dt.timedelta(days=60)
    late = console.request("access", console.everywhere(), received=received)
    page = console_page
    console.log_in(page, Role.VIEWER)
    page.goto(f"{console.url}/admin?lang=en")

    table = page.get_by_role("region", name="Open requests by due date")
    row = table.get_by_role("row").filter(has=page.get_by_role("link", name=late, exact=True))
    # Said in words, marked beside the text, and first: the most urgent of the open requests.
    days = (swedish_date(dt.datetime.now(dt.UTC)) - due_date(received)).days
    expect(row).to_contain_text(f"Overdue by {days} days")
    expect(row).to_have_class("overdue")
    expect(table.get_by_role("row").nth(1)).to_contain_text(late)
    marker = row.get_by_role("rowheader")
    assert marker.evaluate("(cell) => getComputedStyle(cell).borderLeftStyle") == "solid"
    assert marker.evaluate("(cell) => getComputedStyle(cell).borderLeftWidth") == "6px"
    summary = re.compile(r"Open requests: \d+\. Overdue: [1-9]\d*\.")
    expect(page.get_by_text(summary)).to_be_visible()

    # The link leads to the case, which says it too.
    row.get_by_role("link", name=late).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(late)
    expect(page.locator(".lead-in .badge.overdue")).to_have_text(f"⚠ Overdue by {days} days")


# --- working a case -----------------------------------------------------------------------------


def test_verify_run_and_download_an_access_request(console_page: Page, console: Console) -> None:
    person = console.person("everywhere")
    request_id = console.request("access", console.everywhere())
    page = console_page
    console.log_in(page, Role.HANDLER)
    page.goto(case_url(console, request_id))
    expect(fact(page, "State")).to_have_text("Received – identity not confirmed")

    verify = action(page, "Confirm the identity")
    verify.get_by_label("How I confirmed the identity").fill("Called back on the CRM number")
    verify.get_by_role("button", name="Confirm the identity").click()
    expect(done_message(page)).to_contain_text("The identity is confirmed.")
    expect(fact(page, "State")).to_have_text("Identity confirmed")

    action(page, "Run the request").get_by_role("button", name="Run the request").click()
    expect(done_message(page)).to_contain_text("The request has run.")
    expect(fact(page, "State")).to_have_text("Completed")
    steps = page.get_by_role("region", name="Steps per system")
    expect(steps.get_by_role("rowheader", name="CRM")).not_to_have_count(0)
    assert console.load(request_id).state == RequestState.COMPLETED

    with page.expect_download() as started:
        action(page, "Download the answer").get_by_role(
            "button", name="Download the answer"
        ).click()
    download = started.value
    assert download.suggested_filename == f"registerutdrag-{request_id}.zip"
    path = download.path()
    archive = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    assert {"registerutdrag.html", "registerutdrag.pdf", "registerutdrag.json"} <= set(
        archive.namelist()
    )
    # The person's own rows from the demo CRM, as the system holds them.
    with sqlite3.connect(console.directory / "crm.db") as crm:
        street, city = crm.execute(
            "SELECT street_address, city FROM persons WHERE id = ?", (person["person_id"],)
        ).fetchone()
    extract = json.loads(archive.read("registerutdrag.json"))
    text = json.dumps(extract, ensure_ascii=False)
    assert person["email"] in text
    assert street in text
    assert city in text
    assert street in archive.read("registerutdrag.html").decode()
    assert archive.read("registerutdrag.pdf").startswith(b"%PDF")

    page.reload()
    downloaded = timeline(page).filter(has_text="The answer was downloaded in the console")
    expect(downloaded).to_have_count(1)


def test_decide_an_objection_with_reasons(console_page: Page, console: Console) -> None:
    request_id = console.request(
        "objection", console.everywhere(), verified=True, activities=["customer-satisfaction"]
    )
    page = console_page
    console.log_in(page, Role.DPO)
    page.goto(case_url(console, request_id))
    action(page, "Run the request").get_by_role("button", name="Run the request").click()
    expect(fact(page, "State")).to_have_text("Awaiting action")

    decide = action(page, "Decide the objection: Measuring customer satisfaction")
    decide.get_by_label("Uphold: the processing stops").check()
    grounds = "No compelling grounds outweigh the person's interests in not being surveyed"
    decide.get_by_label("Reasons for the decision").fill(grounds)
    decide.get_by_role("button", name="Decide").click()

    expect(done_message(page)).to_contain_text("The decision on the objection is saved.")
    expect(fact(page, "State")).to_have_text("Completed")
    decided = page.get_by_role("region", name="Decision", exact=True)
    expect(decided).to_contain_text(f"Uphold: the processing stops. Reasons: {grounds}")
    expect(timeline(page).filter(has_text="Objection upheld")).to_have_count(1)
    expect(page.get_by_role("heading", name=re.compile("Decide the objection"))).to_have_count(0)
    assert console.load(request_id).state == RequestState.COMPLETED


def test_extend_a_deadline_with_reasons(console_page: Page, console: Console) -> None:
    received = dt.datetime.now(dt.UTC) - dt.timedelta(days=10)
    request_id = console.request("access", console.everywhere(), received=received)
    original, extended = due_date(received), extended_due_date(received)
    page = console_page
    console.log_in(page, Role.DPO)
    page.goto(case_url(console, request_id))
    expect(fact(page, "Due")).to_have_text(original.isoformat())

    reasons = "The person asked for every record since 2015 in all ten regional companies"
    extend = action(page, "Extend the deadline")
    extend.get_by_label("Reasons for the extension (sent to the person)").fill(reasons)
    extend.get_by_role("button", name="Extend by two months").click()

    expect(done_message(page)).to_contain_text("The deadline is extended")
    expect(fact(page, "Due")).to_have_text(
        f"{extended.isoformat()} (extended; originally due {original.isoformat()})"
    )
    expect(fact(page, "Reasons for the extension")).to_have_text(reasons)
    # The person has the reasons and the new date by mail.
    assert any(reasons in m and extended.isoformat() in m for m in console.mails())
    expect(timeline(page).filter(has_text="Deadline extended")).to_have_count(1)
    # Extended once only: the action is gone.
    expect(page.get_by_role("heading", name="Extend the deadline")).to_have_count(0)
    assert console.load(request_id).extended_due_on == extended


def test_refuse_a_request_with_reasons(console_page: Page, console: Console) -> None:
    request_id = console.request("erasure", console.everywhere())
    page = console_page
    console.log_in(page, Role.DPO)
    page.goto(case_url(console, request_id))

    reasons = "Manifestly unfounded: the same request for the third time this month"
    refuse = action(page, "Refuse the request")
    refuse.get_by_label("Reasons for the refusal (sent to the person)").fill(reasons)
    refuse.get_by_role("button", name="Refuse the request").click()

    expect(done_message(page)).to_contain_text("The request is refused")
    expect(fact(page, "State")).to_have_text("Refused")
    expect(fact(page, "Reasons for the refusal")).to_have_text(reasons)
    assert any(reasons in m and request_id in m for m in console.mails())
    expect(timeline(page).filter(has_text="Request refused")).to_have_count(1)
    # Closed: nothing more to do.
    actions = page.get_by_role("region", name="Actions")
    expect(actions).to_contain_text("There is nothing you can do on this request right now.")
    expect(actions.get_by_role("button")).to_have_count(0)
    assert console.load(request_id).state == RequestState.REFUSED
