"""Branch life (组织生活): required meetings held versus required, month by month (the completeness
table's own rules: branches.activity_selectors), attendance, and silent branches."""

from __future__ import annotations

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from branches.activity_selectors import branch_completeness
from branches.models import Attendance, Organization
from reports.document import Chart, Figure, Section, Series, Table
from reports.quarterly.context import LIST_CAP, Context, capped_note, share


def branch_life_section(ctx: Context) -> Section:
    months = ctx.period.months()
    branches = Organization.objects.filter(ctx.in_scope()).branches()
    completeness = branch_completeness(branches, months[0].start, months[-1].start, today=ctx.today)
    ctx.completeness = completeness

    required = [0] * len(months)
    met = [0] * len(months)
    missing = [0] * len(months)
    held = [0] * len(months)
    for row in completeness.rows:
        for i, cell in enumerate(row.cells):
            required[i] += len(cell.required)
            met[i] += cell.met
            missing[i] += len(cell.missing)
            held[i] += cell.held_total
        ctx.count("required", row.unit.path, sum(len(cell.required) for cell in row.cells))
        ctx.count("met", row.unit.path, sum(cell.met for cell in row.cells))
    ctx.totals["required"] = sum(required)
    ctx.totals["met"] = sum(met)

    attendance = Attendance.objects.filter(
        ctx.in_scope("activity__organization__path"),
        activity__voided_at__isnull=True,
        activity__held_on__gte=ctx.period.start,
        activity__held_on__lte=ctx.as_of,
    ).aggregate(present=Count("pk", filter=Q(present=True)), expected=Count("pk"))
    silent = [row.unit for row in completeness.rows if row.silent]
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
            Figure(_("Attendance (%)"), share(attendance["present"], attendance["expected"])),
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
                "stands today. Attendance: present of those listed on the activities' attendance."
            ),
        ],
    )
