"""The review by the committee above (基层团委审核): the queue of cases waiting for township and county
staff, and their decisions, one case or several at once. Each case goes through
`services.case_review` on its own, so one taken by another reviewer meanwhile is reported, not lost."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from branches.models import COMMITTEE_KINDS, Organization, Sector, User
from promotion import selectors, services
from promotion.county_views import require_staff
from promotion.forms import ReviewDecisionForm
from promotion.models import Nomination, Objection, PromotionCase, Stage, Track
from promotion.views import PAGE_SIZE


def _township_choices(user: User) -> list[Organization]:
    """The committees a reviewer can filter by: township-level committees in their scope."""
    return list(Organization.objects.visible_to(user).filter(kind__in=COMMITTEE_KINDS).order_by("path"))


def _filters(request: HttpRequest, townships: list[Organization]) -> dict[str, str]:
    """The queue's filters from the query string; a value that makes no sense is dropped."""
    township = request.GET.get("township", "")
    sector = request.GET.get("sector", "")
    order = request.GET.get("order", "")
    return {
        "township": township if township in {str(t.pk) for t in townships} else "",
        "sector": sector if sector in Sector.values else "",
        "order": order if order in selectors.REVIEW_ORDERS else "",
    }


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    require_staff(request)
    townships = _township_choices(request.user)
    filters = _filters(request, townships)
    township = next((t for t in townships if str(t.pk) == filters["township"]), None)
    cases = selectors.review_cases(
        request.user, township=township, sector=filters["sector"] or None, order=filters["order"] or "waiting"
    )
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    query_string = urlencode({key: value for key, value in filters.items() if value})
    # Where a decision brings the reviewer back: this page of the queue, with its filters and order.
    here = urlencode(
        {key: value for key, value in filters.items() if value} | ({"page": page.number} if page.number > 1 else {})
    )
    back = f"{reverse('promotion:review-queue')}?{here}" if here else reverse("promotion:review-queue")
    return render(
        request,
        "promotion/review/queue.html",
        {
            "page": page,
            "rows": _queue_rows(selectors.review_items(page.object_list), back),
            "filters": filters,
            "waiting_days": settings.PROMOTION_RULES["review_waiting_days"],
            "townships": townships,
            "sectors": Sector.choices,
            "query_string": query_string,
            "form": ReviewDecisionForm(),
            "back": back,
        },
    )


@dataclass(frozen=True)
class QueueRow:
    """A case on the queue with what the branch sent up (its vote, the opinions, the publicity), and
    what the page shows of it worked out once for the page, not by lookups in each row."""

    case: PromotionCase
    track: str
    days_waiting: int
    committee: Organization | None
    review_url: str  # with the way back to this page of the queue
    case_url: str
    nomination: Nomination | None
    favourable: int
    unfavourable: int
    objections: list[Objection]


def _queue_rows(items: list[selectors.ReviewItem], back: str) -> list[QueueRow]:
    """The page's cases with their latest listing, its round, opinions and objections (three queries
    for the page, whatever its length)."""
    cases = [item.case for item in items]
    prefetch_related_objects(
        cases,
        Prefetch(
            "nominations",
            queryset=Nomination.objects.listed().select_related("round").prefetch_related("opinions", "objections"),
            to_attr="listed_nominations",
        ),
    )
    tracks = dict(Track.choices)
    # The page's one reverse() of each link: each row only puts its id in.
    review_start, review_end = reverse("promotion:review-case", args=[0]).rsplit("0", 1)
    case_start, case_end = reverse("promotion:case", args=[0]).rsplit("0", 1)
    back_query = f"?back={quote(back, safe='')}"
    rows = []
    for item in items:
        case = item.case
        nominations = sorted(case.listed_nominations, key=lambda n: n.pk, reverse=True)
        nomination = nominations[0] if nominations else None
        opinions = list(nomination.opinions.all()) if nomination else []
        favourable = sum(1 for opinion in opinions if opinion.favourable)
        rows.append(
            QueueRow(
                case=case,
                track=tracks.get(case.track, case.track),
                days_waiting=item.days_waiting,
                committee=item.committee,
                review_url=f"{review_start}{case.pk}{review_end}{back_query}",
                case_url=f"{case_start}{case.pk}{case_end}",
                nomination=nomination,
                favourable=favourable,
                unfavourable=len(opinions) - favourable,
                objections=list(nomination.objections.all()) if nomination else [],
            )
        )
    return rows


