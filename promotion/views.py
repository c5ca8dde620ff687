"""The branch's 推优 pages: the pipeline board (推优工作台), opening a case, the case page with what may
be done now, and the recommendation form. Thin: fetch in scope, validate with a form, call a service.

Scope: a case, a round or a branch out of the user's scope is not found (404); the branch's workers
(its secretary and deputy, staff above it) act on it; anyone else who can see it gets 403."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote, urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branches.forms import attach_service_errors
from branches.models import Organization
from branches.unit_search import record_branches
from members.models import Member
from promotion import due, pdf, selectors, services, workdays
from promotion.forms import (
    CaseOpenForm,
    CommentForm,
    CultivationReportForm,
    FollowUpReportForm,
    HandOverForm,
    PartyDecisionForm,
    TalkForm,
    WithdrawForm,
)
from promotion.models import (
    CULTIVATION_STAGES,
    FOLLOW_UP_STAGES,
    OPEN_STAGES,
    Nomination,
    PromotionCase,
    Stage,
)

PAGE_SIZE = 50
# Stages a case goes through inside a round: its page links to the round for the next step.
ROUND_STAGES = frozenset({Stage.NOMINATED, Stage.VOTED, Stage.PUBLICITY})


def get_branch_for_worker(request: HttpRequest, pk: int) -> Organization:
    branch = get_object_or_404(Organization.objects.visible_to(request.user).branches(), pk=pk)
    if not services.can_work_on_branch(request.user, branch):
        raise PermissionDenied
    return branch


def get_case_for_worker(request: HttpRequest, pk: int) -> PromotionCase:
    case = get_object_or_404(
        PromotionCase.objects.visible_to(request.user).select_related("member", "branch", "party_organization"),
        pk=pk,
    )
    if not services.can_work_on_branch(request.user, case.branch):
        raise PermissionDenied  # a Party organizer reading a handed-over case has their own pages
    return case


@login_required
def branch_index(request: HttpRequest) -> HttpResponse:
    """The branches the user works on, with their open cases; one branch goes straight to its board."""
    branches = record_branches(request.user)
    if not branches.exists():
        raise PermissionDenied
    query = request.GET.get("q", "").strip()
    if query:
        branches = branches.filter(Q(name__icontains=query) | Q(code__icontains=query))
    elif len(only := list(branches[:2])) == 1:
        return redirect("promotion:board", branch_pk=only[0].pk)
    branches = branches.annotate(
        open_cases=Count("promotion_cases", filter=Q(promotion_cases__stage__in=sorted(OPEN_STAGES)))
    ).order_by("path")
    page = Paginator(branches, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "promotion/branch_index.html",
        {"page": page, "query": query, "query_string": urlencode({"q": query}) if query else ""},
    )


@login_required
def board(request: HttpRequest, branch_pk: int) -> HttpResponse:
    """The branch's pipeline: its open cases by stage, each with its next step and reports due."""
    branch = get_branch_for_worker(request, branch_pk)
    columns = selectors.branch_board(branch, timezone.localdate())
    return render(
        request,
        "promotion/board.html",
        {"branch": branch, "board": columns, "has_cases": any(column.cases for column in columns)},
    )


@login_required
def case_open(request: HttpRequest, branch_pk: int) -> HttpResponse:
    branch = get_branch_for_worker(request, branch_pk)
    roster = Member.objects.active().filter(branch=branch).order_by("name", "pk")
    form = CaseOpenForm(request.POST or None, members=roster, initial={"member": request.GET.get("member")})
    if request.method == "POST" and form.is_valid():
        try:
            case = services.case_open(actor=request.user, **form.service_arguments())
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("A case has been opened for %(name)s.") % {"name": case.member.name})
            return redirect("promotion:case", pk=case.pk)
    return render(request, "promotion/case_open.html", {"form": form, "branch": branch})


