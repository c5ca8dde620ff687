"""The figures of a report for a scope and a period: frozen ones from the archive, else computed.

Reproducibility (issue 7) is kept two ways, on purpose:
- figures are derived from dated records — joining and leaving dates, transfer decisions, activity
  dates, founding and dissolution dates, the 推优 transition history — so that a period generated
  after it closed shows the period, not today;
- when a closed period is generated (the quarterly and monthly schedules do it the day after), the
  figures are frozen in the archive, and every later view, download or regeneration of that period
  uses them. Corrections to records (a member's education, a mistyped meeting date) cannot be dated,
  so without freezing they would silently change a report already sent to the committee above.
An open period (this month, this quarter) is always computed live.
"""

from __future__ import annotations

from collections.abc import Callable

from branches.models import Organization, PartyOrganization
from reports.document import ReportDocument
from reports.models import Report, ReportKind
from reports.periods import MONTH, QUARTER, Period

Scope = Organization | PartyOrganization
# Called as progress(done, total) while a builder works through its sections.
Progress = Callable[[int, int], None]

PERIOD_KIND = {ReportKind.MONTHLY: MONTH, ReportKind.QUARTERLY: QUARTER}


def scope_filter(scope: Scope) -> dict[str, Scope]:
    if isinstance(scope, PartyOrganization):
        return {"party_organization": scope}
    return {"organization": scope}


def frozen_document(kind: str, scope: Scope, period: Period) -> ReportDocument | None:
    data = (
        Report.objects.filter(kind=kind, period_start=period.start, frozen_at__isnull=False, **scope_filter(scope))
        .values_list("document", flat=True)
        .first()
    )
    return ReportDocument.from_dict(data) if data else None


def build_document(kind: str, scope: Scope, period: Period, *, progress: Progress | None = None) -> ReportDocument:
    """Compute the figures from the records now, whatever the archive holds."""
    if period.kind != PERIOD_KIND[kind]:
        raise ValueError(f"a {kind} report covers a {PERIOD_KIND[kind]}, not {period.key}")
    if kind == ReportKind.QUARTERLY:
        from reports.quarterly import build_quarterly

        if not isinstance(scope, Organization):
            raise ValueError("the quarterly report is for a League unit")
        return build_quarterly(scope, period, progress=progress)
    from reports.monthly import build_monthly

    return build_monthly(scope, period, progress=progress)


def report_document(kind: str, scope: Scope, period: Period) -> ReportDocument:
    """What every channel shows for this report: the frozen figures of a closed period if the archive
    has them, else the figures computed now."""
    return frozen_document(kind, scope, period) or build_document(kind, scope, period)
