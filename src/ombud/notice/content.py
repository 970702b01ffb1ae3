"""The notice's content in one language, resolved from the register.

Every renderer (HTML, Markdown, PDF, JSON) starts from :func:`build`, so the
formats cannot drift apart: the texts, the defaults that fill gaps in the
register, the links and the section order are decided here once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from ombud.notice import dpv, labels
from ombud.notice.errors import UnknownLanguageError
from ombud.register.model import (
    ISO_DURATION,
    Activity,
    LegalBasis,
    Recipient,
    Register,
    Right,
    TransferMechanism,
)
from ombud.register.text import Text

#: An e-mail address in a category's name or examples ("e-post", "e-mail"; not "e-mails").
EMAIL_WORDS = re.compile(r"\be-?post(adress)?\b|\be-?mail( address)?\b", re.IGNORECASE)


@dataclass(frozen=True)
class Link:
    label: str
    href: str


@dataclass(frozen=True)
class LanguageLink:
    code: str
    name: str
    href: str
    current: bool


@dataclass(frozen=True)
class Action:
    """How a data subject stops an activity; ``href`` is None when they cannot."""

    label: str
    href: str | None


@dataclass(frozen=True)
class CategoryView:
    id: str
    anchor: str
    name: str
    examples: str
    special: bool


@dataclass(frozen=True)
class ActivityView:
    id: str
    anchor: str
    name: str
    purpose: str
    legal_basis: LegalBasis
    basis_label: str
    basis_plain: str
    legitimate_interest: str
    categories: tuple[str, ...]
    subjects: tuple[str, ...]
    sources: tuple[str, ...]
    recipients: tuple[str, ...]
    retention: str
    profiling: bool
    profiling_logic: str
    #: "This processing involves profiling." and its logic; empty when the name says so.
    profiling_note: str
    direct_marketing: bool
    action: Action


@dataclass(frozen=True)
class CategoryUse:
    """One category and the activities that use it (the quick answers)."""

    category: CategoryView
    activities: tuple[ActivityView, ...]


@dataclass(frozen=True)
class RecipientView:
    id: str
    anchor: str
    name: str
    role: str
    activities: tuple[str, ...]
    where: str
    third_country: bool
    safeguard: str
    description: str
    privacy_url: str | None


@dataclass(frozen=True)
class RightView:
    id: Right
    anchor: str
    title: str
    text: str
    conditions: tuple[str, ...]
    after: str
    action: Link


@dataclass(frozen=True)
class ContactView:
    heading: str
    name: str
    email: str
    postal: str
    phone: str
    website: str


@dataclass(frozen=True)
class HistoryView:
    date: str
    text: str


@dataclass(frozen=True)
class OtherNoticeView:
    area: str
    where: str
    url: str | None


@dataclass(frozen=True)
class Section:
    id: str
    title: str


@dataclass(frozen=True)
class NoticeContent:
    lang: str
    labels: Mapping[str, str]
    languages: tuple[LanguageLink, ...]
    organisation: str
    title: str
    intro: tuple[str, ...]
    controllers: str
    # quick answers
    email_question: str
    email_uses: tuple[CategoryUse, ...]
    marketing: tuple[ActivityView, ...]
    # the sections, in the seed notice's order
    sections: tuple[Section, ...]
    categories: tuple[CategoryView, ...]
    li_intro: str
    li_activities: tuple[ActivityView, ...]
    show_interest: bool
    retention: str
    consent_intro: str
    consent_activities: tuple[ActivityView, ...]
    other_activities: tuple[ActivityView, ...]
    activities: tuple[ActivityView, ...]
    disclosure: tuple[str, ...]
    recipients: tuple[RecipientView, ...]
    transfers: str
    history: tuple[HistoryView, ...]
    security: str
    rights_intro: str
    rights: tuple[RightView, ...]
    contact: str
    dpo: ContactView | None
    authority: ContactView | None
    other_notices_intro: str
    other_notices: tuple[OtherNoticeView, ...]
    updated: str
    published: str
    version: str | None
    # links into the portal
    history_link: Link
    request_link: Link
    consent_link: Link


@dataclass(frozen=True)
class Links:
    """The portal's addresses, under ``base_path``."""

    base: str
    lang: str

    def page(self, lang: str) -> str:
        return f"{self.base}/privacy?{urlencode({'lang': lang})}"

    def history(self) -> str:
        return f"{self.base}/privacy/history?{urlencode({'lang': self.lang})}"

    def consent(self) -> str:
        return f"{self.base}/privacy/consent?{urlencode({'lang': self.lang})}"

    def request(self, kind: str | None = None, activity: str | None = None) -> str:
        query = {k: v for k, v in (("type", kind), ("activity", activity)) if v}
        return f"{self.base}/privacy/request?{urlencode({**query, 'lang': self.lang})}"


