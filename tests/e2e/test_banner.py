"""The cookie banner in real Chromium: prior blocking, the two layers, GPC, Consent Mode,
withdrawal, the keyboard, and the choices arriving in the ledger (docs/banner.md)."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from banner_site import GPC_SCRIPT, Ombud, Site, Visit, running_ombud, running_site
from playwright.sync_api import Browser, Locator, Page, Route, expect

Visitor = Callable[..., Visit]

DENIED_DEFAULT = {
    "ad_storage": "denied",
    "ad_user_data": "denied",
    "ad_personalization": "denied",
    "analytics_storage": "denied",
    "functionality_storage": "denied",
    "personalization_storage": "denied",
    "security_storage": "granted",
}
STATISTICS_COOKIES = {"_ga", "_ga_STANDIN", "_gid"}
MARKETING_COOKIES = {"_fbp", "_uetvid", "li_fat_id"}
COOKIE = re.compile(r"^v1\.[0-9a-f-]{36}\.([0-9a-f]{12})\.((?:\w+:[01])(?:,\w+:[01])*)$")


@cache
def _banner_json(url: str, lang: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/consent/banner.json?lang={lang}") as response:
        loaded: dict[str, Any] = json.load(response)
    return loaded


def wording(ombud: Ombud, lang: str = "sv") -> dict[str, str]:
    """The banner's labels as banner.json gives them (the register's language)."""
    found: dict[str, str] = _banner_json(ombud.url, lang)["wording"]
    return found


def dialog(page: Page) -> Locator:
    return page.get_by_role("dialog")


def button(page: Page, ombud: Ombud, key: str, lang: str = "sv") -> Locator:
    return dialog(page).get_by_role("button", name=wording(ombud, lang)[key], exact=True)


def data_layer(page: Page) -> list[list[Any]]:
    """window.dataLayer with each gtag() Arguments object as a list."""
    found: list[list[Any]] = page.evaluate(
        "() => (window.dataLayer || []).map((entry) => Array.from(entry))"
    )
    return found


def ran(page: Page, flag: str) -> bool:
    return bool(page.evaluate(f"() => window.{flag} === true"))


def choices(visit: Visit) -> dict[str, bool]:
    value = visit.consent_cookie()
    assert value is not None
    match = COOKIE.match(value)
    assert match, f"the consent cookie {value!r} is not v1.<uuid>.<version12>.<choices>"
    return {k: v == "1" for k, v in (pair.split(":") for pair in match.group(2).split(","))}


def test_nothing_runs_and_no_cookie_is_set_before_a_choice(
    visit: Visitor, site: Site, ombud: Ombud
) -> None:
    v = visit()
    expect(dialog(v.page)).to_be_visible()
    assert not ran(v.page, "statsLoaded")
    assert not ran(v.page, "marketingLoaded")
    assert not ran(v.page, "statsExternal")
    assert v.context.cookies() == []
    assert data_layer(v.page) == [["consent", "default", DENIED_DEFAULT]]


def test_reject_all_runs_no_tag_and_sets_only_the_consent_cookie(
    visit: Visitor, site: Site, ombud: Ombud
) -> None:
    before = len(site.requests)
    v = visit()
    button(v.page, ombud, "reject_all").click()
    expect(dialog(v.page)).to_be_hidden()

    assert v.cookie_names() == {"ombud_consent"}
    assert choices(v) == {"statistics": False, "marketing": False}
    # It lasts the register's renew_after (P12M), Lax, on the site's own host.
    cookie = next(c for c in v.context.cookies() if c["name"] == "ombud_consent")
    assert 364 <= (cookie["expires"] - time.time()) / 86400 <= 366
    assert cookie["sameSite"] == "Lax"
    assert cookie["domain"] == "localhost"
    assert COOKIE.match(v.consent_cookie() or "")[1] == ombud.register_version[:12]  # type: ignore[index]
    events = ombud.wait_for_events(v.visitor_id(), 2)
    assert events == [
        ("marketing", "refused", "banner", False),
        ("statistics", "refused", "banner", False),
    ]

    # The next page restores the refusal from the cookie: no dialog, still nothing runs.
    v.page.reload()
    expect(v.page.locator(".ombud-reopen")).to_be_visible()
    expect(dialog(v.page)).to_be_hidden()
    for flag in ("statsLoaded", "statsExternal", "marketingLoaded"):
        assert not ran(v.page, flag), flag
    asked = site.requests[before:]
    assert not any(r.startswith(("/pixel.gif", "/frame.html", "/stats.js")) for r in asked)
    assert v.cookie_names() == {"ombud_consent"}
    assert len(ombud.events(v.visitor_id())) == 2  # restoring records nothing


def test_accept_all_runs_every_tag_now_and_on_the_next_page(
    visit: Visitor, site: Site, ombud: Ombud
) -> None:
    v = visit()
    button(v.page, ombud, "accept_all").click()
    expect(dialog(v.page)).to_be_hidden()

    v.page.wait_for_function("() => window.statsExternal === true")
    assert ran(v.page, "statsLoaded")
    assert ran(v.page, "marketingLoaded")
    v.page.wait_for_function(
        "() => document.querySelector('img[data-ombud-category]').complete"
        " && document.querySelector('img[data-ombud-category]').naturalWidth === 1"
    )
    assert site.requested("/pixel.gif")
    assert site.requested("/frame.html")
    assert v.cookie_names() >= STATISTICS_COOKIES | MARKETING_COOKIES
    assert choices(v) == {"statistics": True, "marketing": True}
    assert v.page.evaluate("() => window.ombud.consent('marketing')") is True
    assert ombud.wait_for_events(v.visitor_id(), 2) == [
        ("marketing", "given", "banner", False),
        ("statistics", "given", "banner", False),
    ]

    v.page.reload()
    v.page.wait_for_function("() => window.statsLoaded === true && window.marketingLoaded")
    expect(dialog(v.page)).to_be_hidden()


def test_gpc_refuses_marketing_and_the_banner_says_why(
    visit: Visitor, site: Site, ombud: Ombud
) -> None:
    v = visit(gpc=True)
    expect(dialog(v.page)).to_contain_text("Global Privacy Control")
    button(v.page, ombud, "settings").click()
    marketing = v.page.locator("#ombud-c-marketing")
    expect(marketing).to_be_disabled()
    expect(marketing).not_to_be_checked()
    expect(v.page.locator("#ombud-d-marketing")).to_contain_text("Global Privacy Control")

    button(v.page, ombud, "accept_all").click()
    v.page.wait_for_function("() => window.statsLoaded === true")
    assert not ran(v.page, "marketingLoaded")
    assert choices(v) == {"statistics": True, "marketing": False}
    assert not MARKETING_COOKIES & v.cookie_names()
    assert ombud.wait_for_events(v.visitor_id(), 2) == [
        ("marketing", "refused", "banner_settings", True),
        ("statistics", "given", "banner_settings", True),
    ]
    update = data_layer(v.page)[-1]
    assert update[:2] == ["consent", "update"]
    assert update[2]["ad_storage"] == "denied"
    assert update[2]["analytics_storage"] == "granted"


def test_gpc_turned_on_after_a_marketing_consent_withdraws_it(
    browser: Browser, visit: Visitor, site: Site, ombud: Ombud
) -> None:
    v = visit()
    button(v.page, ombud, "accept_all").click()
    visitor_id = v.visitor_id()
    ombud.wait_for_events(visitor_id, 2)

    # The same browser profile, now sending GPC: same cookies, new signal.
    state = v.context.storage_state()
    later = browser.new_context(storage_state=state, extra_http_headers={"Sec-GPC": "1"})
    try:
        later.add_init_script(GPC_SCRIPT)
        page = later.new_page()
        page.goto(site.page_url())
        page.wait_for_function("() => window.statsLoaded === true")
        assert not ran(page, "marketingLoaded")
        events = ombud.wait_for_events(visitor_id, 4)
        assert ("marketing", "withdrawn", "banner", True) in events[2:]
    finally:
        later.close()


def test_withdrawal_in_settings_stops_the_tags_on_the_next_page(
    visit: Visitor, site: Site, ombud: Ombud
) -> None:
    v = visit()
    button(v.page, ombud, "accept_all").click()
    v.page.wait_for_function("() => window.statsLoaded === true")
    assert v.cookie_names() >= STATISTICS_COOKIES

    # The fixed button on every page reopens the settings with the current choice.
    reopen = v.page.locator(".ombud-reopen")
    expect(reopen).to_have_attribute("aria-label", re.compile(r"\w"))
    reopen.click()
    expect(dialog(v.page)).to_be_visible()
    statistics = v.page.locator("#ombud-c-statistics")
    expect(statistics).to_be_checked()
    expect(v.page.locator("#ombud-c-marketing")).to_be_checked()
    statistics.uncheck()
    button(v.page, ombud, "save").click()
    expect(dialog(v.page)).to_be_hidden()
    expect(reopen).to_be_focused()  # focus returns where it was

    # The statistics cookies are gone at once; marketing's stay.
    assert not STATISTICS_COOKIES & v.cookie_names()
    assert v.cookie_names() >= MARKETING_COOKIES
    assert choices(v) == {"statistics": False, "marketing": True}
    events = ombud.wait_for_events(v.visitor_id(), 4)
    assert events[2:] == [
        ("marketing", "given", "banner_settings", False),
        ("statistics", "withdrawn", "banner_settings", False),
    ]

    v.page.goto(site.page_url())
    v.page.wait_for_function("() => window.marketingLoaded === true")
    assert not ran(v.page, "statsLoaded")
    assert not ran(v.page, "statsExternal")
    assert not STATISTICS_COOKIES & v.cookie_names()


def test_the_sites_own_link_opens_the_settings(visit: Visitor, site: Site, ombud: Ombud) -> None:
    v = visit()
    button(v.page, ombud, "reject_all").click()
    v.page.locator('a[href="#ombud-settings"]').click()
    expect(dialog(v.page)).to_be_visible()
    expect(v.page.locator("#ombud-c-statistics")).to_be_visible()
    # Reopened after a choice, Escape closes without changing it.
    v.page.keyboard.press("Escape")
    expect(dialog(v.page)).to_be_hidden()
    assert choices(v) == {"statistics": False, "marketing": False}


def _focus_in_dialog(page: Page) -> bool:
    return bool(
        page.evaluate(
            "() => document.querySelector('[role=dialog]').contains(document.activeElement)"
        )
    )


def _focused_text(page: Page) -> str:
    return str(page.evaluate("() => document.activeElement.textContent.trim()"))


def test_the_banner_works_with_the_keyboard_alone(visit: Visitor, site: Site, ombud: Ombud) -> None:
    v = visit()
    page = v.page
    expect(dialog(page)).to_be_visible()
    assert _focus_in_dialog(page), "focus did not move into the dialog on open"

    # Tab and Shift+Tab go round inside the dialog, never out to the page.
    seen = set()
    for _ in range(12):
        page.keyboard.press("Tab")
        assert _focus_in_dialog(page)
        seen.add(_focused_text(page))
    labels = wording(ombud)
    assert {labels["accept_all"], labels["reject_all"], labels["settings"]} <= seen
    for _ in range(12):
        page.keyboard.press("Shift+Tab")
        assert _focus_in_dialog(page)

    # Escape on the first layer chooses nothing.
    page.keyboard.press("Escape")
    expect(dialog(page)).to_be_visible()
    assert v.context.cookies() == []

    # Settings by Enter; Escape steps back to the first layer, onto the settings button.
    while _focused_text(page) != labels["settings"]:
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#ombud-c-statistics")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("#ombud-c-statistics")).to_be_hidden()
    assert _focused_text(page) == labels["settings"]

    while _focused_text(page) != labels["reject_all"]:
        page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    expect(dialog(page)).to_be_hidden()
    assert choices(v) == {"statistics": False, "marketing": False}
    assert [e[1] for e in ombud.wait_for_events(v.visitor_id(), 2)] == ["refused", "refused"]


def test_consent_mode_default_comes_first_and_the_update_after_the_choice(
    visit: Visitor, site: Site, ombud: Ombud
) -> None:
    v = visit()
    expect(dialog(v.page)).to_be_visible()
    assert data_layer(v.page) == [["consent", "default", DENIED_DEFAULT]]

    button(v.page, ombud, "accept_all").click()
    granted = {
        "analytics_storage": "granted",
        "ad_storage": "granted",
        "ad_user_data": "granted",
        "ad_personalization": "granted",
    }
    assert data_layer(v.page) == [
        ["consent", "default", DENIED_DEFAULT],
        ["consent", "update", granted],
    ]

    # A stored choice: the default first again, then the update from the cookie.
    v.page.reload()
    v.page.wait_for_function("() => window.dataLayer.length >= 2")
    assert data_layer(v.page)[:2] == [
        ["consent", "default", DENIED_DEFAULT],
        ["consent", "update", granted],
    ]


def test_the_first_layer_follows_pts(visit: Visitor, site: Site, ombud: Ombud) -> None:
    v = visit()
    box = dialog(v.page)
    expect(box).to_have_attribute("aria-modal", "true")
    title = v.page.locator(f"#{box.get_attribute('aria-labelledby')}")
    expect(title).to_have_text(re.compile(r"\w"))
    expect(box).to_have_accessible_name(title.inner_text())

    # The categories named, the right to withdraw stated, the notice linked.
    expect(box).to_contain_text("Statistik")
    expect(box).to_contain_text("Marknadsföring")
    expect(box).to_contain_text(wording(ombud)["withdrawal"])
    link = box.get_by_role("link")
    expect(link).to_have_attribute("href", f"{ombud.url}/privacy?lang=sv")

    # Accept and reject: one style, one size, no colour for either.
    accept, reject = button(v.page, ombud, "accept_all"), button(v.page, ombud, "reject_all")
    style = (
        "(el) => { const s = getComputedStyle(el); return [s.backgroundColor, s.color,"
        " s.borderColor, s.borderWidth, s.fontSize, s.fontWeight, s.padding]; }"
    )
    assert accept.evaluate(style) == reject.evaluate(style)
    a, r = accept.bounding_box(), reject.bounding_box()
    assert a
    assert r
    assert (round(a["width"]), round(a["height"])) == (round(r["width"]), round(r["height"]))
    background = accept.evaluate(
        "(el) => getComputedStyle(el.closest('[role=dialog]')).backgroundColor"
    )
    assert accept.evaluate(style)[0] == background

    # The settings: every optional category unchecked, necessary always on, recipients named.
    button(v.page, ombud, "settings").click()
    for category in ("statistics", "marketing"):
        checkbox = v.page.locator(f"#ombud-c-{category}")
        expect(checkbox).not_to_be_checked()
        expect(checkbox).to_be_enabled()
    expect(v.page.locator("#ombud-c-necessary")).to_be_checked()
    expect(v.page.locator("#ombud-c-necessary")).to_be_disabled()
    expect(v.page.locator("#ombud-d-marketing")).to_contain_text("LinkedIn")
    for checkbox in v.page.get_by_role("checkbox").all():
        expect(checkbox).to_have_accessible_name(re.compile(r"\w"))


@pytest.mark.parametrize(("width", "height"), [(360, 640), (320, 480), (768, 1024), (1280, 720)])
def test_accept_and_reject_show_side_by_side_on_any_screen(
    visit: Visitor, site: Site, ombud: Ombud, width: int, height: int
) -> None:
    """Reject is as easy as accept on the first layer: both in view at once, same size."""
    v = visit(viewport={"width": width, "height": height})
    expect(dialog(v.page)).to_be_visible()
    boxes = [button(v.page, ombud, key).bounding_box() for key in ("accept_all", "reject_all")]
    for box in boxes:
        assert box
        assert box["x"] >= 0
        assert box["y"] >= 0
        assert box["x"] + box["width"] <= width
        assert box["y"] + box["height"] <= height
    accept, reject = boxes
    assert accept
    assert reject
    assert round(accept["width"]) == round(reject["width"])
    assert round(accept["height"]) == round(reject["height"])
    assert round(accept["y"]) == round(reject["y"])  # on one row


def test_english(visit: Visitor, site: Site, ombud: Ombud) -> None:
    v = visit(lang="en")
    expect(dialog(v.page)).to_contain_text("Statistics")
    button(v.page, ombud, "reject_all", lang="en").click()
    events = ombud.wait_for_events(v.visitor_id(), 2)
    assert [e[1] for e in events] == ["refused", "refused"]


def test_a_failed_post_is_retried_once_and_recorded_once(
    visit: Visitor, site: Site, ombud: Ombud
) -> None:
    v = visit(goto=False)
    failures: list[str] = []

    def fail_first(route: Route) -> None:
        if route.request.method == "POST" and not failures:
            failures.append(route.request.url)
            route.fulfill(status=503, body="try later")
        else:
            route.continue_()

    v.page.route("**/api/v1/consent/events", fail_first)
    v.page.goto(site.page_url())
    button(v.page, ombud, "accept_all").click()
    events = ombud.wait_for_events(v.visitor_id(), 2, page=v.page)
    assert failures, "the first POST was not made"
    assert [e[1] for e in events] == ["given", "given"]
    v.page.wait_for_timeout(2500)  # past the next backoff step: nothing is sent twice
    assert len(ombud.events(v.visitor_id())) == 2


def test_an_unsent_choice_leaves_by_beacon_when_the_page_goes(
    visit: Visitor, site: Site, ombud: Ombud
) -> None:
    v = visit(goto=False)

    # The network drops every fetch of the events; the beacon on pagehide gets through.
    def drop_fetch(route: Route) -> None:
        if route.request.resource_type == "fetch":
            route.abort()
        else:
            route.continue_()

    v.page.route("**/api/v1/consent/events", drop_fetch)
    v.page.goto(site.page_url())
    button(v.page, ombud, "reject_all").click()
    visitor_id = v.visitor_id()
    v.page.wait_for_timeout(300)
    assert ombud.events(visitor_id) == []
    v.page.goto("about:blank")
    events = ombud.wait_for_events(visitor_id, 2, page=v.page)
    assert [e[:2] for e in events] == [("marketing", "refused"), ("statistics", "refused")]


@pytest.mark.parametrize(
    ("change", "lang", "asks_again"),
    [
        # The consent section: a category's description is part of what was shown.
        (("Hjälper oss att förbättra", "Hjälper Almi att förbättra"), "sv", True),
        # Elsewhere in the register: a new register version, but the same consent texts.
        (("dataskyddsombud@almi.se", "dpo@almi.se"), "sv", False),
        # ... and a choice made in Swedish holds on the English pages (banner.json's
        # consent_version covers every language).
        (("dataskyddsombud@almi.se", "dpo@almi.se"), "en", False),
    ],
)
def test_asks_again_only_when_the_consent_texts_change(
    browser: Browser,
    tmp_path: Path,
    change: tuple[str, str],
    lang: str,
    asks_again: bool,
) -> None:
    with running_site() as site, running_ombud(tmp_path, site) as ombud:
        first = browser.new_context()
        try:
            page = first.new_page()
            page.goto(site.page_url())
            button(page, ombud, "accept_all").click()
            ombud.wait_for_events(_visitor_id(first.cookies()), 2)
            state = first.storage_state()
        finally:
            first.close()
        version = ombud.register_version
        text = ombud.register_file.read_text(encoding="utf-8")
        assert change[0] in text
        ombud.register_file.write_text(text.replace(*change), encoding="utf-8")
        assert ombud.register_version != version

        # A later visit by the same browser (its cookie and storage; no HTTP cache).
        later = browser.new_context(storage_state=state)
        try:
            page = later.new_page()
            page.goto(site.page_url(lang))
            expect(page.locator(".ombud-reopen")).to_be_attached()
            if asks_again:
                expect(dialog(page)).to_be_visible()
                assert not ran(page, "statsLoaded")
            else:
                page.wait_for_function("() => window.statsLoaded === true")
                expect(dialog(page)).to_be_hidden()
        finally:
            later.close()


def _visitor_id(cookies: list[Any]) -> str:
    value = next(c["value"] for c in cookies if c["name"] == "ombud_consent")
    return str(value.split(".")[1])


def test_asks_again_after_renew_after(visit: Visitor, site: Site, ombud: Ombud) -> None:
    v = visit()
    button(v.page, ombud, "accept_all").click()
    # The choice was made 13 months ago (Almi's renew_after is P12M).
    v.page.evaluate(
        "() => { const m = JSON.parse(localStorage.getItem('ombud_consent_mark'));"
        " m.t = Date.now() - 396 * 864e5;"
        " localStorage.setItem('ombud_consent_mark', JSON.stringify(m)); }"
    )
    v.page.reload()
    expect(dialog(v.page)).to_be_visible()
    assert not ran(v.page, "statsLoaded")


def test_without_ombud_nothing_runs(visit: Visitor, site: Site, ombud: Ombud) -> None:
    v = visit(goto=False)
    v.page.route("**/consent/banner.json*", lambda route: route.abort())
    v.page.goto(site.page_url())
    v.page.wait_for_timeout(500)
    # No texts, no banner: and the tags stay blocked, which is the safe side.
    assert data_layer(v.page) == [["consent", "default", DENIED_DEFAULT]]
    expect(dialog(v.page)).to_have_count(0)
    for flag in ("statsLoaded", "statsExternal", "marketingLoaded"):
        assert not ran(v.page, flag), flag
    assert v.context.cookies() == []
    assert any("banner.json" in e for e in v.errors)
    v.errors.clear()  # the banner says why on the console, as it should
