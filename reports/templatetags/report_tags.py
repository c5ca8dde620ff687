"""Template helpers of the report pages and of the document partial the PDF shares."""

from __future__ import annotations

from django import template
from django.urls import NoReverseMatch, reverse
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


@register.filter
def rows_with_units(table: Table) -> list[tuple[list, int | None]]:
    """The table's rows, each with the League unit it is about (None where the table says nothing)."""
    units = table.row_units or []
    return [(row, units[i] if i < len(units) else None) for i, row in enumerate(table.rows)]


@register.simple_tag(takes_context=True)
def drill_href(context: template.Context, unit_pk: int | None) -> str:
    """The link from a table row down to that unit's own page of the same report and period, on the
    pages that drill down (`drill` = (url name, period key)); nothing in print."""
    drill = context.get("drill")
    if not drill or unit_pk is None:
        return ""
    url_name, period_key = drill
    try:
        return f"{reverse(url_name, args=[unit_pk])}?period={period_key}"
    except NoReverseMatch:
        return ""


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
