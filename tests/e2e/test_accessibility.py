# ruff: noqa: RUF001 - the pages write ranges and captions with an en dash
"""axe-core on the pages people use: the console, the privacy portal and the cookie banner.

Each test opens a page in real Chromium, in the state a person sees it, and
fails on any violation axe rates serious or critical (accessibility.py). The
dashboard and case tests also take docs/'s screenshots when $OMBUD_SCREENSHOTS
names a folder (`make screenshots`).
"""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import pytest
from accessibility import assert_accessible, axe_violations, screenshot
from banner_site import Ombud, Site, Visit
from console_site import Console
from playwright.sync_api import Browser, Page, expect

from ombud.store.users import Role

Visitor = Callable[..., Visit]


def test_axe_finds_what_it_should(browser: Browser) -> None:
    """The check itself works: a page with known faults fails it, naming them."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_content(
            "<html><body><main><h1>Faults</h1><img src='data:,'>"
            "<button></button><p style='color:#ccc;background:#fff'>faint</p></main></body></html>"
        )
        found = {v["id"] for v in axe_violations(page)}
        assert {"html-has-lang", "image-alt", "button-name", "color-contrast"} <= found
        with pytest.raises(AssertionError, match="button-name"):
            assert_accessible(page)
    finally:
        context.close()


# --- the console --------------------------------------------------------------------------------


@pytest.mark.screenshots
def test_dashboard(console_page: Page, console: Console) -> None:
    page = console_page
    console.log_in(page, Role.DPO)
    page.goto(f"{console.url}/admin?lang=en")
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    overdue = page.get_by_role("row").filter(
        has=page.get_by_role("link", name=console.seeded["overdue"])
    )
    expect(overdue).to_contain_text("Overdue by")
    expect(page.get_by_role("img", name="Requests per type and month")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "console-dashboard")


@pytest.mark.screenshots
def test_case_page_with_decisions_to_take(console_page: Page, console: Console) -> None:
    page = console_page
    console.log_in(page, Role.DPO)
    page.goto(f"{console.url}/admin/requests/{console.seeded['awaiting_objection']}?lang=en")
    decide = "Decide the objection: Measuring customer satisfaction"
    expect(page.get_by_role("heading", name=decide)).to_be_visible()
    for form in ("Extend the deadline", "Refuse the request"):
        expect(page.get_by_role("region", name=form, exact=True)).to_be_visible()
    assert_accessible(page)
    screenshot(page, "console-case")


def test_case_page_with_the_data_found(console_page: Page, console: Console) -> None:
    request_id = console.request("rectification", console.everywhere(), verified=True)
    page = console_page
    console.log_in(page, Role.HANDLER)
    page.goto(f"{console.url}/admin/requests/{request_id}?lang=en")
    page.get_by_role("button", name="Run the request").click()
    # The person's rows, a table per system and collection, each value with a field to correct.
    persons = page.get_by_role("table", name=re.compile(r"^CRM .* – persons$"))
    expect(persons).to_be_visible()
    expect(persons.get_by_role("textbox", name=re.compile("email"))).to_have_count(1)
    assert_accessible(page)


def test_login_list_and_new_request_pages(console_page: Page, console: Console) -> None:
    page = console_page
    page.goto(f"{console.url}/admin/login")
    assert_accessible(page)
    console.log_in(page, Role.HANDLER)
    page.goto(f"{console.url}/admin/requests?lang=en&state=")
    expect(page.get_by_role("heading", name="Requests", level=1)).to_be_visible()
    assert_accessible(page)
    page.goto(f"{console.url}/admin/requests/new?lang=en")
    assert_accessible(page)
    # Sent with no way to find the person: the error is on the page, which stays accessible.
    page.get_by_role("radio", name="Access", exact=True).check()
    page.get_by_role("button", name="Register the request").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert_accessible(page)


# --- the privacy portal -------------------------------------------------------------------------


def _last_code(outbox: Path) -> str:
    """The six-digit code of the newest verification mail."""
    newest = max(outbox.glob("*.eml"), key=lambda path: path.stat().st_mtime_ns)
    message = email.message_from_bytes(newest.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    found = re.search(r"\b(\d{6})\b", body.get_content())
    assert found is not None, "no code in the verification mail"
    return found.group(1)


def test_privacy_notice_and_history(visit: Visitor, ombud: Ombud) -> None:
    page = visit(goto=False).page
    page.goto(f"{ombud.url}/privacy?lang=sv")
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible(page)
    page.goto(f"{ombud.url}/privacy/history?lang=sv")
    assert_accessible(page)
    # A stale link to a version: a page saying so, not an error document.
    answer = page.goto(f"{ombud.url}/privacy/history/{'0' * 64}?lang=sv")
    assert answer is not None
    assert answer.status == 404
    expect(page.get_by_role("heading", name="Versionen finns inte", level=1)).to_be_visible()
    assert_accessible(page)


def test_request_form_from_errors_to_verified(visit: Visitor, ombud: Ombud) -> None:
    page = visit(goto=False).page
    page.goto(f"{ombud.url}/privacy/request?lang=sv")
    assert_accessible(page)

    page.get_by_role("button", name="Skicka begäran").click()
    expect(page.get_by_role("alert")).to_contain_text("Det finns ett problem")
    assert_accessible(page)

    page.get_by_role("radio", name="Registerutdrag", exact=True).check()
    page.get_by_label("E-postadress", exact=True).fill("jan.nystrom@example.net")
    page.get_by_role("button", name="Skicka begäran").click()
    code = page.get_by_label("Koden från mejlet")
    expect(code).to_be_visible()
    assert_accessible(page)

    right = _last_code(ombud.outbox)
    code.fill("000000" if right != "000000" else "111111")
    page.get_by_role("button", name="Bekräfta").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Koden från mejlet").fill(right)
    page.get_by_role("button", name="Bekräfta").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tack – det är bekräftat")
    assert_accessible(page)


def test_consent_page(visit: Visitor, ombud: Ombud) -> None:
    page = visit(goto=False).page
    page.goto(f"{ombud.url}/privacy/consent?lang=sv")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible(page)


# --- the cookie banner --------------------------------------------------------------------------


def test_banner_layers(visit: Visitor, site: Site, ombud: Ombud) -> None:
    v = visit()
    dialog = v.page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    assert_accessible(v.page)

    dialog.get_by_role("button", name="Inställningar", exact=True).click()
    expect(dialog.get_by_role("checkbox").first).to_be_visible()
    assert_accessible(v.page)

    dialog.get_by_role("button", name="Spara mina val", exact=True).click()
    expect(dialog).to_be_hidden()
    # What is left on the page: the button that opens the settings again.
    expect(v.page.locator(".ombud-reopen")).to_be_visible()
    assert_accessible(v.page)
