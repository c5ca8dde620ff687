"""Reads of honours shaped for pages, and the 推优 priority of honoured members and cadres."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from branches.honour_services import honour_unit, may_record_honours
from branches.models import CommitteeSeat, Honour, User
from members.models import Member


def honours_in_scope(user: User) -> QuerySet[Honour]:
    """Honours the user sees, with what every list shows of them joined in (no query per row)."""
    return Honour.objects.visible_to(user).select_related("title", "member__branch", "organization")


def get_honour_for_user(user: User, pk: int, *, record: bool = False) -> Honour:
    """The honour if the user works with its recipient (404 otherwise, the same as missing); 403
    where `record` is asked for and the user may only look."""
    honour = get_object_or_404(honours_in_scope(user).select_related("revoked_by"), pk=pk)
    if record and not may_record_honours(user, honour_unit(honour)):
        raise PermissionDenied
    return honour


def award_candidates(user: User, *, branch_id: int | None = None, query: str = "") -> QuerySet[Member]:
    """Active members the user may record an honour for, narrowed to a branch and a name fragment."""
    members = Member.objects.visible_to(user).active().select_related("branch").order_by("name", "pk")
    if branch_id:
        members = members.filter(branch_id=branch_id)
    if query:
        members = members.filter(name__contains=query)
    return members


# --- 推优 priority (issue 5) --------------------------------------------------------------------


def with_priority(
    members: QuerySet[Member], *, since_year: int | None = None, on: date | None = None
) -> QuerySet[Member]:
    """Annotate `is_honoured` (holds an honour, from `since_year` on if given) and `is_cadre` (holds
    a post on a current committee term on the day, through a cadre record linked to the member):
    domain.md §0 makes both priority candidates for 推优. Two EXISTS subqueries, no extra query."""
    day = on or timezone.localdate()
    honours = Honour.objects.current().filter(member=OuterRef("pk"))
    if since_year is not None:
        honours = honours.filter(year__gte=since_year)
    seats = CommitteeSeat.objects.held_on(day).filter(term__ended_on__isnull=True, cadre__member=OuterRef("pk"))
    return members.annotate(is_honoured=Exists(honours), is_cadre=Exists(seats))


def priority_member_ids(
    members: QuerySet[Member] | Iterable[int], *, since_year: int | None = None, on: date | None = None
) -> set[int]:
    """Which of the given members (a queryset, or member ids) are priority candidates: one query."""
    if not isinstance(members, QuerySet):
        members = Member.objects.filter(pk__in=list(members))
    marked = with_priority(members.order_by(), since_year=since_year, on=on)
    return set(marked.filter(Q(is_honoured=True) | Q(is_cadre=True)).values_list("pk", flat=True))
