# ruff: noqa: RUF001 - the pages use the en dash of Swedish and English typography
"""The privacy portal's request form, its verification link and code, end to end.

Mail goes to a real SMTP server (aiosmtpd, the ``smtp`` fixture) and is read
back from it; the database is the SQLite file of the ``settings`` fixture.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import socket
from dataclasses import dataclass, field
from email.message import EmailMessage
from html.parser import HTMLParser
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, func, select, update

from ombud import audit, store
from ombud.audit import AuditEntry
from ombud.rights.models import DataRequest, RequestIdentifier, Verification
from ombud.settings import Settings
from ombud.web import create_app
from ombud.web.portal import long_date

Inbox = Any  # conftest.Inbox: the messages the ``smtp`` fixture's server accepted

# --- a small HTML model for the structural checks --------------------------------------


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    #: The tags of the enclosing elements, outermost first.
    ancestors: list[str]
    text: str = ""


@dataclass
class Page(HTMLParser):
    elements: list[Element] = field(default_factory=list)
    _open: list[Element] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs}, [e.tag for e in self._open])
        self.elements.append(element)
        if tag not in {"input", "meta", "br", "link", "img"}:
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            if self._open.pop().tag == tag:
                break

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element.text += data

    def all(self, tag: str, **attrs: str) -> list[Element]:
        return [
            e
            for e in self.elements
            if e.tag == tag and all(e.attrs.get(k) == v for k, v in attrs.items())
        ]

    def one(self, tag: str, **attrs: str) -> Element:
        (found,) = self.all(tag, **attrs)
        return found


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def assert_accessible(html: str, lang: str) -> Page:
    """What every portal page promises: language, one h1, unique ids, a label for every
    field, hints and errors that exist, choices grouped in a fieldset with a legend."""
    page = parse(html)
    assert page.one("html").attrs["lang"] == lang
    assert len(page.all("h1")) == 1
    ids = [e.attrs["id"] for e in page.elements if "id" in e.attrs]
    assert len(ids) == len(set(ids)), "duplicate ids"
    labelled = {e.attrs["for"] for e in page.all("label")}
    fields = [
        e
        for e in page.elements
        if e.tag in {"textarea", "select"}
        or (e.tag == "input" and e.attrs.get("type") not in {"hidden", "submit"})
    ]
    for element in fields:
        assert element.attrs.get("id") in labelled, f"no label for {element.attrs}"
        if element.attrs.get("type") in {"radio", "checkbox"}:
            assert "fieldset" in element.ancestors, f"{element.attrs['id']} not in a fieldset"
    for fieldset in page.all("fieldset"):
        index = page.elements.index(fieldset)
        assert page.elements[index + 1].tag == "legend", "a fieldset must start with its legend"
    for element in page.elements:
        for ref in element.attrs.get("aria-describedby", "").split():
            assert ref in ids, f"aria-describedby points to missing #{ref}"
    for link in page.all("a"):
        href = link.attrs.get("href", "")
        if href.startswith("#"):
            assert href[1:] in ids, f"link to missing {href}"
    return page


# --- helpers ---------------------------------------------------------------------------


def form_token(client: TestClient, lang: str = "en") -> str:
    page = parse(client.get(f"/privacy/request?lang={lang}").text)
    return page.one("input", name="form_token").attrs["value"]


def post_form(
    client: TestClient, fields: dict[str, str | list[str]], *, lang: str = "en"
) -> httpx2.Response:
    """Fill in the form as a browser would: fetch it for its token, then send it."""
    data = {"form_token": form_token(client, lang), **fields}
    return client.post(f"/privacy/request?lang={lang}", data=data)


def request_id(html: str) -> str:
    match = re.search(r"\b(R[A-Z0-9]{9})\b", html)
    assert match is not None, "no request id on the page"
    return match.group(1)


def mail_parts(message: EmailMessage) -> tuple[str, str]:
    """(the link's path, the code) from a verification mail."""
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    link = re.search(r"https?://[^/\s]+(/privacy/request/verify/[A-Za-z0-9_-]+)", text)
    code = re.search(r"\b(\d{6})\b", text)
    assert link is not None
    assert code is not None
    return link.group(1), code.group(1)


def engine_of(client: TestClient) -> Engine:
    engine: Engine = client.app.state.engine
    return engine


def count_requests(client: TestClient) -> int:
    with store.transaction(engine_of(client)) as session:
        return int(session.scalar(select(func.count()).select_from(DataRequest)) or 0)


VALID = {"type": "access", "email": "Lisa.Larsson@Example.se", "language": "en"}


# --- the form --------------------------------------------------------------------------


def test_form_in_swedish(client: TestClient) -> None:
    response = client.get("/privacy/request")
    assert response.status_code == 200
    assert response.headers["content-language"] == "sv"
    assert response.headers["cache-control"] == "no-store"
    page = assert_accessible(response.text, "sv")
    legends = [e.text.strip() for e in page.all("legend")]
    assert legends == [
        "Vad vill du att vi gör?",
        "Vem är du?",
        "Vilken behandling invänder du mot?",
        "Vilket språk vill du ha svaret på?",
    ]
    labels = {e.attrs["for"]: " ".join(e.text.split()) for e in page.all("label")}
    assert labels["type-access"] == "Registerutdrag"
    assert labels["email"] == "E-postadress"
    assert labels["personnummer"] == "Personnummer (frivilligt)"
    assert labels["activity-customer-satisfaction"] == "Mäta kundnöjdhet"
    assert labels["activity-direct-marketing"].startswith("Direkt marknadsföring (")
    # The hint of each type is a plain-language sentence tied to its radio button.
    access = page.one("input", id="type-access")
    hint = page.one("p", id=access.attrs["aria-describedby"])
    assert "kopia" in hint.text
    assert page.one("input", id="email").attrs.get("required") == ""
    assert page.one("input", id="email").attrs["type"] == "email"


def test_form_in_english_by_accept_language(client: TestClient) -> None:
    response = client.get("/privacy/request", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert response.headers["content-language"] == "en"
    page = assert_accessible(response.text, "en")
    radios = [e.attrs["value"] for e in page.all("input", type="radio", name="type")]
    assert radios == [
        "access",
        "rectification",
        "erasure",
        "restriction",
        "objection",
        "portability",
        "withdraw-consent",
    ]
    labels = {e.attrs["for"]: " ".join(e.text.split()) for e in page.all("label")}
    assert labels["type-access"] == "Access (register extract)"
    assert labels["type-withdraw-consent"] == "Withdraw consent"
    assert labels["email"] == "E-mail address"
    # Nothing chosen in advance, except the answer's language: the page's.
    checked = [e.attrs["id"] for e in page.all("input") if "checked" in e.attrs]
    assert checked == ["language-en"]


def test_objection_lists_legitimate_interest_and_direct_marketing(client: TestClient) -> None:
    page = parse(client.get("/privacy/request?lang=en").text)
    offered = [e.attrs["value"] for e in page.all("input", type="checkbox", name="activity")]
    assert offered == [
        "customer-satisfaction",
        "customer-service",
        "statistics",
        "direct-marketing",
        "meeting-booking",
        "telemarketing",
        "marketing-profiling",  # consent-based, but direct marketing: Art. 21(2) applies
    ]
    labels = {e.attrs["for"]: " ".join(e.text.split()) for e in page.all("label")}
    assert labels["activity-telemarketing"] == "Telemarketing (direct marketing: we stop at once)"
    assert labels["activity-statistics"] == "Statistics"


def test_the_notice_links_preselect_type_and_activity(client: TestClient) -> None:
    notice = client.get("/privacy?lang=en").text
    hrefs = re.findall(r'href="([^"]*privacy/request\?type=objection&amp;activity=[^"]*)"', notice)
    assert hrefs, "the notice links to the objection form"
    link = next(h for h in hrefs if "activity=telemarketing" in h).replace("&amp;", "&")
    response = client.get(link)
    assert response.status_code == 200
    page = assert_accessible(response.text, "en")
    checked = [e.attrs["id"] for e in page.all("input") if "checked" in e.attrs]
    assert checked == ["type-objection", "activity-telemarketing", "language-en"]

    unknown = parse(client.get("/privacy/request?type=nonsense&activity=nope&lang=sv").text)
    assert [e.attrs["id"] for e in unknown.all("input") if "checked" in e.attrs] == ["language-sv"]


# --- sending and verifying ---------------------------------------------------------------


def test_send_then_verify_by_link(mail_client: TestClient, smtp: Inbox) -> None:
    response = post_form(
        mail_client,
        {**VALID, "phone": "070-123 45 67", "details": "Vad har ni om mig?"},
    )
    assert response.status_code == 200
    html: str = response.text
    page = assert_accessible(html, "en")
    assert page.one("h1").text == "Check your e-mail"
    rid = request_id(html)
    assert (
        page.one("form", id="code-form").attrs["action"] == f"/privacy/request/{rid}/code?lang=en"
    )

    (mail,) = smtp.messages
    assert mail["To"] == "lisa.larsson@example.se"
    assert rid in mail["Subject"]
    assert mail["Content-Language"] == "en"
    link, code = mail_parts(mail)
    assert code not in html

    with store.transaction(engine_of(mail_client)) as session:
        stored = session.get(DataRequest, rid)
        assert stored is not None
        assert (stored.state, stored.channel, stored.type) == ("received", "portal", "access")
        kinds = sorted(i.kind for i in stored.identifiers)
        assert kinds == ["email", "phone"]
        # Identifiers are kept as digests and ciphertext, never in the clear.
        raw = session.scalars(select(RequestIdentifier.ciphertext)).all()
        assert all(b"example.se" not in (c or b"") for c in raw)

    verified = mail_client.get(link)
    assert verified.status_code == 200
    assert verified.headers["referrer-policy"] == "no-referrer"
    page = assert_accessible(verified.text, "en")
    assert page.one("h1").text == "Thank you – confirmed"
    with store.transaction(engine_of(mail_client)) as session:
        stored = session.get(DataRequest, rid)
        assert stored is not None
        assert (stored.state, stored.verification) == ("verified", "email_link")
        due = stored.due
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.object_id == f"request:{rid}")
        ).all()
        assert [(e.actor, e.action) for e in entries] == [
            ("subject", "request.received"),
            ("subject", "request.verified"),
        ]
        assert audit.verify(session).ok
    time = page.one("time")
    assert time.attrs["datetime"] == due.isoformat()
    assert time.text == long_date(due, "en")
    assert page.one("strong").text == f"We will answer by {long_date(due, 'en')} at the latest."

    again = mail_client.get(link, headers={"Accept-Language": "en"})
    assert again.status_code == 400
    assert "already been used" in again.text
    assert "Länken eller koden har redan använts" in mail_client.get(link).text


