"""Organizations (组织): units by kind and sector at the period's end, founded and dissolved in it,
and branches outside the usual size (domain.md §2.2: at least 3 members, generally at most 50)."""

from __future__ import annotations

from collections import Counter

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from branches.models import BRANCH_KINDS, Organization, OrganizationKind, Sector
from reports.document import Figure, Section, Table
from reports.quarterly.context import LIST_CAP, Context, capped_note, existed
from reports.quarterly.membership import member_figures

SMALL_BRANCH = 3  # a branch has at least 3 members (团章; smaller units form a joint branch)
LARGE_BRANCH = 50  # a branch generally has at most 50 (支部工作条例)


def organizations_section(ctx: Context) -> Section:
    start, day = ctx.period.start, ctx.as_of
    units = Organization.objects.filter(ctx.in_scope()).order_by()
    by_kind_sector = list(units.filter(existed(day)).values("kind", "sector").annotate(n=Count("pk")))
    founded = Q(founded_on__gte=start, founded_on__lte=day)
    dissolved = Q(dissolved_on__gte=start, dissolved_on__lte=day)
    changes = units.aggregate(
        new=Count("pk", filter=founded),
        dissolved=Count("pk", filter=dissolved),
        changed=Count("pk", filter=founded | dissolved),
    )
    changed = list(
        units.filter(founded | dissolved)
        .order_by("path")
        .values("pk", "name", "kind", "founded_on", "dissolved_on")[:LIST_CAP]
    )
    branches = [u for u in ctx.units.values() if u.kind in BRANCH_KINDS and u.at_end]

    figures = member_figures(ctx)
    ctx.branch_sizes = {b.path: figures[b.path]["at_end"] for b in branches}
    for branch in branches:
        ctx.count("branches", branch.path, 1)
    ctx.totals["branches"] = len(branches)
    unusual_size = sorted(
        (b for b in branches if not SMALL_BRANCH <= ctx.branch_sizes[b.path] <= LARGE_BRANCH),
        key=lambda b: (ctx.branch_sizes[b.path], b.path),
    )
    small = sum(1 for b in unusual_size if ctx.branch_sizes[b.path] < SMALL_BRANCH)

    kinds, sectors, sector_branches = Counter(), Counter(), Counter()
    for row in by_kind_sector:
        kinds[row["kind"]] += row["n"]
        sectors[row["sector"]] += row["n"]
        if row["kind"] in BRANCH_KINDS:
            sector_branches[row["sector"]] += row["n"]
    kind_labels = dict(OrganizationKind.choices)
    sector_labels = dict(Sector.choices)

    return Section(
        key="organizations",
        title=_("Organizations"),
        figures=[
            Figure(_("Units at the end of the period"), sum(kinds.values())),
            Figure(_("Branches"), len(branches)),
            Figure(_("Founded in the period"), changes["new"]),
            Figure(_("Dissolved in the period"), changes["dissolved"]),
            Figure(_("Branches with fewer than %(n)d members") % {"n": SMALL_BRANCH}, small),
            Figure(_("Branches with more than %(n)d members") % {"n": LARGE_BRANCH}, len(unusual_size) - small),
        ],
        tables=[
            Table(
                _("Units by kind"),
                [_("Kind"), _("Units")],
                [[str(kind_labels[k]), kinds[k]] for k in OrganizationKind.values if kinds[k]],
                footer=[_("Total"), sum(kinds.values())],
            ),
            Table(
                _("Units by sector"),
                [_("Sector"), _("Units"), _("of which branches")],
                [[str(sector_labels[s]), sectors[s], sector_branches[s]] for s in Sector.values if sectors[s]],
                footer=[_("Total"), sum(sectors.values()), sum(sector_branches.values())],
            ),
            Table(
                _("Units founded or dissolved in the period"),
                [_("Unit"), _("Kind"), _("Founded on"), _("Dissolved on")],
                [
                    [
                        u["name"],
                        str(kind_labels[u["kind"]]),
                        _iso(u["founded_on"]),
                        _iso(u["dissolved_on"]),
                    ]
                    for u in changed
                ],
                row_units=[u["pk"] for u in changed],
            ),
            Table(
                _("Branches with fewer than %(small)d or more than %(large)d members")
                % {"small": SMALL_BRANCH, "large": LARGE_BRANCH},
                [_("Branch"), _("Members")],
                [[b.name, ctx.branch_sizes[b.path]] for b in unusual_size[:LIST_CAP]],
                row_units=[b.pk for b in unusual_size[:LIST_CAP]],
            ),
        ],
        notes=[
            *capped_note(len(changed), changes["changed"]),
            *capped_note(min(len(unusual_size), LIST_CAP), len(unusual_size)),
            _(
                "Units are counted as they stood on %(day)s, the unit itself included; a unit without a "
                "founding date counts as founded. Branch sizes count the members at that day."
            )
            % {"day": _iso(day)},
        ],
    )


def _iso(day) -> str | None:
    return day.isoformat() if day else None
