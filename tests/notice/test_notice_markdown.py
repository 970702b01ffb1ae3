"""The Markdown notice: the same content as the HTML page, with pipe tables."""

from __future__ import annotations

import re

import pytest

from ombud.notice import render_notice
from ombud.register import Register

SECTIONS = [
    "quick-answers",
    "toc",
    "categories",
    "legitimate-interest",
    "retention",
    "consent",
    "disclosure",
    "updates",
    "security",
    "rights",
    "contact",
    "other-notices",
]


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_almi_markdown_names_everything(almi: Register, lang: str) -> None:
    text = render_notice(almi, lang=lang, fmt="md").decode("utf-8")
    plain = re.sub(r"\\(.)", r"\1", text)  # undo Markdown escapes
    expected = [a.name.get(lang) for a in almi.activities]
    expected += [c.name.get(lang) for c in almi.categories.values()]
    expected += [
        "Google",
        "Meta",
        "Bing",
        "LinkedIn",
        "dataskyddsombud@almi.se",
        "imy@imy.se",
        "Box 70396, 107 24 Stockholm",
        "Box 8114, 104 20 Stockholm",
        "2024-07-02",
        "2024-07-05",
    ]
    expected += [entry.text.get(lang) for entry in almi.notice.history]
    missing = [e for e in expected if " ".join(e.split()) not in plain]
    assert not missing


def test_markdown_sections_follow_the_seed_order(almi: Register) -> None:
    text = render_notice(almi, lang="sv", fmt="md").decode("utf-8")
    anchors = re.findall(r'^<a id="([a-z-]+)"></a>$', text, flags=re.MULTILINE)
    assert anchors == SECTIONS
    assert text.startswith("Svenska · [English]")
    assert text.splitlines()[2].startswith("# ")


def test_markdown_tables_are_pipe_tables(almi: Register) -> None:
    text = render_notice(almi, lang="sv", fmt="md").decode("utf-8")
    separators = [line for line in text.splitlines() if re.fullmatch(r"\|( --- \|)+", line)]
    # overview, categories, legitimate interest, consent, recipients, other notices
    assert len(separators) == 6
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line in separators:
            columns = line.count("|")
            assert lines[index - 1].count("|") == columns
            row = index + 1
            while lines[row].startswith("| "):
                unescaped = lines[row].replace("\\|", "")
                assert unescaped.count("|") == columns, lines[row]
                row += 1


def test_markdown_escapes_what_would_break_it(acme: Register) -> None:
    text = render_notice(acme, lang="en", fmt="md").decode("utf-8")
    assert "Offers \\| direct marketing" in text
    assert "<script>" not in text
    assert "\\<script\\>" in text


def test_markdown_links_go_to_the_portal(acme: Register) -> None:
    text = render_notice(
        acme, lang="en", fmt="md", base_path="/portal", version="abcdef0123456789"
    ).decode("utf-8")
    assert "(</portal/privacy/consent?lang=en>)" in text
    assert "(</portal/privacy/request?type=objection&activity=direct-marketing&lang=en>)" in text
    assert "(</portal/privacy/history?lang=en>)" in text
    assert text.rstrip().endswith("Version `abcdef012345`")
