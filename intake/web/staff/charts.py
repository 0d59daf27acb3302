"""Server-side SVG charts: bars, lines and stacked bars, drawn from plain numbers.

Every label passes through ``_text`` (XML-escaped, control characters dropped), so a flag code such as
``<script>`` draws as text. Each chart is ``role="img"`` with a <title> and <desc>; the page puts a
table with the same numbers next to it. Colours come from classes in static/css/dashboard.css: the
Content-Security-Policy forbids style attributes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe

# Characters XML 1.0 does not allow, even escaped: one in a label would make the page unparseable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

WIDTH = 640
HEIGHT = 300
_LEFT = 56
_RIGHT = 16
_TOP = 16
_BOTTOM = 64
_LEGEND_ROW = 20


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    css_class: str = "chart-fill-0"


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]  # one per x label; None leaves a gap
    css_class: str = "chart-series-0"


def _text(value: object) -> str:
    return escape(_NOT_XML.sub("", str(value)), quote=True)


def _css_class(value: str) -> str:
    # Classes come from our own code; keep them to a safe alphabet all the same.
    return re.sub(r"[^A-Za-z0-9_ -]", "", value)


def _number(value: float) -> str:
    """A value as it is printed on a chart: whole numbers without decimals, others with one."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.1f}"


def _coord(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^n at or above value (at least 1): a readable axis top."""
    if value <= 1:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        candidate = step * 10**exponent
        if candidate >= value:
            return float(candidate)
    return float(10 ** (exponent + 1))  # pragma: no cover - the loop ends at 10 x 10^n


def _open(chart_id: str, title: str, desc: str, height: int) -> list[str]:
    cid = _text(chart_id)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-labelledby="{cid}-title {cid}-desc" focusable="false">',
        f'<title id="{cid}-title">{_text(title)}</title>',
        f'<desc id="{cid}-desc">{_text(desc)}</desc>',
    ]


def _y_axis(top_value: float, plot_bottom: float, plot_height: float, y_label: str) -> list[str]:
    parts = ['<g class="chart-axis">']
    ticks = 4
    for i in range(ticks + 1):
        value = top_value * i / ticks
        y = plot_bottom - plot_height * i / ticks
        parts.append(f'<line class="chart-grid" x1="{_LEFT}" y1="{_coord(y)}" x2="{WIDTH - _RIGHT}" y2="{_coord(y)}"/>')
        parts.append(
            f'<text class="chart-tick" x="{_LEFT - 6}" y="{_coord(y + 4)}" text-anchor="end">{_number(value)}</text>'
        )
    if y_label:
        middle = _coord(_TOP + plot_height / 2)
        parts.append(
            f'<text class="chart-axis-label" x="14" y="{middle}" text-anchor="middle" '
            f'transform="rotate(-90 14 {middle})">{_text(y_label)}</text>'
        )
    parts.append("</g>")
    return parts


def _x_labels(labels: Sequence[str], slot: float, plot_bottom: float) -> list[str]:
    parts = ['<g class="chart-axis">']
    for i, label in enumerate(labels):
        x = _LEFT + slot * (i + 0.5)
        parts.append(
            f'<text class="chart-tick" x="{_coord(x)}" y="{_coord(plot_bottom + 16)}" '
            f'text-anchor="middle">{_text(label)}</text>'
        )
    parts.append("</g>")
    return parts


def _legend(entries: Sequence[tuple[str, str]], y: float, marker: str) -> list[str]:
    parts = ['<g class="chart-legend">']
    x = float(_LEFT)
    for name, css_class in entries:
        if marker == "line":
            parts.append(
                f'<line class="{_css_class(css_class)}" x1="{_coord(x)}" y1="{_coord(y - 4)}" '
                f'x2="{_coord(x + 16)}" y2="{_coord(y - 4)}"/>'
            )
        else:
            parts.append(f'<rect class="{_css_class(css_class)}" x="{_coord(x)}" y="{_coord(y - 10)}" '
                         f'width="12" height="12"/>')  # fmt: skip
        parts.append(f'<text class="chart-tick" x="{_coord(x + 20)}" y="{_coord(y)}">{_text(name)}</text>')
        # Roughly the width of the name in the chart's small font.
        x += 32 + 7 * len(name)
    parts.append("</g>")
    return parts


def bar_chart(*, chart_id: str, title: str, desc: str, bars: Sequence[Bar], x_label: str = "") -> SafeString:
    """Horizontal bars, one per label (long labels read better across), the value printed after each."""
    label_width = 190
    row = 26
    plot_left = _LEFT + label_width - 40
    plot_right = WIDTH - _RIGHT - 32
    plot_width = plot_right - plot_left
    height = _TOP + row * max(len(bars), 1) + 40
    top_value = nice_ceiling(max((b.value for b in bars), default=0))
    parts = _open(chart_id, title, desc, height)
    parts.append('<g class="chart-axis">')
    plot_bottom = _TOP + row * len(bars)
    ticks = 4
    for i in range(ticks + 1):
        x = _coord(plot_left + plot_width * i / ticks)
        parts.append(f'<line class="chart-grid" x1="{x}" y1="{_TOP}" x2="{x}" y2="{plot_bottom}"/>')
        parts.append(
            f'<text class="chart-tick" x="{x}" y="{plot_bottom + 14}" text-anchor="middle">'
            f"{_number(top_value * i / ticks)}</text>"
        )
    if x_label:
        parts.append(
            f'<text class="chart-axis-label" x="{_coord(plot_left + plot_width / 2)}" y="{plot_bottom + 32}" '
            f'text-anchor="middle">{_text(x_label)}</text>'
        )
    parts.append("</g>")
    parts.append('<g class="chart-bars">')
    for i, bar in enumerate(bars):
        y = _TOP + row * i
        width = plot_width * bar.value / top_value
        parts.append(
            f'<text class="chart-tick" x="{plot_left - 8}" y="{_coord(y + row / 2 + 4)}" text-anchor="end">'
            f"{_text(bar.label)}</text>"
        )
        parts.append(
            f'<rect class="{_css_class(bar.css_class)}" x="{plot_left}" y="{_coord(y + 4)}" '
            f'width="{_coord(width)}" height="{row - 8}">'
            f"<title>{_text(bar.label)}: {_number(bar.value)}</title></rect>"
        )
        parts.append(
            f'<text class="chart-value" x="{_coord(plot_left + width + 4)}" y="{_coord(y + row / 2 + 4)}">'
            f"{_number(bar.value)}</text>"
        )
    parts.append("</g>")
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every piece above is escaped by _text or is a number


def line_chart(
    *, chart_id: str, title: str, desc: str, x_labels: Sequence[str], series: Sequence[Series], y_label: str = ""
) -> SafeString:
    """One line per series with a dot on each value; a None value breaks the line."""
    height_total = HEIGHT + _LEGEND_ROW
    plot_bottom = HEIGHT - _BOTTOM
    plot_height = plot_bottom - _TOP
    values = [v for s in series for v in s.values if v is not None]
    top_value = nice_ceiling(max(values, default=0))
    slot = (WIDTH - _LEFT - _RIGHT) / max(len(x_labels), 1)
    parts = _open(chart_id, title, desc, height_total)
    parts += _y_axis(top_value, plot_bottom, plot_height, y_label)
    for s in series:
        css = _css_class(s.css_class)
        parts.append(f'<g class="chart-line {css}">')
        segment: list[str] = []
        points: list[str] = []
        for i, value in enumerate(s.values):
            if value is None:
                if len(segment) > 1:
                    parts.append(f'<polyline points="{" ".join(segment)}"/>')
                segment = []
                continue
            x = _coord(_LEFT + slot * (i + 0.5))
            y = _coord(plot_bottom - plot_height * value / top_value)
            segment.append(f"{x},{y}")
            label = x_labels[i] if i < len(x_labels) else ""
            points.append(
                f'<circle cx="{x}" cy="{y}" r="4"><title>{_text(s.name)}, {_text(label)}: '
                f"{_number(value)}</title></circle>"
            )
        if len(segment) > 1:
            parts.append(f'<polyline points="{" ".join(segment)}"/>')
        parts += points
        parts.append("</g>")
    parts += _x_labels(x_labels, slot, plot_bottom)
    parts += _legend([(s.name, s.css_class) for s in series], HEIGHT - 14, marker="line")
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every piece above is escaped by _text or is a number


def stacked_bar_chart(
    *, chart_id: str, title: str, desc: str, x_labels: Sequence[str], series: Sequence[Series], y_label: str = ""
) -> SafeString:
    """One bar per x label made of one segment per series, the total printed above it."""
    height_total = HEIGHT + _LEGEND_ROW
    plot_bottom = HEIGHT - _BOTTOM
    plot_height = plot_bottom - _TOP
    totals = [sum((s.values[i] or 0) for s in series if i < len(s.values)) for i in range(len(x_labels))]
    top_value = nice_ceiling(max(totals, default=0))
    slot = (WIDTH - _LEFT - _RIGHT) / max(len(x_labels), 1)
    parts = _open(chart_id, title, desc, height_total)
    parts += _y_axis(top_value, plot_bottom, plot_height, y_label)
    parts.append('<g class="chart-bars">')
    for i, label in enumerate(x_labels):
        x = _LEFT + slot * i + slot * 0.2
        base = float(plot_bottom)
        for s in series:
            value = (s.values[i] if i < len(s.values) else None) or 0
            if value <= 0:
                continue
            height = plot_height * value / top_value
            base -= height
            parts.append(
                f'<rect class="{_css_class(s.css_class)}" x="{_coord(x)}" y="{_coord(base)}" '
                f'width="{_coord(slot * 0.6)}" height="{_coord(height)}">'
                f"<title>{_text(s.name)}, {_text(label)}: {_number(value)}</title></rect>"
            )
        if totals[i]:
            parts.append(
                f'<text class="chart-value" x="{_coord(x + slot * 0.3)}" y="{_coord(base - 4)}" '
                f'text-anchor="middle">{_number(totals[i])}</text>'
            )
    parts.append("</g>")
    parts += _x_labels(x_labels, slot, plot_bottom)
    parts += _legend([(s.name, s.css_class) for s in series], HEIGHT - 14, marker="box")
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every piece above is escaped by _text or is a number
