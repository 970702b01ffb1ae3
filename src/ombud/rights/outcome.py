"""Telling the person what was done: the answer to an erasure, restriction, objection,
rectification or withdrawal, with the reasons for anything kept (Art. 12(1), 17(3), 19).

Access and portability are answered with their download link (:mod:`ombud.rights.answer`).
"""

from __future__ import annotations

from ombud.mail import Mail, MailTransport
from ombud.register.model import LegalBasis, Register
from ombud.rights.intake import plaintext_identifiers
from ombud.rights.models import DataRequest, RequestType, StepState
from ombud.rights.plan import StepAction
from ombud.store.crypto import Keys

#: Art. 17(1): the ground for erasure that each legal basis gives once the person asks.
ERASURE_GROUNDS = {
    LegalBasis.CONSENT: "b",  # consent withdrawn, no other basis
    LegalBasis.LEGITIMATE_INTEREST: "c",  # objection under Art. 21(1) or 21(2)
    LegalBasis.PUBLIC_TASK: "c",
    LegalBasis.CONTRACT: "a",  # no longer necessary once the contract is done
    LegalBasis.VITAL_INTEREST: "a",
}


def erasure_grounds(register: Register, activity_ids: list[str]) -> dict[str, str]:
    """Activity id -> the Art. 17(1) ground, or ``17(3)(x)`` for an activity whose data is
    kept (a legal obligation, or the register's own ``erasure`` exception).
    """
    grounds: dict[str, str] = {}
    for activity_id in activity_ids:
        activity = register.activity(activity_id)
        if activity is None:
            continue
        if activity.erasure is not None:
            grounds[activity_id] = f"17(3)({activity.erasure.exception.value})"
        elif activity.legal_basis is LegalBasis.LEGAL_OBLIGATION:
            grounds[activity_id] = "17(3)(b)"
        else:
            grounds[activity_id] = f"17(1)({ERASURE_GROUNDS[activity.legal_basis]})"
    return grounds


def outcome_message(request: DataRequest, register: Register) -> tuple[str, str] | None:
    """(subject, text) telling the person how their request ended; None for access and
    portability, whose answer is the download link.
    """
    kind = RequestType(request.type)
    if kind in (RequestType.ACCESS, RequestType.PORTABILITY):
        return None
    lang = request.language if request.language in _TEXTS else "en"
    t = _TEXTS[lang]
    lines = [t["hello"], t[kind.value].format(id=request.id)]
    kept = _kept(request, register, lang)
    if kept:
        lines += [t["kept"], *kept]
    told = sorted(
        {
            s.system_id
            for s in request.steps
            if s.action == StepAction.TELL and s.state == StepState.DONE
        }
    )
    if told:
        names = [next((x.name for x in register.systems if x.id == s), s) for s in told]
        lines.append(t["told"].format(names=", ".join(names)))
    lines.append(
        t["contact"].format(
            dpo=register.organisation.dpo.email
            if register.organisation.dpo and register.organisation.dpo.email
            else ""
        )
    )
    return t["subject"].format(id=request.id), "\n\n".join(lines) + "\n"


def send_outcome(
    request: DataRequest, *, keys: Keys, mail: MailTransport, register: Register
) -> bool:
    """Mail the person how the request ended; False when there is nothing to send or no
    address (a request received by letter is answered by letter).
    """
    message = outcome_message(request, register)
    addresses = [v for kind, v in plaintext_identifiers(request, keys) if kind == "email"]
    if message is None or not addresses:
        return False
    subject, text = message
    mail.send(Mail(to=addresses[0], subject=subject, text=text, language=request.language))
    return True


