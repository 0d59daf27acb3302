"""The SVG charts: well-formed XML, accessible, every label escaped."""

from __future__ import annotations

import pytest

from intake.web.staff.charts import Bar, Series, bar_chart, line_chart, nice_ceiling, stacked_bar_chart
from tests.dashboard.svg import NS, parse_svg

SVG = NS
HOSTILE = "<script>alert(\"x\")</script> & 'quotes' \x00\x07"


def charts(label: str) -> list[str]:
    return [
        bar_chart(chart_id="c1", title=label, desc=label, bars=[Bar(label, 3), Bar("Ready", 0)], x_label=label),
        line_chart(chart_id="c2", title=label, desc=label, x_labels=[label, "Mar 3", "Mar 10"],
                   series=[Series(label, [1.5, None, 4.0]), Series("p90", [2.0, 3.0, 9.5])], y_label=label),
        stacked_bar_chart(chart_id="c3", title=label, desc=label, x_labels=[label, "Mar 10"],
                          series=[Series(label, [1, 0]), Series("Warning", [2, 5])], y_label=label),
    ]  # fmt: skip


@pytest.mark.parametrize("index", [0, 1, 2])
def test_chart_is_well_formed_and_accessible(index: int) -> None:
    svg = charts("Pending review")[index]

    root = parse_svg(svg)

    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and title.text == "Pending review"
    assert desc is not None
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"


@pytest.mark.parametrize("index", [0, 1, 2])
def test_labels_are_escaped(index: int) -> None:
    svg = charts(HOSTILE)[index]

    root = parse_svg(svg)  # control characters dropped: still XML

    assert "<script" not in svg
    assert "&lt;script&gt;" in svg
    assert root.find(f"{SVG}title").text == "<script>alert(\"x\")</script> & 'quotes' "
    assert not list(root.iter(f"{SVG}script"))


def test_bar_values_are_drawn_in_proportion() -> None:
    svg = bar_chart(chart_id="b", title="t", desc="d", bars=[Bar("a", 10), Bar("b", 5), Bar("c", 0)])

    widths = [float(rect.get("width")) for rect in parse_svg(svg).iter(f"{SVG}rect")]

    assert widths[0] == pytest.approx(2 * widths[1])
    assert widths[2] == 0


def test_line_chart_breaks_at_missing_values() -> None:
    svg = line_chart(chart_id="l", title="t", desc="d", x_labels=["a", "b", "c", "d"],
                     series=[Series("s", [1, None, 2, 3])])  # fmt: skip

    root = parse_svg(svg)

    assert len(list(root.iter(f"{SVG}polyline"))) == 1  # a-b broken, c-d drawn
    assert len(list(root.iter(f"{SVG}circle"))) == 3


def test_empty_data_still_draws() -> None:
    for svg in (
        bar_chart(chart_id="e1", title="t", desc="d", bars=[]),
        line_chart(chart_id="e2", title="t", desc="d", x_labels=[], series=[]),
        stacked_bar_chart(chart_id="e3", title="t", desc="d", x_labels=["a"], series=[Series("s", [0])]),
    ):
        parse_svg(svg)


@pytest.mark.parametrize(("value", "expected"), [(0, 1), (1, 1), (3, 5), (7, 10), (12, 20), (23, 25), (240, 250)])
def test_nice_ceiling(value: float, expected: float) -> None:
    assert nice_ceiling(value) == expected
