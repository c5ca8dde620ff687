"""Pages of branch life: a unit's activities (list, calendar, record, detail, edit, attachments),
the completeness table for township and county staff, and the county's themed-day topics.

Scope: activities are records about people (attendance), so they are seen through League roles
only (record scope, as for members): out of scope is 404, the same as missing — also for Party
organizers and the instance-wide administrators. Whoever may see a unit's records keeps them (its
secretary and deputy, the staff over it), so within scope every activity page is open; the staff
pages (completeness table, topics) are 403 for the others.
"""

from __future__ import annotations

import io
from datetime import date
from urllib.parse import quote, urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from branches import activity_selectors as selectors
from branches import activity_services as services
from branches.activity_forms import (
    ActivityFilterForm,
    ActivityForm,
    AttachmentsForm,
    AttendanceForm,
    CompletenessFilterForm,
    ThemedDayTopicForm,
    VoidForm,
)
from branches.audit import history_for
from branches.committee_selectors import TermStatus
from branches.forms import attach_service_errors
from branches.models import (
    COMMITTEE_KINDS,
    STAFF_ROLES,
    Activity,
    ActivityAttachment,
    ActivityKind,
    Organization,
    Role,
    ThemedDayTopic,
    subtree_filter,
)
from branches.scope import user_scope
from branches.selectors import get_unit_for_records
from branches.views import _breadcrumbs
from members.exports import neutralize

PAGE_SIZE = 20
COMPLETENESS_PAGE_SIZE = 50


@login_required
def activities_home(request: HttpRequest) -> HttpResponse:
    """The navigation's entry: staff review the completeness table, a secretary their branch — or,
    keeping more than one, chooses which."""
    scope = user_scope(request.user)
    if request.user.is_superuser or scope.has_role(*STAFF_ROLES):
        return redirect("branches:activity-completeness")
    units = {
        a.organization.pk: a.organization
        for a in scope.assignments
        if a.role == Role.BRANCH_SECRETARY and a.organization is not None
    }
    if not units:
        raise PermissionDenied
    if len(units) == 1:
        return redirect("branches:unit-activities", pk=next(iter(units)))
    return render(
        request,
        "branches/activities/choose.html",
        {"units": sorted(units.values(), key=lambda unit: unit.path)},
    )


@login_required
def unit_activity_list(request: HttpRequest, pk: int) -> HttpResponse:
    unit = get_unit_for_records(request.user, pk)
    today = timezone.localdate()
    filters = ActivityFilterForm(request.GET or None)
    activities = (
        Activity.objects.filter(organization=unit)  # voided records too: struck through, with the reason
        .select_related("themed_day_topic")
        .annotate(attachment_count=Count("attachments"))
        .order_by("-held_on", "-pk")
    )
    kept = {}
    if filters.is_valid():
        if filters.cleaned_data["kind"]:
            activities = activities.filter(kind=filters.cleaned_data["kind"])
        if filters.cleaned_data["year"]:
            activities = activities.filter(held_on__year=filters.cleaned_data["year"])
        kept = {key: value for key, value in filters.cleaned_data.items() if value}
    page = Paginator(activities, PAGE_SIZE).get_page(request.GET.get("page"))
    this_month = None
    if selectors.keeps_roster(unit):
        month = selectors.month_start(today)
        rows = selectors.branch_completeness(Organization.objects.filter(pk=unit.pk), month, month, today=today).rows
        this_month = rows[0].cells[0] if rows else None
    return render(
        request,
        "branches/activities/list.html",
        {
            "unit": unit,
            "breadcrumbs": _breadcrumbs(request, unit, include_self=True),
            "filters": filters,
            "page": page,
            "query_string": urlencode(kept),
            "this_month": this_month,
            "topic": this_month.topic if this_month else selectors.current_topic(unit, today),
            "may_record": unit.is_active,
            "late_days": selectors.late_days(),
        },
    )


