"""Template helpers of the report pages and of the document partial the PDF shares."""

from __future__ import annotations

import html

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.formats import localize
from django.utils.html import conditional_escape, escape
from django.utils.safestring import mark_safe

from branches.models import Role
from branches.scope import user_scope
from reports.charts import render_svg
from reports.document import Chart, Table

register = template.Library()


@register.simple_tag
def chart_svg(chart: Chart) -> str:
    # render_svg escapes every label, name and title it writes into the SVG.
    return mark_safe(render_svg(chart))


# A pk no unit has, reversed once per table and replaced by each row's: reversing the drill-down
# link for each of a township's 50 units, or a county's 1,700 people, cost more than the table.
_PK_PLACEHOLDER = 987654321987


@register.simple_tag(takes_context=True)
def table_rows(context: template.Context, table: Table) -> str:
    """The body rows of a document table as HTML, written in one pass: a county's monthly report has
    tens of thousands of cells, and rendered cell by cell through the template they were most of the
    page's time. A row about a League unit carries its pk and, on the pages that drill down (`drill`
    = (url name, period key), never in print), links its first cell to that unit's page of the same
    report and period. Cells are escaped and localized as `{{ cell }}` would be."""
    link = _drill_link(context.get("drill"))
    units = table.row_units or []
    html = []
    for index, row in enumerate(table.rows):
        unit_pk = units[index] if index < len(units) else None
        html.append(f'<tr data-unit="{unit_pk}">' if unit_pk else "<tr>")
        for position, cell in enumerate(row):
            text = _cell_html(cell)
            if position == 0 and link and unit_pk is not None:
                text = f'<a href="{escape(link.replace(str(_PK_PLACEHOLDER), str(unit_pk)))}">{text}</a>'
            html.append(f'<td class="num">{text}</td>' if is_number(cell) else f"<td>{text}</td>")
        html.append("</tr>")
    return mark_safe("".join(html))


def _drill_link(drill: tuple[str, str] | None) -> str:
    if not drill:
        return ""
    url_name, period_key = drill
    try:
        return f"{reverse(url_name, args=[_PK_PLACEHOLDER])}?period={period_key}"
    except NoReverseMatch:
        return ""


def _cell_html(cell: object) -> str:
    if type(cell) is str:  # most cells: escaped directly, not through the lazy-aware wrappers (per cell)
        return html.escape(cell)
    return "—" if cell is None else conditional_escape(localize(cell))


@register.simple_tag(takes_context=True)
def may_see_reports(context: template.Context) -> bool:
    """Whether the navigation offers 统计报表: League roles (staff, secretaries) and Party organizers."""
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return False
    scope = user_scope(user)
    return user.is_superuser or bool(scope.record_paths) or scope.has_role(Role.PARTY_ORGANIZER)


@register.filter
def is_number(cell: object) -> bool:
    """Numbers are aligned right (the cells of a document are int, float, str or None)."""
    return isinstance(cell, int | float) and not isinstance(cell, bool)
