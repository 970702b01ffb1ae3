"""Double opt-in, unsubscribe and the manage link in the domain (ombud.consent.signup).

The ledger is the real one on SQLite and PostgreSQL (the ``engine`` fixture);
mail goes through :class:`~ombud.mail.MemoryTransport`, the mail layer's seam.
The web tests (tests/web/test_signup_pages.py) run the same loop over HTTP
with a real SMTP server.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from ombud import store
from ombud.consent import signup, texts
from ombud.consent.models import (
    ConsentEvent,
    ConsentSignup,
    ConsentText,
    ConsentWebhook,
    Method,
)
from ombud.consent.source import LEDGER
from ombud.gate import Reason, check
from ombud.mail import InvalidMailError, MemoryTransport, one_click_unsubscribe
from ombud.register import load
from ombud.register.model import Register
from ombud.store.crypto import Keys, token_digest

ALMI = Path(__file__).resolve().parents[2] / "examples" / "almi" / "ombud.yaml"
BASE = "https://ombud.example.se"
EMAIL = "Anna.Andersson@Example.se"
ADDRESS = "anna.andersson@example.se"  # normalised
T0 = dt.datetime(2025, 4, 3, 10, 0, tzinfo=dt.UTC)
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
def register(tmp_path: Path) -> Register:
    path = tmp_path / "ombud.yaml"
    text = ALMI.read_text(encoding="utf-8").replace("\nsystems:\n", "\nsystems:\n" + MAILING_TOOL)
    path.write_text(text, encoding="utf-8")
    return load(path).register


@pytest.fixture
def keys() -> Keys:
    return Keys.from_secret("test-secret-key-of-enough-length")


@pytest.fixture
def version(engine: Engine, register: Register) -> str:
    with store.transaction(engine) as session:
        return store.record_served(session, register).content_hash


def start(
    engine: Engine,
    register: Register,
    keys: Keys,
    version: str,
    *,
    form: str = "newsletter",
    email: str = EMAIL,
    now: dt.datetime = T0,
) -> signup.Started:
    with store.transaction(engine) as session:
        return signup.start(
            session,
            keys=keys,
            register=register,
            register_version=version,
            form=form,
            email=email,
            language="sv",
            base_url=BASE,
            now=now,
        )


def confirm(
    engine: Engine, register: Register, keys: Keys, token: str, now: dt.datetime = T0
) -> signup.Confirmed:
    with store.transaction(engine) as session:
        return signup.confirm(
            session,
            keys=keys,
            register=register,
            token=token,
            ip="192.0.2.77",
            user_agent="Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
            now=now,
        )


def withdraw(
    engine: Engine,
    register: Register,
    keys: Keys,
    version: str,
    *,
    form: str = "newsletter",
    now: dt.datetime,
) -> signup.Withdrawn:
    with store.transaction(engine) as session:
        return signup.withdraw(
            session,
            keys=keys,
            register=register,
            register_version=version,
            form=form,
            email=EMAIL,
            method=Method.FORM,
            language="sv",
            text=signup.unsubscribe_content(register, form, "sv"),
            ip=None,
            user_agent=None,
            now=now,
        )


def gate(engine: Engine, register: Register, keys: Keys, activity: str, now: dt.datetime) -> object:
    with store.transaction(engine) as session:
        (decision,) = check(
            session,
            keys,
            register,
            activities=[activity],
            subjects=[{"email": EMAIL}],
            now=now,
            consent=LEDGER,
        )
    return decision.reasons


# --- starting and confirming -------------------------------------------------------------


def test_a_sign_up_is_pending_until_confirmed_and_keeps_no_plaintext(
    engine: Engine, register: Register, keys: Keys, version: str
) -> None:
    started = start(engine, register, keys, version)

    assert started.token is not None
    assert started.email == ADDRESS
    assert started.expires_at == T0 + signup.CONFIRM_TTL
    with store.transaction(engine) as session:
        row = session.scalars(select(ConsentSignup)).one()
        assert row.email_digest == keys.identifier("email", ADDRESS)
        assert row.token_digest == token_digest(started.token)
        assert row.email_ciphertext is not None
        assert ADDRESS.encode() not in row.email_ciphertext
        assert row.confirmed_at is None
        shown = session.get(ConsentText, row.text_digest)
        assert shown is not None
        assert shown.content == signup.form_content(register, "newsletter", "sv", base_url=BASE)
        assert session.scalar(select(func.count()).select_from(ConsentEvent)) == 0
    # Nothing is in force before the person confirms.
    assert gate(engine, register, keys, "newsletter", T0) == (Reason.NO_CONSENT,)


def test_the_form_text_is_the_registers_with_the_withdrawal_statement(register: Register) -> None:
    content = signup.form_content(register, "newsletter", "sv", base_url=BASE)

    assert content["text"] == register.consent.forms["newsletter"].text.get("sv")  # type: ignore[union-attr]
    assert content["text"].startswith("Ja, jag vill få Almis nyhetsbrev")
    assert "återkalla" in content["withdrawal"]
    assert f"{BASE}/privacy/consent" in content["withdrawal_how"]
    assert content["purposes"] == ["newsletter"]
    assert [a["id"] for a in content["activities"]] == ["newsletter"]
    english = signup.form_content(register, "network", "en", base_url=BASE)
    assert english["text"].startswith("Yes, Almi may send me information")


def test_the_confirmation_mail_holds_the_link_and_says_how_long_it_works(
    engine: Engine, register: Register, keys: Keys, version: str
) -> None:
    started = start(engine, register, keys, version)
    transport = MemoryTransport()

    assert signup.send_confirmation(transport, started, register=register, base_url=BASE)

    (message,) = transport.sent
    assert message["To"] == ADDRESS
    assert message["Subject"] == "Bekräfta din anmälan: Nyhetsbrev från Almi"
    body = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f"{BASE}/consent/confirm/{started.token}" in body
    assert "48 timmar" in body


def test_confirming_records_given_with_method_form_and_the_text_shown_at_sign_up(
    engine: Engine, register: Register, keys: Keys, version: str
) -> None:
    started = start(engine, register, keys, version)
    assert started.token is not None
    later = T0 + dt.timedelta(hours=3)

    confirmed = confirm(engine, register, keys, started.token, later)

    assert (confirmed.form, confirmed.email) == ("newsletter", ADDRESS)
    with store.transaction(engine) as session:
        event = session.scalars(select(ConsentEvent)).one()
        row = session.scalars(select(ConsentSignup)).one()
        webhook = session.scalars(select(ConsentWebhook)).one()
    assert confirmed.events == {"newsletter": event.id}
    assert (event.event, event.method, event.purpose) == ("given", "form", "newsletter")
    assert event.subject_digest == keys.identifier("email", ADDRESS)
    assert event.subject_kind == "email"
    assert event.text_digest == row.text_digest
    assert event.register_version == version
    assert (event.ip_truncated, event.user_agent_family) == ("192.0.2.0", "Firefox")
    assert event.created_at == later
    assert row.confirmed_at == later
    assert row.email_ciphertext is None  # no copy kept once confirmed
    assert (webhook.system_id, webhook.event_id, webhook.payload["event"]) == (
        "mailing-tool",
        event.id,
        "given",
    )
    assert gate(engine, register, keys, "newsletter", later) == ()


@pytest.mark.parametrize(
    ("token", "after", "reason"),
    [
        ("right", dt.timedelta(hours=48), "expired"),
        ("right", dt.timedelta(days=30), "expired"),
        ("wrong", dt.timedelta(0), "unknown"),
        ("", dt.timedelta(0), "unknown"),
    ],
)
def test_an_expired_or_unknown_link_confirms_nothing(
    engine: Engine,
    register: Register,
    keys: Keys,
    version: str,
    token: str,
    after: dt.timedelta,
    reason: str,
) -> None:
    started = start(engine, register, keys, version)
    assert started.token is not None

    with pytest.raises(signup.LinkError) as raised:
        confirm(engine, register, keys, started.token if token == "right" else token, T0 + after)

    assert raised.value.reason == reason
    with store.transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(ConsentEvent)) == 0


def test_a_used_link_says_so_and_records_nothing_more(
    engine: Engine, register: Register, keys: Keys, version: str
) -> None:
    started = start(engine, register, keys, version)
    assert started.token is not None
    confirm(engine, register, keys, started.token)

    with pytest.raises(signup.LinkError) as raised:
        confirm(engine, register, keys, started.token, T0 + dt.timedelta(minutes=5))

    assert (raised.value.reason, raised.value.form) == ("used", "newsletter")
    with store.transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(ConsentEvent)) == 1


def test_signing_up_again_while_subscribed_goes_the_same_way(
    engine: Engine, register: Register, keys: Keys, version: str
) -> None:
    first = start(engine, register, keys, version)
    assert first.token is not None
    confirm(engine, register, keys, first.token)

    again = start(engine, register, keys, version, now=T0 + dt.timedelta(days=1))

    # The same answer and a mail again: nothing tells whether the address was on the list.
    assert again.token is not None
    assert again.expires_at == T0 + dt.timedelta(days=1) + signup.CONFIRM_TTL


def test_at_most_three_confirmation_mails_an_hour_go_to_one_address(
    engine: Engine, register: Register, keys: Keys, version: str
) -> None:
    tokens = [
        start(engine, register, keys, version, now=T0 + dt.timedelta(minutes=i)).token
        for i in range(5)
    ]
    assert [t is not None for t in tokens] == [True, True, True, False, False]
    # Another list, or an hour later, is not held back.
    assert start(engine, register, keys, version, form="network").token is not None
    assert start(engine, register, keys, version, now=T0 + dt.timedelta(minutes=61)).token
    transport = MemoryTransport()
    held = start(engine, register, keys, version, now=T0 + dt.timedelta(minutes=5))
    assert not signup.send_confirmation(transport, held, register=register, base_url=BASE)
    assert transport.sent == []


@pytest.mark.parametrize(
    ("form", "email", "error"),
    [
        ("newsletter", "not-an-address", signup.InvalidEmailError),
        ("newsletter", "a" * 250 + "@example.se", signup.InvalidEmailError),
        ("no-such-form", EMAIL, signup.UnknownFormError),
    ],
)
def test_a_bad_sign_up_stores_nothing(
    engine: Engine,
    register: Register,
    keys: Keys,
    version: str,
    form: str,
    email: str,
    error: type[Exception],
) -> None:
    with pytest.raises(error) as raised:
        start(engine, register, keys, version, form=form, email=email)
    assert email not in str(raised.value)
    with store.transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(ConsentSignup)) == 0


# --- unsubscribing -----------------------------------------------------------------------


def test_the_unsubscribe_token_names_the_list_and_address_and_nobody_can_make_one(
    keys: Keys,
) -> None:
    token = signup.unsubscribe_token(keys, "newsletter", EMAIL)

    assert signup.read_unsubscribe_token(keys, token) == ("newsletter", ADDRESS)
    assert ADDRESS not in token
    assert token != signup.unsubscribe_token(keys, "newsletter", EMAIL)  # a fresh nonce
    other = Keys.from_secret("another-secret-key-of-enough-length")
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    manage = signup.manage_token(keys, EMAIL, now=T0)
    for bad in (tampered, "", "%%%", "x" * 2000, manage):
        with pytest.raises(signup.LinkError):
            signup.read_unsubscribe_token(keys, bad)
    with pytest.raises(signup.LinkError):
        signup.read_unsubscribe_token(other, token)


def test_a_mail_to_the_list_carries_the_link_and_the_rfc_8058_headers(keys: Keys) -> None:
    mail = signup.subscriber_mail(
        keys=keys,
        base_url=BASE,
        form="newsletter",
        to=ADDRESS,
        subject="Nyheter från Almi",
        text="Hej!",
        html="<p>Hej!</p>",
        language="sv",
    )

    link = mail.headers["List-Unsubscribe"]
    assert re.fullmatch(rf"<{re.escape(BASE)}/consent/unsubscribe/[A-Za-z0-9_-]+\?lang=sv>", link)
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = link[1:-1]
    assert url in mail.text
    assert mail.html is not None
    assert f'href="{url}"' in mail.html
    token = url.rsplit("/", 1)[1].split("?")[0]
    assert signup.read_unsubscribe_token(keys, token) == ("newsletter", ADDRESS)


def test_on_plain_http_the_mail_has_the_link_but_no_one_click(keys: Keys) -> None:
    mail = signup.subscriber_mail(
        keys=keys,
        base_url="http://127.0.0.1:8000",
        form="network",
        to=ADDRESS,
        subject="S",
        text="T",
    )
    assert mail.headers["List-Unsubscribe"].startswith("<http://127.0.0.1:8000/consent/")
    assert "List-Unsubscribe-Post" not in mail.headers
    # The mail layer refuses one-click on http, as RFC 8058 does.
    with pytest.raises(InvalidMailError):
        one_click_unsubscribe("http://127.0.0.1:8000/consent/unsubscribe/x")


def test_withdrawing_takes_effect_at_once_and_twice_records_nothing_more(
    engine: Engine, register: Register, keys: Keys, version: str
) -> None:
    started = start(engine, register, keys, version)
    assert started.token is not None
    confirm(engine, register, keys, started.token)
    later = T0 + dt.timedelta(days=10)

    withdrawn = withdraw(engine, register, keys, version, now=later)

    assert list(withdrawn.events) == ["newsletter"]
    assert withdrawn.webhooks == 1
    assert gate(engine, register, keys, "newsletter", later) == (Reason.WITHDRAWN,)
    with store.transaction(engine) as session:
        event = session.get(ConsentEvent, withdrawn.events["newsletter"])
        assert event is not None
        assert (event.event, event.method) == ("withdrawn", "form")
        shown = session.get(ConsentText, event.text_digest)
        assert shown is not None
        assert shown.content["kind"] == "unsubscribe"
        webhook = session.scalars(
            select(ConsentWebhook).where(ConsentWebhook.event_id == event.id)
        ).one()
        assert webhook.payload["event"] == "withdrawn"

    again = withdraw(engine, register, keys, version, now=later + dt.timedelta(minutes=1))
    assert again == signup.Withdrawn("newsletter")
    with store.transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(ConsentEvent)) == 2


def test_withdrawing_a_list_never_joined_records_nothing(
    engine: Engine, register: Register, keys: Keys, version: str
) -> None:
    assert withdraw(engine, register, keys, version, form="network", now=T0).events == {}
    with store.transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(ConsentEvent)) == 0
    assert gate(engine, register, keys, "network", T0) == (Reason.NO_CONSENT,)


def test_consent_given_again_after_withdrawal_counts_again(
    engine: Engine, register: Register, keys: Keys, version: str
) -> None:
    first = start(engine, register, keys, version)
    assert first.token is not None
    confirm(engine, register, keys, first.token)
    withdraw(engine, register, keys, version, now=T0 + dt.timedelta(days=1))
    second = start(engine, register, keys, version, now=T0 + dt.timedelta(days=2))
    assert second.token is not None

    confirm(engine, register, keys, second.token, T0 + dt.timedelta(days=2))

    assert gate(engine, register, keys, "newsletter", T0 + dt.timedelta(days=2)) == ()


# --- the manage link -----------------------------------------------------------------------


def test_the_manage_link_works_for_a_day_for_its_address_only(keys: Keys) -> None:
    token = signup.manage_token(keys, EMAIL, now=T0)

    assert signup.read_manage_token(keys, token, now=T0 + dt.timedelta(hours=23)) == ADDRESS
    with pytest.raises(signup.LinkError) as raised:
        signup.read_manage_token(keys, token, now=T0 + signup.MANAGE_TTL)
    assert raised.value.reason == "expired"
    with pytest.raises(signup.LinkError):
        signup.read_manage_token(keys, signup.unsubscribe_token(keys, "newsletter", EMAIL), now=T0)


def test_subscriptions_list_every_form_with_the_address_state(
    engine: Engine, register: Register, keys: Keys, version: str
) -> None:
    started = start(engine, register, keys, version, form="network")
    assert started.token is not None
    confirm(engine, register, keys, started.token)

    with store.transaction(engine) as session:
        lists = signup.subscriptions(
            session, keys=keys, register=register, email=EMAIL, language="en", now=T0
        )

    assert [(s.form, s.name, s.given, s.states) for s in lists] == [
        ("newsletter", "Newsletter", False, {"newsletter": "none"}),
        ("network", "Network", True, {"network": "given"}),
    ]


def test_the_manage_mail_holds_the_link(keys: Keys, register: Register) -> None:
    transport = MemoryTransport()

    signup.send_manage_link(
        transport, keys=keys, register=register, email=EMAIL, language="en", base_url=BASE, now=T0
    )

    (message,) = transport.sent
    body = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    match = re.search(rf"{re.escape(BASE)}/privacy/consent/manage/(\S+)", body)
    assert match is not None
    assert signup.read_manage_token(keys, match[1], now=T0) == ADDRESS
    assert "24 hours" in body


def test_the_stored_form_text_is_the_one_texts_would_make(register: Register) -> None:
    content = signup.form_content(register, "network", "en", base_url=BASE)
    base = {k: v for k, v in content.items() if k != "withdrawal_how"}
    assert base == texts.form_text(register, "network", "en")
