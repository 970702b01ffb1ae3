"""Browser tests: real Chromium (Playwright driving /usr/bin/chromium) against Ombud.

The servers and helpers are in harness.py, banner_site.py and console_site.py;
here are the fixtures: one Chromium, one website, one Ombud and one console
per test session (per xdist worker), and a fresh browser context per test: a
new visitor of the website, a new browser of a console user.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from banner_site import GPC_SCRIPT, Ombud, Site, Visit, running_ombud, running_site
from console_site import Console, running_console, seed_cases
from harness import CHROMIUM, CHROMIUM_ARGS
from playwright.sync_api import Browser, ConsoleMessage, Page, ViewportSize, sync_playwright


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Chromium from Debian's package, headless; the tests fail loudly without it."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium "
            "(apt-get install -y chromium; `make install` does it)"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def site() -> Iterator[Site]:
    with running_site() as running:
        yield running


@pytest.fixture(scope="session")
def ombud(tmp_path_factory: pytest.TempPathFactory, site: Site) -> Iterator[Ombud]:
    """One Ombud for the session; each test is a new visitor (a fresh browser context)."""
    with running_ombud(tmp_path_factory.mktemp("ombud"), site) as running:
        yield running


def _script_error(message: ConsoleMessage, errors: list[str]) -> None:
    # A failed request is logged as an error too; the tests that fail requests expect it.
    if message.type == "error" and not message.text.startswith("Failed to load resource"):
        errors.append(message.text)


@pytest.fixture
def visit(browser: Browser, site: Site, ombud: Ombud) -> Iterator[Callable[..., Visit]]:
    """``visit(gpc=, lang=, goto=, viewport=)``: a new visitor (fresh context) on the test page."""
    contexts: list[Visit] = []

    def open_visit(
        *,
        gpc: bool = False,
        lang: str = "sv",
        goto: bool = True,
        viewport: ViewportSize | None = None,
    ) -> Visit:
        context = browser.new_context(
            extra_http_headers={"Sec-GPC": "1"} if gpc else None,
            viewport=viewport or {"width": 1280, "height": 720},
        )
        if gpc:
            context.add_init_script(GPC_SCRIPT)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: _script_error(message, errors))
        opened = Visit(context, page, errors)
        contexts.append(opened)
        if goto:
            page.goto(site.page_url(lang))
        return opened

    yield open_visit
    for opened in contexts:
        opened.context.close()
    # A script error in the banner is a failure of whichever test saw it.
    assert not [e for v in contexts for e in v.errors], [e for v in contexts for e in v.errors]


@pytest.fixture(scope="session")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """One console for the session, on the demo systems, with a few months of cases."""
    with running_console(tmp_path_factory.mktemp("console")) as running:
        running.seeded.update(seed_cases(running))
        yield running


@pytest.fixture
def console_page(browser: Browser, console: Console) -> Iterator[Page]:
    """A new browser (fresh context: no session) speaking English, 1280 px wide."""
    context = browser.new_context(
        locale="en-GB", viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: _script_error(message, errors))
    yield page
    context.close()
    assert not errors, errors
