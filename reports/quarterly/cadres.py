"""League cadres (团干部) serving at the period's end: the figures the county reports on its cadres
(domain.md §0: count, average age, sex and education splits, civil-servant share), from the cadre
statistics selector of the committee pages (branches.committee_selectors.cadre_statistics)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from branches.committee_selectors import Split, cadre_statistics
from branches.models import Establishment, Organization
from reports.document import Figure, Section, Table
from reports.quarterly.context import Context, existed


def cadres_section(ctx: Context) -> Section:
    # Seats on committees of units still existing at the period's end (a dissolved unit's committee is gone).
    stats = cadre_statistics(Organization.objects.filter(ctx.in_scope(), existed(ctx.as_of)), ctx.as_of)
    inside = str(Establishment.INSIDE.label)
    civil_servants = next((s for s in stats.establishment if s.label == inside), None)
    columns = [_("Group"), _("Cadres"), _("Share (%)")]

    def table(title: str, splits: list[Split]) -> Table:
        return Table(
            title,
            columns,
            [[s.label, s.count, round(100 * s.share, 1) if stats.count else None] for s in splits],
            footer=[_("Total"), stats.count, None],
        )

    return Section(
        key="cadres",
        title=_("League cadres"),
        figures=[
            Figure(_("Cadres serving"), stats.count),
            Figure(
                _("Average age"), round(stats.average_age, 1) if stats.average_age is not None else None, _("years")
            ),
            Figure(_("Over the age norm"), stats.over_age),
            Figure(
                _("Civil servants (%)"),
                round(100 * civil_servants.share, 1) if civil_servants and stats.count else None,
                _("inside the establishment (体制内)"),
            ),
        ],
        tables=[
            table(_("By sex"), stats.sex),
            table(_("By education"), stats.education),
            table(_("Full-time or part-time"), stats.employment),
            table(_("By establishment"), stats.establishment),
        ],
        notes=[
            _(
                "Cadres holding a seat on %(day)s on a committee of this unit or a unit under it existing at the "
                "end of that day, each person once; ages on that day."
            )
            % {"day": ctx.as_of.isoformat()}
        ],
    )
