"""HTML pages of the web app other than the notice itself (Jinja2, autoescaped)."""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

#: UI strings of the web pages, in every language the UI speaks.
LABELS: dict[str, dict[str, str]] = {
    "sv": {
        "history_title": "Tidigare versioner av integritetsmeddelandet",
        "history_intro": "Varje version som har publicerats, med tidpunkten då den först "
        "visades. Välj en version för att läsa den exakt som den löd.",
        "first_served": "Publicerad första gången",
        "updated": "Uppdaterad",
        "version": "Version",
        "current": "gällande",
        "back": "Till gällande integritetsmeddelande",
        "no_versions": "Inga versioner har publicerats ännu.",
    },
    "en": {
        "history_title": "Earlier versions of the privacy notice",
        "history_intro": "Every version that has been published, with the time it was first "
        "shown. Choose a version to read it exactly as it was.",
        "first_served": "First published",
        "updated": "Updated",
        "version": "Version",
        "current": "current",
        "back": "To the current privacy notice",
        "no_versions": "No versions have been published yet.",
    },
}


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("ombud.web", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_page(template: str, *, lang: str, **context: Any) -> str:
    """Render ``template`` in ``lang`` (English labels for a language the UI lacks)."""
    labels = LABELS.get(lang, LABELS["en"])
    return _environment().get_template(template).render(lang=lang, t=labels, **context)
