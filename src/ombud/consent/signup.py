"""Newsletter and network sign-up: double opt-in, unsubscribe links and list headers.

The flow (docs/consent.md, "Newsletter and network"):

1. :func:`start` stores a pending sign-up (``consent_signups``): the form, the
   address as an HMAC and as AES-GCM ciphertext, the text the person was
   shown, and the SHA-256 of a random confirmation token. :func:`send_confirmation`
   mails the link ``/consent/confirm/<token>``; nothing is in the ledger yet.
2. :func:`confirm` (the link, within :data:`CONFIRM_TTL`, once) records
   ``given`` for each of the form's purposes with method ``form`` and the text
   shown at sign-up, forgets the ciphertext, and queues the webhooks.
3. Every mail to the list carries an unsubscribe link and, on an https
   address, the RFC 8058 ``List-Unsubscribe``/``List-Unsubscribe-Post``
   headers (:func:`subscriber_mail`). The link's token is the form and the
   address sealed with AES-GCM under Ombud's key, so it needs no lookup,
   never expires and cannot be made for another address.
4. :func:`withdraw` records ``withdrawn`` for the purposes that were given
   and queues the webhooks; a second unsubscribe changes nothing.

Nothing here tells a caller whether an address was already on a list: the
same page and the same mail follow every sign-up (Art. 12(6) spirit: no
enumeration of subscribers).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ombud.consent import ledger, texts, webhooks
from ombud.consent.errors import InvalidChoiceError
from ombud.consent.models import ConsentSignup, ConsentText, EventType, Method
from ombud.consent.purposes import stored_register
from ombud.discovery import InvalidIdentifierError, normalise_email
from ombud.mail import Mail, MailTransport, one_click_unsubscribe
from ombud.register.model import ConsentForm, Register
from ombud.store.crypto import Keys, SecretKeyError, new_token, token_digest

__all__ = [
    "CONFIRM_TTL",
    "MANAGE_TTL",
    "Confirmed",
    "InvalidEmailError",
    "LinkError",
    "SignupError",
    "Started",
    "UnknownFormError",
    "Withdrawn",
    "confirm",
    "form_content",
    "manage_token",
    "manage_url",
    "read_manage_token",
    "read_unsubscribe_token",
    "send_confirmation",
    "send_manage_link",
    "start",
    "subscriber_mail",
    "subscriptions",
    "unsubscribe_token",
    "unsubscribe_url",
    "withdraw",
]

#: How long a confirmation link works.
CONFIRM_TTL = dt.timedelta(hours=48)
#: How long the "manage my consents" link works (it can be used several times meanwhile).
MANAGE_TTL = dt.timedelta(hours=24)
#: Confirmation mails per address and form in :data:`_THROTTLE_WINDOW`, whoever asks:
#: a stranger cannot flood someone's mailbox through the form. Further sign-ups in the
#: window get the same answer but no mail.
MAX_MAILS_PER_WINDOW = 3
_THROTTLE_WINDOW = dt.timedelta(hours=1)

_UNSUBSCRIBE_CONTEXT = "ombud unsubscribe v1"
_MANAGE_CONTEXT = "ombud consent manage v1"


class SignupError(ValueError):
    """A sign-up, confirmation or unsubscribe that cannot go ahead.

    ::

        SignupError (ValueError)
        ├── UnknownFormError     the register has no such consent.forms entry (or language)
        ├── InvalidEmailError    not an e-mail address
        └── LinkError            a confirmation, unsubscribe or manage link that does not work
    """


class UnknownFormError(SignupError):
    """The register has no such form, or not in that language."""


class InvalidEmailError(SignupError):
    """The address is not an e-mail address (the message never repeats it)."""


LinkProblem = Literal["unknown", "expired", "used", "gone"]


class LinkError(SignupError):
    """A link that does not work: ``unknown`` (not ours or mangled), ``expired``, ``used``
    (already confirmed), ``gone`` (the form left the register)."""

    def __init__(self, reason: LinkProblem, message: str, *, form: str | None = None) -> None:
        super().__init__(message)
        self.reason: LinkProblem = reason
        self.form = form


@dataclass(frozen=True)
class Started:
    """A pending sign-up; ``token`` is None when the address got enough mails lately."""

    form: str
    email: str
    language: str
    expires_at: dt.datetime
    token: str | None


@dataclass(frozen=True)
class Confirmed:
    """A confirmed sign-up: the ledger events written (purpose -> event id)."""

    form: str
    email: str
    language: str
    events: dict[str, str]


@dataclass(frozen=True)
class Withdrawn:
    """An unsubscribe: the purposes withdrawn now (purpose -> event id); empty if none were
    given any more."""

    form: str
    events: dict[str, str] = field(default_factory=dict)
    webhooks: int = 0


# --- the text shown ----------------------------------------------------------------------

#: How to withdraw, added to the form's withdrawal statement (Art. 7(3): as easy as giving).
_HOW = {
    "sv": "Avregistrera dig med länken i varje utskick, eller på sidan {url}.",
    "en": "Unsubscribe with the link in every mailing, or on the page {url}.",
}


def consent_form(register: Register, form_id: str) -> ConsentForm:
    """The ``consent.forms`` entry ``form_id``; raises :class:`UnknownFormError`."""
    form = register.consent.forms.get(form_id)
    if form is None:
        known = ", ".join(sorted(register.consent.forms)) or "none"
        raise UnknownFormError(
            f"the register has no consent form {form_id!r} (consent.forms has: {known})"
        )
    return form


def form_content(
    register: Register, form_id: str, language: str, *, base_url: str
) -> dict[str, Any]:
    """What the sign-up form shows, as stored in ``consent_texts``:
    :func:`ombud.consent.texts.form_text` (the form's consent text, its purposes and
    activities, the controllers, the withdrawal statement) and how to withdraw
    (``withdrawal_how``). Raises :class:`UnknownFormError`.
    """
    try:
        content = texts.form_text(register, form_id, language)
    except InvalidChoiceError as exc:
        raise UnknownFormError(str(exc)) from None
    how = _HOW.get(language, _HOW["en"]).format(url=f"{base_url.rstrip('/')}/privacy/consent")
    return {**content, "withdrawal_how": how}


# --- double opt-in -----------------------------------------------------------------------


def normalised_email(value: str) -> str:
    """The address lower-cased and checked; raises :class:`InvalidEmailError`."""
    if len(value) > 254:
        raise InvalidEmailError("an e-mail address has at most 254 characters")
    try:
        return normalise_email(value)
    except InvalidIdentifierError:
        raise InvalidEmailError("not an e-mail address of the form name@example.se") from None


def start(
    session: Session,
    *,
    keys: Keys,
    register: Register,
    register_version: str,
    form: str,
    email: str,
    language: str,
    base_url: str,
    now: dt.datetime,
) -> Started:
    """Store a pending sign-up to ``form`` and return the confirmation token to mail.

    The same happens whether or not the address is already on the list. At
    most :data:`MAX_MAILS_PER_WINDOW` sign-ups per address and form an hour
    get a token; later ones are stored without one (``token`` None: send nothing).
    Raises :class:`UnknownFormError` or :class:`InvalidEmailError`; nothing is stored then.
    """
    address = normalised_email(email)
    content = form_content(register, form, language, base_url=base_url)
    digest = keys.identifier("email", address)
    recent = session.scalar(
        select(func.count())
        .select_from(ConsentSignup)
        .where(
            ConsentSignup.email_digest == digest,
            ConsentSignup.form == form,
            ConsentSignup.created_at > now - _THROTTLE_WINDOW,
        )
    )
    expires_at = now + CONFIRM_TTL
    if (recent or 0) >= MAX_MAILS_PER_WINDOW:
        return Started(form, address, language, expires_at, None)
    text_digest = texts.store_text(
        session, content, register_version=register_version, language=language, now=now
    )
    signup_id = str(uuid.uuid4())
    token = new_token()
    session.add(
        ConsentSignup(
            id=signup_id,
            form=form,
            email_digest=digest,
            email_ciphertext=keys.encrypt(address, context=_signup_context(signup_id)),
            language=language,
            token_digest=token_digest(token),
            created_at=now,
            expires_at=expires_at,
            confirmed_at=None,
            text_digest=text_digest,
        )
    )
    session.flush()
    return Started(form, address, language, expires_at, token)


def send_confirmation(
    transport: MailTransport, started: Started, *, register: Register, base_url: str
) -> bool:
    """Mail the confirmation link of ``started``; False when it has no token (throttled).

    ``transport`` is a :class:`~ombud.mail.MailTransport`; its errors pass through.
    """
    if started.token is None:
        return False
    form = consent_form(register, started.form)
    texts_ = _MAIL.get(started.language, _MAIL["en"])
    values = {
        "org": register.organisation.name,
        "form": form.name.get(started.language, register.language),
        "link": f"{base_url.rstrip('/')}/consent/confirm/{started.token}",
        "hours": str(int(CONFIRM_TTL.total_seconds() // 3600)),
    }
    transport.send(
        Mail(
            to=started.email,
            subject=texts_["confirm_subject"].format(**values),
            text=texts_["confirm_body"].format(**values),
            language=started.language,
        )
    )
    return True


def confirm(
    session: Session,
    *,
    keys: Keys,
    register: Register,
    token: str,
    ip: str | None,
    user_agent: str | None,
    now: dt.datetime,
) -> Confirmed:
    """Confirm the sign-up of ``token``: ``given`` for each of its form's purposes.

    The event carries method ``form`` and the text shown at sign-up (and that
    text's register version). The address's ciphertext is dropped from the
    sign-up; webhooks are queued in the same transaction. Raises
    :class:`LinkError` (unknown, used, expired, gone).
    """
    signup = session.scalars(
        select(ConsentSignup).where(ConsentSignup.token_digest == token_digest(token))
    ).one_or_none()
    if signup is None:
        raise LinkError("unknown", "this confirmation link is not valid")
    if signup.confirmed_at is not None:
        raise LinkError("used", "this sign-up is already confirmed", form=signup.form)
    if signup.expires_at <= now:
        raise LinkError("expired", "this confirmation link has expired", form=signup.form)
    shown = session.get(ConsentText, signup.text_digest)
    if (
        signup.form not in register.consent.forms
        or shown is None
        or signup.email_ciphertext is None
    ):
        raise LinkError("gone", "this form is no longer offered", form=signup.form)
    # The register as the person saw it at sign-up: its purposes are what they agreed to.
    seen = stored_register(session, shown.register_version)
    form = consent_form(seen, signup.form)
    address = keys.decrypt(signup.email_ciphertext, context=_signup_context(signup.id))
    choice = ledger.record_choice(
        session,
        keys=keys,
        register=seen,
        register_version=shown.register_version,
        subject=("email", address),
        choices=dict.fromkeys(form.purposes, True),
        method=Method.FORM,
        language=signup.language,
        text=shown.content,
        gpc=False,
        ip=ip,
        user_agent=user_agent,
        now=now,
    )
    signup.confirmed_at = now
    # Data minimisation: the unsubscribe links carry the address sealed; no copy is kept here.
    signup.email_ciphertext = None
    events = _events(choice, now)
    webhooks.queue_events(
        session,
        register=register,
        keys=keys,
        subject_digest=keys.identifier("email", address),
        email=address,
        events=events,
        now=now,
    )
    return Confirmed(signup.form, address, signup.language, {e.purpose: e.event_id for e in events})


# --- unsubscribe -------------------------------------------------------------------------


def unsubscribe_token(keys: Keys, form: str, email: str) -> str:
    """The token of ``email``'s unsubscribe link from ``form``: the two sealed with AES-GCM.

    It does not expire (mail is read late) and only Ombud can make or read one.
    """
    return _seal(keys, f"{form}\x00{normalised_email(email)}", _UNSUBSCRIBE_CONTEXT)


def read_unsubscribe_token(keys: Keys, token: str) -> tuple[str, str]:
    """``(form, email)`` of an unsubscribe token; raises :class:`LinkError` ``unknown``."""
    form, sep, email = _open(keys, token, _UNSUBSCRIBE_CONTEXT).partition("\x00")
    if not sep or not form or not email:
        raise LinkError("unknown", "this unsubscribe link is not valid")
    return form, email


def unsubscribe_url(base_url: str, keys: Keys, form: str, email: str) -> str:
    """The unsubscribe link for ``email`` on ``form``'s list."""
    return f"{base_url.rstrip('/')}/consent/unsubscribe/{unsubscribe_token(keys, form, email)}"


def subscriber_mail(
    *,
    keys: Keys,
    base_url: str,
    form: str,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    language: str = "sv",
    sender: str | None = None,
) -> Mail:
    """A mail to a subscriber of ``form``'s list, with its unsubscribe link.

    The link ends the text (and the HTML); on an https ``base_url`` the mail
    carries ``List-Unsubscribe`` and ``List-Unsubscribe-Post:
    List-Unsubscribe=One-Click`` (RFC 8058), on http only ``List-Unsubscribe``
    (RFC 2369: one-click needs https).
    """
    # The page's language rides along; RFC 8058 clients POST to the URL as it is.
    url = f"{unsubscribe_url(base_url, keys, form, to)}?lang={language}"
    footer = _MAIL.get(language, _MAIL["en"])["footer"].format(link=url)
    headers = (
        one_click_unsubscribe(url)
        if url.startswith("https://")
        else {"List-Unsubscribe": f"<{url}>"}
    )
    body_html = None
    if html is not None:
        link = f'<a href="{_html_escape(url)}">{_html_escape(url)}</a>'
        body_html = f"{html}\n<p>{_html_escape(footer.split(url)[0])}{link}</p>\n"
    return Mail(
        to=to,
        subject=subject,
        text=f"{text.rstrip()}\n\n-- \n{footer}\n",
        html=body_html,
        headers=headers,
        language=language,
        sender=sender,
    )


def withdraw(
    session: Session,
    *,
    keys: Keys,
    register: Register,
    register_version: str,
    form: str,
    email: str,
    method: Method,
    language: str,
    text: Mapping[str, Any],
    ip: str | None,
    user_agent: str | None,
    now: dt.datetime,
) -> Withdrawn:
    """Withdraw ``email``'s consent to ``form``'s purposes, at once.

    Only purposes whose consent is ``given`` now get a ``withdrawn`` event; the
    rest is left as it is, so unsubscribing twice records nothing the second
    time. Webhooks are queued in the same transaction. ``text`` is what the
    person was shown when withdrawing (the unsubscribe page or the consent page).
    Raises :class:`LinkError` ``gone`` for a form the register no longer has.
    """
    address = normalised_email(email)
    known = register.consent.forms.get(form)
    if known is None:
        raise LinkError("gone", "this list is no longer in the register", form=form)
    digest = keys.identifier("email", address)
    states = ledger.current(session, {digest}, set(known.purposes), now=now).get(digest, {})
    given = [p for p in known.purposes if states.get(p) == "given"]
    if not given:
        return Withdrawn(form)
    choice = ledger.record_choice(
        session,
        keys=keys,
        register=register,
        register_version=register_version,
        subject=("email", address),
        choices=dict.fromkeys(given, False),
        method=method,
        language=language,
        text=dict(text),
        gpc=False,
        ip=ip,
        user_agent=user_agent,
        now=now,
    )
    events = _events(choice, now)
    queued = webhooks.queue_events(
        session,
        register=register,
        keys=keys,
        subject_digest=digest,
        email=address,
        events=events,
        now=now,
    )
    return Withdrawn(form, {e.purpose: e.event_id for e in events}, queued)


def unsubscribe_content(register: Register, form: str, language: str) -> dict[str, Any]:
    """The text of the unsubscribe page, as stored with the withdrawal."""
    known = consent_form(register, form)
    labels = _MAIL.get(language, _MAIL["en"])
    return {
        "kind": "unsubscribe",
        "form": form,
        "name": known.name.get(language, register.language),
        "text": labels["unsubscribe_text"].format(
            form=known.name.get(language, register.language), org=register.organisation.name
        ),
        "purposes": list(known.purposes),
    }


# --- the person's view: a link to manage one address's consents ---------------------------


def manage_token(keys: Keys, email: str, *, now: dt.datetime) -> str:
    """A token proving control of ``email`` until ``now + MANAGE_TTL`` (AES-GCM sealed)."""
    expires = int((now + MANAGE_TTL).timestamp())
    return _seal(keys, f"{expires}\x00{normalised_email(email)}", _MANAGE_CONTEXT)


def read_manage_token(keys: Keys, token: str, *, now: dt.datetime) -> str:
    """The address of a manage token; raises :class:`LinkError` (unknown, expired)."""
    stamp, sep, email = _open(keys, token, _MANAGE_CONTEXT).partition("\x00")
    if not sep or not stamp.isdigit() or not email:
        raise LinkError("unknown", "this link is not valid")
    if int(stamp) <= now.timestamp():
        raise LinkError("expired", "this link has expired")
    return email


def manage_url(base_url: str, keys: Keys, email: str, *, now: dt.datetime) -> str:
    """The mailed link to the person's own newsletter and network consents."""
    token = manage_token(keys, email, now=now)
    return f"{base_url.rstrip('/')}/privacy/consent/manage/{token}"


def send_manage_link(
    transport: MailTransport,
    *,
    keys: Keys,
    register: Register,
    email: str,
    language: str,
    base_url: str,
    now: dt.datetime,
) -> None:
    """Mail ``email`` the link to its consents. Sent whether or not the address is known."""
    address = normalised_email(email)
    labels = _MAIL.get(language, _MAIL["en"])
    values = {
        "org": register.organisation.name,
        "link": manage_url(base_url, keys, address, now=now),
        "hours": str(int(MANAGE_TTL.total_seconds() // 3600)),
    }
    transport.send(
        Mail(
            to=address,
            subject=labels["manage_subject"].format(**values),
            text=labels["manage_body"].format(**values),
            language=language,
        )
    )


@dataclass(frozen=True)
class Subscription:
    """One form's consent for one address: ``given`` when every purpose of it is given."""

    form: str
    name: str
    text: str
    states: dict[str, str]

    @property
    def given(self) -> bool:
        return bool(self.states) and all(s == EventType.GIVEN for s in self.states.values())

    @property
    def any_given(self) -> bool:
        return any(s == EventType.GIVEN for s in self.states.values())


def subscriptions(
    session: Session, *, keys: Keys, register: Register, email: str, language: str, now: dt.datetime
) -> list[Subscription]:
    """Every form of the register with ``email``'s state per purpose (``none`` if never)."""
    digest = keys.identifier("email", normalised_email(email))
    forms = register.consent.forms
    purposes = {p for form in forms.values() for p in form.purposes}
    states = (
        ledger.current(session, {digest}, purposes, now=now).get(digest, {}) if purposes else {}
    )
    return [
        Subscription(
            form=form_id,
            name=form.name.get(language, register.language),
            text=form.text.get(language, register.language) if form.text else "",
            states={p: str(states.get(p, "none")) for p in form.purposes},
        )
        for form_id, form in forms.items()
    ]


# --- helpers -----------------------------------------------------------------------------


def _events(choice: ledger.Choice, now: dt.datetime) -> list[webhooks.ConsentChange]:
    """The events of a recorded choice, as the webhooks tell them."""
    return [
        webhooks.ConsentChange(
            purpose=event.purpose, event=event.event.value, event_id=event.receipt_id, time=now
        )
        for event in choice.events
    ]


def _signup_context(signup_id: str) -> str:
    return f"consent_signup:{signup_id}"


def _seal(keys: Keys, plaintext: str, context: str) -> str:
    sealed = keys.encrypt(plaintext, context=context)
    return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")


def _open(keys: Keys, token: str, context: str) -> str:
    if not token or len(token) > 1024 or not token.isascii():
        raise LinkError("unknown", "this link is not valid")
    try:
        sealed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        return keys.decrypt(sealed, context=context)
    except (binascii.Error, ValueError, SecretKeyError, UnicodeDecodeError):
        raise LinkError("unknown", "this link is not valid") from None


def _html_escape(value: str) -> str:
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


_MAIL = {
    "sv": {
        "confirm_subject": "Bekräfta din anmälan: {form} från {org}",
        "confirm_body": (
            "Hej!\n\nNågon, förhoppningsvis du, har anmält den här adressen till {form} "
            "från {org}. Bekräfta anmälan genom att öppna länken:\n\n{link}\n\n"
            "Länken gäller i {hours} timmar och kan användas en gång. Först när du har "
            "bekräftat skickar vi något.\n\nHar du inte anmält dig kan du bortse från det här "
            "mejlet: då händer ingenting.\n"
        ),
        "footer": "Vill du inte längre få de här utskicken? Avregistrera dig här: {link}",
        "manage_subject": "Dina samtycken hos {org}",
        "manage_body": (
            "Hej!\n\nHär är länken till sidan där du ser och ändrar dina samtycken till "
            "nyhetsbrev och nätverk hos {org}:\n\n{link}\n\nLänken gäller i {hours} timmar. "
            "Har du inte bett om den kan du bortse från det här mejlet.\n"
        ),
        "unsubscribe_text": "Avregistrera mig från {form} från {org}. Jag återkallar mitt "
        "samtycke; det påverkar inte behandlingen före återkallelsen.",
    },
    "en": {
        "confirm_subject": "Confirm your sign-up: {form} from {org}",
        "confirm_body": (
            "Hello,\n\nSomeone, hopefully you, has signed this address up for {form} from "
            "{org}. Confirm the sign-up by opening the link:\n\n{link}\n\n"
            "The link is valid for {hours} hours and can be used once. We send nothing "
            "until you have confirmed.\n\nIf you did not sign up, you can ignore this mail: "
            "then nothing happens.\n"
        ),
        "footer": "No longer want these mailings? Unsubscribe here: {link}",
        "manage_subject": "Your consents with {org}",
        "manage_body": (
            "Hello,\n\nHere is the link to the page where you see and change your consents to "
            "newsletters and networks with {org}:\n\n{link}\n\nThe link is valid for {hours} "
            "hours. If you did not ask for it, you can ignore this mail.\n"
        ),
        "unsubscribe_text": "Unsubscribe me from {form} from {org}. I withdraw my consent; "
        "this does not affect processing before the withdrawal.",
    },
}
