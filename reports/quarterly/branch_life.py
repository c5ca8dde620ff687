"""Branch life (组织生活): required meetings held versus required, month by month (the completeness
table's own rules: branches.activity_selectors), attendance, and silent branches."""

from __future__ import annotations

from django.utils.translation import gettext as _

from branches.activity_selectors import branch_completeness
from branches.models import BRANCH_KINDS, Organization
from reports.document import Chart, Figure, Section, Series, Table
from reports.quarterly.context import LIST_CAP, Context, capped_note, share


def branch_life_section(ctx: Context) -> Section:
    months = ctx.period.months()
    # Every unit of the subtree, as the branch pages read them: attendance counts the general branches'
    # and committees' activities too; required meetings and silence are the branches' own.
    completeness = branch_completeness(
        Organization.objects.filter(ctx.in_scope()), months[0].start, months[-1].start, today=ctx.today
    )
    ctx.branch_rows = [row for row in completeness.rows if row.unit.kind in BRANCH_KINDS]

    required = [0] * len(months)
    met = [0] * len(months)
    missing = [0] * len(months)
    held = [0] * len(months)
    for row in ctx.branch_rows:
        for i, cell in enumerate(row.cells):
            required[i] += len(cell.required)
            met[i] += cell.met
            missing[i] += len(cell.missing)
            held[i] += cell.held_total
        ctx.count("required", row.unit.path, sum(len(cell.required) for cell in row.cells))
        ctx.count("met", row.unit.path, sum(cell.met for cell in row.cells))
    ctx.totals["required"] = sum(required)
    ctx.totals["met"] = sum(met)

    present = sum(cell.present for row in completeness.rows for cell in row.cells)
    expected = sum(cell.expected for row in completeness.rows for cell in row.cells)
    silent = [row.unit for row in ctx.branch_rows if row.silent]
    labels = [month.label for month in months]

    return Section(
        key="branch_life",
        title=_("Branch life"),
        figures=[
            Figure(_("Required meetings"), sum(required)),
            Figure(_("Required meetings held"), sum(met)),
            Figure(_("Required meetings not held"), sum(missing), _("in months that have ended")),
            Figure(_("Required meetings held (%)"), share(sum(met), sum(required))),
            Figure(_("Activities held"), sum(held)),
            Figure(_("Attendance (%)"), share(present, expected)),
            Figure(_("Silent branches"), len(silent), _("no activity at all in the period")),
        ],
        tables=[
            Table(
                _("Meetings by month"),
                [
                    _("Month"),
                    _("Activities held"),
                    _("Required meetings"),
                    _("Required meetings held"),
                    _("Not held"),
                    _("Held (%)"),
                ],
                [
                    [labels[i], held[i], required[i], met[i], missing[i], share(met[i], required[i])]
                    for i in range(len(months))
                ],
                footer=[_("Total"), sum(held), sum(required), sum(met), sum(missing), share(sum(met), sum(required))],
            ),
            Table(
                _("Silent branches"),
                [_("Branch"), _("Members")],
                [[unit.name, ctx.branch_sizes.get(unit.path, 0)] for unit in silent[:LIST_CAP]],
                row_units=[unit.pk for unit in silent[:LIST_CAP]],
            ),
        ],
        charts=[
            Chart(
                "bar",
                _("Required meetings held and required, by month"),
                labels,
                [Series(_("Required"), required), Series(_("Held"), met)],
            )
        ],
        notes=[
            *capped_note(min(len(silent), LIST_CAP), len(silent)),
            _(
                "Required meetings follow the county's cadence (LEAGUE_ACTIVITY_CADENCE): monthly kinds every "
                "month, quarterly kinds once in the quarter (checked in its last month), of branches that existed "
                "throughout; committee meetings only of branches with a committee, judged on the branch as it "
                "stands today. Attendance: members present of those expected, as recorded on the activities of "
                "every unit (branches, general branches and committees), the same figures as the branch pages."
            ),
        ],
    )
