"""The .xlsx of a report: an overview sheet, one sheet per section (names Excel accepts), figures and
tables with numbers as numbers, per-cent columns formatted, text never read as a formula; and the
same figures as the document the page and the PDF show (with the real quarterly builder)."""

from __future__ import annotations

import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import translation
from openpyxl import load_workbook
from pypdf import PdfReader

from reports.document import Figure, ReportDocument, Section, Table
from reports.pdf import render_pdf
from reports.periods import QUARTER, Period
from reports.xlsx import PERCENT_FORMAT, display_width, render_xlsx, sheet_names
from tests.conftest import make_member

Q3 = Period(QUARTER, 2026, 3)
GENERATED = datetime(2026, 10, 2, 9, 5, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def _chinese():
    with translation.override("zh-hans"):
        yield


def document(sections: list[Section]) -> ReportDocument:
    return ReportDocument(
        kind="quarterly",
        title="季度报告",
        scope_label="共青团测试县委员会",
        period_key=Q3.key,
        period_label=Q3.label,
        generated_at=GENERATED.isoformat(),
        sections=sections,
    )


def workbook_of(doc: ReportDocument):
    return load_workbook(io.BytesIO(render_xlsx(doc)))


MEMBERS = Section(
    key="members",
    title="团员情况",
    figures=[Figure("期末团员", 10098, "含流动团员"), Figure("新发展团员占比 (%)", 12.5), Figure("平均年龄", None)],
    tables=[
        Table(
            "各乡镇团员",
            ["单位", "期末团员", "平均年龄", "占比 (%)"],
            [["甲镇", 4321, 21.4, 42.8], ["乙镇", 5777, 22.0, 57.2]],
            footer=["合计", 10098, 21.7, 100.0],
        ),
        Table("转出", ["单位", "人数"], []),
    ],
    notes=["按期末在册统计。"],
)


def test_an_overview_sheet_then_one_sheet_per_section():
    workbook = workbook_of(document([MEMBERS, Section(key="cadres", title="团干部")]))
    assert workbook.sheetnames == ["概况", "团员情况", "团干部"]
    overview = [row for row in workbook["概况"].iter_rows(values_only=True) if any(row)]
    assert overview[0][0] == "季度报告"
    assert ("范围", "共青团测试县委员会") in overview
    assert ("报告期", "2026年第3季度") in overview
    assert ("生成时间", "2026-10-02 09:05") in overview


def test_figures_and_tables_keep_their_numbers():
    sheet = workbook_of(document([MEMBERS]))["团员情况"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "团员情况"
    assert rows[2][:3] == ("指标", "数值", "备注")
    assert rows[3][:3] == ("期末团员", 10098, "含流动团员")
    assert isinstance(rows[3][1], int) and isinstance(rows[4][1], float)
    assert rows[5][:2] == ("平均年龄", None)
    start = next(i for i, row in enumerate(rows) if row[0] == "各乡镇团员")
    assert rows[start + 1] == ("单位", "期末团员", "平均年龄", "占比 (%)")
    assert rows[start + 2] == ("甲镇", 4321, 21.4, 42.8)
    assert rows[start + 4] == ("合计", 10098, 21.7, 100.0)
    header = start + 2  # sheet rows count from 1
    assert sheet.cell(row=header + 1, column=2).font.b is False
    assert sheet.cell(row=header, column=2).font.b and sheet.cell(row=header + 3, column=1).font.b
    # Per-cent cells keep the document's value (42.8 means 42.8 %) and show it with a per-cent sign.
    assert sheet.cell(row=header + 1, column=4).value == 42.8
    assert sheet.cell(row=header + 1, column=4).number_format == PERCENT_FORMAT
    assert sheet.cell(row=header + 1, column=2).number_format == "General"
    assert sheet.cell(row=5, column=2).number_format == PERCENT_FORMAT  # the figure "(%)"
    empty = next(i for i, row in enumerate(rows) if row[0] == "转出")
    assert rows[empty + 2][0] == "本期无记录。"
    assert tuple(v for v in rows[-1] if v is not None) == ("按期末在册统计。",)


def test_columns_are_wide_enough_for_chinese_text():
    sheet = workbook_of(document([MEMBERS]))["团员情况"]
    assert display_width("期末团员") == 8 and display_width("10,098") == 6
    assert sheet.column_dimensions["A"].width >= display_width("新发展团员占比 (%)")
    assert sheet.column_dimensions["C"].width >= display_width("含流动团员")


def test_text_that_looks_like_a_formula_stays_text():
    section = Section(key="x", title="=HYPERLINK(1)", figures=[Figure("=1+1", "=cmd|' /C calc'!A0")])
    workbook = workbook_of(document([section]))
    sheet = workbook.worksheets[1]
    assert sheet["A4"].data_type == "s" and sheet["B4"].data_type == "s"
    assert sheet["B4"].value == "=cmd|' /C calc'!A0"


def test_sheet_names_are_what_excel_accepts_and_unique():
    titles = ["推优：申请/推荐", "推优：申请/推荐", "概况", "History", "一" * 40, "一" * 40, "[]*?"]
    names = sheet_names([Section(key=str(i), title=t) for i, t in enumerate(titles)])
    assert len(set(n.casefold() for n in names)) == len(names)
    assert all(0 < len(n) <= 31 and not set(n) & set("[]:*?/\\") for n in names)
    assert names[0] == "推优：申请 推荐" and names[1] == "推优：申请 推荐 (2)"  # a full-width colon is allowed
    assert names[2] != "概况" and names[3] != "History"
    assert names[4] == "一" * 31 and names[5] == "一" * 27 + " (2)"
    workbook = workbook_of(document([Section(key=str(i), title=t) for i, t in enumerate(titles)]))
    assert workbook.sheetnames[1:] == names


def test_the_real_quarterly_report_agrees_in_every_channel(tree, people):
    """The document the page shows, the .xlsx and the PDF carry the same figures."""
    from reports.quarterly import build_quarterly

    for name in ["甲", "乙", "丙"]:
        make_member(tree["branch_a1"], name)
    make_member(tree["branch_b1"], "丁")
    with time_machine.travel(datetime(2026, 10, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))):
        doc = build_quarterly(tree["county"], Q3)
    workbook = workbook_of(doc)
    assert workbook.sheetnames[1:] == sheet_names(doc.sections)
    assert len(doc.sections) >= 3
    pdf_text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(render_pdf(doc))).pages)
    # A figure's card prints its label, then its value (a long label may wrap: spacing is ignored).
    flat = re.sub(r"\s+", "", pdf_text)
    checked = 0
    for name, section in zip(workbook.sheetnames[1:], doc.sections, strict=True):
        cells = [row for row in workbook[name].iter_rows(values_only=True)]
        for figure in section.figures:
            assert (figure.label, figure.value) in [(row[0], row[1]) for row in cells], figure
            shown = "—" if figure.value is None else str(figure.value)
            assert re.sub(r"\s+", "", figure.label + shown) in flat, figure
            checked += 1
        for table in section.tables:
            for row in table.rows:
                width = len(row)
                assert tuple(row) in [tuple(r[:width]) for r in cells], (section.key, row)
    assert checked >= 5
    assert "共青团测试县委员会" in pdf_text and "2026年第3季度" in pdf_text