def _month_param(value: str | None, today: date) -> date:
    try:
        return date.fromisoformat(f"{value}-01")
    except (TypeError, ValueError):
        return selectors.month_start(today)


@login_required
def unit_activity_calendar(request: HttpRequest, pk: int) -> HttpResponse:
    unit = get_unit_for_records(request.user, pk)
    month = _month_param(request.GET.get("month"), timezone.localdate())
    weeks = selectors.month_calendar(unit, month)
    return render(
        request,
        "branches/activities/calendar.html",
        {
            "unit": unit,
            "breadcrumbs": _breadcrumbs(request, unit, include_self=True),
            "month": month,
            "weeks": weeks,
            "has_activities": any(day.activities for week in weeks for day in week),
            "weekdays": [WEEKDAYS_ABBR[day] for day in range(7)],
            "previous": selectors.add_months(month, -1),
            "next": selectors.add_months(month, 1),
            "may_record": unit.is_active,
        },
    )


def _refuse_dissolved(request: HttpRequest, unit: Organization) -> HttpResponse:
    messages.error(request, _("%(unit)s has been dissolved; its record can no longer change.") % {"unit": unit})
    return redirect("branches:unit-activities", pk=unit.pk)


def _activity_form_page(request: HttpRequest, unit: Organization, activity: Activity | None) -> HttpResponse:
    """The record form, new or edited: the activity's fields, the roster, and files, on one page."""
    today = timezone.localdate()
    topics = selectors.topics_for_recording(unit, today)
    if activity is not None and activity.themed_day_topic_id:
        topics = topics | ThemedDayTopic.objects.filter(pk=activity.themed_day_topic_id)
    members = selectors.roster(unit, activity)
    kept = None
    if activity is not None:
        kept = {row.member_id: (row.present, row.absence_reason) for row in activity.attendance.all()}
    initial = {}
    if activity is None:
        topic = next((t for t in topics if t.month == selectors.month_start(today)), None)
        initial = {
            "kind": ActivityKind.THEMED_DAY,
            "held_on": today,
            "place": selectors.last_place(unit),
            "themed_day_topic": topic,
        }
    form = ActivityForm(
        request.POST or None,
        request.FILES or None,
        instance=activity,
        initial=initial,
        topics=topics,
        with_roster=selectors.keeps_roster(unit),
    )
    attendance = AttendanceForm(request.POST or None, members=members, kept=kept)
    if request.method == "POST":
        form_ok, attendance_ok = form.is_valid(), attendance.is_valid()
        if form_ok and attendance_ok:
            arguments = {
                "actor": request.user,
                "data": form.cleaned_data,
                "attendance": attendance.cleaned_data["attendance"],
                "files": form.cleaned_data["files"],
            }
            try:
                if activity is None:
                    saved = services.activity_record(organization=unit, **arguments)
                else:
                    saved = services.activity_update(activity=activity, **arguments)
            except ValidationError as exc:
                if hasattr(exc, "error_dict") and "attendance" in exc.error_dict:
                    attendance.add_error(None, exc.error_dict.pop("attendance"))
                attach_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("The activity has been recorded.") if activity is None else _("The changes have been saved."),
                )
                warning = selectors.quorum_warning(saved)
                if warning:
                    messages.warning(request, warning)
                return redirect("branches:activity", pk=saved.pk)
    if activity is not None:
        activity.refresh_from_db()  # the bound form wrote its input onto the instance
    rows = attendance.rows()
    return render(
        request,
        "branches/activities/form.html",
        {
            "unit": unit,
            "activity": activity,
            "breadcrumbs": _breadcrumbs(request, unit, include_self=True),
            "form": form,
            "attendance": attendance,
            "rows": [r for r in rows if r.listed or activity is None],
            "unlisted_rows": [r for r in rows if not r.listed] if activity is not None else [],
            "with_roster": selectors.keeps_roster(unit),
            "committee_kind": ActivityKind.COMMITTEE_MEETING,
            "themed_kind": ActivityKind.THEMED_DAY,
        },
    )


