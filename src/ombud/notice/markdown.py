"""The notice as Markdown (CommonMark with GitHub pipe tables), same content as the HTML."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from ombud.notice.content import Action, ActivityView, ContactView, NoticeContent

DASH = "\N{EN DASH}"
_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")


def esc(text: str) -> str:
    """Text safe inside Markdown and table cells: specials escaped, one line."""
    return _SPECIAL.sub(r"\\\1", " ".join(text.split()))


def link(label: str, href: str) -> str:
    return f"[{esc(label)}](<{href.replace('>', '%3E').replace(' ', '%20')}>)"


def table(header: Sequence[str], rows: Iterable[Sequence[str]], caption: str = "") -> list[str]:
    """A pipe table; cells are already escaped Markdown."""
    lines = [f"*{esc(caption)}*", ""] if caption else []
    lines.append("| " + " | ".join(esc(h) for h in header) + " |")
    lines.append("|" + "|".join(" --- " for _ in header) + "|")
    lines.extend("| " + " | ".join(cell or DASH for cell in row) + " |" for row in rows)
    lines.append("")
    return lines


def render_markdown(n: NoticeContent) -> str:
    """The whole notice in Markdown, sections in the same order as the HTML page."""
    parts = (
        _header,
        _quick,
        _toc,
        _processing,
        _disclosure,
        _updates,
        _rights,
        _contacts,
        _other_notices,
        _footer,
    )
    return "\n".join(line for part in parts for line in part(n, n.labels))


def _header(n: NoticeContent, L: Mapping[str, str]) -> list[str]:  # noqa: N803 - as in the template
    dates = f"{esc(L['updated'])} {n.updated}"
    if n.published:
        dates += f" · {esc(L['published'])} {n.published}"
    out = [
        " · ".join(lg.name if lg.current else link(lg.name, lg.href) for lg in n.languages),
        "",
        f"# {esc(n.title)}",
        "",
        dates,
        "",
    ]
    out += [line for p in n.intro for line in (esc(p), "")]
    return [*out, esc(n.controllers), ""]


def _quick(n: NoticeContent, L: Mapping[str, str]) -> list[str]:  # noqa: N803
    out = [
        *h2("quick-answers", L["quick"]),
        esc(L["quick_intro"]),
        "",
        f"### {esc(n.email_question)}",
        "",
    ]
    for use in n.email_uses:
        examples = f" ({esc(use.category.examples)})" if use.category.examples else ""
        out += [f"**{esc(use.category.name)}**{examples} {esc(L['q_uses'])}", ""]
        out += [
            f"- {esc(a.name)} {DASH} {esc(a.basis_label)}. {_action(a.action)}"
            for a in use.activities
        ]
        out.append("")
    out += [f"### {esc(L['q_marketing'])}", ""]
    if n.marketing:
        out += [f"- {esc(a.name)}: {_action(a.action)}" for a in n.marketing]
    else:
        out.append(esc(L["q_marketing_none"]))
    out += ["", link(n.consent_link.label, n.consent_link.href), "", f"### {esc(L['q_dpo'])}", ""]
    out += _contact(n.dpo, L) if n.dpo else [esc(L["q_dpo_none"]), ""]
    out += [
        f"### {esc(L['q_request'])}",
        "",
        esc(L["q_request_text"]),
        "",
        (f"{link(n.request_link.label, n.request_link.href)} · {link(L['complain'], '#contact')}"),
        "",
    ]
    if n.activities:
        out += [f"### {esc(L['q_overview'])}", ""]
        out += table(
            [L["col_activity"], L["col_legal_basis"], L["col_retention"], L["col_how_to_stop"]],
            (
                [esc(a.name), esc(a.basis_plain), esc(a.retention), _action(a.action)]
                for a in n.activities
            ),
            L["cap_overview"],
        )
    return out


def _toc(n: NoticeContent, L: Mapping[str, str]) -> list[str]:  # noqa: N803
    items = [f"{i}. [{esc(s.title)}](#{s.id})" for i, s in enumerate(n.sections, 1)]
    return [*h2("toc", L["toc"]), *items, ""]


def _processing(n: NoticeContent, L: Mapping[str, str]) -> list[str]:  # noqa: N803
    out: list[str] = []
    if n.categories:
        out += h2("categories", L["h_categories"])
        out += table(
            [L["col_category"], L["col_examples"]],
            (
                [esc(c.name), esc(c.examples) + (f" ({esc(L['special'])})" if c.special else "")]
                for c in n.categories
            ),
            L["cap_categories"],
        )
    if n.li_activities:
        out += [*h2("legitimate-interest", L["h_li"]), esc(n.li_intro), ""]
        out += _activities(n, n.li_activities, L["cap_li"], interest=n.show_interest)
    out += [*h2("retention", L["h_retention"]), esc(n.retention), ""]
    if n.consent_activities:
        out += [*h2("consent", L["h_consent"]), esc(n.consent_intro), ""]
        out += _activities(n, n.consent_activities, L["cap_consent"])
        out += [link(n.consent_link.label, n.consent_link.href), ""]
    if n.other_activities:
        out += [*h2("other-legal-bases", L["h_other_bases"]), esc(L["other_bases_intro"]), ""]
        out += _activities(n, n.other_activities, L["cap_other_bases"], basis=True)
    return out


def _disclosure(n: NoticeContent, L: Mapping[str, str]) -> list[str]:  # noqa: N803
    out = h2("disclosure", L["h_disclosure"])
    out += [line for p in n.disclosure for line in (esc(p), "")]
    if n.recipients:
        out += table(
            [
                L["col_recipient"],
                L["col_role"],
                L["col_used_in"],
                L["col_country"],
                L["col_safeguard"],
            ],
            (
                [
                    esc(r.name)
                    + (f" ({link(L['their_privacy'], r.privacy_url)})" if r.privacy_url else ""),
                    esc(r.role),
                    esc(", ".join(r.activities)),
                    esc(r.where),
                    esc(r.safeguard),
                ]
                for r in n.recipients
            ),
            L["cap_recipients"],
        )
    if n.transfers:
        out += [f"### {esc(L['h_transfers'])}", "", esc(n.transfers), ""]
    return out


def _updates(n: NoticeContent, L: Mapping[str, str]) -> list[str]:  # noqa: N803
    out = [*h2("updates", L["h_updates"]), esc(L["updates_intro"]), ""]
    out += [f"- {h.date}: {esc(h.text)}" for h in n.history]
    out += ["", link(n.history_link.label, n.history_link.href), ""]
    return [*out, *h2("security", L["h_security"]), esc(n.security), ""]


def _rights(n: NoticeContent, L: Mapping[str, str]) -> list[str]:  # noqa: N803
    out = [*h2("rights", L["h_rights"]), esc(n.rights_intro), ""]
    for r in n.rights:
        out += [f"### {esc(r.title)}", "", esc(r.text), ""]
        if r.conditions:
            out += [*(f"- {esc(c)}" for c in r.conditions), ""]
        if r.after:
            out += [esc(r.after), ""]
        out += [link(r.action.label, r.action.href), ""]
    return out


def _contacts(n: NoticeContent, L: Mapping[str, str]) -> list[str]:  # noqa: N803
    out = [*h2("contact", L["h_contact"]), esc(n.contact), ""]
    for card in (n.dpo, n.authority):
        if card is not None:
            out += [f"### {esc(card.heading)}", "", *_contact(card, L)]
    return out


def _other_notices(n: NoticeContent, L: Mapping[str, str]) -> list[str]:  # noqa: N803
    if not n.other_notices:
        return []
    return [
        *h2("other-notices", L["h_other_notices"]),
        esc(n.other_notices_intro),
        "",
        *table(
            [L["col_area"], L["col_where"]],
            (
                [esc(o.area), link(o.where, o.url) if o.url else esc(o.where)]
                for o in n.other_notices
            ),
            L["cap_other_notices"],
        ),
    ]


def _footer(n: NoticeContent, L: Mapping[str, str]) -> list[str]:  # noqa: N803
    footer = f"{esc(L['updated'])}: {n.updated}"
    if n.published:
        footer += f" · {esc(L['published'])}: {n.published}"
    if n.version:
        footer += f" · {esc(L['version'])} `{n.version[:12]}`"
    return ["---", "", footer, ""]


def h2(anchor: str, title: str) -> list[str]:
    """A section heading with an explicit anchor, so links match the HTML page's."""
    return [f'<a id="{anchor}"></a>', "", f"## {esc(title)}", ""]