def test_verify_by_code_in_swedish(mail_client: TestClient, smtp: Inbox) -> None:
    response = post_form(mail_client, {**VALID, "language": "sv"}, lang="sv")
    html: str = response.text
    rid = request_id(html)
    assert "Titta i din e-post" in html
    (mail,) = smtp.messages
    assert mail["Subject"] == f"Bekräfta din begäran {rid}"
    _, code = mail_parts(mail)
    action = f"/privacy/request/{rid}/code?lang=sv"

    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    refused = mail_client.post(action, data={"code": wrong})
    assert refused.status_code == 400
    page = assert_accessible(refused.text, "sv")
    assert page.one("title").text.startswith("Fel: ")
    summary = page.one("div", id="error-summary")
    assert summary.attrs["role"] == "alert"
    assert (
        page.one("a", href="#code").text
        == "Koden stämmer inte – kontrollera mejlet och försök igen"
    )
    assert page.one("input", id="code").attrs["aria-invalid"] == "true"

    malformed = mail_client.post(action, data={"code": "12ab"})
    assert malformed.status_code == 400
    assert "sex siffrorna" in malformed.text

    confirmed = mail_client.post(action, data={"code": f" {code} "})
    assert confirmed.status_code == 200
    page = assert_accessible(confirmed.text, "sv")
    assert page.one("h1").text == "Tack – det är bekräftat"
    with store.transaction(engine_of(mail_client)) as session:
        stored = session.get(DataRequest, rid)
        assert stored is not None
        assert (stored.state, stored.verification) == ("verified", "email_code")
        due = stored.due
    assert page.one("strong").text == f"Vi svarar senast den {long_date(due, 'sv')}."

    used = mail_client.post(action, data={"code": code})
    assert used.status_code == 400
    assert "Det finns ingen giltig kod" in used.text

    unknown = mail_client.post("/privacy/request/RXXXXXXXXX/code?lang=en", data={"code": code})
    assert unknown.status_code == 404
    assert "We find no request with that number." in unknown.text
    # Whatever the address holds is not shown back.
    odd = mail_client.post("/privacy/request/Call-0701234567/code?lang=en", data={"code": "1"})
    assert odd.status_code == 404
    assert "0701234567" not in odd.text

    forged = mail_client.post(action, data={"code": code}, headers={"Origin": "https://x.example"})
    assert forged.status_code == 400


