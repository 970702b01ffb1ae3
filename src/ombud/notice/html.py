"""The notice as one self-contained, accessible HTML page (Jinja2, autoescaped)."""

from __future__ import annotations

from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined

from ombud.notice.content import NoticeContent


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The template environment; templates load from the installed package."""
    return Environment(
        loader=PackageLoader("ombud.notice", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def render_html(content: NoticeContent) -> str:
    """The notice page: inline CSS, no external assets, fonts or scripts."""
    template = environment().get_template("notice.html.j2")
    return template.render(n=content, L=content.labels)