@login_required
def activity_create(request: HttpRequest, pk: int) -> HttpResponse:
    unit = get_unit_for_records(request.user, pk)
    if not unit.is_active:
        return _refuse_dissolved(request, unit)
    return _activity_form_page(request, unit, None)


def _refuse_voided(request: HttpRequest, activity: Activity) -> HttpResponse:
    messages.error(request, _("This record has been voided; it can no longer change."))
    return redirect("branches:activity", pk=activity.pk)


@login_required
def activity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    activity = selectors.get_activity_for_user(request.user, pk)
    unit = activity.organization
    if not unit.is_active:
        return _refuse_dissolved(request, unit)
    if activity.is_voided:
        return _refuse_voided(request, activity)
    return _activity_form_page(request, unit, activity)


@login_required
def activity_void(request: HttpRequest, pk: int) -> HttpResponse:
    """Asks for the reason and a confirmation (GET), voids on POST."""
    activity = selectors.get_activity_for_user(request.user, pk)
    unit = activity.organization
    if not unit.is_active:
        return _refuse_dissolved(request, unit)
    if activity.is_voided:
        return _refuse_voided(request, activity)
    if not services.may_record_activities(request.user, unit):
        raise PermissionDenied
    form = VoidForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.activity_void(activity=activity, reason=form.cleaned_data["reason"], actor=request.user)
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("The record has been voided."))
            return redirect("branches:unit-activities", pk=unit.pk)
    return render(
        request,
        "branches/activities/void.html",
        {
            "activity": activity,
            "unit": unit,
            "breadcrumbs": _breadcrumbs(request, unit, include_self=True),
            "form": form,
        },
    )


@login_required
def activity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    activity = selectors.get_activity_for_user(request.user, pk)
    unit = activity.organization
    attendance = list(activity.attendance.select_related("member").order_by("-present", "member__name"))
    may_edit = unit.is_active and not activity.is_voided
    return render(
        request,
        "branches/activities/detail.html",
        {
            "unit": unit,
            "activity": activity,
            "breadcrumbs": _breadcrumbs(request, unit, include_self=True),
            "present": [row for row in attendance if row.present],
            "absent": [row for row in attendance if not row.present],
            "attachments": list(activity.attachments.all()),
            "may_edit": may_edit,
            "attachments_form": AttachmentsForm() if may_edit else None,
            "history": list(history_for(activity).select_related("content_type")[:50]),  # one query for all
            "quorum_warning": selectors.quorum_warning(activity),
            "recorded_late": selectors.recorded_late(activity),
            "late_days": selectors.late_days(),
        },
    )