@dataclass(frozen=True)
class CaseAction:
    """One thing the branch may do on a case page: its form, the service it calls and when it is offered.

    `transitions` name the case's transitions (services.next_actions) that make the action available;
    actions without transitions (reports, talks) are offered in `stages`."""

    title: Promise
    form_class: type[forms.Form]
    done: Promise
    transitions: frozenset[str] = frozenset()
    stages: frozenset[str] = frozenset()
    danger: bool = False


CASE_ACTIONS: dict[str, CaseAction] = {
    "cultivation-report": CaseAction(
        gettext_lazy("File the quarterly cultivation report"),
        CultivationReportForm,
        gettext_lazy("The cultivation report has been filed."),
        stages=CULTIVATION_STAGES,
    ),
    "follow-up-report": CaseAction(
        gettext_lazy("File the monthly follow-up report"),
        FollowUpReportForm,
        gettext_lazy("The follow-up report has been filed."),
        stages=FOLLOW_UP_STAGES,
    ),
    "talk": CaseAction(
        gettext_lazy("Record a talk"), TalkForm, gettext_lazy("The talk has been recorded."), stages=OPEN_STAGES
    ),
    "resubmit": CaseAction(
        gettext_lazy("Resubmit for review"),
        CommentForm,
        gettext_lazy("The case has been submitted for review again."),
        transitions=frozenset({"submit_for_review"}),
    ),
    "hand-over": CaseAction(
        gettext_lazy("Hand over to the Party organization"),
        HandOverForm,
        gettext_lazy("The case has been handed over to the Party organization."),
        transitions=frozenset({"hand_over"}),
    ),
    "party-decision": CaseAction(
        gettext_lazy("Record the Party's decision"),
        PartyDecisionForm,
        gettext_lazy("The Party's decision has been recorded."),
        transitions=frozenset(services.PARTY_DECISIONS.values()),
    ),
    "withdraw": CaseAction(
        gettext_lazy("Withdraw the case"),
        WithdrawForm,
        gettext_lazy("The case has been withdrawn."),
        transitions=frozenset({"withdraw"}),
        danger=True,
    ),
}


@dataclass(frozen=True)
class StepPage:
    """A step of the case page with a page of its own (promotion/case_rules_views.py): offered, like the
    actions above, when services.next_actions lists its transition (the transition table's stage guard
    and the user's role), never by a stage named in a template."""

    transition: str
    url_name: str
    title: Promise


STEP_PAGES: dict[str, StepPage] = {
    "back-to-cultivation": StepPage(
        "back_to_cultivation", "promotion:case-back-to-cultivation", gettext_lazy("Take back to cultivation")
    ),
}


def available_step_pages(case: PromotionCase, transitions: list[str]) -> list[tuple[str, str, StepPage]]:
    """(name, URL, step) of the step pages offered on the case now."""
    return [
        (name, reverse(step.url_name, args=[case.pk]), step)
        for name, step in STEP_PAGES.items()
        if step.transition in transitions
    ]


def available_actions(case: PromotionCase, transitions: list[str]) -> list[str]:
    return [
        name
        for name, action in CASE_ACTIONS.items()
        if case.stage in action.stages or action.transitions.intersection(transitions)
    ]


def _action_form(request: HttpRequest, name: str, case: PromotionCase, transitions: list[str]) -> forms.Form:
    data = request.POST if request.method == "POST" else None
    if name == "hand-over":
        return HandOverForm(
            data,
            user=request.user,
            case=case,
            initial={"party_organization": services.paired_party_organization(case.branch)},
        )
    if name == "party-decision":
        decisions = [(d, services.ACTION_LABELS[t]) for d, t in services.PARTY_DECISIONS.items() if t in transitions]
        return PartyDecisionForm(data, decisions=decisions)
    if name == "cultivation-report":
        year, quarter = workdays.quarter_of(_first_missing_period(case, "cultivation"))
        return CultivationReportForm(data, initial={"year": year, "quarter": quarter})
    if name == "follow-up-report":
        return FollowUpReportForm(data, initial={"month": _first_missing_period(case, "follow_up")})
    return CASE_ACTIONS[name].form_class(data)


