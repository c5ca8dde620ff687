"""The committee and county pages of 推优: the pipeline overview, the yearly plans and the log of
who looked at which handed-over case. Thin: scope, read through the selectors, call the services."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from functools import reduce
from operator import or_
from urllib.parse import urlencode

from auditlog.models import LogEntry
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from branches.forms import attach_service_errors
from branches.models import COMMITTEE_KINDS, STAFF_ROLES, Organization, Role, RoleAssignment, User
from branches.scope import user_scope
from branches.selectors import get_organization_for_user
from promotion import selectors, services
from promotion.models import PlanTarget, PromotionCase, PromotionPlan, Track
from promotion.plan_forms import PlanForm
from promotion.views import PAGE_SIZE

# Years offered on the overview and the plans: the pipeline's recent past and the coming plan year.
YEARS_BACK = 5


def require_staff(request: HttpRequest) -> None:
    """County and township staff (the reviewers too); everyone else, a branch secretary included, is
    refused (403)."""
    if not (request.user.is_superuser or user_scope(request.user).has_role(*STAFF_ROLES)):
        raise PermissionDenied


@login_required
@require_safe
def access_log(request: HttpRequest) -> HttpResponse:
    """Who opened which handed-over case (Party organizers' looks, recorded as accesses), for the
    cases in the staff member's scope."""
    require_staff(request)
    query = request.GET.get("q", "").strip()
    actor = request.GET.get("actor", "").strip()
    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(PromotionCase),
        action=LogEntry.Action.ACCESS,
        object_id__in=PromotionCase.objects.visible_to(request.user).values("pk"),
    ).order_by("-timestamp", "-pk")
    if query:
        entries = entries.filter(object_repr__icontains=query)
    if actor:
        entries = entries.filter(Q(actor__username__iexact=actor) | Q(actor__full_name__icontains=actor))
    entries = entries.select_related("actor").prefetch_related(
        Prefetch(
            "actor__roles",
            queryset=RoleAssignment.objects.active_on()
            .filter(role=Role.PARTY_ORGANIZER)
            .select_related("party_organization"),
            to_attr="party_roles",
        )
    )
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "promotion/county/access_log.html",
        {
            "page": page,
            "query": query,
            "actor": actor,
            "query_string": urlencode({k: v for k, v in {"q": query, "actor": actor}.items() if v}),
        },
    )


def _years(today: date) -> range:
    """The years the overview and the plans offer, latest first."""
    return range(today.year + 1, today.year - YEARS_BACK - 1, -1)


def _plan_editable(year: int, today: date) -> bool:
    """Plans are made and corrected for last year, this year and next year; earlier ones stay as left."""
    return today.year - 1 <= year <= today.year + 1


def _year(request: HttpRequest, today: date) -> int:
    """The year asked for, if it is one the pages offer; this year otherwise."""
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        return today.year
    return year if year in _years(today) else today.year


def _overview_units(user: User) -> list[Organization]:
    """One row per unit directly under the committees the user manages: the county's township-level
    committees (and the units directly under the county) for county staff, the township's general
    branches and branches for township staff."""
    units = Organization.objects.active().order_by("path")
    if user.is_superuser:
        return list(units.filter(depth=2))
    children = [
        Q(path__startswith=parent, depth=len(parent) // Organization.steplen + 1)
        for parent in user_scope(user).managed_paths
    ]
    return list(units.filter(reduce(or_, children))) if children else []


@login_required
@require_safe
def overview(request: HttpRequest) -> HttpResponse:
    """The pipeline at a glance (推优总览): open cases by stage and unit, time in stage, overdue reports,
    and the year's funnel against the plans."""
    require_staff(request)
    today = timezone.localdate()
    year = _year(request, today)
    units = _overview_units(request.user)
    data = selectors.county_overview(units, year=year, day=today)
    return render(
        request,
        "promotion/county/overview.html",
        {
            "overview": data,
            "year": year,
            "years": _years(today),
            "stage_rows": [(row, [(stage, row.counts[stage]) for stage, _label in data.stages]) for row in data.rows],
            "totals": [data.totals[stage] for stage, _label in data.stages],
            "grand_total": sum(row.total for row in data.rows),
            "overdue_total": sum(row.overdue_reports for row in data.rows),
            "plans": _plan_totals(list({item.committee: None for item in data.plan}), data.plan),
        },
    )


def _plan_totals(
    committees: list[Organization], progress: list[selectors.PlanProgress]
) -> list[tuple[Organization, list[tuple[str, int, int]]]]:
    """Per committee, per track: the plan's targets added up, and what was recommended against them."""
    sums: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
    for item in progress:
        sums[(item.committee.pk, item.track)][0] += item.target
        sums[(item.committee.pk, item.track)][1] += item.actual
    return [
        (committee, [(Track(track).label, *sums[(committee.pk, track)]) for track in Track.values])
        for committee in committees
    ]


def _plan_committees(user: User) -> list[Organization]:
    """The township-level committees whose plans the user keeps: those they manage."""
    return list(Organization.objects.manageable_by(user).active().filter(kind__in=COMMITTEE_KINDS).order_by("path"))


@login_required
@require_safe
def plan_list(request: HttpRequest) -> HttpResponse:
    """The year's plan of each committee the user manages, with its totals against what was done."""
    require_staff(request)
    today = timezone.localdate()
    year = _year(request, today)
    committees = _plan_committees(request.user)
    planned = set(PromotionPlan.objects.filter(committee__in=committees, year=year).values_list("committee", flat=True))
    progress = selectors.plan_progress(committees, year)
    rows = [(committee, committee.pk in planned, tracks) for committee, tracks in _plan_totals(committees, progress)]
    return render(
        request,
        "promotion/county/plan_list.html",
        {"rows": rows, "year": year, "years": _years(today), "editable": _plan_editable(year, today)},
    )


@login_required
def plan_edit(request: HttpRequest, committee_pk: int, year: int) -> HttpResponse:
    """A committee's plan for a year: a target per unit under it and per track, with progress so far."""
    committee = get_organization_for_user(request.user, committee_pk, manage=True)
    if committee.kind not in COMMITTEE_KINDS:
        raise Http404
    today = timezone.localdate()
    if not _plan_editable(year, today):
        raise Http404
    plan = PromotionPlan.objects.filter(committee=committee, year=year).first()
    units = list(Organization.objects.subtree_of([committee.path]).branches().active().order_by("path"))
    initial = {(t.organization_id, t.track): t.target for t in PlanTarget.objects.filter(plan=plan)} if plan else {}
    form = PlanForm(
        request.POST or None, units=units, initial_targets=initial, initial={"note": plan.note if plan else ""}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.plan_save(
                committee=committee,
                year=year,
                targets=form.targets(),
                note=form.cleaned_data["note"],
                actor=request.user,
            )
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("The plan has been saved."))
            return redirect(f"{reverse('promotion:plans')}?year={year}")
    progress = selectors.plan_progress([committee], year)
    actual = {(item.organization.pk, item.track): item.actual for item in progress}
    return render(
        request,
        "promotion/county/plan_form.html",
        {
            "committee": committee,
            "year": year,
            "form": form,
            "plan": plan,
            # Each box with what was recommended so far against its target (units with a target only).
            "rows": [
                (unit, [(box, actual.get((unit.pk, t))) for box, t in zip(boxes, Track.values, strict=True)])
                for unit, boxes in form.rows()
            ],
            "tracks": Track.choices,
        },
    )
