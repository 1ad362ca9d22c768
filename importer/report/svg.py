"""Charts as inline SVG: bars (stacked or grouped), lines over time, and ranked bars.

The HTML report draws with these, so the page needs no script and no charting library:
a browser shows the charts as they are written, and so does a mail client or a file
viewer that shows SVG. Every text (titles, labels, tooltips) is escaped here, once;
callers pass plain text. Each bar and line carries a ``<title>``, which browsers show
on hover, so exact values stay readable where the axis is coarse.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

__all__ = ["PALETTE", "Line", "Series", "bar_chart", "line_chart", "nice_ticks", "ranked_bars"]

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
WIDTH = 900
_LEFT, _RIGHT = 72, 24  # room for the value axis's labels and title; a margin on the right
_FONT = 12
_CHAR = 6.8  # a character's mean width at _FONT px: text is laid out without being measured
_PLOT_HEIGHT = 260
_SHORT_LABEL = 28  # a category label on a slanted axis; its bar's tooltip has it whole


@dataclass(frozen=True, slots=True)
class Series:
    """Values for each category of a bar chart, in one colour."""

    name: str
    values: Sequence[float]
    colour: str


@dataclass(frozen=True, slots=True)
class Line:
    """Points (x, y) of a line chart, in x order, in one colour."""

    name: str
    points: Sequence[tuple[float, float]]
    colour: str


def _t(value: object) -> str:
    return escape(str(value), quote=True)


def _n(value: float) -> str:
    """A coordinate to a tenth of a pixel: enough for the eye, and keeps the page small."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def number(value: float) -> str:
    """A value as an axis or tooltip shows it: thousands grouped, no needless decimals."""
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.2f}" if abs(value) >= 1 else f"{value:.3g}"


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Ticks from 0 to at least ``top`` in steps of 1, 2 or 5 times a power of ten."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw * (1 - 1e-9))
    return [round(i * step, 12) for i in range(math.ceil(top / step - 1e-9) + 1)]


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _legend(items: Sequence[tuple[str, str]], top: float) -> tuple[str, float]:
    """Coloured squares and names, wrapped across lines; returns the markup and the y below it."""
    if not items:
        return "", top
    parts, x, y = [], float(_LEFT), top + 12
    for name, colour in items:
        width = 26 + len(name) * _CHAR
        if x + width > WIDTH - _RIGHT and x > _LEFT:
            x, y = float(_LEFT), y + 18
        parts.append(f'<rect x="{_n(x)}" y="{_n(y - 10)}" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{_n(x + 16)}" y="{_n(y)}">{_t(name)}</text>')
        x += width
    return "".join(parts), y + 12


def _svg(title: str, height: float, body: str, pad: float = 0) -> str:
    """The chart's frame and title; ``pad`` widens it on the left, for slanted labels."""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{_n(-pad)} 0 {_n(WIDTH + pad)} {_n(height)}" '
            f'width="{_n(WIDTH + pad)}" height="{_n(height)}" role="img" aria-label="{_t(title)}" font-family="system-ui, sans-serif" '
            f'font-size="{_FONT}" fill="#222"><title>{_t(title)}</title>'
            f'<text x="{WIDTH // 2}" y="22" text-anchor="middle" font-size="16">{_t(title)}</text>'
            f"{body}</svg>")


def _value_axis(top: float, bottom: float, ticks: list[float], title: str) -> str:
    """Horizontal grid lines with their values on the left, and the axis title turned upright."""
    scale = (bottom - top) / ticks[-1]
    parts = []
    for tick in ticks:
        y = bottom - tick * scale
        parts.append(f'<line x1="{_LEFT}" x2="{WIDTH - _RIGHT}" y1="{_n(y)}" y2="{_n(y)}" stroke="#e5e5e5"/>'
                     f'<text x="{_LEFT - 6}" y="{_n(y + 4)}" text-anchor="end">{number(tick)}</text>')
    middle = (top + bottom) / 2
    parts.append(f'<text x="16" y="{_n(middle)}" text-anchor="middle" '
                 f'transform="rotate(-90 16 {_n(middle)})">{_t(title)}</text>')
    parts.append(f'<line x1="{_LEFT}" x2="{WIDTH - _RIGHT}" y1="{_n(bottom)}" y2="{_n(bottom)}" stroke="#888"/>')
    return "".join(parts)


