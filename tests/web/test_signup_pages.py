# ruff: noqa: RUF001 - the pages use the en dash of Swedish and English typography
"""Newsletter and network sign-up over HTTP, with a real SMTP server and a real webhook receiver.

The whole newsletter loop runs in one test: the form, the confirmation mail
(aiosmtpd), the link, a newsletter sent through Ombud's mail layer with the
RFC 8058 headers, the one-click unsubscribe, the ledger and the processing
gate agreeing, and the webhook reaching a real HTTP server (which checks the
signature) through the inline worker's periodic round.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from ombud import store
from ombud.connectors.http import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from ombud.consent import ledger, signup
from ombud.consent.models import ConsentEvent, ConsentSignup
from ombud.consent.source import LEDGER
from ombud.gate import Reason, check
from ombud.mail import transport_from_url
from ombud.settings import Settings
from ombud.store.apikeys import Scope, create_key
from ombud.web import create_app
from smtp_server import Inbox

BASE = "https://ombud.example.se"
SECRET = "mailing-tool-shared-secret"
MAILING_TOOL = """\
  - id: mailing-tool
    name: Mailing tool
    connector: http
    url: env:MAILING_TOOL_URL
    secret: env:MAILING_TOOL_SECRET
    controller: almi-ab
    activities: [newsletter, network]
"""


# --- a real receiving system ---------------------------------------------------------------


@dataclass
class Receiver:
    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    bad_signatures: int = 0


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    """``POST /ombud/consent`` on 127.0.0.1, accepting only correctly signed requests."""
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.path == "/ombud/consent" and verify_signature(
                SECRET,
                self.headers.get(TIMESTAMP_HEADER, ""),
                body,
                self.headers.get(SIGNATURE_HEADER, ""),
                time.time(),
            ):
                receiver.received.append(json.loads(body))
                self.send_response(204)
            else:
                receiver.bad_signatures += 1
                self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            del format, args

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def wait_for(condition: Any, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    with running_receiver() as running:
        monkeypatch.setenv("MAILING_TOOL_URL", running.url)
        monkeypatch.setenv("MAILING_TOOL_SECRET", SECRET)
        yield running


@pytest.fixture
def list_settings(settings: Settings, register_file: Path, smtp: Inbox) -> Settings:
    """The app on https, mailing to the real SMTP server, with Almi's mailing tool."""
    text = register_file.read_text(encoding="utf-8")
    register_file.write_text(text.replace("\nsystems:\n", "\nsystems:\n" + MAILING_TOOL, 1))
    return settings.model_copy(update={"mail_url": smtp.url, "base_url": BASE})


@pytest.fixture
def web(list_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(list_settings)) as client:
        yield client


@pytest.fixture
def worked(list_settings: Settings, receiver: Receiver) -> Iterator[TestClient]:
    """The app with its inline worker, which delivers consent webhooks by itself."""
    app = create_app(list_settings.model_copy(update={"worker": "inline"}))
    with TestClient(app) as client:
        yield client


# --- helpers -------------------------------------------------------------------------------