def test_page_language_and_answer_language(mail_client: TestClient, smtp: Inbox) -> None:
    response = post_form(mail_client, {**VALID, "language": "en"}, lang="sv")
    assert_accessible(response.text, "sv")  # the pages stay in the language being read
    (mail,) = smtp.messages
    assert mail["Content-Language"] == "en"  # the mail is in the answer's language
    link, _ = mail_parts(mail)
    assert_accessible(mail_client.get(link).text, "en")  # and so is the page the link opens


@pytest.mark.parametrize(
    ("day", "lang", "text"),
    [
        (dt.date(2025, 4, 1), "sv", "1 april 2025"),
        (dt.date(2025, 12, 8), "en", "8 December 2025"),
        (dt.date(2025, 2, 28), "fi", "28 February 2025"),
    ],
)
def test_long_date(day: dt.date, lang: str, text: str) -> None:
    assert long_date(day, lang) == text


def test_unknown_and_expired_links(mail_client: TestClient, smtp: Inbox) -> None:
    unknown = mail_client.get("/privacy/request/verify/not-a-token?lang=en")
    assert unknown.status_code == 400
    page = assert_accessible(unknown.text, "en")
    assert page.one("h1").text == "The request could not be confirmed"
    assert "The link is not valid." in unknown.text
    assert page.one("a", href="/privacy/request?lang=en").text == "Make a new request"

    post_form(mail_client, VALID)
    link, _ = mail_parts(smtp.messages[0])
    with store.transaction(engine_of(mail_client)) as session:
        session.execute(
            update(Verification).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(1))
        )
    expired = mail_client.get(link, headers={"Accept-Language": "sv"})
    assert expired.status_code == 400
    assert_accessible(expired.text, "sv")
    assert "Länken eller koden har gått ut" in expired.text


