"""Pages of the report archive (issue 7): the list, asking for a report, one report with its progress
and its document, the downloads, and the Party's intake totals that staff enter.

Every report is fetched through Report.objects.visible_to(user): out of scope is a 404, the same as
a report that does not exist, on the page, the progress endpoint and the downloads alike.
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from branches.audit import history_for
from branches.models import Organization
from reports import services
from reports.access import get_party_organization_for_reports, get_unit_for_reports
from reports.document import ReportDocument
from reports.forms import ArchiveFilterForm, PartyIntakeForm, ReportRequestForm
from reports.models import PartyIntake, Report, ReportKind, ReportStatus
from reports.periods import QUARTER, Period
from reports.selectors import SCOPE_PARTY, freeze_day, scope_kind

PAGE_SIZE = 30
INTAKE_QUARTERS = 4  # the intake list shows this quarter and the three before
FORMATS = {
    "pdf": ("application/pdf", "pdf"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
}
WORKING = (ReportStatus.QUEUED, ReportStatus.RUNNING)
STALLED = "stalled"  # the progress endpoint's status for a row whose generation was abandoned


def get_report_for_user(request: HttpRequest, pk: int) -> Report:
    return get_object_or_404(
        Report.objects.visible_to(request.user).select_related("organization", "party_organization", "requested_by"),
        pk=pk,
    )


@login_required
def archive(request: HttpRequest) -> HttpResponse:
    form = ArchiveFilterForm(request.GET or None)
    reports = (
        Report.objects.visible_to(request.user)
        .select_related("organization", "party_organization", "requested_by")
        .defer("document")
        .order_by("-period_start", "-requested_at", "-pk")
    )
    filters = {}
    form.is_valid()  # a field in error is shown with its message; the others still filter
    cleaned = getattr(form, "cleaned_data", {})
    if cleaned.get("kind"):
        reports = reports.filter(kind=cleaned["kind"])
        filters["kind"] = cleaned["kind"]
    if cleaned.get("period") is not None:
        period = cleaned["period"]
        reports = reports.filter(period_start=period.start, period_end=period.end)
        filters["period"] = period.key
    page = Paginator(reports, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "reports/archive.html",
        {
            "form": form,
            "page": page,
            "rows": [(report, services.report_period(report)) for report in page.object_list],
            "stalled_ids": {r.pk for r in page.object_list if r.status in WORKING and not services.is_working(r)},
            "query_string": urlencode(filters),
            "may_enter_intake": services.intake_units(request.user).exists(),
            "freeze_after": settings.REPORTS_FREEZE_AFTER_DAYS,
        },
    )


@login_required
@require_POST
def request_report(request: HttpRequest) -> HttpResponse:
    """Ask for a report (a new one, or the regeneration of an archived one) and go to its page."""
    form = ReportRequestForm(request.POST)
    if not form.is_valid():
        # Once each: an empty form misses the scope and its id, which say the same thing.
        for error in dict.fromkeys(error for errors in form.errors.values() for error in errors):
            messages.error(request, error)
        return _back(request)
    data = form.cleaned_data
    if data["scope"] == SCOPE_PARTY:
        scope = get_party_organization_for_reports(request.user, data["scope_id"])
    else:
        scope = get_unit_for_reports(request.user, data["scope_id"])
    try:
        report = services.report_request(kind=data["kind"], scope=scope, period=data["period"], actor=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return _back(request)
    return redirect("reports:report", pk=report.pk)


def _back(request: HttpRequest) -> HttpResponse:
    """Where a refused request goes: the page it came from (on this site), else the archive."""
    referer = request.headers.get("referer", "")
    if url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(referer)
    return redirect("reports:archive")


@login_required
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_report_for_user(request, pk)
    period = services.report_period(report)
    # The last good generation stays readable while the report is made again, or after a failed
    # attempt: its figures and files, with the current status beside them.
    document = ReportDocument.from_dict(report.document) if report.generated_at and report.document else None
    working = services.is_working(report)
    drill_name = "reports:unit" if report.kind == ReportKind.QUARTERLY else "reports:unit-monthly"
    return render(
        request,
        "reports/report_detail.html",
        {
            "report": report,
            "period": period,
            "document": document,
            "working": working,
            "stalled": report.status in WORKING and not working,
            "period_closed": period.is_closed(timezone.localdate()),
            "freeze_day": freeze_day(period),
            "may_regenerate": not working,
            "scope_kind": scope_kind(report.scope),
            "drill": (drill_name, period.key),
        },
    )


@login_required
def report_progress(request: HttpRequest, pk: int) -> JsonResponse:
    report = get_object_or_404(
        Report.objects.visible_to(request.user).only("status", "progress", "message", "requested_at", "started_at"),
        pk=pk,
    )
    if report.status in WORKING and not services.is_working(report):
        return JsonResponse(
            {
                "status": STALLED,
                "percent": report.progress,
                "message": _("The generation has stopped without finishing. Ask for the report again."),
            }
        )
    return JsonResponse({"status": report.status, "percent": report.progress, "message": report.message})


def download_name(report: Report, extension: str) -> str:
    """ "共青团某某镇委员会 2026年第3季度 季度报告.pdf": no characters a file system refuses."""
    title = f"{report.scope} {services.report_period(report).label} {services.KIND_TITLES[report.kind]()}"
    return re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "-", title).strip() + f".{extension}"


@login_required
def report_download(request: HttpRequest, pk: int, fmt: str) -> FileResponse:
    if fmt not in FORMATS:
        raise Http404
    report = get_report_for_user(request, pk)
    file = report.pdf if fmt == "pdf" else report.xlsx
    if report.generated_at is None or not file.name:
        raise Http404  # never generated (the last good files are served while it is made again)
    try:
        handle = file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    content_type, extension = FORMATS[fmt]
    response = FileResponse(
        handle, content_type=content_type, as_attachment=True, filename=download_name(report, extension)
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- the Party's intake totals (PartyIntake) -------------------------------------------------------


def _recent_quarters(today: date) -> list[Period]:
    quarters = [Period.containing(QUARTER, today)]
    while len(quarters) < INTAKE_QUARTERS:
        quarters.append(quarters[-1].previous())
    return quarters


@login_required
def intake_list(request: HttpRequest) -> HttpResponse:
    units = list(services.intake_units(request.user).order_by("path"))
    if not units:
        raise PermissionDenied  # only county and township staff enter the Party's totals
    quarters = _recent_quarters(timezone.localdate())
    entered = {
        (i.organization_id, i.year, i.quarter): i
        for i in PartyIntake.objects.filter(
            organization__in=units, year__gte=quarters[-1].year, year__lte=quarters[0].year
        )
    }
    rows = [(unit, [(q, entered.get((unit.pk, q.year, q.number))) for q in quarters]) for unit in units]
    return render(request, "reports/intake_list.html", {"quarters": quarters, "rows": rows})


@login_required
def intake_edit(request: HttpRequest, unit_pk: int, year: int, quarter: int) -> HttpResponse:
    unit = services.intake_units(request.user).filter(pk=unit_pk).first()
    if unit is None:
        if Organization.objects.visible_to(request.user).filter(pk=unit_pk).exists():
            raise PermissionDenied
        raise Http404
    if not (1 <= quarter <= 4 and 2000 <= year <= 2100):
        raise Http404
    period = Period(QUARTER, year, quarter)
    if period.start > timezone.localdate():
        messages.error(request, _("%(period)s has not begun yet.") % {"period": period.label})
        return redirect("reports:intake-list")
    intake = PartyIntake.objects.filter(organization=unit, year=year, quarter=quarter).first()
    form = PartyIntakeForm(request.POST or None, instance=intake)
    if request.method == "POST" and form.is_valid():
        try:
            services.party_intake_save(
                unit=unit,
                period=period,
                new_members=form.cleaned_data["new_members"],
                new_young_members=form.cleaned_data["new_young_members"],
                actor=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("The Party's totals of %(unit)s for %(period)s are saved.") % {"unit": unit, "period": period.label},
            )
            return redirect("reports:intake-list")
    report = (
        Report.objects.filter(kind=ReportKind.QUARTERLY, organization=unit, period_start=period.start)
        .only("pk", "frozen_at", "status")
        .first()
    )
    return render(
        request,
        "reports/intake_edit.html",
        {
            "unit": unit,
            "period": period,
            "form": form,
            "intake": intake,
            "report": report,
            "history": history_for(intake)[:20] if intake else [],
            "list_url": reverse("reports:intake-list"),
        },
    )
