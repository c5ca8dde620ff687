"""The server-drawn SVG charts (reports/charts.py): well-formed, scalable, escaped, sane on empty or
all-zero data, and legible in the PDF (WeasyPrint draws the inline SVG as text we can extract)."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from reports.charts import WIDTH, render_svg, text_width
from reports.document import Chart, ReportDocument, Section, Series

SVG = "{http://www.w3.org/2000/svg}"
UNITS = ["甲镇团委", "乙镇团委", "丙镇团委"]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def texts(svg: str) -> list[str]:
    """The visible texts, without the tooltips (<title>) of shortened labels."""
    root = parse(svg)
    return [(t.text or "") for t in root.iter(f"{SVG}text")]


def bar(*values, labels=UNITS, kind="bar", name="团员") -> Chart:
    return Chart(kind, "各乡镇团员", list(labels), [Series(name, list(values))])


ALL_KINDS = [
    bar(310, 512, 77),
    bar(310, 512, 77, kind="hbar"),
    Chart("stacked", "入团与离团", ["7月", "8月", "9月"], [Series("入团", [3, 5, 2]), Series("离团", [1, 0, 4])]),
    Chart("line", "团员数", ["2026-Q1", "2026-Q2", "2026-Q3"], [Series("团员", [100, 120, 128])]),
    Chart("funnel", "推优", ["申请", "积极分子", "发展对象"], [Series("人数", [131, 38, 15])]),
    Chart("pie", "学历", ["初中", "高中", "大专"], [Series("人数", [12, 30, 8])]),
]


@pytest.mark.parametrize("chart", ALL_KINDS, ids=lambda c: c.kind)
def test_every_kind_is_a_well_formed_svg_that_scales_to_its_column(chart):
    svg = render_svg(chart)
    root = parse(svg)
    assert root.tag == f"{SVG}svg"
    # A viewBox and no fixed size: the page's CSS (width: 100%) scales it, on a phone as in the PDF.
    assert root.get("viewBox").startswith(f"0 0 {WIDTH} ")
    assert root.get("width") is None and root.get("height") is None
    assert root.get("role") == "img" and root.get("aria-label") == chart.title
    # No script, no element ids (two charts on one page must not repeat an id), nothing fetched.
    assert not list(root.iter(f"{SVG}script"))
    assert " id=" not in svg and "href" not in svg
    # The same chart draws the same markup (nothing random or dated in it).
    assert render_svg(chart) == svg


@pytest.mark.parametrize("kind", ["bar", "hbar", "stacked", "line", "funnel", "pie"])
def test_labels_names_and_titles_are_escaped(kind):
    evil = "<script>alert(1)</script>"
    chart = Chart(kind, f"标题{evil}", [f"甲{evil}", "乙"], [Series(f"系列{evil}", [3, 4]), Series("二", [1, 2])])
    svg = render_svg(chart)
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    parse(svg)  # still well formed


@pytest.mark.parametrize("kind", ["bar", "hbar", "stacked", "line", "funnel", "pie"])
@pytest.mark.parametrize(
    "labels, series",
    [([], []), (UNITS, []), ([], [Series("x", [])]), (UNITS, [Series("x", [None, None, None])])],
    ids=["nothing", "no-series", "no-labels", "all-missing"],
)
def test_charts_without_data_say_so(kind, labels, series):
    with translation.override("zh-hans"):
        svg = render_svg(Chart(kind, "空", labels, series))
    assert texts(svg) == ["本期暂无数据。"]


@pytest.mark.parametrize("kind", ["bar", "hbar", "stacked", "line", "funnel"])
def test_all_zero_data_is_drawn_as_zeros(kind):
    svg = render_svg(Chart(kind, "全零", ["甲", "乙"], [Series("x", [0, 0])]))
    drawn = texts(svg)
    assert "甲" in drawn and "乙" in drawn
    assert "0" in drawn
    assert "nan" not in svg.lower() and "inf" not in svg.lower()


def test_a_pie_of_zeros_has_nothing_to_draw():
    with translation.override("zh-hans"):
        assert texts(render_svg(Chart("pie", "零", ["甲", "乙"], [Series("x", [0, 0])]))) == ["本期暂无数据。"]


def test_bars_print_their_values():
    drawn = texts(render_svg(bar(310, 512, 77)))
    assert {"310", "512", "77"} <= set(drawn)
    assert set(UNITS) <= set(drawn)


def test_many_categories_are_drawn_as_horizontal_bars_with_their_labels_in_a_column():
    labels = [f"第{i}村团支部" for i in range(12)]
    svg = render_svg(bar(*range(12), labels=labels))
    root = parse(svg)
    anchors = {t.text: t.get("text-anchor") for t in root.iter(f"{SVG}text")}
    assert all(anchors[label] == "end" for label in labels)  # right-aligned before the bars
    height = float(root.get("viewBox").split()[3])
    assert height > 12 * 18  # a row per category: the chart grows instead of squeezing


def test_a_long_label_is_shortened_and_kept_whole_in_its_tooltip():
    long = "共青团某某县某某镇某某村第一团支部委员会（联合）" * 2
    svg = render_svg(bar(5, 6, labels=[long, "乙"], kind="hbar"))
    root = parse(svg)
    shown = [t for t in root.iter(f"{SVG}text") if t.find(f"{SVG}title") is not None]
    assert len(shown) == 1
    assert shown[0].text.endswith("…") and len(shown[0].text) < len(long)
    assert shown[0].find(f"{SVG}title").text == long
    assert text_width(shown[0].text, 13) <= WIDTH * 0.4 + 1


def test_the_funnel_labels_each_step_with_its_value_and_its_share_of_the_step_before():
    with translation.override("zh-hans"):
        drawn = texts(
            render_svg(Chart("funnel", "推优", ["申请", "积极分子", "发展对象"], [Series("人", [131, 38, 15])]))
        )
    assert {"申请", "积极分子", "发展对象", "131", "38", "15"} <= set(drawn)
    assert "为上一步的 29%" in drawn  # 38 / 131
    assert "为上一步的 39.5%" in drawn  # 15 / 38


def test_funnel_steps_narrow_with_their_values():
    root = parse(render_svg(Chart("funnel", "推优", ["a", "b", "c"], [Series("n", [100, 50, 0])])))
    widths = [float(r.get("width")) for r in root.iter(f"{SVG}rect")]
    assert widths[0] > widths[1] > widths[2] == 0
    assert widths[1] == pytest.approx(widths[0] / 2)


def test_the_pie_gives_each_slice_s_share():
    drawn = texts(render_svg(Chart("pie", "学历", ["初中", "高中"], [Series("人数", [1, 3])])))
    assert "1 (25%)" in drawn and "3 (75%)" in drawn and "4" in drawn


def test_a_single_slice_is_a_whole_ring():
    root = parse(render_svg(Chart("pie", "学历", ["初中", "高中"], [Series("人数", [0, 3])])))
    assert len(list(root.iter(f"{SVG}circle"))) == 1 and not list(root.iter(f"{SVG}path"))


def test_negative_values_go_below_the_axis():
    root = parse(render_svg(bar(-3, 5, labels=["上月", "本月"])))
    rects = list(root.iter(f"{SVG}rect"))
    assert len(rects) == 2
    assert "-3" in [t.text for t in root.iter(f"{SVG}text")]


def test_a_line_with_a_missing_value_breaks_rather_than_dropping_to_zero():
    root = parse(render_svg(Chart("line", "团员", ["1月", "2月", "3月", "4月"], [Series("x", [5, 6, None, 8])])))
    lines = list(root.iter(f"{SVG}polyline"))
    assert len(lines) == 1  # 1月–2月; 4月 alone is a point
    assert len(list(root.iter(f"{SVG}circle"))) == 3


def test_a_line_with_many_points_shows_every_other_label():
    labels = [f"2026-{m:02d}" for m in range(1, 13)] * 2
    drawn = texts(render_svg(Chart("line", "x", labels, [Series("a", list(range(24))), Series("b", [1] * 24)])))
    shown = [t for t in drawn if t.startswith("2026-")]
    assert 2 <= len(shown) < 24


def test_several_series_get_a_legend():
    chart = Chart("bar", "x", ["甲", "乙"], [Series("男", [1, 2]), Series("女", [3, 4])])
    assert {"男", "女"} <= set(texts(render_svg(chart)))
    single = texts(render_svg(bar(1, 2, 3)))
    assert "团员" not in single  # one series: its name is the caption's business


def test_a_chart_in_the_pdf_keeps_its_labels_and_values_as_text():
    """WeasyPrint draws the inline SVG of the document partial the PDF uses; its text can be extracted."""
    from pypdf import PdfReader
    from weasyprint import HTML

    document = ReportDocument(
        kind="quarterly",
        title="季度报告",
        scope_label="测试县",
        period_key="2026-Q3",
        period_label="2026年第3季度",
        generated_at="2026-10-01T08:00:00+08:00",
        sections=[
            Section(
                key="s",
                title="推优",
                charts=[
                    Chart("funnel", "推优漏斗", ["提交入党申请", "发展对象"], [Series("人数", [131, 15])]),
                    bar(310, 512, 77),
                ],
            )
        ],
    )
    with translation.override("zh-hans"):
        body = render_to_string("reports/_document.html", {"document": document})
    html = f"<html><body style=\"font-family: 'Noto Sans CJK SC'\">{body}</body></html>"
    text = PdfReader(io.BytesIO(HTML(string=html).write_pdf())).pages[0].extract_text()
    compact = re.sub(r"\s+", "", text)
    for expected in ["推优漏斗", "提交入党申请", "发展对象", "131", "15", "甲镇团委", "512"]:
        assert expected in compact, expected


def test_a_column_label_too_wide_for_its_column_is_split_into_two_even_lines():
    drawn = texts(
        render_svg(bar(1, 2, 3, 4, 5, labels=["甲镇团委", "乙镇团委", "丙镇团委", "丁街道团工委", "戊镇团委"]))
    )
    assert "丁街道" in drawn and "团工委" in drawn
    assert "丁街道团工委" not in drawn
