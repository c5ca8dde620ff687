"""The drill-down table: one row per direct child unit with its key figures (the dashboard links each
row to that unit's own report). The figures come from the sections' own queries, grouped by child."""

from __future__ import annotations

from django.utils.translation import gettext as _

from reports.document import Section, Table
from reports.quarterly.context import Context

COLUMNS = ["at_end", "joined", "left", "branches", "required", "met", "recommended", "late"]


def units_section(ctx: Context) -> Section:
    if not ctx.children:
        return Section(
            key="units",
            title=_("Units under %(unit)s") % {"unit": ctx.unit.name},
            notes=[_("No units under this one.")],
        )
    headers = {
        "at_end": _("Members at the end"),
        "joined": _("Joined"),
        "left": _("Left"),
        "branches": _("Branches"),
        "required": _("Required meetings"),
        "met": _("Required meetings held"),
        "recommended": _("Recommended to the Party"),
        "late": _("Late items"),
    }
    rows = [[child.name, *(ctx.by_child[column][child.path] for column in COLUMNS)] for child in ctx.children]
    return Section(
        key="units",
        title=_("Units under %(unit)s") % {"unit": ctx.unit.name},
        tables=[
            Table(
                _("Key figures by unit"),
                [_("Unit"), *(headers[column] for column in COLUMNS)],
                rows,
                row_units=[child.pk for child in ctx.children],
                footer=[_("Total"), *(ctx.totals.get(column, 0) for column in COLUMNS)],
            )
        ],
        notes=[
            _(
                "Units that existed during the period. The totals are those of %(unit)s as a whole: they include "
                "what is recorded on the unit itself (its own committee term, say), and count a person once, so "
                "they may differ from the sum of the rows."
            )
            % {"unit": ctx.unit.name}
        ],
    )
