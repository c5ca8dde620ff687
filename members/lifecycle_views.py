"""Pages of the yearly work on members: registration and evaluation branch by branch, the county's
view of which branches are done, leaving and reinstatement, and the over-age list."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from branches import unit_search
from branches.forms import attach_service_errors
from branches.models import Organization
from members import lifecycle, selectors
from members.forms import LeaveForm, ReinstateForm
from members.models import Evaluation, EvaluationGrade, Member, Registration
from members.services import may_edit_members_in


def _year(request: HttpRequest) -> int:
    today = timezone.localdate()
    try:
        year = int(request.GET.get("year") or request.POST.get("year") or today.year)
    except ValueError:
        return today.year
    return year if 2000 <= year <= today.year + 1 else today.year


def _get_branch_for_user(request: HttpRequest, pk: int) -> Organization:
    branch = get_object_or_404(unit_search.record_branches(request.user), pk=pk)
    if not may_edit_members_in(request.user, branch):
        raise PermissionDenied
    return branch


@login_required
def registration_overview(request: HttpRequest) -> HttpResponse:
    """Branch by branch: active members, registered this year, and who is still missing."""
    branches = unit_search.record_branches(request.user)
    if not branches.exists():
        raise PermissionDenied
    year = _year(request)
    registered = Registration.objects.filter(member=OuterRef("pk"), year=year)
    rows = (
        Member.objects.active()
        .filter(branch__in=branches)
        .annotate(is_registered=Exists(registered))
        .values("branch")
        .annotate(active=Count("pk"), registered=Count("pk", filter=Q(is_registered=True)))
        .order_by()
    )
    counts = {row["branch"]: row for row in rows}
    table = [
        (branch, counts.get(branch.pk, {}).get("active", 0), counts.get(branch.pk, {}).get("registered", 0))
        for branch in branches.order_by("path")
    ]
    show = request.GET.get("show", "")
    if show == "missing":
        table = [row for row in table if row[2] < row[1]]
    page = Paginator(table, 100).get_page(request.GET.get("page"))
    done = sum(1 for _branch, active, registered in table if active and registered == active)
    return render(
        request,
        "members/registration_overview.html",
        {
            "page": page,
            "year": year,
            "done": done,
            "total": len(table),
            "show": show,
            "query_string": f"year={year}&show={show}",
        },
    )


@login_required
def registration_branch(request: HttpRequest, branch_pk: int) -> HttpResponse:
    branch = _get_branch_for_user(request, branch_pk)
    year = _year(request)
    if request.method == "POST":
        try:
            plan = lifecycle.registration_register_branch(actor=request.user, branch=branch, year=year)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _("%(n)d members registered for %(year)d; %(exceptions)d could not be.")
                % {"n": len(plan.eligible), "year": year, "exceptions": len(plan.exceptions)},
            )
        return redirect(f"{request.path}?year={year}")
    plan = lifecycle.registration_plan(branch, year)
    return render(request, "members/registration_branch.html", {"branch": branch, "year": year, "plan": plan})


@login_required
def evaluation_branch(request: HttpRequest, branch_pk: int) -> HttpResponse:
    """The whole branch's grades for a year on one page."""
    branch = _get_branch_for_user(request, branch_pk)
    year = _year(request)
    members = list(lifecycle.evaluated_members(branch).order_by("name", "pk"))
    current = dict(Evaluation.objects.filter(member__in=members, year=year).values_list("member_id", "grade"))
    error = ""
    if request.method == "POST":
        grades = {
            m.pk: request.POST[f"grade-{m.pk}"]
            for m in members
            if request.POST.get(f"grade-{m.pk}") in EvaluationGrade.values
        }
        try:
            lifecycle.evaluation_record_branch(actor=request.user, branch=branch, year=year, grades=grades)
        except ValidationError as exc:
            error = " ".join(exc.messages)
            current.update(grades)  # show what was entered, next to the message
        else:
            messages.success(request, _("The evaluation has been saved."))
            return redirect(f"{request.path}?year={year}")
    rows = [(m, current.get(m.pk, "")) for m in members]
    return render(
        request,
        "members/evaluation_branch.html",
        {
            "branch": branch,
            "year": year,
            "rows": rows,
            "grades": EvaluationGrade.choices,
            "error": error,
            "share": round(settings.LEAGUE_RULES["excellent_share"] * 100),
            "follow_up_days": lifecycle.UNQUALIFIED_FOLLOW_UP_DAYS,
        },
    )


@login_required
def member_leave(request: HttpRequest, pk: int) -> HttpResponse:
    member = selectors.get_member_for_user(request.user, pk)
    if not may_edit_members_in(request.user, member.branch):
        raise PermissionDenied
    form = LeaveForm(request.POST or None, initial={"status": request.GET.get("status")})
    if request.method == "POST" and form.is_valid():
        try:
            lifecycle.member_leave(actor=request.user, member=member, **form.cleaned_data)
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("%(name)s's leaving has been recorded.") % {"name": member.name})
            return redirect("members:member", pk=member.pk)
    return render(request, "members/member_action.html", {"form": form, "member": member, "title": _("Record leaving")})


@login_required
def member_reinstate(request: HttpRequest, pk: int) -> HttpResponse:
    member = selectors.get_member_for_user(request.user, pk)
    if not may_edit_members_in(request.user, member.branch):
        raise PermissionDenied
    form = ReinstateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            lifecycle.member_reinstate(actor=request.user, member=member, **form.cleaned_data)
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("%(name)s is an active member again.") % {"name": member.name})
            return redirect("members:member", pk=member.pk)
    return render(
        request, "members/member_action.html", {"form": form, "member": member, "title": _("Reinstate the member")}
    )


@login_required
def over_age_list(request: HttpRequest) -> HttpResponse:
    """Members without a League post who reach the leaving age within the notice period, or have."""
    if not unit_search.record_branches(request.user).exists():
        raise PermissionDenied
    members = lifecycle.over_age_due(Member.objects.visible_to(request.user).select_related("branch"))
    page = Paginator(members, 50).get_page(request.GET.get("page"))
    return render(request, "members/over_age.html", {"page": page, "today": timezone.localdate()})
