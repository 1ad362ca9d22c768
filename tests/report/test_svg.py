"""The report's SVG charts, read back as XML: what is drawn is what was given, and text stays text."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from importer.report.svg import Line, Series, bar_chart, line_chart, nice_ticks, ranked_bars

pytestmark = pytest.mark.one_profile

NS = "{http://www.w3.org/2000/svg}"
HOSTILE = "<script>alert('x')</script> & <b onmouseover=alert(1)>"


def parsed(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # well-formed XML, or this raises


def bars(root: ET.Element) -> list[tuple[float, float, float, float, str]]:
    """(x, y, width, height, tooltip) of every bar."""
    return [(float(r.get("x", 0)), float(r.get("y", 0)), float(r.get("width", 0)), float(r.get("height", 0)),
             r.findtext(f"{NS}title", "")) for r in root.iter(f"{NS}rect") if r.find(f"{NS}title") is not None]


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{NS}text")]


@given(st.floats(min_value=1e-6, max_value=1e12, allow_nan=False, allow_infinity=False))
def test_ticks_start_at_zero_cover_the_top_in_round_steps(top):
    ticks = nice_ticks(top)
    step = ticks[1] - ticks[0]
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert ticks[0] == 0 and ticks[-1] >= top * (1 - 1e-9) and ticks[-2] < top
    assert any(math.isclose(mantissa, m, rel_tol=1e-6) for m in (1, 2, 5, 10))
    assert 2 <= len(ticks) <= 12


def test_stacked_bars_are_as_tall_as_their_values_and_say_them():
    root = parsed(bar_chart("Outcomes", ["a.csv", "b.csv"], [Series("created", [6, 3], "#2ca02c"),
                                                            Series("failed", [0, 3], "#d62728")],
                            y_title="records", stacked=True))
    drawn = bars(root)
    assert [tip for *_, tip in drawn] == ["a.csv, created: 6", "b.csv, created: 3", "b.csv, failed: 3"]
    (ax, ay, _, a6, _), (bx, by, _, b3, _), (fx, fy, _, f3, _) = drawn
    assert a6 == pytest.approx(2 * b3) and b3 == pytest.approx(f3)  # a zero draws nothing
    assert bx == fx and fy + f3 == pytest.approx(by)  # failed sits on created in the same slot
    assert ax < bx
    assert {"created", "failed", "records", "a.csv", "b.csv"} <= set(texts(root))


def test_grouped_bars_stand_side_by_side_from_the_axis():
    root = parsed(bar_chart("Latency", ["customer"], [Series("p50", [2.5], "#1"), Series("p99", [10], "#2")],
                            y_title="ms"))
    (x1, y1, w1, h1, _), (x2, y2, _, h2, _) = bars(root)
    assert x2 >= x1 + w1 and y1 + h1 == pytest.approx(y2 + h2) and h2 == pytest.approx(4 * h1)


def test_markup_in_labels_is_text_in_every_chart():
    charts = [
        bar_chart(HOSTILE, [HOSTILE], [Series(HOSTILE, [1], "#1")], y_title=HOSTILE, stacked=True),
        line_chart(HOSTILE, [Line(HOSTILE, [(0, 1), (1, 2)], "#1")], [(0, HOSTILE)], x_range=(0, 1),
                   y_title=HOSTILE, x_title=HOSTILE),
        ranked_bars(HOSTILE, [(HOSTILE, 3, HOSTILE)], colour="#1", x_title=HOSTILE),
    ]
    for svg in charts:
        assert "<script" not in svg and "<b " not in svg
        root = parsed(svg)
        assert [e.tag for e in root.iter() if e.tag.removeprefix(NS) not in
                {"svg", "title", "text", "rect", "line", "polyline", "circle"}] == []
        assert HOSTILE in texts(root) or any(t.startswith(HOSTILE[:20]) for t in texts(root))
        assert root.findtext(f"{NS}title") == HOSTILE


def test_ranked_bars_keep_their_order_and_proportions():
    root = parsed(ranked_bars("Reasons", [("1. first", 40, "customer: first"), ("2. second", 10, "customer: second")],
                              colour="#d62728", x_title="records"))
    (_, y1, w1, _, tip1), (_, y2, w2, _, tip2) = bars(root)
    assert y1 < y2 and w1 == pytest.approx(4 * w2)
    assert (tip1, tip2) == ("customer: first: 40", "customer: second: 10")
    assert texts(root)[1:3] == ["1. first", "40"]


def test_a_line_passes_through_its_points_in_order():
    root = parsed(line_chart("Rate", [Line("step", [(0, 0), (10, 5), (20, 10)], "#1")], [(0, "10:00:00")],
                             x_range=(0, 20), y_title="records/s", x_title="UTC"))
    line = next(root.iter(f"{NS}polyline"))
    points = [tuple(map(float, p.split(","))) for p in line.get("points", "").split()]
    (x0, y0), (x1, y1), (x2, y2) = points
    assert x0 < x1 < x2 and y0 > y1 > y2  # up is smaller y
    assert x1 - x0 == pytest.approx(x2 - x1) and y0 - y1 == pytest.approx(y1 - y2)
    assert len(list(root.iter(f"{NS}circle"))) == 3
