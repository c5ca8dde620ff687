"""The PDF of a report: A4, its scope, period and generation time printed, page numbers, the document's
figures and tables (headers repeated across pages), charts, in Chinese (read back with pypdf)."""

from __future__ import annotations

import gc
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation
from pypdf import PdfReader

from reports.document import Chart, Figure, ReportDocument, Section, Series, Table
from reports.pdf import page_counter_css, render_pdf
from reports.periods import QUARTER, Period

Q3 = Period(QUARTER, 2026, 3)
GENERATED = datetime(2026, 10, 2, 9, 5, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def _chinese():
    with translation.override("zh-hans"):
        yield


def document(scope_label="共青团测试县委员会", rows=3) -> ReportDocument:
    return ReportDocument(
        kind="quarterly",
        title="季度报告",
        scope_label=scope_label,
        period_key=Q3.key,
        period_label=Q3.label,
        generated_at=GENERATED.isoformat(),
        sections=[
            Section(
                key="members",
                title="团员情况",
                figures=[Figure("期末团员", 10098, "含流动团员"), Figure("新发展团员占比 (%)", 12.5)],
                tables=[
                    Table(
                        "各乡镇团员",
                        ["单位", "期末团员", "占比 (%)"],
                        [[f"第{i:03d}号团支部", 100 + i, 1.5] for i in range(rows)],
                        footer=["合计", sum(100 + i for i in range(rows)), 100.0],
                    )
                ],
                charts=[Chart("bar", "各乡镇团员数", ["甲镇", "乙镇"], [Series("团员", [4321, 1234])])],
                notes=["按期末在册统计。"],
            )
        ],
    )


def pdf_text(content: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(content))
    return [page.extract_text() for page in reader.pages]


def test_the_pdf_prints_scope_period_generation_time_and_figures():
    content = render_pdf(document())
    assert content.startswith(b"%PDF")
    (page,) = pdf_text(content)
    assert "共青团测试县委员会" in page
    assert "2026年第3季度" in page
    assert "生成时间：2026-10-02 09:05" in page  # local time
    assert "10098" in page and "12.5" in page and "含流动团员" in page
    assert "第 1 页 / 共 1 页" in page
    assert "各乡镇团员数" in page and "4321" in page  # the chart's SVG text, drawn in the PDF


def test_chart_text_is_drawn_in_the_simplified_chinese_font():
    """The charts' Chinese takes the Simplified Chinese glyph forms, as the text's does (fontconfig's
    fallback for an SVG without a font would pick the Japanese ones)."""
    reader = PdfReader(io.BytesIO(render_pdf(document())))
    fonts = {
        str(font.get_object()["/BaseFont"]) for page in reader.pages for font in page["/Resources"]["/Font"].values()
    }
    assert any("CJK-SC" in name for name in fonts), fonts
    assert not [name for name in fonts if "JP" in name], fonts


def test_the_pdf_is_a4():
    reader = PdfReader(io.BytesIO(render_pdf(document())))
    box = reader.pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (210, 297)


def test_long_tables_continue_on_the_next_page_under_their_header():
    pages = pdf_text(render_pdf(document(rows=120)))
    assert len(pages) >= 3
    for number, page in enumerate(pages, start=1):
        assert f"第 {number} 页 / 共 {len(pages)} 页" in page
        assert "共青团测试县委员会 · 2026年第3季度" in page  # the running header on every page
    table_pages = [p for p in pages if "第119号团支部" in p or "第000号团支部" in p or "第060号团支部" in p]
    assert len(table_pages) >= 2
    assert all("期末团员 占比 (%)" in p for p in table_pages)  # the header row repeated


def test_names_from_the_records_cannot_break_the_page():
    hostile = '共青团"甲镇"</style><h1>委员会'
    (page,) = pdf_text(render_pdf(document(scope_label=hostile)))
    assert '共青团"甲镇"</style><h1>委员会' in page


def test_the_page_counter_is_the_translated_sentence():
    assert page_counter_css() == '"第 " counter(page) " 页 / 共 " counter(pages) " 页"'
    with translation.override("en"):
        assert page_counter_css() == '"Page " counter(page) " of " counter(pages)'


LONG_NAME = "共青团青山县某某镇某某村某某农业专业合作社某某有限公司团支部"


@pytest.mark.parametrize(("columns", "name_lines"), [(2, 1), (3, 2), (9, 2)])
def test_a_long_name_wraps_in_its_column_and_counts_stay_whole(columns, name_lines):
    """Tables are laid out fixed (templates/reports/print.html): the first column's share is set by the
    number of columns. A long unit name (30 characters) wraps inside it rather than running into the
    counts, on two lines at most (not squeezed), and a count is never broken."""
    headers = ["组织", *[f"第{i}项" for i in range(1, columns)]]
    counts = [1234567 + i for i in range(1, columns)]
    table = Table("下属组织主要数据", headers, [[LONG_NAME, *counts], ["短名", *range(1, columns)]])
    doc = document()
    doc.sections[0].tables = [table]
    doc.sections[0].charts = []
    (page,) = PdfReader(io.BytesIO(render_pdf(doc))).pages
    lines = []  # (x, text) of each line of text drawn
    page.extract_text(visitor_text=lambda text, cm, tm, *_: lines.append((round(tm[4] * cm[0] + cm[4]), text)))
    first_column_x = next(x for x, text in lines if text.startswith("组织"))
    column = [text.split()[0] for x, text in lines if x == first_column_x and text.strip()]
    drawn_name = column[column.index("组织") + 1 : column.index("短名")]
    assert "".join(drawn_name) == LONG_NAME
    assert len(drawn_name) == name_lines, drawn_name
    drawn = " ".join(text for _x, text in lines)
    assert all(str(count) in drawn.split() for count in counts)


def test_rendering_turns_garbage_collection_back_on(monkeypatch):
    """render_pdf holds the collector off while WeasyPrint renders (reports/pdf.py): a worker left
    without it would keep every later report's reference cycles."""
    render_pdf(document())
    assert gc.isenabled()

    def broken():
        raise RuntimeError("no fonts")

    monkeypatch.setattr("reports.pdf._font_config", broken)
    with pytest.raises(RuntimeError):
        render_pdf(document())
    assert gc.isenabled()