def _kept(request: DataRequest, register: Register, lang: str) -> list[str]:
    """One line per activity whose data was kept, with the reason the register gives."""
    if request.type != RequestType.ERASURE:
        return []
    held: list[str] = []
    for step in request.steps:
        erased = (step.result or {}).get("erased") or {}
        if not any(counts.get("held") for counts in erased.values()):
            continue
        system = next((s for s in register.systems if s.id == step.system_id), None)
        if system is None:
            continue
        for collection in system.collections.values():
            activity = register.activity(collection.legal_hold or "")
            if activity is None:
                continue
            reason = (
                activity.erasure.reason
                if activity.erasure
                else (activity.retention.notice if activity.retention else None)
            )
            line = f"- {activity.name.get(lang)}: {activity.purpose.get(lang)}"
            if reason is not None:
                line += f" {reason.get(lang)}"
            if line not in held:
                held.append(line)
    return held


_TEXTS = {
    "sv": {
        "subject": "Svar på din begäran {id}",
        "hello": "Hej!",
        "erasure": "Vi har raderat dina personuppgifter i våra system (ärende {id}). Dina "
        "identifierare finns kvar endast som spärrmarkering i krypterad form, så att vi inte "
        "samlar in dem igen.",
        "restriction": "Vi har begränsat behandlingen av dina personuppgifter (ärende {id}). "
        "De lagras men används inte. Vi meddelar dig innan begränsningen hävs.",
        "objection": "Vi har tagit ställning till din invändning (ärende {id}). Direkt "
        "marknadsföring till dig har upphört.",
        "rectification": "Vi har rättat dina personuppgifter (ärende {id}).",
        "withdraw-consent": "Vi har registrerat att du återkallat ditt samtycke (ärende {id}) "
        "och raderat de uppgifter som bara behandlades med stöd av samtycket. Behandlingen "
        "före återkallelsen påverkas inte.",
        "kept": "Vissa uppgifter måste vi enligt lag spara. De används inte till något annat "
        "och raderas när tiden gått ut:",
        "told": "Vi har också meddelat: {names}.",
        "contact": "Har du frågor kan du kontakta vårt dataskyddsombud, {dpo}. Du har rätt "
        "att lämna klagomål till Integritetsskyddsmyndigheten.",
    },
    "en": {
        "subject": "Answer to your request {id}",
        "hello": "Hello,",
        "erasure": "We have erased your personal data in our systems (case {id}). Your "
        "identifiers are kept only as an encrypted suppression marker, so that we do not "
        "collect them again.",
        "restriction": "We have restricted the processing of your personal data (case {id}). "
        "It is stored but not used. We will tell you before the restriction is lifted.",
        "objection": "We have decided on your objection (case {id}). Direct marketing to you "
        "has stopped.",
        "rectification": "We have rectified your personal data (case {id}).",
        "withdraw-consent": "We have recorded that you withdrew your consent (case {id}) and "
        "erased the data processed only on that consent. Processing before the withdrawal "
        "is not affected.",
        "kept": "Some data we must keep by law. It is used for nothing else and erased when "
        "the period ends:",
        "told": "We have also told: {names}.",
        "contact": "If you have questions, contact our data protection officer, {dpo}. You "
        "have the right to lodge a complaint with the supervisory authority.",
    },
}


def lifting_notice(request: DataRequest) -> tuple[str, str]:
    """(subject, text) telling the person that a restriction will be lifted (Art. 18(3))."""
    lang = request.language if request.language in _LIFT else "en"
    subject, text = _LIFT[lang]
    return subject.format(id=request.id), text.format(id=request.id)


_LIFT = {
    "sv": (
        "Begränsningen i ärende {id} hävs",
        (
            "Hej!\n\nVi meddelar dig att begränsningen av behandlingen av dina personuppgifter "
            "(ärende {id}) nu hävs. Har du frågor eller invändningar, kontakta vårt "
            "dataskyddsombud.\n"
        ),
    ),
    "en": (
        "The restriction in case {id} is lifted",
        (
            "Hello,\n\nWe are letting you know that the restriction of the processing of your "
            "personal data (case {id}) is now lifted. If you have questions or objections, "
            "contact our data protection officer.\n"
        ),
    ),
}