class Fields(HTMLParser):
    """The attributes of every element, by tag, for structural checks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [
            a for t, a in self.elements if t == tag and all(a.get(k) == v for k, v in attrs.items())
        ]


def parse(html: str) -> Fields:
    fields = Fields()
    fields.feed(html)
    return fields


def hidden(html: str, name: str) -> str:
    (found,) = parse(html).find("input", name=name)
    return found["value"]


def sign_up(
    client: TestClient,
    email: str,
    *,
    form: str = "newsletter",
    lang: str = "sv",
    consent: bool = True,
    page: str | None = None,
) -> Any:
    shown = page if page is not None else client.get(f"/privacy/{form}?lang={lang}").text
    data = {
        "form_token": hidden(shown, "form_token"),
        "text_digest": hidden(shown, "text_digest"),
        "email": email,
    }
    if consent:
        data["consent"] = "yes"
    return client.post(f"/privacy/{form}?lang={lang}", data=data)


def body_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def link_in(message: EmailMessage, path: str) -> str:
    match = re.search(rf"{re.escape(BASE)}({re.escape(path)}\S+)", body_of(message))
    assert match is not None, body_of(message)
    return match[1]


def events(client: TestClient) -> list[tuple[str, str, str]]:
    with store.transaction(client.app.state.engine) as session:  # type: ignore[attr-defined]
        return [
            (e.purpose, e.event, e.method)
            for e in session.scalars(select(ConsentEvent).order_by(ConsentEvent.created_at))
        ]


def state_of(client: TestClient, email: str, purpose: str) -> str:
    keys = client.app.state.keys  # type: ignore[attr-defined]
    digest = keys.identifier("email", email)
    with store.transaction(client.app.state.engine) as session:  # type: ignore[attr-defined]
        return ledger.current(session, {digest}, {purpose}, now=dt.datetime.now(dt.UTC))[digest][
            purpose
        ]


def api_key(client: TestClient) -> str:
    with store.transaction(client.app.state.engine) as session:  # type: ignore[attr-defined]
        created = create_key(
            session,
            name="mailing-tool",
            scopes=[Scope.PROCESSING_CHECK],
            actor="test",
            now=dt.datetime.now(dt.UTC),
        )
    return created.key


def gate_over_http(client: TestClient, key: str, email: str, activity: str) -> dict[str, Any]:
    response = client.post(
        "/api/v1/processing/check",
        json={"activities": [activity], "subjects": [{"email": email}]},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 200, response.text
    (result,) = response.json()["results"]
    return dict(result)


# --- the whole newsletter loop ---------------------------------------------------------------


def test_the_whole_newsletter_loop_against_real_smtp_and_http_servers(
    worked: TestClient, smtp: Inbox, receiver: Receiver, list_settings: Settings
) -> None:
    client = worked
    email = "anna.andersson@example.se"
    key = api_key(client)

    # 1. The sign-up form, unticked; sent with the box ticked.
    page = client.get("/privacy/newsletter?lang=sv")
    assert page.status_code == 200
    (box,) = parse(page.text).find("input", id="consent")
    assert "checked" not in box
    sent = sign_up(client, email, page=page.text)
    assert sent.status_code == 200
    assert "Titta i din e-post" in sent.text
    assert events(client) == []

    # 2. The confirmation mail, through the real SMTP server.
    assert wait_for(lambda: len(smtp.messages) == 1)
    (confirmation,) = smtp.messages
    assert confirmation["To"] == email
    assert confirmation["Subject"] == "Bekräfta din anmälan: Nyhetsbrev från Almi"
    assert gate_over_http(client, key, email, "newsletter")["reasons"] == ["no_consent"]

    # 3. Following the link: the ledger says given, and the gate lets the newsletter through.
    confirmed = client.get(link_in(confirmation, "/consent/confirm/"))
    assert confirmed.status_code == 200
    assert "Tack – du är anmäld" in confirmed.text
    assert confirmed.headers["referrer-policy"] == "no-referrer"
    assert events(client) == [("newsletter", "given", "form")]
    assert state_of(client, email, "newsletter") == "given"
    assert gate_over_http(client, key, email, "newsletter") == {
        "subject": 0,
        "activity": "newsletter",
        "allowed": True,
        "reasons": [],
    }
    assert wait_for(lambda: [p["event"] for p in receiver.received] == ["given"])

    # 4. A newsletter sent through Ombud's mail layer carries the one-click headers.
    newsletter = signup.subscriber_mail(
        keys=client.app.state.keys,  # type: ignore[attr-defined]
        base_url=list_settings.base_url,
        form="newsletter",
        to=email,
        subject="Almis nyhetsbrev april",
        text="Nyheter från Almi.",
        language="sv",
    )
    transport_from_url(smtp.url, default_sender="nyhetsbrev@almi.se").send(newsletter)
    assert wait_for(lambda: len(smtp.messages) == 2)
    delivered = smtp.messages[1]
    header = str(delivered["List-Unsubscribe"])
    assert re.fullmatch(r"<https://ombud\.example\.se/consent/unsubscribe/[\w-]+\?lang=sv>", header)
    assert str(delivered["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    url = header[1:-1]
    assert url in body_of(delivered)

    # 5. The mail client's one-click POST: 200, no page.
    parts = urlsplit(url)
    one_click = client.post(
        f"{parts.path}?{parts.query}",
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert one_click.status_code == 200
    assert one_click.content == b""

    # 6. Ledger and gate agree: withdrawn, the newsletter may not go to this address.
    assert events(client) == [("newsletter", "given", "form"), ("newsletter", "withdrawn", "form")]
    assert state_of(client, email, "newsletter") == "withdrawn"
    assert gate_over_http(client, key, email, "newsletter") == {
        "subject": 0,
        "activity": "newsletter",
        "allowed": False,
        "reasons": ["withdrawn"],
    }
    with store.transaction(client.app.state.engine) as session:  # type: ignore[attr-defined]
        (decision,) = check(
            session,
            client.app.state.keys,  # type: ignore[attr-defined]
            client.app.state.register.current().register,  # type: ignore[attr-defined]
            activities=["newsletter"],
            subjects=[{"email": email}],
            now=dt.datetime.now(dt.UTC),
            consent=LEDGER,
        )
    assert decision.reasons == (Reason.WITHDRAWN,)

    # 7. The mailing tool heard of it through a signed webhook, delivered by the worker.
    assert wait_for(lambda: len(receiver.received) == 2)
    assert receiver.bad_signatures == 0
    given, withdrawn = receiver.received
    assert withdrawn["event"] == "withdrawn"
    assert withdrawn["purpose"] == "newsletter"
    assert withdrawn["subject"] == email
    assert withdrawn["event_id"] != given["event_id"]
    assert dt.datetime.fromisoformat(withdrawn["time"]) <= dt.datetime.now(dt.UTC)

    # Unsubscribing again changes nothing and still answers 200.
    again = client.post(
        f"{parts.path}?{parts.query}",
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert again.status_code == 200
    assert len(events(client)) == 2


def test_the_network_form_works_the_same_way(web: TestClient, smtp: Inbox) -> None:
    page = web.get("/privacy/network?lang=en")
    assert page.status_code == 200
    assert "Yes, Almi may send me information" in page.text
    assert sign_up(web, "nils@example.se", form="network", lang="en").status_code == 200

    assert wait_for(lambda: len(smtp.messages) == 1)
    (mail,) = smtp.messages
    assert mail["Subject"] == "Confirm your sign-up: Network from Almi"
    confirmed = web.get(link_in(mail, "/consent/confirm/"))
    assert "you are signed up" in confirmed.text

    assert events(web) == [("network", "given", "form")]
    token = signup.unsubscribe_token(web.app.state.keys, "network", "nils@example.se")  # type: ignore[attr-defined]
    page = web.get(f"/consent/unsubscribe/{token}?lang=en")
    assert page.status_code == 200
    assert "nils@example.se" in page.text
    assert events(web) == [("network", "given", "form")]  # a GET changes nothing
    done = web.post(f"/consent/unsubscribe/{token}?lang=en", data={"unsubscribe": "yes"})
    assert done.status_code == 200
    assert "You are unsubscribed" in done.text
    assert state_of(web, "nils@example.se", "network") == "withdrawn"


# --- the form ---------------------------------------------------------------------------------


def test_the_form_is_accessible_and_the_box_is_never_ticked(web: TestClient) -> None:
    page = web.get("/privacy/newsletter", headers={"Accept-Language": "en"})

    assert page.headers["content-language"] == "en"
    assert page.headers["cache-control"] == "no-store"
    fields = parse(page.text)
    assert fields.find("html", lang="en")
    (email,) = fields.find("input", id="email")
    assert (email["type"], email["autocomplete"]) == ("email", "email")
    assert fields.find("label", **{"for": "email"})
    (box,) = fields.find("input", id="consent")
    assert box["type"] == "checkbox"
    assert "checked" not in box
    assert fields.find("label", **{"for": "consent"})
    assert fields.find("p", id="consent-withdrawal")
    assert box["aria-describedby"] == "consent-withdrawal"
    assert fields.find("fieldset")
    assert fields.find("legend")
    text = html.unescape(page.text)
    assert "Yes, I want Almi's newsletter" in text
    assert "You can withdraw your consent at any time" in text
    assert "/privacy/consent" in page.text


def test_without_the_box_ticked_nothing_is_sent_and_the_box_stays_unticked(
    web: TestClient, smtp: Inbox
) -> None:
    response = sign_up(web, "anna@example.se", consent=False)

    assert response.status_code == 400
    assert "Kryssa i rutan" in response.text
    assert response.text.count('role="alert"') == 1
    (box,) = parse(response.text).find("input", id="consent")
    assert "checked" not in box
    assert box["aria-invalid"] == "true"
    (email,) = parse(response.text).find("input", id="email")
    assert email["value"] == "anna@example.se"  # kept
    assert smtp.messages == []
    with store.transaction(web.app.state.engine) as session:  # type: ignore[attr-defined]
        assert session.scalars(select(ConsentSignup)).all() == []


@pytest.mark.parametrize(
    ("email", "message"),
    [("", "Ange din e-postadress"), ("inte-en-adress", "namn@exempel.se")],
)
def test_a_missing_or_bad_address_is_named(
    web: TestClient, smtp: Inbox, email: str, message: str
) -> None:
    response = sign_up(web, email)
    assert response.status_code == 400
    assert message in response.text
    assert smtp.messages == []


def test_a_forged_or_stale_form_is_refused(web: TestClient, smtp: Inbox) -> None:
    page = web.get("/privacy/newsletter?lang=sv").text
    data = {"text_digest": hidden(page, "text_digest"), "email": "a@example.se", "consent": "yes"}
    forged = web.post("/privacy/newsletter?lang=sv", data={**data, "form_token": "v1.1.x"})
    assert forged.status_code == 400
    other_site = web.post(
        "/privacy/newsletter?lang=sv",
        data={**data, "form_token": hidden(page, "form_token")},
        headers={"Origin": "https://evil.example"},
    )
    assert other_site.status_code == 400
    changed = web.post(
        "/privacy/newsletter?lang=sv",
        data={**data, "form_token": hidden(page, "form_token"), "text_digest": "0" * 64},
    )
    assert changed.status_code == 400
    assert "Texten om samtycket har ändrats" in changed.text
    assert smtp.messages == []


def test_the_page_after_signing_up_is_the_same_whether_or_not_the_address_is_subscribed(
    web: TestClient, smtp: Inbox
) -> None:
    first = sign_up(web, "anna@example.se")
    assert wait_for(lambda: len(smtp.messages) == 1)
    web.get(link_in(smtp.messages[0], "/consent/confirm/"))
    assert state_of(web, "anna@example.se", "newsletter") == "given"

    subscribed = sign_up(web, "anna@example.se")
    stranger = sign_up(web, "bertil@example.se")

    assert first.status_code == subscribed.status_code == stranger.status_code == 200
    assert subscribed.content == stranger.content == first.content
    assert "anna@" not in subscribed.text
    # Both got a mail: the sender learns nothing from that either.
    assert wait_for(lambda: len(smtp.messages) == 3)


def test_sign_up_is_rate_limited_per_client_for_the_form_and_the_api_together(
    web: TestClient, smtp: Inbox
) -> None:
    page = web.get("/privacy/newsletter?lang=sv").text
    for number in range(5):
        assert sign_up(web, f"person{number}@example.se", page=page).status_code == 200

    limited = sign_up(web, "person5@example.se", page=page)
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    assert "För många anmälningar" in limited.text
    api = web.post("/api/v1/network/signup", json={"email": "p6@example.se", "consent": True})
    assert api.status_code == 429
    assert "retry-after" in api.headers
    assert wait_for(lambda: len(smtp.messages) == 5)
    time.sleep(0.2)
    assert len(smtp.messages) == 5


def test_a_form_the_register_lacks_is_404(web: TestClient, register_file: Path) -> None:
    text = register_file.read_text(encoding="utf-8")
    start = text.index("    network:\n      name: {sv: Nätverk, en: Network}")
    end = text.index("\n\n", start)
    register_file.write_text(text[:start] + text[end + 1 :], encoding="utf-8")
    # A new mtime makes the server read the register again.
    time.sleep(0.01)
    register_file.touch()

    assert web.get("/privacy/network").status_code == 404
    assert (
        web.post("/api/v1/network/signup", json={"email": "a@b.se", "consent": True}).status_code
        == 404
    )
    assert web.get("/privacy/newsletter").status_code == 200


# --- confirmation links ----------------------------------------------------------------------


def test_an_expired_confirmation_link_says_so_and_records_nothing(
    web: TestClient, smtp: Inbox
) -> None:
    sign_up(web, "anna@example.se")
    assert wait_for(lambda: len(smtp.messages) == 1)
    with store.transaction(web.app.state.engine) as session:  # type: ignore[attr-defined]
        session.execute(
            update(ConsentSignup).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(1))
        )

    response = web.get(link_in(smtp.messages[0], "/consent/confirm/"))

    assert response.status_code == 410
    assert "Länken har gått ut" in response.text
    assert events(web) == []


def test_a_used_confirmation_link_says_already_confirmed(web: TestClient, smtp: Inbox) -> None:
    sign_up(web, "anna@example.se", lang="en")
    assert wait_for(lambda: len(smtp.messages) == 1)
    link = link_in(smtp.messages[0], "/consent/confirm/")
    assert web.get(link).status_code == 200

    again = web.get(f"{link}?lang=en")

    assert again.status_code == 200
    assert "You are already signed up" in again.text
    assert events(web) == [("newsletter", "given", "form")]


def test_an_unknown_confirmation_link_is_404(web: TestClient) -> None:
    response = web.get("/consent/confirm/not-a-real-token?lang=en")
    assert response.status_code == 404
    assert "The link is not valid" in response.text


# --- unsubscribe ------------------------------------------------------------------------------


def test_an_unknown_unsubscribe_link_is_404_for_the_page_and_for_one_click(
    web: TestClient,
) -> None:
    assert web.get("/consent/unsubscribe/forged").status_code == 404
    one_click = web.post(
        "/consent/unsubscribe/forged",
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert one_click.status_code == 404
    assert one_click.headers["content-type"].startswith("text/plain")


def test_one_click_sent_as_multipart_unsubscribes_too(web: TestClient, smtp: Inbox) -> None:
    sign_up(web, "anna@example.se")
    assert wait_for(lambda: len(smtp.messages) == 1)
    web.get(link_in(smtp.messages[0], "/consent/confirm/"))
    token = signup.unsubscribe_token(web.app.state.keys, "newsletter", "anna@example.se")  # type: ignore[attr-defined]

    response = web.post(
        f"/consent/unsubscribe/{token}", files={"List-Unsubscribe": (None, "One-Click")}
    )

    assert response.status_code == 200
    assert response.content == b""
    assert state_of(web, "anna@example.se", "newsletter") == "withdrawn"


# --- the JSON API -----------------------------------------------------------------------------


def test_the_api_gives_the_text_and_starts_a_double_opt_in(web: TestClient, smtp: Inbox) -> None:
    described = web.get("/api/v1/newsletter/signup?lang=en").json()
    assert described["form"] == "newsletter"
    assert described["content"]["text"].startswith("Yes, I want Almi's newsletter")

    response = web.post(
        "/api/v1/newsletter/signup",
        json={
            "email": "anna@example.se",
            "language": "en",
            "consent": True,
            "text_digest": described["text_digest"],
        },
    )

    assert response.status_code == 202
    assert response.json() == {"status": "pending", "confirmation": "email", "form": "newsletter"}
    assert wait_for(lambda: len(smtp.messages) == 1)
    web.get(link_in(smtp.messages[0], "/consent/confirm/"))
    assert events(web) == [("newsletter", "given", "form")]


@pytest.mark.parametrize(
    ("body", "status", "loc"),
    [
        ({"email": "anna@example.se", "consent": False}, 422, ["body", "consent"]),
        ({"email": "anna@example.se"}, 422, ["body", "consent"]),
        ({"email": "not an address", "consent": True}, 422, ["body", "email"]),
        (
            {"email": "anna@example.se", "consent": True, "language": "de"},
            422,
            ["body", "language"],
        ),
        (
            {"email": "anna@example.se", "consent": True, "text_digest": "0" * 64},
            422,
            ["body", "text_digest"],
        ),
        ({"email": "anna@example.se", "consent": True, "extra": 1}, 422, ["body", "extra"]),
        ({"email": "anna@example.se", "consent": True, "pad": "x" * 5000}, 413, ["body"]),
    ],
)
def test_the_api_refuses_what_it_cannot_take_and_never_repeats_the_address(
    web: TestClient, smtp: Inbox, body: dict[str, Any], status: int, loc: list[str]
) -> None:
    response = web.post("/api/v1/newsletter/signup", json=body)

    assert response.status_code == status
    assert response.json()["detail"][0]["loc"] == loc
    assert "anna@example.se" not in response.text
    assert "not an address" not in response.text
    assert smtp.messages == []


def test_the_api_answers_cors_for_allowed_origins_only(
    list_settings: Settings, smtp: Inbox
) -> None:
    settings = list_settings.model_copy(update={"allowed_origins": ["https://www.almi.se"]})
    with TestClient(create_app(settings)) as client:
        preflight = client.options(
            "/api/v1/newsletter/signup",
            headers={"Origin": "https://www.almi.se", "Access-Control-Request-Method": "POST"},
        )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == "https://www.almi.se"
        allowed = client.post(
            "/api/v1/newsletter/signup",
            json={"email": "anna@example.se", "consent": True},
            headers={"Origin": "https://www.almi.se"},
        )
        assert allowed.status_code == 202
        assert allowed.headers["access-control-allow-origin"] == "https://www.almi.se"
        foreign = client.post(
            "/api/v1/newsletter/signup",
            json={"email": "anna@example.se", "consent": True},
            headers={"Origin": "https://evil.example"},
        )
        assert foreign.status_code == 403
        assert "access-control-allow-origin" not in foreign.headers
        assert (
            client.options(
                "/api/v1/newsletter/signup", headers={"Origin": "https://evil.example"}
            ).status_code
            == 403
        )
    assert wait_for(lambda: len(smtp.messages) == 1)