def test_bad_personnummer_shows_the_form_again_and_stores_nothing(
    mail_client: TestClient, smtp: Inbox
) -> None:
    typed = {
        **VALID,
        "type": "objection",
        "personnummer": "19811218-9875",  # wrong check digit
        "activity": ["statistics", "telemarketing"],
        "details": "Ring inte <mig>",
    }
    response = post_form(mail_client, typed)
    assert response.status_code == 400
    html: str = response.text
    page = assert_accessible(html, "en")
    assert page.one("title").text.startswith("Error: ")
    summary = page.one("div", id="error-summary")
    assert "There is a problem" in summary.text
    (link,) = [a for a in page.all("a") if a.attrs["href"] == "#personnummer"]
    assert "personal identity number is not valid" in link.text
    field = page.one("input", id="personnummer")
    assert field.attrs["aria-invalid"] == "true"
    assert field.attrs["aria-describedby"] == "personnummer-hint personnummer-error"
    # What was typed is kept, escaped.
    assert field.attrs["value"] == "19811218-9875"
    assert page.one("input", id="email").attrs["value"] == VALID["email"]
    checked = [e.attrs["id"] for e in page.all("input") if "checked" in e.attrs]
    assert checked == [
        "type-objection",
        "activity-statistics",
        "activity-telemarketing",
        "language-en",
    ]
    assert page.one("textarea", id="details").text == "Ring inte <mig>"
    assert "Ring inte &lt;mig&gt;" in html

    assert count_requests(mail_client) == 0
    assert smtp.messages == []


