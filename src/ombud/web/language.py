"""Choosing the language of a page: `?lang=`, else Accept-Language, else the first."""

from __future__ import annotations


def negotiate(available: list[str], query: str | None, accept_language: str | None) -> str:
    """The best of ``available`` for this request; ``available[0]`` when nothing matches."""
    if query in available:
        return query
    for tag in _ranked(accept_language or ""):
        primary = tag.split("-", 1)[0]
        if primary in available:
            return primary
    return available[0]


def _ranked(header: str) -> list[str]:
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and tag != "*" and quality > 0:
            weighted.append((-quality, index, tag.lower()))
    return [tag for _, _, tag in sorted(weighted)]