def build(
    register: Register, lang: str, *, version: str | None = None, base_path: str = ""
) -> NoticeContent:
    """The whole notice in ``lang``; raises :class:`UnknownLanguageError`."""
    if lang not in register.languages:
        raise UnknownLanguageError(lang, register.languages)
    return _Builder(register, lang, Links(base_path.rstrip("/"), lang)).content(version)


def retention_text(register: Register, activity: Activity, lang: str) -> str:
    """The published wording of an activity's retention.

    The activity's own ``retention.notice`` first; else the machine period in words,
    unless it is only an example; else the notice's general retention statement.
    """

    def t(text: Text | None) -> str:
        return text.get(lang, register.language) if text is not None else ""

    retention = activity.retention
    general = t(register.notice.retention) or _fill(
        labels.UI[labels.builtin(lang)]["retention_default"], register, lang
    )
    if retention is None:
        return general
    if retention.notice is not None:
        return t(retention.notice)
    until, or_until = labels.retention_until(lang)
    if retention.period is None or retention.example:
        return until if retention.until else general
    start = labels.retention_start(lang, retention.from_)
    words = f"{duration_text(retention.period, lang)} {start}"
    return f"{words}, {or_until}" if retention.until else words


def duration_text(period: str, lang: str) -> str:
    """``P24M`` -> ``24 månader``."""
    match = ISO_DURATION.match(period)
    if match is None:
        return period
    return labels.duration(lang, {k: int(v) for k, v in match.groupdict().items() if v})


def email_categories(register: Register) -> list[str]:
    """The categories that hold e-mail addresses, in register order.

    From the systems (a collection's ``identity.email`` column and the category of that
    column in ``fields``); else categories whose id, name or examples mention e-mail.
    """
    found: set[str] = set()
    for system in register.systems:
        for collection in system.collections.values():
            column = collection.identity.get("email")
            if column is not None and column in collection.fields:
                found.add(collection.fields[column])
    if not found:
        for category_id, category in register.categories.items():
            texts = [category_id, *category.name.root.values()]
            if category.examples is not None:
                texts.extend(category.examples.root.values())
            if any(EMAIL_WORDS.search(text) for text in texts):
                found.add(category_id)
    return [c for c in register.categories if c in found]


def may_transfer(recipient: Recipient) -> bool:
    """Whether data may go outside the EU/EEA through ``recipient``.

    A recipient in a third country; or one with a ``transfer`` and no country, such as
    suppliers whose sub-processors may sit in third countries.
    """
    return recipient.third_country or (recipient.transfer is not None and recipient.country is None)


def _fill(template: str, register: Register, lang: str) -> str:
    return labels.fill(template, placeholders(register, lang))


def placeholders(register: Register, lang: str) -> dict[str, str]:
    """The values of ``{org}``, ``{org_gen}`` and ``{authority}`` in ``lang``."""
    org = register.organisation
    authority = org.authority.name if org.authority is not None else None
    fallback = labels.UI[labels.builtin(lang)]["authority_fallback"]
    return {
        "org": org.name,
        "org_gen": labels.genitive(org.name, lang),
        "authority": authority.get(lang, register.language) if authority else fallback,
    }


