"""The reading side of the reports (统计报表): where a user starts, the statistics dashboard of a League
unit (its quarterly document, drillable down the tree) and the monthly progress reports (月度进展报告) of a
unit or a Party organization.

Every page renders one ReportDocument through reports/_document.html, the partial the PDF also
uses, so the page and the files cannot disagree. Which figures: reports.selectors.report_figures —
frozen in the archive once a closed period has been generated, else computed live (the dashboard's kept
until an audited change to the records, then shown while the worker computes them again:
reports/cache.py, polled by unit_live_status); the page says which, and since when.
Generating the files is the archive's business (reports/archive_views.py): the pages post to its
request view and link to what it already holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from branches.models import Organization, PartyOrganization, Role
from branches.scope import user_scope
from reports import access
from reports.cache import live_status
from reports.document import ReportDocument
from reports.models import Report, ReportKind
from reports.periods import FIRST_YEAR, LAST_YEAR, MONTH, QUARTER, Period, PeriodOutOfRange
from reports.selectors import PERIOD_KIND, Scope, report_figures, scope_filter, scope_kind
from reports.services import is_working

# How far back the period pickers reach; older periods stay reachable by their address (the archive).
PICKER_LENGTH = {QUARTER: 8, MONTH: 12}


@login_required
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """The user's units (dashboards) and Party organizations (monthly reports); county staff also
    find every Party organization of their county. A Party organizer with one organization and
    nothing else goes straight to its report."""
    user = request.user
    units, parties = access.home_scopes(user)
    if user.is_superuser and not units:
        units = list(Organization.objects.filter(depth=1))
    county_ids = [a.organization_id for a in user_scope(user).assignments if a.role == Role.COUNTY_STAFF]
    county_parties = (
        list(PartyOrganization.objects.filter(county_id__in=county_ids).order_by("county__path", "name"))
        if county_ids
        else []
    )
    if len(parties) == 1 and not units and not county_parties:
        return redirect("reports:party", pk=parties[0].pk)
    return render(
        request,
        "reports/home.html",
        {
            "units": units,
            "parties": parties,
            "county_parties": [p for p in county_parties if p not in parties],
        },
    )


@login_required
@require_safe
def unit_dashboard(request: HttpRequest, pk: int) -> HttpResponse:
    """The statistics dashboard of a unit: its quarterly report (季度报告) for the chosen quarter,
    each row about a unit below linking to that unit's dashboard."""
    return _unit_page(request, pk, ReportKind.QUARTERLY)


@never_cache  # a poll answered by a cache along the way would never see the new figures
@login_required
@require_safe
def unit_live_status(request: HttpRequest, pk: int) -> JsonResponse:
    """What the dashboard polls while it shows figures being computed again (static/js/live-figures.js):
    when the figures kept were computed, and whether newer ones are on their way. Read from the cache
    only, never computed here."""
    unit = access.get_unit_for_reports(request.user, pk)
    try:
        period = Period.parse(request.GET.get("period", ""))
    except ValueError:  # PeriodOutOfRange too: the page never asks for one
        raise Http404 from None
    if period.kind != QUARTER:
        raise Http404
    return JsonResponse(live_status(ReportKind.QUARTERLY, unit, period))


@login_required
@require_safe
def unit_monthly(request: HttpRequest, pk: int) -> HttpResponse:
    """The monthly progress report of a unit's scope, drillable like the dashboard."""
    return _unit_page(request, pk, ReportKind.MONTHLY)


# A unit's page of each kind of report: its address (rows drill to the same page of the unit below)
# and its template.
UNIT_PAGES = {
    ReportKind.QUARTERLY: ("reports:unit", "reports/dashboard.html"),
    ReportKind.MONTHLY: ("reports:unit-monthly", "reports/monthly.html"),
}


