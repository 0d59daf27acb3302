"""Server-side SVG charts: bars, lines and stacked bars, drawn from plain numbers.

This module works out the shapes; ``templates/staff/chart.svg`` draws them, escaping every label,
so a flag code such as ``<script>`` draws as text (control characters, which XML does not allow
even escaped, are dropped here). Each chart is ``role="img"`` with a <title> and <desc>; the page puts a
table with the same numbers next to it. Colours come from classes in static/css/dashboard.css: the
Content-Security-Policy forbids style attributes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils.safestring import SafeString

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
    return _NOT_XML.sub("", str(value))


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


@dataclass(frozen=True)
class Shape:
    """One SVG element of a chart: its tag, its attributes in order, its text or <title>."""

    tag: str  # line, text, rect, circle, polyline
    attributes: tuple[tuple[str, str], ...]
    text: str = ""
    title: str = ""


@dataclass(frozen=True)
class Group:
    css_class: str
    shapes: list[Shape]


def _shape(tag: str, *, text: object = "", title: object = "", **attributes: object) -> Shape:
    # Python names for SVG's attributes: text_anchor is text-anchor, class_ is class.
    return Shape(
        tag=tag,
        attributes=tuple((name.rstrip("_").replace("_", "-"), str(value)) for name, value in attributes.items()),
        text=_text(text),
        title=_text(title),
    )


def _svg(*, chart_id: str, title: str, desc: str, height: int, groups: list[Group]) -> SafeString:
    return render_to_string(
        "staff/chart.svg",
        {"chart_id": _text(chart_id), "title": _text(title), "desc": _text(desc), "width": WIDTH,
         "height": height, "groups": groups},
    )  # fmt: skip


def _y_axis(top_value: float, plot_bottom: float, plot_height: float, y_label: str) -> Group:
    shapes = []
    ticks = 4
    for i in range(ticks + 1):
        value = top_value * i / ticks
        y = plot_bottom - plot_height * i / ticks
        shapes.append(_shape("line", class_="chart-grid", x1=_LEFT, y1=_coord(y), x2=WIDTH - _RIGHT, y2=_coord(y)))
        shapes.append(
            _shape("text", text=_number(value), class_="chart-tick", x=_LEFT - 6, y=_coord(y + 4), text_anchor="end")
        )
    if y_label:
        middle = _coord(_TOP + plot_height / 2)
        shapes.append(
            _shape("text", text=y_label, class_="chart-axis-label", x=14, y=middle, text_anchor="middle",
                   transform=f"rotate(-90 14 {middle})")
        )  # fmt: skip
    return Group("chart-axis", shapes)


def _x_labels(labels: Sequence[str], slot: float, plot_bottom: float) -> Group:
    return Group(
        "chart-axis",
        [
            _shape("text", text=label, class_="chart-tick", x=_coord(_LEFT + slot * (i + 0.5)),
                   y=_coord(plot_bottom + 16), text_anchor="middle")
            for i, label in enumerate(labels)
        ],
    )  # fmt: skip


def _legend(entries: Sequence[tuple[str, str]], y: float, marker: str) -> Group:
    shapes = []
    x = float(_LEFT)
    for name, css_class in entries:
        if marker == "line":
            shapes.append(_shape("line", class_=_css_class(css_class), x1=_coord(x), y1=_coord(y - 4),
                                 x2=_coord(x + 16), y2=_coord(y - 4)))  # fmt: skip
        else:
            shapes.append(_shape("rect", class_=_css_class(css_class), x=_coord(x), y=_coord(y - 10),
                                 width=12, height=12))  # fmt: skip
        shapes.append(_shape("text", text=name, class_="chart-tick", x=_coord(x + 20), y=_coord(y)))
        # Roughly the width of the name in the chart's small font.
        x += 32 + 7 * len(name)
    return Group("chart-legend", shapes)


def bar_chart(*, chart_id: str, title: str, desc: str, bars: Sequence[Bar], x_label: str = "") -> SafeString:
    """Horizontal bars, one per label (long labels read better across), the value printed after each."""
    label_width = 190
    row = 26
    plot_left = _LEFT + label_width - 40
    plot_right = WIDTH - _RIGHT - 32
    plot_width = plot_right - plot_left
    height = _TOP + row * max(len(bars), 1) + 40
    top_value = nice_ceiling(max((b.value for b in bars), default=0))
    plot_bottom = _TOP + row * len(bars)
    axis = []
    ticks = 4
    for i in range(ticks + 1):
        x = _coord(plot_left + plot_width * i / ticks)
        axis.append(_shape("line", class_="chart-grid", x1=x, y1=_TOP, x2=x, y2=plot_bottom))
        axis.append(_shape("text", text=_number(top_value * i / ticks), class_="chart-tick", x=x,
                           y=plot_bottom + 14, text_anchor="middle"))  # fmt: skip
    if x_label:
        axis.append(_shape("text", text=x_label, class_="chart-axis-label", x=_coord(plot_left + plot_width / 2),
                           y=plot_bottom + 32, text_anchor="middle"))  # fmt: skip
    shapes = []
    for i, bar in enumerate(bars):
        y = _TOP + row * i
        width = plot_width * bar.value / top_value
        shapes.append(_shape("text", text=bar.label, class_="chart-tick", x=plot_left - 8,
                             y=_coord(y + row / 2 + 4), text_anchor="end"))  # fmt: skip
        shapes.append(_shape("rect", title=f"{bar.label}: {_number(bar.value)}", class_=_css_class(bar.css_class),
                             x=plot_left, y=_coord(y + 4), width=_coord(width), height=row - 8))  # fmt: skip
        shapes.append(_shape("text", text=_number(bar.value), class_="chart-value", x=_coord(plot_left + width + 4),
                             y=_coord(y + row / 2 + 4)))  # fmt: skip
    groups = [Group("chart-axis", axis), Group("chart-bars", shapes)]
    return _svg(chart_id=chart_id, title=title, desc=desc, height=height, groups=groups)


def line_chart(
    *, chart_id: str, title: str, desc: str, x_labels: Sequence[str], series: Sequence[Series], y_label: str = ""
) -> SafeString:
    """One line per series with a dot on each value; a None value breaks the line."""
    plot_bottom = HEIGHT - _BOTTOM
    plot_height = plot_bottom - _TOP
    values = [v for s in series for v in s.values if v is not None]
    top_value = nice_ceiling(max(values, default=0))
    slot = (WIDTH - _LEFT - _RIGHT) / max(len(x_labels), 1)
    groups = [_y_axis(top_value, plot_bottom, plot_height, y_label)]
    for s in series:
        lines: list[Shape] = []
        segment: list[str] = []
        points: list[Shape] = []
        for i, value in enumerate(s.values):
            if value is None:
                if len(segment) > 1:
                    lines.append(_shape("polyline", points=" ".join(segment)))
                segment = []
                continue
            x = _coord(_LEFT + slot * (i + 0.5))
            y = _coord(plot_bottom - plot_height * value / top_value)
            segment.append(f"{x},{y}")
            label = x_labels[i] if i < len(x_labels) else ""
            points.append(_shape("circle", title=f"{s.name}, {label}: {_number(value)}", cx=x, cy=y, r=4))
        if len(segment) > 1:
            lines.append(_shape("polyline", points=" ".join(segment)))
        groups.append(Group(f"chart-line {_css_class(s.css_class)}", lines + points))
    groups.append(_x_labels(x_labels, slot, plot_bottom))
    groups.append(_legend([(s.name, s.css_class) for s in series], HEIGHT - 14, marker="line"))
    return _svg(chart_id=chart_id, title=title, desc=desc, height=HEIGHT + _LEGEND_ROW, groups=groups)


def stacked_bar_chart(
    *, chart_id: str, title: str, desc: str, x_labels: Sequence[str], series: Sequence[Series], y_label: str = ""
) -> SafeString:
    """One bar per x label made of one segment per series, the total printed above it."""
    plot_bottom = HEIGHT - _BOTTOM
    plot_height = plot_bottom - _TOP
    totals = [sum((s.values[i] or 0) for s in series if i < len(s.values)) for i in range(len(x_labels))]
    top_value = nice_ceiling(max(totals, default=0))
    slot = (WIDTH - _LEFT - _RIGHT) / max(len(x_labels), 1)
    shapes = []
    for i, label in enumerate(x_labels):
        x = _LEFT + slot * i + slot * 0.2
        base = float(plot_bottom)
        for s in series:
            value = (s.values[i] if i < len(s.values) else None) or 0
            if value <= 0:
                continue
            height = plot_height * value / top_value
            base -= height
            shapes.append(
                _shape("rect", title=f"{s.name}, {label}: {_number(value)}", class_=_css_class(s.css_class),
                       x=_coord(x), y=_coord(base), width=_coord(slot * 0.6), height=_coord(height))
            )  # fmt: skip
        if totals[i]:
            shapes.append(_shape("text", text=_number(totals[i]), class_="chart-value", x=_coord(x + slot * 0.3),
                                 y=_coord(base - 4), text_anchor="middle"))  # fmt: skip
    groups = [
        _y_axis(top_value, plot_bottom, plot_height, y_label),
        Group("chart-bars", shapes),
        _x_labels(x_labels, slot, plot_bottom),
        _legend([(s.name, s.css_class) for s in series], HEIGHT - 14, marker="box"),
    ]
    return _svg(chart_id=chart_id, title=title, desc=desc, height=HEIGHT + _LEGEND_ROW, groups=groups)