@dataclass(frozen=True)
class Outcome:
    case: PromotionCase
    error: str = ""  # why the decision did not go through for this case; empty when it did


def _decide(user: User, cases: list[PromotionCase], form: ReviewDecisionForm) -> list[Outcome]:
    """The decision for each case, each in its own transaction (inside the service)."""
    outcomes = []
    for case in cases:
        try:
            services.case_review(
                case=case, decision=form.cleaned_data["decision"], comment=form.cleaned_data["comment"], actor=user
            )
        except PermissionDenied:
            outcomes.append(Outcome(case, _("You may not review this case.")))
        except ValidationError as exc:  # PromotionError: taken by another reviewer, wrong stage…
            outcomes.append(Outcome(case, " ".join(exc.messages)))
        else:
            outcomes.append(Outcome(case))
    return outcomes


DONE_MESSAGES = {
    "approve": gettext_lazy("Approved: %(names)s."),
    "return": gettext_lazy("Returned to the branch: %(names)s."),
    "reject": gettext_lazy("Rejected: %(names)s."),
}


def _report(request: HttpRequest, decision: str, outcomes: list[Outcome]) -> None:
    """One message for the cases decided, one per case that was not (with the reason)."""
    done = [o.case.member.name for o in outcomes if not o.error]
    if done:
        messages.success(request, DONE_MESSAGES[decision] % {"names": "、".join(done)})
    for outcome in outcomes:
        if outcome.error:
            messages.error(request, f"{outcome.case.member.name}：{outcome.error}")


def _safe_back(request: HttpRequest) -> str:
    """Back to the queue with its filters, order and page (posted, or in the review page's address);
    only ever the queue itself, never another page or site."""
    back = request.POST.get("back") or request.GET.get("back", "")
    queue = reverse("promotion:review-queue")
    return back if back == queue or back.startswith(f"{queue}?") else queue


@login_required
@require_POST
def review_decide(request: HttpRequest) -> HttpResponse:
    """The decision on the cases ticked on the queue. A case out of the reviewer's scope is not found
    (404) and nothing is decided; rejecting asks for confirmation first."""
    require_staff(request)
    form = ReviewDecisionForm(request.POST)
    back = _safe_back(request)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    ids = form.cleaned_data["cases"]
    # In a stable order (ids), so the report names the cases in the order they were listed.
    cases = list(
        PromotionCase.objects.visible_to(request.user)
        .filter(pk__in=ids)
        .select_related("member", "branch")
        .order_by("pk")
    )
    if len(cases) != len(ids):
        raise Http404
    if form.needs_confirmation:
        return render(request, "promotion/review/confirm.html", {"form": form, "cases": cases, "back": back})
    _report(request, form.cleaned_data["decision"], _decide(request.user, cases, form))
    return redirect(back)


@login_required
def review_case(request: HttpRequest, pk: int) -> HttpResponse:
    """One case's review: what the branch sent up (votes, opinions, publicity, reports) and the decision."""
    case = get_object_or_404(PromotionCase.objects.visible_to(request.user).select_related("member", "branch"), pk=pk)
    if not services.can_review(request.user, case):
        raise PermissionDenied
    form = ReviewDecisionForm(request.POST or None, initial={"cases": [case.pk]})
    back = _safe_back(request)
    confirming = False
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["cases"] != [case.pk]:
            raise Http404
        confirming = form.needs_confirmation
        if not confirming:
            (outcome,) = _decide(request.user, [case], form)
            if not outcome.error:
                _report(request, form.cleaned_data["decision"], [outcome])
                return redirect(back)
            form.add_error(None, outcome.error)
            case.refresh_from_db()  # another reviewer may have decided meanwhile
    summary = selectors.review_summary(case)
    favourable = sum(1 for opinion in summary.opinions if opinion.favourable)
    return render(
        request,
        "promotion/review/case.html",
        {
            "case": case,
            "form": form,
            "summary": summary,
            "favourable": favourable,
            "unfavourable": len(summary.opinions) - favourable,
            "waiting": case.stage == Stage.IN_REVIEW,
            "days_waiting": (timezone.localdate() - timezone.localtime(case.stage_since).date()).days,
            "confirming": confirming,
            "back": back,
        },
    )
