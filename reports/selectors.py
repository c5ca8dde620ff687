"""The figures of a report for a scope and a period: frozen ones from the archive, else computed.

Reproducibility (issue 7) is kept two ways, on purpose:
- figures are derived from dated records — joining and leaving dates, transfer decisions, activity
  dates, founding and dissolution dates, the 推优 transition history — so that a period generated
  after it closed shows the period, not today;
- once a closed period's grace has passed (settings.REPORTS_FREEZE_AFTER_DAYS, 5 days: from the 6th
  day after its last day, `freezes`), the figures of its report are frozen in the archive when it is
  generated — the daily schedule generates the closed quarter's and month's reports then — and every
  later view, download or regeneration of that period uses them. Corrections to records (a member's
  education, a mistyped meeting date) cannot be dated, so without freezing they would silently change
  a report already sent to the committee above. The grace lets entries made late for the period's
  last days count; until it has passed a closed period is generated live and not frozen.
The one exception is the Party's own intake totals (PartyIntake), published after the quarter has
closed: entering them patches only those figures of the frozen quarterly reports of the unit and the
units above it (reports.services.party_intake_save), the other figures stay as frozen.
An open period (this month, this quarter) is always computed live; whether a generation freezes is
decided by the local date when its task started.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from django.conf import settings

from branches.models import Organization, PartyOrganization
from reports.cache import LiveFigures, cached_document
from reports.document import ReportDocument
from reports.models import Report, ReportKind
from reports.periods import MONTH, QUARTER, Period

Scope = Organization | PartyOrganization
# Called as progress(done, total) while a builder works through its sections.
Progress = Callable[[int, int], None]

PERIOD_KIND = {ReportKind.MONTHLY: MONTH, ReportKind.QUARTERLY: QUARTER}
# How forms and pages name the two kinds of scope (reports:request's `scope`).
SCOPE_UNIT, SCOPE_PARTY = "unit", "party"


def scope_kind(scope: Scope) -> str:
    return SCOPE_PARTY if isinstance(scope, PartyOrganization) else SCOPE_UNIT


def freeze_day(period: Period) -> date:
    """The first day a generation of the closed `period` freezes its figures (after the grace)."""
    return period.end + timedelta(days=settings.REPORTS_FREEZE_AFTER_DAYS + 1)


def freezes(period: Period, today: date) -> bool:
    return today >= freeze_day(period)


def last_frozen_period(kind: str, day: date) -> Period:
    """The latest period of `kind` (MONTH or QUARTER) whose figures freeze by `day`: the one the
    schedule generates on `day`."""
    return Period.containing(kind, day - timedelta(days=settings.REPORTS_FREEZE_AFTER_DAYS)).previous()


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


def report_figures(kind: str, scope: Scope, period: Period, *, may_be_frozen: bool = True) -> LiveFigures:
    """What every channel shows for this report: the frozen figures of a closed period if the archive
    has them, else the figures computed now — for a quarterly report, the ones kept since the last
    audited change, or kept from before it while the worker computes them again (reports.cache:
    `updating`). `may_be_frozen=False` is for a caller that has read the archive's row and found no
    frozen figures: it spares the query for them."""
    frozen = frozen_document(kind, scope, period) if may_be_frozen else None
    if frozen is not None:
        return LiveFigures(frozen, updating=False)
    if kind == ReportKind.QUARTERLY:
        return cached_document(kind, scope, period, build_document)
    return LiveFigures(build_document(kind, scope, period), updating=False)
