"""A branch's recommendation rounds (推优批次): the list, a new round, and the round page with each step
in turn — the preliminary list with every nominee's eligibility explained, the opinions, the branch
general meeting's vote on one page, publicity with its objections, and the submission for review.

Every step is a service call (promotion/services.py); the pages show what the service refused."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from branches.forms import attach_service_errors
from branches.models import User
from members.models import Member
from promotion import eligibility, selectors, services, workdays
from promotion.eligibility import SHORT_WAIT_RULE, Eligibility, RuleCheck
from promotion.forms import (
    NominateForm,
    ObjectionForm,
    ObjectionResolveForm,
    OpinionForm,
    PublicityForm,
    ReasonForm,
    RoundCreateForm,
    VoteForm,
)
from promotion.models import (
    CalendarDay,
    Nomination,
    Objection,
    Opinion,
    PromotionCase,
    PromotionRound,
    RoundStage,
    Stage,
)
from promotion.selectors import Candidate
from promotion.views import PAGE_SIZE, get_branch_for_worker


def get_round_for_worker(request: HttpRequest, pk: int) -> PromotionRound:
    round_ = get_object_or_404(PromotionRound.objects.visible_to(request.user).select_related("branch"), pk=pk)
    if not services.can_work_on_branch(request.user, round_.branch):
        raise PermissionDenied
    return round_


def get_nomination_for_worker(request: HttpRequest, pk: int) -> Nomination:
    nomination = get_object_or_404(
        Nomination.objects.filter(round__in=PromotionRound.objects.visible_to(request.user)).select_related(
            "round__branch", "case__member"
        ),
        pk=pk,
    )
    if not services.can_work_on_branch(request.user, nomination.round.branch):
        raise PermissionDenied
    return nomination


@login_required
def round_list(request: HttpRequest, branch_pk: int) -> HttpResponse:
    branch = get_branch_for_worker(request, branch_pk)
    # Nominees still on the list: those taken off before the vote are kept on record but not counted.
    on_list = Count("nominations", filter=Q(nominations__removed_at__isnull=True))
    rounds = branch.promotion_rounds.annotate(nominees=on_list).order_by("-created_at", "-pk")
    page = Paginator(rounds, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "promotion/round_list.html", {"branch": branch, "page": page})


@login_required
def round_create(request: HttpRequest, branch_pk: int) -> HttpResponse:
    branch = get_branch_for_worker(request, branch_pk)
    form = RoundCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            round_ = services.round_create(actor=request.user, branch=branch, **form.cleaned_data)
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("The round %(title)s has been created.") % {"title": round_.title})
            return redirect("promotion:round", pk=round_.pk)
    return render(request, "promotion/round_form.html", {"form": form, "branch": branch})


def _nominations(round_: PromotionRound) -> list[Nomination]:
    """Every nomination of the round with its member, opinions and objections (three queries)."""
    return list(
        round_.nominations.select_related("case__member", "exception_by")
        .prefetch_related(
            Prefetch("opinions", queryset=Opinion.objects.order_by("source", "pk")),
            Prefetch("objections", queryset=Objection.objects.order_by("received_on", "pk")),
        )
        .order_by("pk")
    )


@dataclass(frozen=True)
class CandidateRow:
    """A member in the add-nominee panel: what the round's service will ask for when listing them. A
    recent Party application passes with a written reason; any other failing rule needs the county's
    exception (promotion.services.round_nominate)."""

    candidate: Candidate
    # The share cap's check for one more nominee in the branch (the same for every row): once the cap
    # is reached, listing anyone more needs the county's exception, and the row says why.
    cap_check: RuleCheck

    @property
    def member(self) -> Member:
        return self.candidate.member

    @property
    def case(self) -> PromotionCase | None:
        return self.candidate.case

    @property
    def eligibility(self) -> Eligibility:
        return self.candidate.eligibility

    @property
    def may_be_listed(self) -> bool:
        return self.candidate.may_be_listed

    @property
    def failing(self) -> list[RuleCheck]:
        return [*self.eligibility.failing, *([] if self.cap_check.ok else [self.cap_check])]

    @property
    def needs_short_wait_reason(self) -> bool:
        return any(c.rule == SHORT_WAIT_RULE for c in self.failing)

    @property
    def listable(self) -> bool:
        """Listable without an exception."""
        return self.may_be_listed and all(c.rule == SHORT_WAIT_RULE for c in self.failing)


# The stages at which each step of a round is open: the services' own guards (services.
# _require_round_stage), read here so that the page offers only what the service would accept.
ROUND_STEPS: dict[str, frozenset[str]] = {
    "nominate": frozenset({RoundStage.PRELIMINARY}),
    "open_opinions": frozenset({RoundStage.PRELIMINARY}),
    "remove_nominee": frozenset({RoundStage.PRELIMINARY, RoundStage.OPINIONS}),
    "close": frozenset({RoundStage.PRELIMINARY, RoundStage.OPINIONS}),
    "record_opinion": frozenset({RoundStage.OPINIONS}),
    "enter_vote": frozenset({RoundStage.OPINIONS}),
    "start_publicity": frozenset({RoundStage.VOTED}),
    "record_objection": frozenset({RoundStage.PUBLICITY}),
    "resolve_objection": frozenset({RoundStage.PUBLICITY}),
    "submit": frozenset({RoundStage.PUBLICITY}),
}


def round_next_actions(round: PromotionRound, user: User, *, today: date | None = None) -> dict[str, bool]:
    """What the round page offers `user` now, by step name (ROUND_STEPS): a step open at the round's
    stage, to the branch's workers; the submission only once publicity has ended (`await_publicity_end`
    until then); listing as an exception (`allow_exceptions`) to county staff only."""
    today = today or timezone.localdate()
    works = services.can_work_on_branch(user, round.branch)
    actions = {name: works and round.stage in stages for name, stages in ROUND_STEPS.items()}
    publicity_over = round.publicity_ends_on is not None and today > round.publicity_ends_on
    actions["await_publicity_end"] = actions["submit"] and not publicity_over
    actions["submit"] = actions["submit"] and publicity_over
    actions["allow_exceptions"] = actions["nominate"] and services.can_allow_exception_in(user, round.branch)
    return actions


def nominee_actions(actions: dict[str, bool], nomination: Nomination) -> dict[str, bool]:
    """The round's steps offered on one nominee: an objection only to a candidate still in publicity
    (not to one withdrawn or sent back meanwhile)."""
    return {
        "record_opinion": actions["record_opinion"],
        "remove": actions["remove_nominee"],
        "record_objection": actions["record_objection"] and nomination.case.stage == Stage.PUBLICITY,
        "resolve_objection": actions["resolve_objection"],
    }


# The add-to-list panel shows the branch's members a page at a time (a village branch has a hundred).
CANDIDATES_PAGE_SIZE = 25
# The working-day calendar the page gives the browser, to show the publicity's end as the start is
# typed: from the earliest start the service allows to well after the latest (30 days ahead, plus a
# holiday week and five working days).
CALENDAR_DAYS = 60


def working_days(start: date, end: date) -> list[date]:
    """The working days in [start, end] (workdays: weekends and recorded holidays excluded, make-up
    days included): one query."""
    exceptions = dict(CalendarDay.objects.filter(day__gte=start, day__lte=end).values_list("day", "is_working_day"))
    days = (start + timedelta(days=offset) for offset in range((end - start).days + 1))
    return [day for day in days if workdays.is_working_day(day, exceptions)]


@login_required
def round_detail(request: HttpRequest, pk: int) -> HttpResponse:
    round_ = get_round_for_worker(request, pk)
    today = timezone.localdate()
    nominations = _nominations(round_)
    actions = round_next_actions(round_, request.user, today=today)
    listed = [n for n in nominations if n.removed_at is None]
    context: dict[str, Any] = {
        "round": round_,
        "branch": round_.branch,
        "actions": actions,
        "stages": [(value, label) for value, label in RoundStage.choices if value != RoundStage.CLOSED],
        "nominations": listed,
        "nominees": [(n, nominee_actions(actions, n)) for n in listed],
        "removed": [n for n in nominations if n.removed_at is not None],
        # Opinions are asked once the list is settled: before, there is nothing to show.
        "show_opinions": round_.stage != RoundStage.PRELIMINARY,
    }
    if actions["nominate"]:
        on_list = {n.case_id for n in listed}
        active_members = Member.objects.active().filter(branch=round_.branch).count()
        # The cap is the branch's: nominees of its other round under way (the other track) count too.
        branch_listed = services.branch_nominees(round_.branch_id).count()
        cap_check = eligibility.share_cap_check(listed=branch_listed + 1, active_members=active_members)
        candidates = [
            CandidateRow(c, cap_check)
            for c in selectors.eligible_members(round_.branch, round_.track, today)
            if c.case is None or c.case.pk not in on_list  # those on this list are shown above
        ]
        page = Paginator(candidates, CANDIDATES_PAGE_SIZE).get_page(request.GET.get("page"))
        context.update(
            candidates=page.object_list,
            page=page,
            may_allow_exceptions=actions["allow_exceptions"],
            active_members=active_members,
            branch_listed=branch_listed,
            share_cap=eligibility.share_cap(active_members),
            share=round(settings.PROMOTION_RULES["share_cap"] * 100),
        )
    if actions["start_publicity"]:
        days = settings.PROMOTION_RULES["publicity_working_days"]
        earliest, latest = (
            today - timedelta(days=services.PUBLICITY_START_PAST_DAYS),
            today + timedelta(days=CALENDAR_DAYS),
        )
        calendar = working_days(earliest, latest)
        ahead = [day for day in calendar if day >= today]
        context.update(
            publicity_form=PublicityForm(initial={"starts_on": today}),
            publicity_days=days,
            publicity_ends_if_today=ahead[days - 1] if len(ahead) >= days else workdays.nth_working_day(today, days),
            # The browser counts the working days itself as the start date changes; the service
            # computes the end again when publicity starts (the server decides).
            publicity_calendar={
                "from": earliest.isoformat(),
                "to": latest.isoformat(),
                "days": days,
                "working_days": [day.isoformat() for day in calendar],
            },
        )
    return render(request, "promotion/round_detail.html", context)


def _round_step(
    request: HttpRequest, round_: PromotionRound, run: Callable[[], object], done: str, *, anchor: str = ""
) -> HttpResponse:
    """Run one step of a round posted from its page; a refusal comes back as a message on the page."""
    try:
        run()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done)
    return redirect(reverse("promotion:round", args=[round_.pk]) + anchor)


@login_required
@require_POST
def round_nominate(request: HttpRequest, pk: int) -> HttpResponse:
    round_ = get_round_for_worker(request, pk)
    form = NominateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a member to list."))
        return redirect("promotion:round", pk=round_.pk)
    case = get_object_or_404(PromotionCase.objects.filter(branch=round_.branch), pk=form.cleaned_data["case"])
    return _round_step(
        request,
        round_,
        lambda: services.round_nominate(
            round=round_,
            case=case,
            actor=request.user,
            short_wait_reason=form.cleaned_data["short_wait_reason"],
            exception_reason=form.cleaned_data["exception_reason"],
        ),
        _("%(name)s is on the preliminary list.") % {"name": case.member.name},
        anchor="#nominees",
    )


def _step_page(
    request: HttpRequest,
    round_: PromotionRound,
    form: forms.Form,
    run: Callable[[dict[str, Any]], object],
    *,
    title: str,
    done: str,
    anchor: str = "",
    **context: Any,
) -> HttpResponse:
    """A step with a form of its own page (taking a nominee off, an opinion, an objection): the form,
    then the service; a refusal is shown on the form."""
    if request.method == "POST" and form.is_valid():
        try:
            run(form.cleaned_data)
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect(reverse("promotion:round", args=[round_.pk]) + anchor)
    return render(
        request,
        "promotion/round_step.html",
        {"round": round_, "branch": round_.branch, "form": form, "title": title, **context},
    )


@login_required
def nomination_remove(request: HttpRequest, pk: int) -> HttpResponse:
    nomination = get_nomination_for_worker(request, pk)
    name = nomination.case.member.name
    return _step_page(
        request,
        nomination.round,
        ReasonForm(request.POST or None),
        lambda data: services.round_remove_nominee(nomination=nomination, actor=request.user, reason=data["reason"]),
        title=_("Take %(name)s off the list") % {"name": name},
        done=_("%(name)s has been taken off the list.") % {"name": name},
        anchor="#nominees",
        nomination=nomination,
        intro=_("The case goes back to cultivation; the opinions already recorded are kept."),
        intro_kind="warning",
        danger=True,
    )


@login_required
def nomination_opinion(request: HttpRequest, pk: int) -> HttpResponse:
    nomination = get_nomination_for_worker(request, pk)
    return _step_page(
        request,
        nomination.round,
        OpinionForm(request.POST or None),
        lambda data: services.opinion_record(nomination=nomination, actor=request.user, **data),
        title=_("Record an opinion on %(name)s") % {"name": nomination.case.member.name},
        done=_("The opinion has been recorded."),
        anchor=f"#nomination-{nomination.pk}",
        nomination=nomination,
        intro=_("Ask Party members, League members and the Party organization."),
        recorded=[
            f"{opinion.get_source_display()}：{opinion.content}"
            for opinion in nomination.opinions.order_by("source", "pk")
        ],
    )


@login_required
def objection_record(request: HttpRequest, pk: int) -> HttpResponse:
    nomination = get_nomination_for_worker(request, pk)
    return _step_page(
        request,
        nomination.round,
        ObjectionForm(request.POST or None, initial={"received_on": timezone.localdate()}),
        lambda data: services.objection_record(nomination=nomination, actor=request.user, **data),
        title=_("Record an objection to %(name)s") % {"name": nomination.case.member.name},
        done=_("The objection has been recorded; resolve it before the round is submitted."),
        anchor=f"#nomination-{nomination.pk}",
        nomination=nomination,
    )


@login_required
def objection_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    objection = get_object_or_404(
        Objection.objects.filter(nomination__round__in=PromotionRound.objects.visible_to(request.user)).select_related(
            "nomination__round__branch", "nomination__case__member"
        ),
        pk=pk,
    )
    nomination = objection.nomination
    if not services.can_work_on_branch(request.user, nomination.round.branch):
        raise PermissionDenied
    return _step_page(
        request,
        nomination.round,
        ObjectionResolveForm(request.POST or None),
        lambda data: services.objection_resolve(objection=objection, actor=request.user, **data),
        title=_("Resolve the objection to %(name)s") % {"name": nomination.case.member.name},
        done=_("The objection has been resolved."),
        anchor=f"#nomination-{nomination.pk}",
        nomination=nomination,
        recorded=[f"{objection.received_on:%Y-%m-%d}：{objection.content}"],
    )


@login_required
def round_close(request: HttpRequest, pk: int) -> HttpResponse:
    """Give up a round before its vote, with a reason: the nominees go back to cultivation."""
    round_ = get_round_for_worker(request, pk)
    return _step_page(
        request,
        round_,
        ReasonForm(request.POST or None),
        lambda data: services.round_close(round=round_, actor=request.user, reason=data["reason"]),
        title=_("Close the round %(title)s") % {"title": round_.title},
        done=_("The round has been closed."),
        intro=_(
            "The nominees go back to cultivation; the opinions recorded are kept. A closed round cannot be reopened."
        ),
        intro_kind="warning",
        danger=True,
    )


@login_required
@require_POST
def round_open_opinions(request: HttpRequest, pk: int) -> HttpResponse:
    round_ = get_round_for_worker(request, pk)
    return _round_step(
        request,
        round_,
        lambda: services.round_open_opinions(round=round_, actor=request.user),
        _("The list is settled: record the opinions on each nominee."),
    )


@login_required
def round_vote(request: HttpRequest, pk: int) -> HttpResponse:
    """The branch general meeting on one page: meeting, attendance and every candidate's votes."""
    round_ = get_round_for_worker(request, pk)
    if round_.stage != RoundStage.OPINIONS:
        messages.error(request, _("The vote is entered once the opinions have been asked, and only once."))
        return redirect("promotion:round", pk=round_.pk)
    nominations = list(round_.nominations.listed().select_related("case__member").order_by("pk"))
    initial = {
        "meeting_on": timezone.localdate(),
        "voting_members": services.voting_roster(round_.branch, timezone.localdate()),
    }
    form = VoteForm(request.POST or None, nominations=nominations, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.round_record_vote(
                round=round_,
                meeting_on=data["meeting_on"],
                voting_members=data["voting_members"],
                present_members=data["present_members"],
                votes=form.votes(),
                actor=request.user,
                voting_members_reason=data["voting_members_reason"],
            )
        except ValidationError as exc:
            attach_service_errors(form, exc)
        else:
            messages.success(request, _("The vote has been recorded."))
            return redirect("promotion:round", pk=round_.pk)
    rules = settings.PROMOTION_RULES
    return render(
        request,
        "promotion/round_vote.html",
        {
            "round": round_,
            "branch": round_.branch,
            "form": form,
            "quorum": rules["quorum"],
            "pass_basis": rules["pass_basis"],
        },
    )


@login_required
@require_POST
def round_publicity(request: HttpRequest, pk: int) -> HttpResponse:
    round_ = get_round_for_worker(request, pk)
    form = PublicityForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("starts_on", [])))
        return redirect("promotion:round", pk=round_.pk)
    return _round_step(
        request,
        round_,
        lambda: services.round_start_publicity(
            round=round_, starts_on=form.cleaned_data["starts_on"], actor=request.user
        ),
        _("Publicity has started."),
    )


@login_required
@require_POST
def round_submit(request: HttpRequest, pk: int) -> HttpResponse:
    round_ = get_round_for_worker(request, pk)
    return _round_step(
        request,
        round_,
        lambda: services.round_submit(round=round_, actor=request.user),
        _("The candidates have been submitted to the committee above for review."),
    )