def _unit_page(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    unit = access.get_unit_for_reports(request.user, pk)
    page = _report_page(request, kind, unit)
    url_name, template = UNIT_PAGES[kind]
    live_url = reverse("reports:unit-live", args=[unit.pk]) + f"?period={page.period.key}" if page.updating else None
    return render(
        request,
        template,
        {
            **page.context(),
            "unit": unit,
            "crumbs": _crumbs(request, unit),
            "drill": (url_name, page.period.key),
            "dashboard_url": reverse("reports:unit", args=[unit.pk]),
            "monthly_url": reverse("reports:unit-monthly", args=[unit.pk]),
            "live_url": live_url,
        },
    )


@login_required
@require_safe
def party(request: HttpRequest, pk: int) -> HttpResponse:
    """The monthly progress report of a Party organization: the people the League handed over to it.
    No drilling: its rows' units are League pages a Party organizer may not open."""
    party_organization = access.get_party_organization_for_reports(request.user, pk)
    page = _report_page(request, ReportKind.MONTHLY, party_organization)
    return render(request, "reports/monthly.html", {**page.context(), "party_organization": party_organization})


# The parts the pages share -----------------------------------------------------------------------


@dataclass
class _Page:
    kind: str
    scope: Scope
    period: Period
    periods: list[Period]
    period_error: str
    document: ReportDocument
    updating: bool  # figures kept from before a change, shown while the worker computes them again
    archived: Report | None

    def context(self) -> dict:
        archived = self.archived
        # The last good files stay offered while the report is made again or after a failed attempt;
        # the status shows beside them.
        generated = archived is not None and archived.generated_at is not None
        return {
            "kind": self.kind,
            "period": self.period,
            "periods": self.periods,
            "period_error": self.period_error,
            "document": self.document,
            "frozen_at": archived.frozen_at if archived is not None else None,
            "computed_at": _parse_time(self.document.generated_at),
            "updating": self.updating,
            "archived": archived,
            "archived_url": reverse("reports:report", args=[archived.pk]) if archived is not None else None,
            "generating": archived is not None and is_working(archived),
            "pdf_url": reverse("reports:download", args=[archived.pk, "pdf"]) if generated and archived.pdf else None,
            "xlsx_url": reverse("reports:download", args=[archived.pk, "xlsx"])
            if generated and archived.xlsx
            else None,
            "scope_kind": scope_kind(self.scope),
            "scope_id": self.scope.pk,
        }


def _report_page(request: HttpRequest, kind: str, scope: Scope) -> _Page:
    period, periods, error = _chosen_period(request, PERIOD_KIND[kind])
    # The archive's row (without its figures) says whether the figures are frozen (a closed period
    # generated since it closed) and what can be downloaded; report_figures then reads the frozen
    # figures or the live ones.
    archived = (
        Report.objects.filter(kind=kind, period_start=period.start, **scope_filter(scope)).defer("document").first()
    )
    frozen = archived is not None and archived.frozen_at is not None
    figures = report_figures(kind, scope, period, may_be_frozen=frozen)
    return _Page(kind, scope, period, periods, error, figures.document, figures.updating, archived)


def _chosen_period(request: HttpRequest, period_kind: str) -> tuple[Period, list[Period], str]:
    """The period asked for in ?period=, or the current one with a message saying why not."""
    today = timezone.localdate()
    current = Period.containing(period_kind, today)
    choices = [current]
    while len(choices) < PICKER_LENGTH[period_kind]:
        choices.append(choices[-1].previous())
    key = request.GET.get("period", "").strip()
    if not key:
        return current, choices, ""
    shown = key[:20]
    try:
        asked = Period.parse(key)
    except PeriodOutOfRange:
        error = _("%(value)s is outside the years reports cover (%(first)s to %(last)s): the current period is shown.")
        return current, choices, error % {"value": shown, "first": FIRST_YEAR, "last": LAST_YEAR}
    except ValueError:
        asked = None
    if asked is None or asked.kind != period_kind:
        if period_kind == QUARTER:
            error = _("“%(value)s” is not a quarter (such as 2026-Q3): the current quarter is shown.")
        else:
            error = _("“%(value)s” is not a month (such as 2026-07): the current month is shown.")
        return current, choices, error % {"value": shown}
    if asked.start > today:
        if period_kind == QUARTER:
            error = _("%(period)s has not begun yet: the current quarter is shown.")
        else:
            error = _("%(period)s has not begun yet: the current month is shown.")
        return current, choices, error % {"period": asked.label}
    if asked not in choices:
        choices.append(asked)  # an older period, reached from the archive: keep it selectable
    return asked, choices, ""


def _crumbs(request: HttpRequest, unit: Organization) -> list[Organization]:
    """The units above this one whose reports the user may read (a secretary's branch has none)."""
    return [a for a in Organization.objects.get_ancestors(unit) if access.may_read_unit(request.user, a)]


def _parse_time(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)