def bar_chart(title: str, categories: Sequence[str], series: Sequence[Series], *, y_title: str,
              stacked: bool = False) -> str:
    """Vertical bars, one slot per category: the series stacked in it, or side by side.

    Long or many category labels are slanted and shortened; where there are too many
    to write, every n-th is written (each bar's tooltip names its category).
    """
    legend, top = _legend([(s.name, s.colour) for s in series], 34)
    top += 8
    count = max(len(categories), 1)
    slot = (WIDTH - _LEFT - _RIGHT) / count
    longest = max((len(c) for c in categories), default=0)
    slanted = longest * _CHAR > slot - 4
    shown = [_cut(c, _SHORT_LABEL) for c in categories] if slanted else list(categories)
    label_height = min(longest, _SHORT_LABEL) * _CHAR * 0.6 + 24 if slanted else 26
    every = max(1, math.ceil(count * 16 / (WIDTH - _LEFT - _RIGHT))) if slanted else 1
    bottom = top + _PLOT_HEIGHT
    totals = [sum(s.values[i] for s in series) for i in range(len(categories))] if stacked else \
        [max((s.values[i] for s in series), default=0) for i in range(len(categories))]
    ticks = nice_ticks(max(totals, default=0))
    scale = _PLOT_HEIGHT / ticks[-1]
    parts = [legend, _value_axis(top, bottom, ticks, y_title)]
    used = min(slot * 0.7, 90.0) if stacked else min(slot * 0.8, 60.0 * max(len(series), 1))
    width = used if stacked else used / max(len(series), 1)
    for i, category in enumerate(categories):
        x0, base = _LEFT + i * slot + (slot - used) / 2, bottom
        for j, s in enumerate(series):
            value = s.values[i]
            if value <= 0:
                continue
            height = value * scale
            x = x0 if stacked else x0 + j * width
            y = base - height if stacked else bottom - height
            parts.append(f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(max(width - 1, 1))}" height="{_n(height)}" '
                         f'fill="{s.colour}"><title>{_t(category)}, {_t(s.name)}: {number(value)}</title></rect>')
            if stacked:
                base -= height
        if i % every == 0:
            cx, ly = _LEFT + (i + 0.5) * slot, bottom + 16
            anchor = f'text-anchor="end" transform="rotate(-35 {_n(cx)} {_n(ly)})"' if slanted \
                else 'text-anchor="middle"'
            parts.append(f'<text x="{_n(cx)}" y="{_n(ly)}" {anchor}>{_t(shown[i])}</text>')
    # a slanted label reaches left of its bar by its length: the first ones may need room
    reach = max((len(shown[i]) * _CHAR * 0.82 - (_LEFT + (i + 0.5) * slot)
                 for i in range(0, len(categories), every)), default=0.0) if slanted else 0.0
    return _svg(title, bottom + label_height + 8, "".join(parts), pad=max(0.0, math.ceil(reach) + 4))


def line_chart(title: str, lines: Sequence[Line], x_ticks: Sequence[tuple[float, str]], *, x_range: tuple[float, float],
               y_title: str, x_title: str) -> str:
    """Lines over a numeric x axis (time, as seconds from a start the caller labels).

    Points get a marker when a line has few enough of them to tell apart.
    """
    legend, top = _legend([(line.name, line.colour) for line in lines], 34)
    top += 8
    bottom = top + _PLOT_HEIGHT
    ticks = nice_ticks(max((y for line in lines for _, y in line.points), default=0))
    low, high = x_range
    x_scale = (WIDTH - _LEFT - _RIGHT - 20) / (high - low if high > low else 1)
    y_scale = _PLOT_HEIGHT / ticks[-1]
    parts = [legend, _value_axis(top, bottom, ticks, y_title)]
    for at, label in x_ticks:
        x = _LEFT + 10 + (at - low) * x_scale
        parts.append(f'<line x1="{_n(x)}" x2="{_n(x)}" y1="{_n(bottom)}" y2="{_n(bottom + 4)}" stroke="#888"/>'
                     f'<text x="{_n(x)}" y="{_n(bottom + 18)}" text-anchor="middle">{_t(label)}</text>')
    parts.append(f'<text x="{(WIDTH + _LEFT) // 2}" y="{_n(bottom + 38)}" text-anchor="middle">{_t(x_title)}</text>')
    for line in lines:
        xy = [(_LEFT + 10 + (x - low) * x_scale, bottom - y * y_scale) for x, y in line.points]
        path = " ".join(f"{_n(x)},{_n(y)}" for x, y in xy)
        peak = max((y for _, y in line.points), default=0)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{line.colour}" stroke-width="2">'
                     f"<title>{_t(line.name)}: up to {number(peak)}</title></polyline>")
        if len(xy) <= 60:
            parts.extend(f'<circle cx="{_n(x)}" cy="{_n(y)}" r="3" fill="{line.colour}"/>' for x, y in xy)
    return _svg(title, bottom + 48, "".join(parts))


def ranked_bars(title: str, rows: Sequence[tuple[str, float, str]], *, colour: str, x_title: str) -> str:
    """Horizontal bars in the order given, each with its label above it (long labels fit)
    and its value at its end; ``rows`` are (label, value, tooltip)."""
    top = 44.0
    ticks = nice_ticks(max((value for _, value, _ in rows), default=0))
    room = WIDTH - _LEFT - _RIGHT - 60
    scale = room / ticks[-1]
    parts = []
    for label, value, tooltip in rows:
        width = value * scale
        parts.append(f'<text x="{_LEFT}" y="{_n(top + 12)}">{_t(label)}</text>'
                     f'<rect x="{_LEFT}" y="{_n(top + 17)}" width="{_n(max(width, 1))}" height="14" fill="{colour}">'
                     f"<title>{_t(tooltip)}: {number(value)}</title></rect>"
                     f'<text x="{_n(_LEFT + width + 6)}" y="{_n(top + 28)}">{number(value)}</text>')
        top += 38
    parts.append(f'<text x="{(WIDTH + _LEFT) // 2}" y="{_n(top + 14)}" text-anchor="middle">{_t(x_title)}</text>')
    return _svg(title, top + 26, "".join(parts))
