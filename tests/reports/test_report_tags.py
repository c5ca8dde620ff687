"""The document tables' rows as the pages and the PDF write them (report_tags.table_rows)."""

from __future__ import annotations

from django.template import Context
from django.utils import translation
from django.utils.safestring import mark_safe

from reports.document import Table
from reports.templatetags.report_tags import table_rows


def test_cells_are_escaped_localized_and_numbers_aligned():
    table = Table("t", ["a", "b", "c", "d", "e"], [['<b>甲 & "乙"</b>', None, 12345, 1.5, mark_safe("<i>kept</i>")]])

    with translation.override("en"):
        html = table_rows(Context({}), table)

    assert html == (
        "<tr><td>&lt;b&gt;甲 &amp; &quot;乙&quot;&lt;/b&gt;</td><td>—</td>"
        '<td class="num">12345</td><td class="num">1.5</td><td><i>kept</i></td></tr>'
    )


def test_a_row_about_a_unit_links_its_first_cell_to_that_unit_s_page(db):
    table = Table("t", ["unit", "n"], [["<甲>", 3]], row_units=[42])

    html = table_rows(Context({"drill": ("reports:unit", "2026-Q3")}), table)

    assert html == (
        '<tr data-unit="42"><td><a href="/reports/unit/42/?period=2026-Q3">&lt;甲&gt;</a></td>'
        '<td class="num">3</td></tr>'
    )
