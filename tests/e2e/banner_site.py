"""Ombud and a website embedding its banner, both served for real, for the browser tests.

Ombud runs in uvicorn on a thread (harness.py), on a free port of 127.0.0.1, with a migrated
SQLite store and a copy of the Almi register. The test page
(``examples/banner/index.html``) is served by a second small server at
``http://localhost:<port>``: another origin, so every banner request crosses
origins the way it does on a real website, and that origin is the one in
``allowed_origins``. The site server logs the paths it was asked for, so a
test can tell whether a blocked pixel or frame was requested.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from harness import ALMI, ROOT, serving
from playwright.sync_api import BrowserContext, Page
from sqlalchemy import text

from ombud import store
from ombud.settings import Settings
from ombud.web import create_app

EXAMPLE = ROOT / "examples" / "banner" / "index.html"
#: Where the example page expects Ombud; the site server puts the real address there.
EXAMPLE_OMBUD = "http://127.0.0.1:8000"

#: The browser half of a GPC signal; the header half is ``extra_http_headers``.
GPC_SCRIPT = (
    "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', "
    "{get: () => true, configurable: true});"
)
PIXEL = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)


@dataclass
class Ombud:
    """Ombud as served to the browser: its URL, app (engine, keys) and register file."""

    url: str
    app: FastAPI
    register_file: Path
    #: The mail Ombud sent, as .eml files (OMBUD_MAIL_URL=file:...).
    outbox: Path

    @property
    def register_version(self) -> str:
        version: str = self.app.state.register.current().version
        return version

    def events(self, visitor_id: str) -> list[tuple[str, str, str, bool]]:
        """The ledger's events for a visitor: (purpose, event, method, gpc), oldest first."""
        digest = self.app.state.keys.identifier("visitor_id", visitor_id)
        with self.app.state.engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT purpose, event, method, gpc FROM consent_events "
                    "WHERE subject_digest = :digest ORDER BY created_at, purpose"
                ),
                {"digest": digest},
            )
            return [(r.purpose, r.event, r.method, bool(r.gpc)) for r in rows]

    def wait_for_events(
        self, visitor_id: str, count: int, *, page: Page | None = None, timeout: float = 10
    ) -> list[tuple[str, str, str, bool]]:
        """The visitor's events once there are at least ``count`` (the banner posts async).

        Pass the ``page`` when it has routes: Playwright's sync API runs route handlers
        only while the test waits through it, never during a plain sleep.
        """
        deadline = time.monotonic() + timeout
        while True:
            found = self.events(visitor_id)
            if len(found) >= count or time.monotonic() > deadline:
                return found
            if page is not None:
                page.wait_for_timeout(50)
            else:
                time.sleep(0.05)


@dataclass
class Site:
    """The website embedding the banner: serves the example page and logs what is asked."""

    origin: str
    ombud_url: str = ""
    requests: list[str] = field(default_factory=list)

    def requested(self, path: str) -> bool:
        return any(r.split("?", 1)[0] == path for r in self.requests)

    def page_url(self, lang: str = "sv") -> str:
        return f"{self.origin}/" if lang == "sv" else f"{self.origin}/{lang}/"


def _site_handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.requests.append(self.path)
            path = self.path.split("?", 1)[0]
            if path in {"/", "/en/"}:
                page = EXAMPLE.read_text(encoding="utf-8").replace(EXAMPLE_OMBUD, site.ombud_url)
                if path == "/en/":
                    page = page.replace('data-ombud-lang="sv"', 'data-ombud-lang="en"')
                self._send(page.encode(), "text/html; charset=utf-8")
            elif path == "/pixel.gif":
                self._send(PIXEL, "image/gif")
            elif path == "/frame.html":
                self._send(b"<!doctype html><p>stand-in marketing frame</p>", "text/html")
            elif path == "/stats.js":
                self._send(b"window.statsExternal = true;", "text/javascript")
            elif path == "/favicon.ico":
                self.send_response(204)
                self.end_headers()
            else:
                self.send_error(404)

        def _send(self, body: bytes, content_type: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
            pass

    return Handler


@contextmanager
def running_site() -> Iterator[Site]:
    """The site server on a free port, named ``localhost``: another origin than Ombud's."""
    site = Site(origin="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _site_handler(site))
    site.origin = f"http://localhost:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(15)


@contextmanager
def running_ombud(directory: Path, site: Site) -> Iterator[Ombud]:
    """Ombud on a fresh SQLite store and its own copy of the Almi register, for ``site``."""
    register_file = directory / "ombud.yaml"
    register_file.write_text(ALMI.read_text(encoding="utf-8"), encoding="utf-8")
    url = f"sqlite:///{directory / 'ombud.db'}"
    store.upgrade(url)
    settings = Settings(
        register_path=register_file,
        database_url=url,
        secret_key="e2e-secret-key-of-enough-length",
        mail_url=f"file:{directory / 'outbox'}",
        worker="none",
        allowed_origins=[site.origin],
    )
    app = create_app(settings)
    with serving(app) as base_url:
        site.ombud_url = base_url
        yield Ombud(base_url, app, register_file, directory / "outbox")


@dataclass
class Visit:
    """A browser context and page of one visitor, and the errors the page raised."""

    context: BrowserContext
    page: Page
    errors: list[str]

    def consent_cookie(self) -> str | None:
        for cookie in self.context.cookies():
            if cookie["name"] == "ombud_consent":
                return cookie["value"]
        return None

    def visitor_id(self) -> str:
        value = self.consent_cookie()
        assert value is not None, "no consent cookie"
        return value.split(".")[1]

    def cookie_names(self) -> set[str]:
        return {cookie["name"] for cookie in self.context.cookies()}