def test_missing_choices_are_each_named(mail_client: TestClient) -> None:
    response = post_form(mail_client, {"details": "x" * 10_001})
    assert response.status_code == 400
    page = assert_accessible(response.text, "en")
    anchors = [a.attrs["href"] for a in page.all("a") if a.attrs["href"].startswith("#")]
    assert anchors == ["#type-access", "#email", "#details"]
    assert count_requests(mail_client) == 0


def test_objection_is_stored_with_the_chosen_activities(
    mail_client: TestClient, smtp: Inbox
) -> None:
    response = post_form(
        mail_client,
        {**VALID, "type": "objection", "activity": ["telemarketing", "statistics"]},
    )
    rid = request_id(response.text)
    with store.transaction(engine_of(mail_client)) as session:
        stored = session.get(DataRequest, rid)
        assert stored is not None
        assert stored.activities == ["telemarketing", "statistics"]
    assert len(smtp.messages) == 1


def test_same_page_whoever_the_address_belongs_to(mail_client: TestClient, smtp: Inbox) -> None:
    """Art. 12(6): the answer does not tell whether Ombud (or anyone) knows the address."""
    post_form(mail_client, {**VALID, "email": "known@example.se"})
    link, _ = mail_parts(smtp.messages[0])
    assert mail_client.get(link).status_code == 200  # known@ now has a verified request

    token = form_token(mail_client)
    answers = []
    for email in ("known@example.se", "nobody-at-all@example.org"):
        response = mail_client.post(
            "/privacy/request?lang=en",
            data={"form_token": token, **VALID, "email": email},
        )
        answers.append(response)
    known, unknown = answers
    assert known.status_code == unknown.status_code == 200
    assert known.headers["content-type"] == unknown.headers["content-type"]
    known_id, unknown_id = request_id(known.text), request_id(unknown.text)
    assert known_id != unknown_id
    assert known.content.replace(known_id.encode(), b"ID") == unknown.content.replace(
        unknown_id.encode(), b"ID"
    )
    assert len(smtp.messages) == 3


def test_rate_limit_per_client(mail_client: TestClient, smtp: Inbox) -> None:
    token = form_token(mail_client)
    for _ in range(5):
        response = mail_client.post("/privacy/request?lang=en", data={"form_token": token, **VALID})
        assert response.status_code == 200
    limited = mail_client.post("/privacy/request?lang=en", data={"form_token": token, **VALID})
    assert limited.status_code == 429
    assert 0 < int(limited.headers["retry-after"]) <= 600
    page = assert_accessible(limited.text, "en")
    assert page.one("h1").text == "Too many requests"
    assert "Wait 10 minutes and try again." in limited.text
    assert count_requests(mail_client) == 5
    assert len(smtp.messages) == 5


def test_forms_with_errors_do_not_count_against_the_limit(mail_client: TestClient) -> None:
    token = form_token(mail_client)
    for _ in range(6):
        response = mail_client.post(
            "/privacy/request?lang=en", data={"form_token": token, **VALID, "email": "nope"}
        )
        assert response.status_code == 400
    ok = mail_client.post("/privacy/request?lang=en", data={"form_token": token, **VALID})
    assert ok.status_code == 200