class _Builder:
    def __init__(self, register: Register, lang: str, links: Links) -> None:
        self.register = register
        self.lang = lang
        self.links = links
        self.values = placeholders(register, lang)
        self.ui = labels.ui(lang, self.values)

    def t(self, text: Text | None) -> str:
        return text.get(self.lang, self.register.language) if text is not None else ""

    def content(self, version: str | None) -> NoticeContent:
        register, notice, ui = self.register, self.register.notice, self.ui
        categories = tuple(self.category(cid) for cid in register.categories)
        activities = tuple(self.activity(a) for a in register.activities)
        li = tuple(a for a in activities if a.legal_basis is LegalBasis.LEGITIMATE_INTEREST)
        consent = tuple(a for a in activities if a.legal_basis is LegalBasis.CONSENT)
        other = tuple(
            a
            for a in activities
            if a.legal_basis not in (LegalBasis.LEGITIMATE_INTEREST, LegalBasis.CONSENT)
        )
        recipients = tuple(self.recipient(rid) for rid in register.recipients)
        other_notices = tuple(
            OtherNoticeView(self.t(o.area), self.t(o.where), o.url) for o in notice.other_notices
        )
        emails = email_categories(register)
        by_id = {a.id: a for a in activities}
        return NoticeContent(
            lang=self.lang,
            labels=ui,
            languages=tuple(
                LanguageLink(
                    code, labels.language_name(code), self.links.page(code), code == self.lang
                )
                for code in register.languages
            ),
            organisation=register.organisation.name,
            title=self.t(notice.title) or ui["title"],
            intro=tuple(self.t(p) for p in notice.intro) or (ui["intro_default"],),
            controllers=self.controllers(),
            email_question=ui["q_email"] if emails else ui["q_data"],
            email_uses=tuple(
                CategoryUse(
                    view, tuple(by_id[a.id] for a in register.activities if view.id in a.categories)
                )
                for view in categories
                if (view.id in emails or not emails)
                and any(view.id in a.categories for a in register.activities)
            ),
            marketing=tuple(by_id[a.id] for a in register.activities if dpv.is_marketing(a)),
            sections=self.sections(categories, li, consent, other, other_notices),
            categories=categories,
            li_intro=self.t(notice.legitimate_interest_intro) or ui["li_intro"],
            li_activities=li,
            show_interest=any(a.legitimate_interest for a in li),
            retention=self.t(notice.retention) or ui["retention_default"],
            consent_intro=self.t(notice.consent_intro) or ui["consent_intro"],
            consent_activities=consent,
            other_activities=other,
            activities=activities,
            disclosure=tuple(self.t(p) for p in notice.disclosure) or (ui["disclosure_default"],),
            recipients=recipients,
            transfers=self.transfers(),
            history=tuple(
                HistoryView(entry.date.isoformat(), self.t(entry.text))
                for entry in sorted(notice.history, key=lambda e: e.date, reverse=True)
            ),
            security=self.t(notice.security) or ui["security_default"],
            rights_intro=self.t(notice.rights_intro) or ui["rights_intro"],
            rights=tuple(self.right(right) for right in Right),
            contact=self.t(notice.contact) or ui["contact_default"],
            dpo=self.dpo(),
            authority=self.authority(),
            other_notices_intro=self.t(notice.other_notices_intro) or ui["other_notices_intro"],
            other_notices=other_notices,
            updated=notice.updated.isoformat(),
            published=notice.published.isoformat() if notice.published else "",
            version=version,
            history_link=Link(ui["earlier_versions"], self.links.history()),
            request_link=Link(ui["make_request"], self.links.request()),
            consent_link=Link(ui["manage_consent"], self.links.consent()),
        )

    def sections(
        self,
        categories: tuple[CategoryView, ...],
        li: tuple[ActivityView, ...],
        consent: tuple[ActivityView, ...],
        other: tuple[ActivityView, ...],
        other_notices: tuple[OtherNoticeView, ...],
    ) -> tuple[Section, ...]:
        ui = self.ui
        wanted = [
            ("quick-answers", ui["quick"], True),
            ("categories", ui["h_categories"], bool(categories)),
            ("legitimate-interest", ui["h_li"], bool(li)),
            ("retention", ui["h_retention"], True),
            ("consent", ui["h_consent"], bool(consent)),
            ("other-legal-bases", ui["h_other_bases"], bool(other)),
            ("disclosure", ui["h_disclosure"], True),
            ("updates", ui["h_updates"], True),
            ("security", ui["h_security"], True),
            ("rights", ui["h_rights"], True),
            ("contact", ui["h_contact"], True),
            ("other-notices", ui["h_other_notices"], bool(other_notices)),
        ]
        return tuple(Section(sid, title) for sid, title, shown in wanted if shown)

    def controllers(self) -> str:
        org = self.register.organisation
        if org.joint_controllership is not None:
            return self.t(org.joint_controllership)
        lead = org.lead or org.controllers[0]
        others = [c.name for c in org.controllers if c is not lead]
        if not others:
            return labels.fill(self.ui["single_default"], {"lead": lead.name})
        return labels.fill(
            self.ui["joint_default"], {"lead": lead.name, "others": labels.join(self.lang, others)}
        )

    def category(self, category_id: str) -> CategoryView:
        category = self.register.categories[category_id]
        return CategoryView(
            category_id,
            f"category-{category_id}",
            self.t(category.name),
            self.t(category.examples),
            category.special,
        )

    def category_name(self, category_id: str) -> str:
        category = self.register.categories.get(category_id)
        return self.t(category.name) if category is not None else category_id

    def activity(self, activity: Activity) -> ActivityView:
        short, plain = labels.legal_basis(self.lang, activity.legal_basis)
        name, logic = self.t(activity.name), self.t(activity.profiling_logic)
        note = ""
        if activity.profiling:
            said = "profil" in name.lower()
            note = " ".join(p for p in ("" if said else self.ui["profiling"], logic) if p)
        subjects = self.register.subjects
        recipients = self.register.recipients
        return ActivityView(
            id=activity.id,
            anchor=f"activity-{activity.id}",
            name=name,
            purpose=self.t(activity.purpose),
            legal_basis=activity.legal_basis,
            basis_label=short,
            basis_plain=plain,
            legitimate_interest=self.t(activity.legitimate_interest),
            categories=tuple(self.category_name(c) for c in activity.categories),
            subjects=tuple(
                self.t(subjects[s].name) if s in subjects else s for s in activity.subjects
            ),
            sources=tuple(labels.source(self.lang, s) for s in activity.sources),
            recipients=tuple(
                self.t(recipients[r].name) if r in recipients else r for r in activity.recipients
            ),
            retention=retention_text(self.register, activity, self.lang),
            profiling=activity.profiling,
            profiling_logic=logic,
            profiling_note=note,
            direct_marketing=activity.direct_marketing,
            action=self.action(activity),
        )

    def action(self, activity: Activity) -> Action:
        ui, basis = self.ui, activity.legal_basis
        if basis is LegalBasis.CONSENT:
            return Action(ui["act_withdraw"], self.links.consent())
        if activity.direct_marketing:
            return Action(ui["act_object_dm"], self.links.request("objection", activity.id))
        if basis in (LegalBasis.LEGITIMATE_INTEREST, LegalBasis.PUBLIC_TASK):
            return Action(ui["act_object"], self.links.request("objection", activity.id))
        return Action(ui[f"act_{basis.value}"], None)

    def recipient(self, recipient_id: str) -> RecipientView:
        recipient = self.register.recipients[recipient_id]
        lang = self.lang
        if recipient.country is None:
            where = ""
        elif recipient.third_country:
            where = f"{labels.country(lang, recipient.country)} ({self.ui['outside_eea']})"
        else:
            where = f"{labels.country(lang, recipient.country)} ({self.ui['eea']})"
        safeguard = ""
        if may_transfer(recipient) and recipient.transfer is not None:
            transfer = recipient.transfer
            mechanisms = [labels.mechanism(lang, m) for m in transfer.mechanisms]
            safeguard = labels.join(lang, mechanisms, alternatives=True)
            safeguard = safeguard[:1].upper() + safeguard[1:]
            if transfer.reference:
                safeguard += f" ({transfer.reference})"
        return RecipientView(
            id=recipient_id,
            anchor=f"recipient-{recipient_id}",
            name=self.t(recipient.name),
            role=labels.role(lang, recipient.role),
            activities=tuple(
                self.t(a.name) for a in self.register.activities if recipient_id in a.recipients
            ),
            where=where,
            third_country=recipient.third_country,
            safeguard=safeguard,
            description=self.t(recipient.description),
            privacy_url=recipient.privacy_url,
        )

    def transfers(self) -> str:
        """``notice.transfers``; else a statement built from the recipients' transfers."""
        written = self.t(self.register.notice.transfers)
        if written:
            return written
        transferring = [r for r in self.register.recipients.values() if may_transfer(r)]
        if not transferring:
            return ""
        mechanisms: list[TransferMechanism] = []
        descriptions: list[str] = []
        for recipient in transferring:
            if recipient.transfer is not None:
                transfer = recipient.transfer
                mechanisms.extend(m for m in transfer.mechanisms if m not in mechanisms)
                description = self.t(transfer.description)
                if description and description not in descriptions:
                    descriptions.append(description)
        words = [labels.mechanism(self.lang, m) for m in mechanisms] or ["\N{EN DASH}"]
        statement = labels.fill(
            self.ui["transfers_default"],
            {"mechanisms": labels.join(self.lang, words, alternatives=True)},
        )
        return " ".join([statement, *descriptions])

    def right(self, right: Right) -> RightView:
        default = labels.default_right(self.lang, right)
        written = self.register.notice.rights.get(right)

        def fill(text: str) -> str:
            return labels.fill(text, self.values)

        title = self.t(written.title) if written is not None else ""
        text = self.t(written.text) if written is not None else ""
        conditions = tuple(self.t(c) for c in written.conditions) if written is not None else ()
        after = self.t(written.after) if written is not None else ""
        if not text and not conditions:
            conditions = tuple(fill(c) for c in default.conditions)
        if not text and not after:
            after = fill(default.after)
        if right is Right.WITHDRAW_CONSENT:
            href = self.links.consent()
        else:
            href = self.links.request(right.value.replace("_", "-"))
        return RightView(
            id=right,
            anchor=f"right-{right.value.replace('_', '-')}",
            title=title or fill(default.title),
            text=text or fill(default.text),
            conditions=conditions,
            after=after,
            action=Link(fill(default.action), href),
        )

    def dpo(self) -> ContactView | None:
        dpo = self.register.organisation.dpo
        if dpo is None:
            return None
        return ContactView(
            self.ui["dpo"], self.t(dpo.name), dpo.email or "", dpo.postal or "", dpo.phone or "", ""
        )

    def authority(self) -> ContactView | None:
        authority = self.register.organisation.authority
        if authority is None:
            return None
        return ContactView(
            self.values["authority"],
            "",
            authority.email or "",
            authority.postal or "",
            authority.phone or "",
            authority.website or "",
        )
