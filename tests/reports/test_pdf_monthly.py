"""The monthly progress report's PDF, in Chinese, from the fixture of tests/reports/monthly_data.py: its
long tables are laid out with set column widths (templates/reports/print.html), so that a person's
name stays whole on their row's first line (the automatic layout squeezed the names to a character a
line) and a date is not broken."""

from __future__ import annotations

import io

import pytest
import time_machine
from django.utils import translation
from pypdf import PdfReader

from reports.monthly import build_monthly
from reports.pdf import render_pdf
from reports.periods import Period
from tests.reports.monthly_data import NOW, county_cases


@pytest.fixture
def may(tree, people):
    with time_machine.travel(NOW, tick=False):
        county_cases(tree, people["secretary_a1"])
        with translation.override("zh-hans"):
            document = build_monthly(tree["party_a"], Period.parse("2026-05"))
            return document, PdfReader(io.BytesIO(render_pdf(document)))


def drawn(reader: PdfReader) -> list[str]:
    """The text as read back, a line at a time: a name broken across lines comes back in pieces."""
    pieces = []
    for page in reader.pages:
        page.extract_text(visitor_text=lambda text, *_: pieces.append(text.strip()))
    return pieces


def test_names_are_not_broken_across_lines(may):
    """Each person's row starts with the whole name, then the branch (a line of text holds the cells
    drawn on it, left to right)."""
    document, reader = may
    people = document.section("people").tables[0].rows
    assert len(people) == 6
    pieces = drawn(reader)
    for name, branch, *_rest in people:
        assert [piece for piece in pieces if piece.startswith(f"{name} {branch[:4]}")], name


def test_a_late_report_s_date_is_not_broken(may):
    document, reader = may
    statuses = [row[6] for row in document.section("people").tables[0].rows]
    assert "逾期报送（2026-05-14）" in statuses  # 张三's report on April
    assert "（2026-05-14）" in drawn(reader)
