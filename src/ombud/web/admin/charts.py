# ruff: noqa: RUF001 - the figures table shows an en dash for a missing figure
"""Charts for the console as inline SVG: no script, no library, and always a text alternative.

Each chart is an ``<svg role="img">`` whose ``<title>`` and ``<desc>`` say what it
shows in words, followed by the same figures as a table (inside ``<details>``),
so a screen reader, a keyboard user and a printout get every number. Series are
told apart by a pattern of dashes or a hatch as well as by colour.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

__all__ = ["Series", "bar_chart", "line_chart"]

#: Colours that keep 3:1 contrast against white and differ for the common colour blindnesses
#: (Okabe-Ito); the dash patterns below tell lines apart without colour.
PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#7a5c00", "#56b4e9", "#000000")
DASHES = ("", "6 3", "2 3", "8 3 2 3", "1 2", "10 4", "4 4")

_WIDTH = 640
_HEIGHT = 260
_LEFT = 44
_RIGHT = 12
_TOP = 12
_BOTTOM = 40


@dataclass(frozen=True)
class Series:
    """One named row of figures, one per x label; None where there is no figure."""

    name: str
    values: Sequence[float | None]


def _e(value: object) -> str:
    """``value`` HTML-escaped, as a plain string (a Markup would escape what it is added to)."""
    return str(escape(value))


def _ticks(maximum: float) -> list[float]:
    """Four or five round steps from 0 to at least ``maximum``."""
    if maximum <= 0:
        return [0.0, 1.0]
    step = 1.0
    for candidate in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        step = float(candidate)
        if maximum / step <= 5:
            break
    top = step * -(-maximum // step)
    count = int(top / step)
    return [step * i for i in range(count + 1)]


def _number(value: float) -> str:
    return f"{value:g}"


def _frame(title: str, description: str, chart_id: str, body: list[str]) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" preserveAspectRatio="xMidYMid meet" '
        f'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">{_e(title)}</title>'
        f'<desc id="{chart_id}-desc">{_e(description)}</desc>' + "".join(body) + "</svg>"
    )


def _axes(ticks: list[float], x_labels: Sequence[str], *, suffix: str, plot_h: float) -> list[str]:
    top = ticks[-1] or 1.0
    parts: list[str] = []
    for tick in ticks:
        y = _TOP + plot_h - plot_h * tick / top
        parts.append(
            f'<line x1="{_LEFT}" x2="{_WIDTH - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#d0d7de" stroke-width="1"/>'
            f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="12" '
            f'fill="#3d444d">{_e(_number(tick) + suffix)}</text>'
        )
    slot = (_WIDTH - _LEFT - _RIGHT) / max(len(x_labels), 1)
    # Every label when they fit, else every n-th counted back from the latest, which is
    # always named: at font size 12 a character is up to 7 units wide, and 8 keep them apart.
    widest = 7 * max((len(label) for label in x_labels), default=0) + 8
    every = max(1, math.ceil(widest / slot))
    for index, label in enumerate(x_labels):
        if (len(x_labels) - 1 - index) % every:
            continue
        x = _LEFT + slot * (index + 0.5)
        parts.append(
            f'<text x="{x:.1f}" y="{_HEIGHT - _BOTTOM + 18}" text-anchor="middle" '
            f'font-size="12" fill="#3d444d">{_e(label)}</text>'
        )
    return parts


def _table(
    caption: str, x_name: str, x_labels: Sequence[str], series: Sequence[Series], suffix: str
) -> str:
    head = "".join(f'<th scope="col">{_e(s.name)}</th>' for s in series)
    rows = []
    for index, label in enumerate(x_labels):
        cells = "".join(
            "<td>"
            + ("–" if s.values[index] is None else _e(_number(s.values[index] or 0) + suffix))
            + "</td>"
            for s in series
        )
        rows.append(f'<tr><th scope="row">{_e(label)}</th>{cells}</tr>')
    return (
        f'<table class="chart-data"><caption>{_e(caption)}</caption>'
        f'<thead><tr><th scope="col">{_e(x_name)}</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _legend(series: Sequence[Series], *, lines: bool) -> str:
    items = []
    for index, s in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        if lines:
            dash = DASHES[index % len(DASHES)]
            swatch = (
                '<svg width="28" height="10" aria-hidden="true" focusable="false">'
                f'<line x1="0" x2="28" y1="5" y2="5" stroke="{colour}" stroke-width="3" '
                f'stroke-dasharray="{dash}"/></svg>'
            )
        else:
            swatch = (
                '<svg width="14" height="14" aria-hidden="true" focusable="false">'
                f'<rect width="14" height="14" fill="{colour}"/>'
                + _hatch_lines(index, 0, 0, 14, 14)
                + "</svg>"
            )
        items.append(f"<li>{swatch} {_e(s.name)}</li>")
    return f'<ul class="chart-legend">{"".join(items)}</ul>'


def _hatch_lines(index: int, x: float, y: float, w: float, h: float) -> str:
    """White stripes on every other series, so neighbouring segments differ without colour."""
    if index % 2 == 0 or w <= 0 or h <= 0:
        return ""
    stripes = []
    step = 5.0
    offset = 0.0
    while offset < h:
        y1 = y + offset
        stripes.append(
            f'<line x1="{x:.1f}" x2="{x + w:.1f}" y1="{y1:.1f}" y2="{y1:.1f}" '
            'stroke="#ffffff" stroke-width="1.5"/>'
        )
        offset += step
    return "".join(stripes)


def bar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    x_name: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    table_label: str,
) -> Markup:
    """Stacked bars, one per x label, a segment per series; then the legend and the table."""
    totals = [sum(s.values[i] or 0 for s in series) for i in range(len(x_labels))]
    ticks = _ticks(max(totals, default=0))
    plot_h = _HEIGHT - _TOP - _BOTTOM
    top = ticks[-1] or 1.0
    slot = (_WIDTH - _LEFT - _RIGHT) / max(len(x_labels), 1)
    width = min(slot * 0.7, 48)
    body = _axes(ticks, x_labels, suffix="", plot_h=plot_h)
    for index in range(len(x_labels)):
        x = _LEFT + slot * (index + 0.5) - width / 2
        base = float(_TOP + plot_h)
        for number, s in enumerate(series):
            value = s.values[index] or 0
            if not value:
                continue
            height = plot_h * value / top
            base -= height
            body.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{width:.1f}" height="{height:.1f}" '
                f'fill="{PALETTE[number % len(PALETTE)]}"/>'
                + _hatch_lines(number, x, base, width, height)
            )
    svg = _frame(title, description, chart_id, body)
    return Markup(  # noqa: S704 - every text inside was escaped above
        f'<figure class="chart-figure">{svg}{_legend(series, lines=False)}'
        f"<details><summary>{_e(table_label)}</summary>"
        f"{_table(title, x_name, x_labels, series, '')}</details></figure>"
    )


def line_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    x_name: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    table_label: str,
    suffix: str = "",
    maximum: float | None = None,
) -> Markup:
    """A line per series (dashed differently), with a dot at every figure; legend and table."""
    highest = max((v for s in series for v in s.values if v is not None), default=0.0)
    ticks = _ticks(maximum if maximum is not None else highest)
    plot_h = _HEIGHT - _TOP - _BOTTOM
    top = ticks[-1] or 1.0
    slot = (_WIDTH - _LEFT - _RIGHT) / max(len(x_labels), 1)
    body = _axes(ticks, x_labels, suffix=suffix, plot_h=plot_h)
    for number, s in enumerate(series):
        colour = PALETTE[number % len(PALETTE)]
        dash = DASHES[number % len(DASHES)]
        points = [
            (_LEFT + slot * (i + 0.5), _TOP + plot_h - plot_h * value / top)
            for i, value in enumerate(s.values)
            if value is not None
        ]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            body.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5" '
                f'stroke-dasharray="{dash}"/>'
            )
        body.extend(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>' for x, y in points
        )
    svg = _frame(title, description, chart_id, body)
    return Markup(  # noqa: S704 - every text inside was escaped above
        f'<figure class="chart-figure">{svg}{_legend(series, lines=True)}'
        f"<details><summary>{_e(table_label)}</summary>"
        f"{_table(title, x_name, x_labels, series, suffix)}</details></figure>"
    )


def rate(given: int, shown: int) -> float | None:
    """Per cent of ``shown`` that ``given`` is, to one decimal; None when nothing was shown."""
    return None if shown == 0 else round(100 * given / shown, 1)


def summed(rows: Sequence[Mapping[str, int]], key: str) -> int:
    return sum(int(r.get(key, 0)) for r in rows)
