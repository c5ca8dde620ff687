"""What a Party organizer (党组织联系人) reads: the people the League handed over to their Party
organization, read-only, with only the fields agreed for the hand-over (issue 5). Never ID numbers,
phones or evaluation details: the pages are built from an explicit list of fields, so a template
cannot reach anything else. Every opening of a case is written to the audit trail as an access, and
county staff read those entries on the access log (promotion/county_views.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_safe

from branches.models import Role, User
from branches.scope import user_scope
from promotion.access import case_access_record
from promotion.models import FollowUpReport, PromotionCase, Stage, Talk
from promotion.views import PAGE_SIZE

# The member's fields agreed for the hand-over; nothing else of the member record is read.
HANDED_OVER_MEMBER_FIELDS = ("name", "sex", "birth_date", "education", "league_post", "joined_on")


def _party_organization_ids(user: User) -> list[int]:
    """The Party organizations the user is an organizer of today; 403 for anyone else."""
    scope = user_scope(user)
    ids = [a.party_organization_id for a in scope.assignments if a.role == Role.PARTY_ORGANIZER]
    if not ids:
        raise PermissionDenied
    return ids


def handed_over_cases(user: User) -> QuerySet[PromotionCase]:
    """Cases handed over to the user's Party organizations, with only the agreed member fields.

    Narrower than `PromotionCase.objects.visible_to`: an organizer who also holds a League role sees
    here only what was handed to their Party organization, never the League's own working records."""
    member_fields = [f"member__{name}" for name in HANDED_OVER_MEMBER_FIELDS]
    return (
        PromotionCase.objects.filter(
            party_organization_id__in=_party_organization_ids(user), recommended_on__isnull=False
        )
        .select_related("member", "branch", "party_organization")
        .only(
            "track",
            "stage",
            "party_applied_on",
            "party_applied_month_only",
            "activist_since",
            "recommended_on",
            "valid_until",
            "development_on",
            "probationary_on",
            "full_member_on",
            "closed_on",
            "member_id",
            "branch__name",
            "party_organization__name",
            *member_fields,
        )
        .order_by("-recommended_on", "member__name", "pk")
    )


@dataclass(frozen=True)
class Validity:
    label: str  # "valid", "expiring" or "expired": the template colours it
    days_left: int


@dataclass(frozen=True)
class FollowUpEntry:
    month: date
    thinking: str
    work: str
    study: str


@dataclass(frozen=True)
class TalkEntry:
    held_on: date
    held_by: str
    summary: str


@dataclass(frozen=True)
class HandedOverRecord:
    """Exactly the fields agreed for the hand-over, and nothing else: the templates get this record,
    never the case or the member, so no later template line can print a phone or an ID number."""

    pk: int
    name: str
    sex: str
    birth_date: date
    education: str
    branch: str
    league_post: str
    joined_on: date
    party_applied_on: date
    party_applied_month_only: bool
    track: str
    stage: str
    stage_label: str
    party_organization: str
    recommended_on: date
    valid_until: date | None
    activist_since: date | None
    development_on: date | None
    probationary_on: date | None
    full_member_on: date | None
    closed_on: date | None
    validity: Validity | None
    follow_up_reports: tuple[FollowUpEntry, ...] = ()
    talks: tuple[TalkEntry, ...] = ()


def handed_over_record(
    case: PromotionCase,
    today: date,
    *,
    follow_up_reports: tuple[FollowUpEntry, ...] = (),
    talks: tuple[TalkEntry, ...] = (),
) -> HandedOverRecord:
    member = case.member
    return HandedOverRecord(
        pk=case.pk,
        name=member.name,
        sex=member.get_sex_display(),
        birth_date=member.birth_date,
        education=member.get_education_display(),
        branch=case.branch.name,
        league_post=member.get_league_post_display(),
        joined_on=member.joined_on,
        party_applied_on=case.party_applied_on,
        party_applied_month_only=case.party_applied_month_only,
        track=case.get_track_display(),
        stage=case.stage,
        stage_label=case.get_stage_display(),
        party_organization=case.party_organization.name,
        recommended_on=case.recommended_on,
        valid_until=case.valid_until,
        activist_since=case.activist_since,
        development_on=case.development_on,
        probationary_on=case.probationary_on,
        full_member_on=case.full_member_on,
        closed_on=case.closed_on,
        validity=validity(case, today),
        follow_up_reports=follow_up_reports,
        talks=talks,
    )


def validity(case: PromotionCase, today: date) -> Validity | None:
    """How long the recommendation still holds, while the Party has not yet decided on it."""
    if case.valid_until is None or case.stage != Stage.RECOMMENDED:
        return None
    days_left = (case.valid_until - today).days
    label = "expired" if days_left < 0 else ("expiring" if days_left <= 90 else "valid")
    return Validity(label, days_left)


@login_required
@require_safe
def party_case_list(request: HttpRequest) -> HttpResponse:
    cases = handed_over_cases(request.user)
    query = request.GET.get("q", "").strip()
    stage = request.GET.get("stage", "")
    if query:
        cases = cases.filter(member__name__icontains=query)
    if stage in Stage.values:
        cases = cases.filter(stage=stage)
    else:
        stage = ""
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    return render(
        request,
        "promotion/party/case_list.html",
        {
            "page": page,
            "rows": [handed_over_record(case, today) for case in page.object_list],
            "query": query,
            "stage": stage,
            "stages": [(value, label) for value, label in Stage.choices if value in HANDED_OVER_STAGES],
            "query_string": urlencode({key: value for key, value in {"q": query, "stage": stage}.items() if value}),
        },
    )


# Stages a handed-over case can be in: from the hand-over on.
HANDED_OVER_STAGES = frozenset(
    {
        Stage.RECOMMENDED,
        Stage.ACTIVIST,
        Stage.DEVELOPMENT,
        Stage.PROBATIONARY,
        Stage.FULL_MEMBER,
        Stage.NOT_ADOPTED,
        Stage.LAPSED,
        Stage.WITHDRAWN,
        Stage.CONTINUED,
    }
)


@login_required
@require_safe
def party_case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One handed-over case; a case not handed to the organizer's Party organization is not found. The
    follow-up reports and talks shown are those from the hand-over on: what came before is the League's
    working record. Each opening is recorded; a HEAD request (a link checker, a prefetch) reads nothing."""
    case = get_object_or_404(handed_over_cases(request.user), pk=pk)
    # A month's report counts from the month of the hand-over (reports are dated to the first day).
    reports = FollowUpReport.objects.filter(case=case, month__gte=case.recommended_on.replace(day=1)).order_by("-month")
    talks = Talk.objects.filter(case=case, held_on__gte=case.recommended_on).order_by("-held_on", "-pk")
    record = handed_over_record(
        case,
        timezone.localdate(),
        follow_up_reports=tuple(FollowUpEntry(r.month, r.thinking, r.work, r.study) for r in reports),
        talks=tuple(TalkEntry(t.held_on, t.held_by, t.summary) for t in talks),
    )
    if request.method == "GET":
        case_access_record(case=case, actor=request.user)
    return render(request, "promotion/party/case_detail.html", {"record": record})
