"""A member's life in the League, year by year: the annual education evaluation (教育评议), the
annual registration (团籍注册), leaving and reinstatement. Services in the house style: they check the
actor's remit and the rules, run in one transaction and leave one audit entry per member changed."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.audit import audit_context, audit_events_bulk
from branches.models import Organization, User
from branches.scope import user_scope
from members.models import (
    LEFT_STATUSES,
    REGISTRABLE_GRADES,
    Evaluation,
    EvaluationGrade,
    Member,
    MemberStatus,
    PoliticalStatus,
    Registration,
    TransferStatus,
    add_years,
)
from members.services import may_edit_members_in
from promotion.services import cases_withdraw_for_leaving

# An unqualified member is evaluated again after this many days (domain.md §11: 3 to 6 months).
UNQUALIFIED_FOLLOW_UP_DAYS = 90
# Party members who keep their League membership register, but are not evaluated (domain.md §5.2).
NOT_EVALUATED = frozenset({PoliticalStatus.PROBATIONARY_PARTY, PoliticalStatus.PARTY_MEMBER})


def evaluated_members(branch: Organization):
    """The branch's members who take part in the education evaluation."""
    return Member.objects.active().filter(branch=branch).exclude(political_status__in=NOT_EVALUATED)


def _check_branch_work(actor: User, branch: Organization) -> None:
    if not may_edit_members_in(actor, branch):
        raise PermissionDenied
    if not branch.is_branch:
        raise ValidationError(_("Registration and evaluation are done branch by branch."))


# --- education evaluation -----------------------------------------------------------------------


def excellent_cap(evaluated: int) -> int:
    """How many of `evaluated` members may be graded excellent (LEAGUE_RULES excellent_share)."""
    return math.floor(evaluated * settings.LEAGUE_RULES["excellent_share"] + 1e-9)


def evaluation_record_branch(
    *, actor: User, branch: Organization, year: int, grades: dict[int, str], today: date | None = None
) -> list[Evaluation]:
    """Record (or correct) a branch's grades for a year in one action. `grades` maps member ids to
    grades; members left out are not evaluated yet. Excellent is capped at the configured share."""
    _check_branch_work(actor, branch)
    today = today or timezone.localdate()
    if not 2000 <= year <= today.year:
        raise ValidationError(_("Choose this year or an earlier one."))
    members = {m.pk: m for m in evaluated_members(branch).filter(pk__in=list(grades))}
    unknown = set(grades) - set(members)
    if unknown:
        raise ValidationError(_("Some of these members are not active members of %(branch)s.") % {"branch": branch})
    bad = {grade for grade in grades.values() if grade not in EvaluationGrade.values}
    if bad:
        raise ValidationError(_("Unknown grade."))
    excellent = sum(1 for grade in grades.values() if grade == EvaluationGrade.EXCELLENT)
    cap = excellent_cap(len(grades))
    if excellent > cap:
        raise ValidationError(
            _("At most %(cap)d of these %(n)d members may be graded excellent (%(share)d%%); %(excellent)d are.")
            % {
                "cap": cap,
                "n": len(grades),
                "share": round(settings.LEAGUE_RULES["excellent_share"] * 100),
                "excellent": excellent,
            }
        )
    follow_up = today + timedelta(days=UNQUALIFIED_FOLLOW_UP_DAYS)
    with transaction.atomic():
        # The branch row is the lock: two people saving the same branch's grades take turns.
        Organization.objects.select_for_update().get(pk=branch.pk)
        existing = {e.member_id: e for e in Evaluation.objects.filter(member_id__in=list(grades), year=year)}
        changed: list[Evaluation] = []
        audit: list[tuple[Member, dict]] = []
        for member_id, grade in grades.items():
            evaluation = existing.get(member_id)
            if evaluation is not None and evaluation.grade == grade:
                continue
            before = f"{year} {evaluation.get_grade_display()}" if evaluation is not None else ""
            if evaluation is None:
                evaluation = Evaluation(member_id=member_id, year=year)
            evaluation.grade = grade
            evaluation.recorded_by = actor
            evaluation.follow_up_on = follow_up if grade == EvaluationGrade.UNQUALIFIED else None
            evaluation.save()
            changed.append(evaluation)
            audit.append((members[member_id], {"evaluation": [before, f"{year} {evaluation.get_grade_display()}"]}))
        audit_events_bulk(audit, actor=actor, on_behalf_of=user_scope(actor).principal_for(branch))
    return changed


# --- annual registration ------------------------------------------------------------------------


@dataclass
class RegistrationPlan:
    """Who in a branch can be registered for a year, and why the others cannot."""

    year: int
    eligible: list[Member] = field(default_factory=list)
    already: list[Member] = field(default_factory=list)
    exceptions: list[tuple[Member, str]] = field(default_factory=list)


def registration_plan(branch: Organization, year: int) -> RegistrationPlan:
    """Who registers for `year` (domain.md §5.1): members graded basically qualified or better in the
    previous year's evaluation; members who joined in that year or this one (not evaluated yet); and
    Party members keeping their League membership, who register but are not evaluated (§5.2)."""
    last_years_grade = Evaluation.objects.filter(member=OuterRef("pk"), year=year - 1).values("grade")[:1]
    members = (
        Member.objects.active()
        .filter(branch=branch)
        .select_related("branch")
        .annotate(last_grade=Subquery(last_years_grade))
        .order_by("name", "pk")
    )
    registered = set(Registration.objects.filter(member__branch=branch, year=year).values_list("member_id", flat=True))
    plan = RegistrationPlan(year=year)
    recent = date(year - 1, 1, 1)
    for member in members:
        if member.pk in registered:
            plan.already.append(member)
        elif member.political_status in NOT_EVALUATED or member.last_grade in REGISTRABLE_GRADES:
            plan.eligible.append(member)
        elif member.last_grade == EvaluationGrade.UNQUALIFIED:
            plan.exceptions.append((member, _("Graded unqualified in the last evaluation.")))
        elif member.joined_on >= recent:
            plan.eligible.append(member)
        else:
            plan.exceptions.append((member, _("Not evaluated last year: record the evaluation first.")))
    return plan


