"""Where things stood at the end of a past day, read from dated records, as query expressions.

Records hold today's state (a member's branch, a 推优 case's stage); the dated history beside them
(completed transfers, the pipeline's transitions) says what it was on a past day. Reports of a closed
period read these, so that a transfer or a stage change after the period does not move its figures.
The monthly report may use them too.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import Case, CharField, DateTimeField, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from members.models import Transfer, TransferStatus
from promotion.models import CaseTransition


def start_of(day: date) -> datetime:
    """Local midnight at the start of `day` (aware): bounds for comparing moments with days."""
    return timezone.make_aware(datetime.combine(day, time.min))


def end_of(day: date) -> datetime:
    """The first moment after `day` (exclusive bound)."""
    return start_of(day + timedelta(days=1))


def member_on(day: date) -> Q:
    """Members of the League at the end of `day`: joined by then and not left by then (from the
    joining and leaving dates, not today's status)."""
    return Q(joined_on__lte=day) & (Q(left_on__isnull=True) | Q(left_on__gt=day))


def _member_field(member: str, field: str) -> str:
    """`field` of the member reached from the queryset's model by `member` ("" for a Member queryset)."""
    return f"{member}__{field}" if member else field


def _branch_path_before_transfer(member: str, later: Q, since_joining: bool = False) -> Case:
    """The path of the branch left by the member's first completed transfer within the county that
    meets `later` (and, with `since_joining`, was decided on or after the member's joining day), else
    the member's branch today (no such transfer: they have not moved since).

    The correlated subquery runs only for members who have such a transfer at all: that set is an
    uncorrelated subquery the database reads once (a hashed IN), so the members who never moved —
    nearly all — cost no lookup each."""
    transfers = Transfer.objects.filter(later, status=TransferStatus.COMPLETED, to_branch__isnull=False).order_by()
    first = transfers.filter(member=OuterRef(member or "pk"))
    if since_joining:
        first = first.filter(decided_at__date__gte=OuterRef(_member_field(member, "joined_on")))
    first = first.order_by("decided_at", "pk").values("from_branch__path")[:1]
    today = F(_member_field(member, "branch__path"))
    return Case(
        When(
            **{f"{_member_field(member, 'pk')}__in": transfers.values("member_id")},
            then=Coalesce(Subquery(first), today),
        ),
        default=today,
        output_field=CharField(),
    )


def member_branch_path_at(day: date, *, member: str = "") -> Case:
    """The path of the branch the member was in at the end of `day`, for a Member queryset — or, with
    `member`, for a queryset reaching the member by that lookup ("member" for PromotionCase,
    "case__member" for CaseTransition).

    A transfer within the county moves the record (`Member.branch` is today's branch); the first
    transfer completed after `day` left the branch the member was in on `day`."""
    return _branch_path_before_transfer(member, Q(decided_at__gte=end_of(day)))


def member_branch_path_joined(*, member: str = "") -> Case:
    """The path of the branch the member joined the League in (for the same querysets as
    member_branch_path_at): the branch left by the first transfer completed on or after the joining
    day, else today's. A transfer decided on the joining day moves the member after joining, so the
    joining is counted where it happened and the transfer as one out of there."""
    return _branch_path_before_transfer(member, Q(), since_joining=True)


def case_stage_at(moment: datetime) -> Case:
    """For a PromotionCase queryset: the case's stage at `moment` (None if it was opened later)."""
    return Case(
        When(created_at__gte=moment, then=Value(None)),
        default=case_stage_by_transitions(moment),
        output_field=CharField(),
    )


def case_stage_by_transitions(moment: datetime) -> Coalesce:
    """For a PromotionCase queryset: the stage the case's transitions give at `moment`, whether or not
    it was opened by then. The stage reached by the last transition before the moment; for a case
    with no history then, the stage the first later transition left (a case written without its
    history: its stage now)."""
    before = CaseTransition.objects.filter(case=OuterRef("pk"), at__lt=moment).order_by("-at", "-pk")
    after = CaseTransition.objects.filter(case=OuterRef("pk"), at__gte=moment).order_by("at", "pk")
    return Coalesce(
        Subquery(before.values("to_stage")[:1]),
        Subquery(after.values("from_stage")[:1]),
        F("stage"),
        output_field=CharField(),
    )


def case_stage_since_at(moment: datetime) -> Coalesce:
    """For a PromotionCase queryset: since when the case had been in its stage at `moment` — the last
    transition before it that changed the stage (history steps that keep it do not count)."""
    changed = (
        CaseTransition.objects.filter(case=OuterRef("pk"), at__lt=moment)
        .exclude(from_stage=F("to_stage"))
        .order_by("-at", "-pk")
        .values("at")[:1]
    )
    return Coalesce(Subquery(changed), F("created_at"), output_field=DateTimeField())