def _first_missing_period(case: PromotionCase, kind: str) -> date:
    """The period a new report most likely covers: the earliest one missing (as the case page lists
    them), or the one under way when none is."""
    today = timezone.localdate()
    missing = [report.period for report in _due(case, today) if report.kind == kind]
    return missing[0] if missing else today


def _due(case: PromotionCase, day: date) -> list[due.DueReport]:
    """The reports the case owes on `day` (promotion/due.py's rule, as the reminders say), oldest first;
    the case as the page read it (with its member)."""
    return due.due_reports(PromotionCase.objects.filter(pk=case.pk), day, loaded=[case]).get(case.pk, [])


def _run_action(name: str, case: PromotionCase, data: dict[str, Any], actor) -> list[str]:
    """Call the action's service; returns warnings to show (the Party's time rules)."""
    if name == "cultivation-report":
        services.cultivation_report_file(case=case, actor=actor, **data)
    elif name == "follow-up-report":
        services.follow_up_report_file(case=case, actor=actor, **data)
    elif name == "talk":
        services.talk_record(case=case, actor=actor, **data)
    elif name == "resubmit":
        services.case_resubmit(case=case, actor=actor, comment=data["comment"])
    elif name == "hand-over":
        services.case_hand_over(case=case, actor=actor, **data)
    elif name == "party-decision":
        return services.case_record_party_decision(case=case, actor=actor, **data)
    elif name == "withdraw":
        services.case_withdraw(case=case, actor=actor, reason=data["reason"])
    return []


@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_case_for_worker(request, pk)
    transitions = services.next_actions(case, request.user)
    listed = Nomination.objects.listed().filter(case=case).select_related("round").order_by("-pk").first()
    return render(
        request,
        "promotion/case_detail.html",
        {
            "case": case,
            "member": case.member,
            "timeline": selectors.case_timeline(case),
            "actions": [(name, CASE_ACTIONS[name]) for name in available_actions(case, transitions)],
            "step_pages": available_step_pages(case, transitions),
            # The round the case is going through, for the steps taken there (vote, publicity…).
            "current_round": listed.round if listed and case.stage in ROUND_STAGES else None,
            "due": [report.label for report in _due(case, timezone.localdate())],
            "may_print": pdf.may_print(case),
            # Reviewers (staff of the committees above) decide on the review page.
            "review_url": reverse("promotion:review-case", args=[case.pk])
            if services.REVIEW_TRANSITIONS.intersection(transitions)
            else "",
        },
    )


@login_required
def case_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    case = get_case_for_worker(request, pk)
    transitions = services.next_actions(case, request.user)
    if action not in available_actions(case, transitions):
        messages.error(request, _("This cannot be done on the case at its current stage."))
        return redirect("promotion:case", pk=case.pk)
    form = _action_form(request, action, case, transitions)
    if request.method == "POST" and form.is_valid():
        data = {key: value for key, value in form.cleaned_data.items() if key != "confirm"}
        try:
            warnings = _run_action(action, case, data, request.user)
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, str(CASE_ACTIONS[action].done))
            for warning in warnings:
                messages.warning(request, warning)
            return redirect("promotion:case", pk=case.pk)
    return render(
        request,
        "promotion/case_action.html",
        {"case": case, "form": form, "action": CASE_ACTIONS[action], "action_name": action},
    )


@login_required
def case_form_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The recommendation form (推优表) to print and sign, once the committee above approved the case."""
    case = get_case_for_worker(request, pk)
    if not pdf.may_print(case):
        messages.error(
            request, _("The recommendation form can be printed once the committee above has approved the case.")
        )
        return redirect("promotion:case", pk=case.pk)
    response = HttpResponse(pdf.render_recommendation_pdf(case), content_type="application/pdf")
    filename = quote(_("Recommendation form %(name)s.pdf") % {"name": case.member.name})
    # inline: the browser shows it ready to print; the name is kept when saved.
    response["Content-Disposition"] = f"inline; filename*=UTF-8''{filename}"
    response["Cache-Control"] = "no-store"
    return response