@login_required
@require_POST
def activity_attachments_add(request: HttpRequest, pk: int) -> HttpResponse:
    activity = selectors.get_activity_for_user(request.user, pk)
    form = AttachmentsForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            names = services.activity_attachments_add(
                activity=activity, actor=request.user, files=form.cleaned_data["files"]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Attached: %(names)s.") % {"names": "、".join(names)})
    else:
        messages.error(request, " ".join(message for errors in form.errors.values() for message in errors))
    return redirect("branches:activity", pk=activity.pk)


def _get_attachment_for_user(request: HttpRequest, pk: int) -> ActivityAttachment:
    return get_object_or_404(
        ActivityAttachment.objects.filter(activity__in=Activity.objects.visible_to(request.user)).select_related(
            "activity__organization"
        ),
        pk=pk,
    )


@login_required
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    """The file, only to those who may see its activity. Photos open in the browser; PDFs are
    downloaded (a PDF viewer on our origin would run its scripts); nothing is sniffed or cached."""
    attachment = _get_attachment_for_user(request, pk)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(
        handle,
        content_type=attachment.content_type,
        as_attachment=not attachment.content_type.startswith("image/"),
        filename=attachment.name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def attachment_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """Asks first (GET), removes on POST."""
    attachment = _get_attachment_for_user(request, pk)
    activity = attachment.activity
    if request.method == "POST":
        try:
            services.activity_attachment_remove(attachment=attachment, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("%(name)s has been removed.") % {"name": attachment.name})
        return redirect("branches:activity", pk=activity.pk)
    return render(
        request,
        "branches/activities/attachment_remove.html",
        {
            "attachment": attachment,
            "activity": activity,
            "unit": activity.organization,
            "breadcrumbs": _breadcrumbs(request, activity.organization, include_self=True),
        },
    )


# --- the completeness table ----------------------------------------------------------------------


def _require_staff(request: HttpRequest) -> None:
    if not (request.user.is_superuser or user_scope(request.user).has_role(*STAFF_ROLES)):
        raise PermissionDenied


def _completeness(request: HttpRequest):
    """The filtered table: the period (default: this quarter), sector and committee from the query."""
    _require_staff(request)
    today = timezone.localdate()
    scope = user_scope(request.user)
    committees = Organization.objects.filter(kind__in=COMMITTEE_KINDS).active()
    if not request.user.is_superuser:
        committees = committees.filter(subtree_filter(scope.managed_paths))
    defaults = {"year": today.year, "quarter": selectors.quarter_of(today)}
    form = CompletenessFilterForm({**defaults, **request.GET.dict()}, committees=committees)
    choice = form.cleaned_data if form.is_valid() else {**defaults, "sector": "", "township": None, "show": ""}
    units = selectors.completeness_units(request.user)
    if choice.get("sector"):
        units = units.filter(sector=choice["sector"])
    if choice.get("township"):
        units = units.filter(path__startswith=choice["township"].path)
    first, last = selectors.period_months(choice["year"], choice["quarter"])
    table = selectors.branch_completeness(units, first, last, today=today)
    rows = table.rows
    if choice.get("show") == "silent":
        rows = [row for row in rows if row.silent]
    elif choice.get("show") == "gaps":
        rows = [row for row in rows if row.missing_total]
    kept = {key: str(getattr(value, "pk", value)) for key, value in choice.items() if value not in (None, "")}
    return form, table, rows, kept


@login_required
def completeness(request: HttpRequest) -> HttpResponse:
    form, table, rows, kept = _completeness(request)
    page = Paginator(rows, COMPLETENESS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "branches/activities/completeness.html",
        {
            "form": form,
            "table": table,
            "page": page,
            "query_string": urlencode(kept),
            "may_publish_topics": selectors.staff_county(request.user) is not None,
            "late_days": selectors.late_days(),
            "committee_from_members": selectors.COMMITTEE_FROM_MEMBERS,
            "committee_kind": ActivityKind.COMMITTEE_MEETING,
            "cadences": [
                (label, [dict(ActivityKind.choices)[k] for k in table.required[cadence]])
                for cadence, label in (
                    ("monthly", _("every month")),
                    ("quarterly", _("every quarter")),
                    ("yearly", _("every year")),
                )
                if table.required[cadence]
            ],
        },
    )


@login_required
def completeness_export(request: HttpRequest) -> HttpResponse:
    """The same table as .xlsx: one row per branch; counts and rates as numbers."""
    _form, table, rows, _kept = _completeness(request)
    labels = dict(ActivityKind.choices)

    def kinds_text(kinds) -> str:
        return "、".join(str(labels[k]) for k in kinds)

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Activities"))

    def rate(value: float | None) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=value)  # a number, shown as a percentage
        cell.number_format = "0%"
        return cell

    header = [_("Branch"), _("Code"), _("Sector")]
    for month in table.months:
        header += [
            _("%(month)s held") % {"month": f"{month:%Y-%m}"},
            _("%(month)s activities") % {"month": f"{month:%Y-%m}"},
            _("%(month)s missing") % {"month": f"{month:%Y-%m}"},
            _("%(month)s attendance") % {"month": f"{month:%Y-%m}"},
            _("%(month)s recorded late") % {"month": f"{month:%Y-%m}"},
            _("%(month)s below quorum") % {"month": f"{month:%Y-%m}"},
        ]
    header += [
        _("Activities held"),
        _("Required activities missing"),
        _("Attendance rate"),
        _("Recorded late"),
        _("General meetings below quorum"),
        _("Silent"),
        _("Committee term"),
    ]
    sheet.append([str(h) for h in header])
    for row in rows:
        line: list[object] = [neutralize(row.unit.name), neutralize(row.unit.code), str(row.unit.get_sector_display())]
        for cell in row.cells:
            held = "、".join(f"{labels[k]}×{n}" for k, n in cell.held.items())
            line += [
                cell.held_total,
                neutralize(held),
                neutralize(kinds_text(cell.missing)),
                rate(cell.attendance_rate),
                cell.late,
                cell.below_quorum,
            ]
        line += [
            row.held_total,
            row.missing_total,
            rate(row.attendance_rate),
            row.late_total,
            row.below_quorum_total,
            _("yes") if row.silent else _("no"),
            str(TermStatus.LABELS[row.term_status]),
        ]
        sheet.append(line)
    output = io.BytesIO()
    workbook.save(output)
    filename = quote(f"{_('Activities')}-{table.months[0]:%Y%m}-{table.months[-1]:%Y%m}.xlsx")
    response = HttpResponse(
        output.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{filename}"
    response["Cache-Control"] = "no-store"
    return response


# --- themed-day topics ---------------------------------------------------------------------------


def _county_of_staff(request: HttpRequest) -> Organization:
    county = selectors.staff_county(request.user)
    if county is None:
        raise PermissionDenied
    return county


@login_required
def themed_topic_list(request: HttpRequest) -> HttpResponse:
    """County staff publish each month's topic with its deadline; the list shows who recorded it."""
    county = _county_of_staff(request)
    next_month = selectors.add_months(selectors.month_start(timezone.localdate()), 1)
    form = ThemedDayTopicForm(
        request.POST or None, initial={"month": next_month, "record_by": next_month.replace(day=25)}
    )
    if request.method == "POST" and form.is_valid():
        try:
            topic = services.themed_day_topic_save(actor=request.user, county=county, **form.cleaned_data)
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(
                request, _("The topic for %(month)s has been published.") % {"month": f"{topic.month:%Y-%m}"}
            )
            return redirect("branches:themed-topics")
    page = Paginator(ThemedDayTopic.objects.filter(county=county), 24).get_page(request.GET.get("page"))
    counts = selectors.topic_recording_counts(list(page.object_list))
    branch_count = Organization.objects.subtree_of([county.path]).branches().active().count()
    return render(
        request,
        "branches/activities/topics.html",
        {
            "form": form,
            "page": page,
            "rows": [(topic, *counts[topic.pk]) for topic in page.object_list],
            "branch_count": branch_count,
            "today": timezone.localdate(),
        },
    )


@login_required
def themed_topic_edit(request: HttpRequest, pk: int) -> HttpResponse:
    county = _county_of_staff(request)
    topic = get_object_or_404(ThemedDayTopic.objects.filter(county=county), pk=pk)
    form = ThemedDayTopicForm(request.POST or None, instance=topic)
    if request.method == "POST" and form.is_valid():
        try:
            services.themed_day_topic_save(actor=request.user, county=county, topic=topic, **form.cleaned_data)
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("The changes have been saved."))
            return redirect("branches:themed-topics")
    topic.refresh_from_db()
    return render(
        request,
        "branches/activities/topic_form.html",
        {"form": form, "topic": topic, "history": list(history_for(topic).select_related("content_type")[:50])},
    )