@pytest.mark.parametrize(
    "token",
    [
        None,
        "",
        "v1.1700000000.0000",
        "v1.9999999999.ffff",
        "garbage",
    ],
)
def test_missing_or_forged_form_token(
    mail_client: TestClient, smtp: Inbox, token: str | None
) -> None:
    data = dict(VALID) | ({} if token is None else {"form_token": token})
    response = mail_client.post("/privacy/request?lang=en", data=data)
    assert response.status_code == 400
    page = assert_accessible(response.text, "en")
    assert page.one("a", href="#request-form").text.startswith("The form had been open too long")
    # The values are kept, with a fresh token, so sending again is one click.
    assert page.one("input", id="email").attrs["value"] == VALID["email"]
    fresh = page.one("input", name="form_token").attrs["value"]
    resent = mail_client.post("/privacy/request?lang=en", data={**VALID, "form_token": fresh})
    assert resent.status_code == 200
    assert count_requests(mail_client) == 1


def test_token_of_another_secret_and_old_tokens_are_refused(
    mail_client: TestClient, settings: Settings
) -> None:
    other = create_app(
        settings.model_copy(update={"secret_key": SecretStr("another-secret-of-enough-length")})
    )
    with TestClient(other) as foreign:
        token = form_token(foreign)
    assert (
        mail_client.post(
            "/privacy/request?lang=en", data={**VALID, "form_token": token}
        ).status_code
        == 400
    )
    assert count_requests(mail_client) == 0


def test_cross_site_post_is_refused(mail_client: TestClient) -> None:
    token = form_token(mail_client)
    data = {**VALID, "form_token": token}
    evil = mail_client.post(
        "/privacy/request?lang=en", data=data, headers={"Origin": "https://evil.example"}
    )
    assert evil.status_code == 400
    same = mail_client.post(
        "/privacy/request?lang=en", data=data, headers={"Origin": "http://testserver"}
    )
    assert same.status_code == 200
    public = mail_client.post(
        "/privacy/request?lang=en", data=data, headers={"Origin": "http://127.0.0.1:8000"}
    )
    assert public.status_code == 200  # OMBUD_BASE_URL, e.g. behind a proxy


def test_unreadable_body(mail_client: TestClient) -> None:
    response = mail_client.post(
        "/privacy/request?lang=en",
        content=b'{"type": "access"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert "The form could not be read." in response.text


def test_mail_server_down(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = settings.model_copy(update={"mail_url": f"smtp://127.0.0.1:{port}?retries=0&timeout=2"})
    with TestClient(create_app(down)) as client, caplog.at_level(logging.WARNING):
        response = post_form(client, VALID)
        assert response.status_code == 503
        page = assert_accessible(response.text, "en")
        assert page.one("h1").text == "The mail could not be sent"
        # The request waits unverified; the log names it, not the person.
        assert count_requests(client) == 1
    (warning,) = [r.getMessage() for r in caplog.records if r.name == "ombud.web.portal"]
    assert warning.startswith("verification mail for request R")
    assert "example.se" not in warning


def test_access_log_holds_no_address_token_or_code(
    mail_client: TestClient, smtp: Inbox, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        response = post_form(mail_client, VALID)
        rid = request_id(response.text)
        link, code = mail_parts(smtp.messages[0])
        mail_client.get(link)
    # Ombud's own log lines: the test's SMTP server and HTTP client log on their own.
    text = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("ombud"))
    assert "POST /privacy/request 200" in text
    assert "GET /privacy/request/verify/{token} 200" in text
    token = link.rsplit("/", 1)[1]
    for secret in ("lisa.larsson", token, code, "testclient"):
        assert secret.lower() not in text.lower()
    assert rid  # ids may be logged; they identify a case, not a person
