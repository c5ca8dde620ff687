"""The quarterly report (季度报告) of a League unit — county, township, general branch or branch — for its
subtree (issue 7, domain.md §0): organizations, members, branch life, cadres, the 推优 funnel, late
items, and the drill-down table of the units directly under it.

Every figure comes from aggregate queries grouped in the database (by branch or by direct child unit,
the materialized path cut to the child's length), so the number of queries is fixed whatever the
number of units, members or cases; period figures are derived from dated records (see history.py),
and the archive freezes a closed period's document (reports/selectors.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext as _

from reports.document import ReportDocument
from reports.models import ReportKind
from reports.periods import QUARTER
from reports.quarterly.branch_life import branch_life_section
from reports.quarterly.cadres import cadres_section
from reports.quarterly.context import Context
from reports.quarterly.funnel import promotion_section
from reports.quarterly.late import late_section
from reports.quarterly.membership import members_section
from reports.quarterly.organizations import organizations_section
from reports.quarterly.units import units_section

if TYPE_CHECKING:
    from branches.models import Organization
    from reports.periods import Period
    from reports.selectors import Progress

__all__ = ["build_quarterly"]

# In this order: later sections read what earlier ones computed (branch sizes, the completeness
# table, the figures per child unit for the last one).
SECTIONS = [
    organizations_section,
    members_section,
    branch_life_section,
    cadres_section,
    promotion_section,
    late_section,
    units_section,
]


def build_quarterly(unit: Organization, period: Period, *, progress: Progress | None = None) -> ReportDocument:
    if period.kind != QUARTER:
        raise ValueError(f"the quarterly report covers a quarter, not {period.key}")
    ctx = Context(unit=unit, period=period, today=timezone.localdate())
    sections = []
    for done, build in enumerate(SECTIONS, start=1):
        sections.append(build(ctx))
        if progress:
            progress(done, len(SECTIONS))
    return ReportDocument(
        kind=ReportKind.QUARTERLY.value,
        title=_("Quarterly report"),
        scope_label=unit.name,
        period_key=period.key,
        period_label=period.label,
        generated_at=timezone.now().isoformat(),
        sections=sections,
    )
