"""`/privacy/consent`: this browser's cookie choices and the mailed link to one's lists.

Mail goes to a real SMTP server (the ``smtp`` fixture); the ledger is the
SQLite database of the ``settings`` fixture.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import uuid
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ombud import store
from ombud.consent import ledger, signup
from ombud.consent.models import ConsentEvent, ConsentWebhook
from ombud.settings import Settings
from ombud.web import create_app
from ombud.web.consent_page import COOKIE, CookieChoice, parse_cookie
from smtp_server import Inbox

BASE = "https://ombud.example.se"
VISITOR = "3f2b8c1e-5a4d-4c2b-9e1f-7a6b5c4d3e2f"
MAILING_TOOL = """\
  - id: mailing-tool
    name: Mailing tool
    connector: http
    url: env:MAILING_TOOL_URL
    secret: env:MAILING_TOOL_SECRET
    controller: almi-ab
    activities: [newsletter, network]
"""


@pytest.fixture
def page_settings(settings: Settings, register_file: Path, smtp: Inbox) -> Settings:
    text = register_file.read_text(encoding="utf-8")
    register_file.write_text(text.replace("\nsystems:\n", "\nsystems:\n" + MAILING_TOOL, 1))
    return settings.model_copy(update={"mail_url": smtp.url, "base_url": BASE})


@pytest.fixture
def web(page_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(page_settings)) as client:
        yield client


class Inputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.inputs: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"input", "button"}:
            self.inputs.append({"tag": tag, **{k: v or "" for k, v in attrs}})


def inputs(text: str, **attrs: str) -> list[dict[str, str]]:
    parser = Inputs()
    parser.feed(text)
    return [i for i in parser.inputs if all(i.get(k) == v for k, v in attrs.items())]


def hidden(text: str, name: str) -> str:
    return inputs(text, name=name)[0]["value"]


def category(text: str, name: str) -> dict[str, str]:
    (found,) = inputs(text, id=f"category-{name}")
    return found


def version(client: TestClient) -> str:
    served: str = client.app.state.register.current().version  # type: ignore[attr-defined]
    return served


def ledger_state(client: TestClient, kind: str, value: str, purposes: set[str]) -> dict[str, str]:
    keys = client.app.state.keys  # type: ignore[attr-defined]
    now = dt.datetime.now(dt.UTC)
    digest = ledger.subject_digest(keys, kind, value, now=now)
    with store.transaction(client.app.state.engine) as session:  # type: ignore[attr-defined]
        return dict(ledger.current(session, {digest}, purposes, now=now)[digest])


def save(client: TestClient, categories: list[str], **headers: str) -> Any:
    page = client.get("/privacy/consent?lang=sv").text
    return client.post(
        "/privacy/consent?lang=sv",
        data={
            "form_token": hidden(page, "form_token"),
            "text_digest": hidden(page, "text_digest"),
            "category": categories,
        },
        headers=headers,
        follow_redirects=False,
    )


def set_cookie(response: Any) -> str:
    (header,) = [v for k, v in response.headers.multi_items() if k == "set-cookie"]
    return str(header)


def cookie_value(response: Any) -> str:
    return set_cookie(response).split(";", 1)[0].removeprefix(f"{COOKIE}=")


def subscribe(client: TestClient, email: str, form: str) -> None:
    """A confirmed sign-up, through the domain (the web tests of signup cover the pages)."""
    state = client.app.state  # type: ignore[attr-defined]
    served = state.register.current()
    now = dt.datetime.now(dt.UTC)
    with store.transaction(state.engine) as session:
        started = signup.start(
            session,
            keys=state.keys,
            register=served.register,
            register_version=served.version,
            form=form,
            email=email,
            language="sv",
            base_url=BASE,
            now=now,
        )
    assert started.token is not None
    with store.transaction(state.engine) as session:
        signup.confirm(
            session,
            keys=state.keys,
            register=served.register,
            token=started.token,
            ip=None,
            user_agent=None,
            now=now,
        )


def ask_for_link(client: TestClient, email: str, lang: str = "sv") -> Any:
    page = client.get(f"/privacy/consent?lang={lang}").text
    return client.post(
        f"/privacy/consent/manage?lang={lang}",
        data={"form_token": hidden(page, "form_token"), "email": email},
    )


def mailed_link(smtp: Inbox) -> str:
    body = smtp.messages[-1].get_body(("plain",)).get_content()
    match = re.search(rf"{re.escape(BASE)}(/privacy/consent/manage/\S+)", body)
    assert match is not None
    return match[1]


# --- the cookie ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            f"v1.{VISITOR}.abcdef012345.statistics:1,marketing:0",
            CookieChoice(VISITOR, "abcdef012345", {"statistics": True, "marketing": False}),
        ),
        (
            f'"v1.{VISITOR}.abcdef012345.statistics:1"',
            CookieChoice(VISITOR, "abcdef012345", {"statistics": True}),
        ),
        (f"v1.{VISITOR}.abcdef012345.", CookieChoice(VISITOR, "abcdef012345", {})),
        (f"v2.{VISITOR}.abcdef012345.statistics:1", None),
        ("v1.not-a-uuid.abcdef012345.statistics:1", None),
        (f"v1.{VISITOR}.abcdef012345.statistics:yes", None),
        (f"v1.{VISITOR}", None),
        ("", None),
        (None, None),
    ],
)
def test_the_consent_cookie_is_read_as_documented(
    value: str | None, expected: CookieChoice | None
) -> None:
    assert parse_cookie(value) == expected


def test_the_cookie_round_trips() -> None:
    choice = CookieChoice(VISITOR, "a" * 64, {"marketing": False, "statistics": True})
    assert choice.value() == f"v1.{VISITOR}.{'a' * 12}.marketing:0,statistics:1"
    assert parse_cookie(choice.value()) == CookieChoice(VISITOR, "a" * 12, choice.choices)


# --- this browser's choices ------------------------------------------------------------------


def test_without_a_choice_nothing_is_on(web: TestClient) -> None:
    page = web.get("/privacy/consent?lang=sv")

    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "Du har inte gjort något val" in page.text
    assert "checked" not in category(page.text, "statistics")
    assert "checked" not in category(page.text, "marketing")
    assert inputs(page.text, id="category-necessary") == []  # required: not a choice
    assert "Statistik" in page.text
    assert "Marknadsföring" in page.text
    assert "återkalla ditt samtycke" in page.text


def test_the_page_shows_the_choices_the_cookie_holds(web: TestClient) -> None:
    web.cookies.set(COOKIE, f"v1.{VISITOR}.{version(web)[:12]}.statistics:1,marketing:0")

    page = web.get("/privacy/consent?lang=en")

    assert "checked" in category(page.text, "statistics")
    assert "checked" not in category(page.text, "marketing")
    assert "This is how you answered" in page.text


def test_saving_records_banner_settings_in_the_ledger_and_rewrites_the_cookie(
    web: TestClient,
) -> None:
    web.cookies.set(COOKIE, f"v1.{VISITOR}.{version(web)[:12]}.statistics:0,marketing:0")

    response = save(web, ["statistics"])

    assert response.status_code == 303
    assert response.headers["location"].endswith("/privacy/consent?lang=sv&saved=true")
    header = set_cookie(response)
    assert cookie_value(response) == f"v1.{VISITOR}.{version(web)[:12]}.marketing:0,statistics:1"
    assert "Path=/" in header
    assert "SameSite=Lax" in header
    assert "Secure" in header
    assert "Max-Age=" in header
    assert ledger_state(web, "visitor_id", VISITOR, {"statistics", "marketing"}) == {
        "statistics": "given",
        "marketing": "refused",
    }
    with store.transaction(web.app.state.engine) as session:  # type: ignore[attr-defined]
        methods = set(session.scalars(select(ConsentEvent.method)))
    assert methods == {"banner_settings"}

    web.cookies.set(COOKIE, cookie_value(response))
    shown = web.get("/privacy/consent?lang=sv&saved=true")
    assert "Dina val är sparade" in shown.text
    assert "checked" in category(shown.text, "statistics")


def test_unticking_withdraws_at_once(web: TestClient) -> None:
    web.cookies.set(COOKIE, f"v1.{VISITOR}.{version(web)[:12]}.statistics:1,marketing:1")
    given = save(web, ["statistics", "marketing"])
    web.cookies.set(COOKIE, cookie_value(given))

    withdrawn = save(web, [])

    assert cookie_value(withdrawn).endswith(".marketing:0,statistics:0")
    assert ledger_state(web, "visitor_id", VISITOR, {"statistics", "marketing"}) == {
        "statistics": "withdrawn",
        "marketing": "withdrawn",
    }
    web.cookies.set(COOKIE, cookie_value(withdrawn))
    page = web.get("/privacy/consent")
    assert "checked" not in category(page.text, "statistics")


def test_the_ledger_wins_over_a_stale_cookie(web: TestClient) -> None:
    web.cookies.set(COOKIE, f"v1.{VISITOR}.{version(web)[:12]}.statistics:1,marketing:1")
    save(web, [])  # recorded, but the browser keeps its old cookie
    page = web.get("/privacy/consent")
    assert "checked" not in category(page.text, "statistics")


def test_with_gpc_marketing_stays_off_and_the_page_says_why(web: TestClient) -> None:
    response = save(web, ["statistics", "marketing"], **{"Sec-GPC": "1"})

    visitor = cookie_value(response).split(".")[1]
    assert uuid.UUID(visitor)  # a new visitor id for a browser without the cookie
    assert cookie_value(response).endswith(".marketing:0,statistics:1")
    assert ledger_state(web, "visitor_id", visitor, {"marketing", "statistics"}) == {
        "marketing": "refused",
        "statistics": "given",
    }
    web.cookies.set(COOKIE, cookie_value(response))
    page = web.get("/privacy/consent?lang=en", headers={"Sec-GPC": "1"})
    marketing = category(page.text, "marketing")
    assert "disabled" in marketing
    assert "checked" not in marketing
    assert "Global Privacy Control" in page.text


def test_a_forged_save_is_refused_and_records_nothing(web: TestClient) -> None:
    page = web.get("/privacy/consent").text
    forged = web.post(
        "/privacy/consent",
        data={
            "form_token": "v1.1.x",
            "text_digest": hidden(page, "text_digest"),
            "category": "statistics",
        },
        follow_redirects=False,
    )
    other_site = web.post(
        "/privacy/consent",
        data={
            "form_token": hidden(page, "form_token"),
            "text_digest": hidden(page, "text_digest"),
            "category": "statistics",
        },
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert forged.status_code == other_site.status_code == 400
    assert "set-cookie" not in forged.headers
    with store.transaction(web.app.state.engine) as session:  # type: ignore[attr-defined]
        assert session.scalars(select(ConsentEvent)).all() == []


# --- newsletter and network, by a mailed link --------------------------------------------------


def test_the_link_is_mailed_and_the_page_is_the_same_for_any_address(
    web: TestClient, smtp: Inbox
) -> None:
    subscribe(web, "anna@example.se", "newsletter")

    known = ask_for_link(web, "anna@example.se")
    unknown = ask_for_link(web, "nobody@example.se")

    assert known.status_code == unknown.status_code == 200
    assert known.content == unknown.content
    assert "Titta i din e-post" in known.text
    assert "anna@" not in known.text
    assert [m["To"] for m in smtp.messages] == ["anna@example.se", "nobody@example.se"]


def test_following_the_link_shows_the_lists_and_a_withdrawal_takes_effect_at_once(
    web: TestClient, smtp: Inbox
) -> None:
    subscribe(web, "anna@example.se", "newsletter")
    ask_for_link(web, "anna@example.se", lang="en")
    link = mailed_link(smtp)

    page = web.get(f"{link}?lang=en")

    assert page.status_code == 200
    assert page.headers["referrer-policy"] == "no-referrer"
    text = html.unescape(page.text)
    assert "Consents for anna@example.se." in text
    assert re.search(r"Newsletter</th>\s*<td>Signed up</td>", text)
    assert re.search(r"Network</th>\s*<td>Not signed up</td>", text)
    (button,) = inputs(
        page.text, tag="button", **{"aria-label": "Withdraw the consent to Newsletter"}
    )
    assert button

    done = web.post(
        f"{link}?lang=en",
        data={"form_token": hidden(page.text, "form_token"), "form": "newsletter"},
    )

    assert done.status_code == 200
    assert "Your consent to Newsletter is withdrawn as of now." in done.text
    assert re.search(r"Newsletter</th>\s*<td>Withdrawn</td>", html.unescape(done.text))
    assert ledger_state(web, "email", "anna@example.se", {"newsletter"}) == {
        "newsletter": "withdrawn"
    }
    with store.transaction(web.app.state.engine) as session:  # type: ignore[attr-defined]
        queued = [
            (w.system_id, w.payload["event"])
            for w in session.scalars(select(ConsentWebhook).order_by(ConsentWebhook.id))
        ]
    assert queued == [("mailing-tool", "given"), ("mailing-tool", "withdrawn")]


def test_a_forged_withdrawal_or_an_unknown_list_changes_nothing(
    web: TestClient, smtp: Inbox
) -> None:
    subscribe(web, "anna@example.se", "network")
    ask_for_link(web, "anna@example.se")
    link = mailed_link(smtp)
    page = web.get(link).text

    forged = web.post(link, data={"form_token": "v1.1.x", "form": "network"})
    unknown = web.post(link, data={"form_token": hidden(page, "form_token"), "form": "nope"})

    assert forged.status_code == unknown.status_code == 400
    assert ledger_state(web, "email", "anna@example.se", {"network"}) == {"network": "given"}


def test_an_expired_or_forged_manage_link_shows_nothing(web: TestClient) -> None:
    keys = web.app.state.keys  # type: ignore[attr-defined]
    old = signup.manage_token(
        keys, "anna@example.se", now=dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    )

    expired = web.get(f"/privacy/consent/manage/{old}?lang=en")
    forged = web.get("/privacy/consent/manage/forged?lang=en")

    assert expired.status_code == 410
    assert "The link has expired" in expired.text
    assert forged.status_code == 404
    assert "anna@" not in expired.text


def test_a_bad_address_is_named_and_nothing_is_sent(web: TestClient, smtp: Inbox) -> None:
    response = ask_for_link(web, "inte-en-adress")
    assert response.status_code == 400
    assert "namn@exempel.se" in response.text
    assert smtp.messages == []


def test_asking_for_links_is_rate_limited(web: TestClient, smtp: Inbox) -> None:
    for number in range(5):
        assert ask_for_link(web, f"p{number}@example.se").status_code == 200
    limited = ask_for_link(web, "p5@example.se")
    assert limited.status_code == 429
    assert "retry-after" in limited.headers
    assert len(smtp.messages) == 5
