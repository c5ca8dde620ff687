"""A report document as an .xlsx workbook (openpyxl): an overview sheet, then one sheet per section.

Cells hold the document's own values, so numbers are numbers (int or float) that a spreadsheet can
add up, and agree with the page and the PDF; percentages keep their value (45.3 means 45.3 %) and
are shown with a per-cent number format. Text is never read as a formula.
"""

from __future__ import annotations

import io
import re
import unicodedata

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from reports.document import Cell, ReportDocument, Section, Table
from reports.pdf import generated_label

PERCENT_FORMAT = '0.0"%"'
SHEET_NAME_MAX = 31
_FORBIDDEN_IN_SHEET_NAMES = re.compile(r"[\[\]:*?/\\]")
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
HEADER_FILL = PatternFill("solid", fgColor="F2F2F2")
WRAPPED_HEADER = Alignment(wrap_text=True, vertical="top")
MAX_WIDTH = 60


def is_percent_label(label: str) -> bool:
    return "(%)" in label or "（%）" in label


def sheet_names(sections: list[Section]) -> list[str]:
    """Section titles as sheet names: without the characters Excel refuses, at most 31 characters,
    unique (case-insensitively, as Excel compares them) and never the overview's name."""
    taken = {_("Overview").casefold(), "history"}  # Excel reserves "History"
    names = []
    for number, section in enumerate(sections, start=1):
        base = _FORBIDDEN_IN_SHEET_NAMES.sub(" ", section.title).strip().strip("'").strip() or str(number)
        name = base[:SHEET_NAME_MAX]
        suffix = 2
        while name.casefold() in taken:
            tail = f" ({suffix})"
            name = base[: SHEET_NAME_MAX - len(tail)] + tail
            suffix += 1
        taken.add(name.casefold())
        names.append(name)
    return names


def render_xlsx(document: ReportDocument) -> bytes:
    workbook = Workbook()
    overview = workbook.active
    overview.title = _("Overview")
    _write_overview(overview, document)
    for name, section in zip(sheet_names(document.sections), document.sections, strict=True):
        _write_section(workbook.create_sheet(name), section)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _write_overview(sheet: Worksheet, document: ReportDocument) -> None:
    _put(sheet, 1, 1, document.title, font=TITLE, measure=False)
    rows = [
        (_("Scope"), document.scope_label),
        (_("Reporting period"), document.period_label),
        (_("Generated at"), generated_label(document)),
    ]
    for offset, (label, value) in enumerate(rows, start=3):
        _put(sheet, offset, 1, label, font=BOLD)
        _put(sheet, offset, 2, value)
    start = 3 + len(rows) + 1
    _put(sheet, start, 1, _("Sections"), font=BOLD)
    for offset, section in enumerate(document.sections, start=start + 1):
        _put(sheet, offset, 1, section.title)
    _fit_columns(sheet)


def _write_section(sheet: Worksheet, section: Section) -> None:
    _put(sheet, 1, 1, section.title, font=TITLE, measure=False)
    row = 3
    if section.figures:
        with_notes = any(f.note for f in section.figures)
        header = [_("Figure"), _("Value")] + ([_("Note")] if with_notes else [])
        for column, text in enumerate(header, start=1):
            _put(sheet, row, column, text, font=BOLD, fill=HEADER_FILL)
        for figure in section.figures:
            row += 1
            _put(sheet, row, 1, figure.label)
            _put(sheet, row, 2, figure.value, percent=is_percent_label(figure.label))
            if with_notes:
                _put(sheet, row, 3, figure.note)
        row += 2
    for table in section.tables:
        row = _write_table(sheet, row, table) + 2
    for note in section.notes:
        _put(sheet, row, 1, note, measure=False)
        row += 1
    _fit_columns(sheet)


def _write_table(sheet: Worksheet, row: int, table: Table) -> int:
    """Write the table from `row`; return the last row written."""
    _put(sheet, row, 1, table.title, font=BOLD, measure=False)
    row += 1
    percent_columns = {i for i, column in enumerate(table.columns) if is_percent_label(column)}
    for column, text in enumerate(table.columns, start=1):
        _put(sheet, row, column, text, font=BOLD, fill=HEADER_FILL, wrap=True)
    for values in table.rows:
        row += 1
        for column, value in enumerate(values, start=1):
            _put(sheet, row, column, value, percent=column - 1 in percent_columns)
    if not table.rows:
        row += 1
        _put(sheet, row, 1, _("Nothing in this period."), measure=False)
    if table.footer:
        row += 1
        for column, value in enumerate(table.footer, start=1):
            _put(sheet, row, column, value, font=BOLD, percent=column - 1 in percent_columns)
    return row


def _put(
    sheet: Worksheet,
    row: int,
    column: int,
    value: Cell,
    *,
    font: Font | None = None,
    fill: PatternFill | None = None,
    percent: bool = False,
    wrap: bool = False,
    measure: bool = True,
) -> None:
    """Write one cell; `measure` False for titles, which may run over the columns to their right."""
    if isinstance(value, bool):  # not a figure a report shows; never let True become 1
        value = str(value)
    cell = sheet.cell(row=row, column=column, value=value)
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # text, not a formula
    if font is not None:
        cell.font = font
    if fill is not None:
        cell.fill = fill
    if wrap:
        cell.alignment = WRAPPED_HEADER
    if percent and isinstance(value, int | float):
        cell.number_format = PERCENT_FORMAT
    if measure and value is not None:
        text = f"{value:,}" if isinstance(value, int | float) else str(value)
        widths = sheet.__dict__.setdefault("_report_widths", {})
        widths[column] = max(widths.get(column, 0), display_width(text))


def display_width(text: str) -> int:
    """Columns a text needs: wide (CJK) characters count twice."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _fit_columns(sheet: Worksheet) -> None:
    for column, width in sheet.__dict__.get("_report_widths", {}).items():
        sheet.column_dimensions[get_column_letter(column)].width = min(width + 2, MAX_WIDTH)