def _action(action: Action) -> str:
    return link(action.label, action.href) if action.href else esc(action.label)


def _activities(
    n: NoticeContent,
    rows: Sequence[ActivityView],
    caption: str,
    *,
    basis: bool = False,
    interest: bool = False,
) -> list[str]:
    L = n.labels  # noqa: N806 - as in the template
    header = [L["col_activity"]]
    header += [L["col_legal_basis"]] if basis else []
    header += [L["col_categories"], L["col_purpose"]]
    header += [L["col_interest"]] if interest else []
    header += [L["col_source"], L["col_retention"]]
    body = []
    for a in rows:
        name = esc(a.name)
        if a.profiling_note:
            name += f" ({esc(a.profiling_note)})"
        row = [name]
        row += [esc(a.basis_label)] if basis else []
        row += [esc(", ".join(a.categories)), esc(a.purpose)]
        row += [esc(a.legitimate_interest)] if interest else []
        row += [esc(", ".join(a.sources)), esc(a.retention)]
        body.append(row)
    return table(header, body, caption)


def _contact(card: ContactView, labels: Mapping[str, str]) -> list[str]:
    lines = []
    if card.name:
        lines.append(f"**{esc(card.name)}**")
    if card.email:
        lines.append(f"{esc(labels['email'])}: <{card.email}>")
    if card.postal:
        lines.append(f"{esc(labels['postal'])}: {esc(card.postal)}")
    if card.phone:
        lines.append(f"{esc(labels['phone'])}: {esc(card.phone)}")
    if card.website:
        lines.append(f"{esc(labels['website'])}: {link(card.website, card.website)}")
    # two trailing spaces: a line break inside one paragraph
    return ["  \n".join(lines), ""]