def registration_register_branch(*, actor: User, branch: Organization, year: int) -> RegistrationPlan:
    """Register every eligible member of the branch for the year in one action; the exceptions are
    returned with their reasons. Running it again registers nobody twice."""
    _check_branch_work(actor, branch)
    today = timezone.localdate()
    if year not in (today.year, today.year + 1):
        raise ValidationError(_("Registration is for this year (or next year, at the end of this one)."))
    with transaction.atomic(), audit_context(actor):
        # Lock the branch: two secretaries pressing the button at once register each member once.
        Organization.objects.select_for_update().get(pk=branch.pk)
        plan = registration_plan(branch, year)
        Registration.objects.bulk_create(
            [Registration(member=m, year=year, registered_on=today, recorded_by=actor) for m in plan.eligible],
            ignore_conflicts=True,
        )
        audit_events_bulk(
            [(member, {"registration": ["", year]}) for member in plan.eligible],
            actor=actor,
            on_behalf_of=user_scope(actor).principal_for(branch),
        )
    return plan


# --- leaving and reinstatement ------------------------------------------------------------------

LEAVING_STATUSES = [
    MemberStatus.LEFT_OVER_AGE,
    MemberStatus.LEFT_WITHDRAWN,
    MemberStatus.LEFT_LAPSED,
    MemberStatus.LEFT_REMOVED,
]


def over_age_due(members_qs, *, today: date | None = None):
    """Active members without a League post who reach the leaving age within the notice period (or
    have reached it): the over-age list (超龄离团)."""
    today = today or timezone.localdate()
    rules = settings.LEAGUE_RULES
    horizon = today + timedelta(days=rules["over_age_notice_days"])
    born_by = add_years(horizon, -rules["leaving_age"])
    return members_qs.active().filter(league_post="", birth_date__lte=born_by).order_by("birth_date", "pk")


def member_leave(*, actor: User, member: Member, status: str, on_date: date, reason: str) -> Member:
    if not may_edit_members_in(actor, member.branch):
        raise PermissionDenied
    if status not in LEAVING_STATUSES:
        raise ValidationError({"status": _("Choose how the member leaves.")})
    if on_date > timezone.localdate():
        raise ValidationError({"on_date": _("The leaving date cannot be in the future.")})
    if on_date < member.joined_on:
        raise ValidationError({"on_date": _("The leaving date cannot be before the member joined.")})
    if status == MemberStatus.LEFT_OVER_AGE:
        if member.turns_over_age_on > on_date:
            raise ValidationError(
                {
                    "on_date": _("The member reaches %(age)d only on %(day)s.")
                    % {"age": settings.LEAGUE_RULES["leaving_age"], "day": member.turns_over_age_on.isoformat()}
                }
            )
        if member.league_post:
            raise ValidationError(
                {"status": _("A member holding a League post stays a member while in post; end the post first.")}
            )
    if status != MemberStatus.LEFT_OVER_AGE and not reason.strip():
        raise ValidationError({"reason": _("Give the reason.")})
    with transaction.atomic(), audit_context(actor, on_behalf_of=user_scope(actor).principal_for(member.branch)):
        locked = Member.objects.select_for_update().get(pk=member.pk)
        if not locked.is_active:
            raise ValidationError(_("%(name)s is not an active member.") % {"name": locked.name})
        locked.status = status
        locked.left_on = on_date
        locked.leaving_reason = reason.strip()
        locked.save(update_fields=["status", "left_on", "leaving_reason", "updated_at"])
        # A transfer waiting for approval has nobody left to move.
        locked.transfers.pending().update(status=TransferStatus.CANCELLED, decided_at=timezone.now())
        # Open 推优 cases are closed, with the leaving as the reason.
        cases_withdraw_for_leaving(member=locked, actor=actor)
    return locked


def member_reinstate(*, actor: User, member: Member, reason: str) -> Member:
    """Undo a leave recorded by mistake. The person must not have an active record elsewhere."""
    if not may_edit_members_in(actor, member.branch):
        raise PermissionDenied
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for reinstating the member.")})
    if member.status not in LEFT_STATUSES:
        raise ValidationError(_("%(name)s is an active member.") % {"name": member.name})
    if not member.branch.is_active:
        raise ValidationError(
            _("%(branch)s has been dissolved; transfer the member instead.") % {"branch": member.branch}
        )
    if Member.objects.active().filter(id_number_hash=member.id_number_hash).exclude(pk=member.pk).exists():
        raise ValidationError(_("This person is now an active member elsewhere."))
    principal = user_scope(actor).principal_for(member.branch)
    with transaction.atomic(), audit_context(actor, on_behalf_of=principal, note=reason.strip()):
        locked = Member.objects.select_for_update().get(pk=member.pk)
        if locked.status not in LEFT_STATUSES:
            raise ValidationError(_("%(name)s is an active member.") % {"name": locked.name})
        locked.status = MemberStatus.ACTIVE
        locked.left_on = None
        locked.leaving_reason = ""
        try:
            with transaction.atomic():
                locked.save(update_fields=["status", "left_on", "leaving_reason", "updated_at"])
        except IntegrityError as exc:  # recorded as active elsewhere a moment ago
            raise ValidationError(_("This person is now an active member elsewhere.")) from exc
    return locked
