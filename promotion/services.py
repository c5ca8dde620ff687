"""Every write of the 推优 pipeline (issue 5; domain.md §0, §6; rules in settings.PROMOTION_RULES).

Each service, in one transaction with the case (or round) row locked, checks the actor's role and scope
(on a case, against the locked row: the object passed in may be stale, its member having moved to
another branch since), the stage and the rules, and makes the change. A case moves only through a transition of
its table (promotion/models.py): `_step` calls the django-fsm method, saves the stage, and writes exactly
one `CaseTransition` (the pipeline's history) and one audit entry (who, when, from → to, comment).

Refusals: `PermissionDenied` when the actor's role may not do this at all; `PromotionError` (a
ValidationError, keyed by the form field where there is one) with a message for the user otherwise.
Views fetch objects in the user's scope first (out of scope is 404), so a PermissionDenied here is the
403 of "in scope, wrong role".
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any, Literal

from auditlog.models import LogEntry
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import can_proceed

from branches.audit import audit_context, audit_event
from branches.models import (
    COMMITTEE_KINDS,
    Activity,
    ActivityKind,
    Organization,
    PartyOrganization,
    Role,
    User,
    subtree_filter,
)
from branches.scope import user_scope
from members.models import Member, MemberStatus, PoliticalStatus, add_years
from promotion import eligibility, workdays
from promotion.models import (
    CULTIVATION_STAGES,
    FOLLOW_UP_STAGES,
    CaseTransition,
    CultivationReport,
    FollowUpReport,
    Nomination,
    Objection,
    Opinion,
    OpinionSource,
    PlanTarget,
    PromotionCase,
    PromotionPlan,
    PromotionRound,
    RoundStage,
    Stage,
    Talk,
    Track,
)


class PromotionError(ValidationError):
    """The pipeline's rules refuse a step; the message says why, in the user's language."""


# What each step of a case is called: in refusals ("… cannot … at this stage"), on buttons, in timelines.
ACTION_LABELS = {
    "open": gettext_lazy("Case opened"),
    "nominate": gettext_lazy("Put on the preliminary list"),
    "remove_from_list": gettext_lazy("Taken off the preliminary list"),
    "pass_vote": gettext_lazy("Passed by the branch general meeting"),
    "fail_vote": gettext_lazy("Not passed by the branch general meeting"),
    "start_publicity": gettext_lazy("Publicity started"),
    "uphold_objection": gettext_lazy("Objection upheld"),
    "submit_for_review": gettext_lazy("Submitted for review"),
    "approve": gettext_lazy("Approved in review"),
    "return_to_branch": gettext_lazy("Returned to the branch"),
    "back_to_cultivation": gettext_lazy("Taken back to cultivation"),
    "reject": gettext_lazy("Rejected in review"),
    "hand_over": gettext_lazy("Handed over to the Party organization"),
    "party_names_activist": gettext_lazy("Named Party activist"),
    "party_names_development_candidate": gettext_lazy("Made development candidate"),
    "party_admits_probationary": gettext_lazy("Admitted as probationary Party member"),
    "party_confirms_full_member": gettext_lazy("Confirmed as full Party member"),
    "party_does_not_adopt": gettext_lazy("Not adopted by the Party"),
    "continue_on_development_track": gettext_lazy("Continued on the development track"),
    "lapse": gettext_lazy("Recommendation lapsed"),
    "withdraw": gettext_lazy("Case withdrawn"),
    "move": gettext_lazy("Moved with the member to another branch"),
}

# Who takes which transition. Round-driven ones (listing, vote, publicity, objections, submission) are
# taken through the round's services; the lapse only by the daily sweep; the continuation only by
# opening the member's development-track case.
BRANCH_TRANSITIONS = frozenset(
    {
        "nominate",
        "remove_from_list",
        "pass_vote",
        "fail_vote",
        "start_publicity",
        "uphold_objection",
        "submit_for_review",
        "back_to_cultivation",
        "hand_over",
        "party_names_activist",
        "party_names_development_candidate",
        "party_admits_probationary",
        "party_confirms_full_member",
        "party_does_not_adopt",
        "withdraw",
    }
)
REVIEW_TRANSITIONS = frozenset({"approve", "return_to_branch", "reject"})
REVIEW_DECISIONS = {"approve": "approve", "return": "return_to_branch", "reject": "reject"}
PARTY_DECISIONS = {
    "activist": "party_names_activist",
    "development": "party_names_development_candidate",
    "probationary": "party_admits_probationary",
    "full": "party_confirms_full_member",
    "not_adopted": "party_does_not_adopt",
}
# A case's stages while it is in a round (listed, passed the vote, in publicity).
ROUND_STAGES = (Stage.NOMINATED, Stage.VOTED, Stage.PUBLICITY)
QUORUM_LABELS = {"1/2": gettext_lazy("one half"), "2/3": gettext_lazy("two thirds")}


# --- who may do what ------------------------------------------------------------------------------


def can_work_on_branch(user: User, branch: Organization) -> bool:
    """Branch workers: the branch's secretary or deputy (a role on the branch or on a general branch
    above it) and county or township staff whose units include it. Party organizers and the
    instance-wide administrators hold no League role over people's records, so never."""
    return any(branch.path.startswith(path) for path in user_scope(user).record_paths)


# The branch side's own steps on a case: whoever recorded them does not review it (kept apart).
BRANCH_SIDE_ACTIONS = ("pass_vote", "submit_for_review")


def _secretary_paths(user: User) -> list[str]:
    return [
        a.organization.path
        for a in user_scope(user).assignments
        if a.role == Role.BRANCH_SECRETARY and a.organization is not None
    ]


def reviewable_by(user: User, cases: QuerySet[PromotionCase]) -> QuerySet[PromotionCase]:
    """`cases` narrowed to those the user may review (see can_review), in the database."""
    if not user.is_superuser:
        cases = cases.filter(subtree_filter(user_scope(user).managed_paths, "branch__path"))
    if secretary_paths := _secretary_paths(user):
        cases = cases.exclude(subtree_filter(secretary_paths, "branch__path"))
    recorded = CaseTransition.objects.filter(case=OuterRef("pk"), action__in=BRANCH_SIDE_ACTIONS).filter(
        Q(actor=user) | Q(on_behalf_of=user)
    )
    return cases.exclude(Exists(recorded))


def can_review(user: User, case: PromotionCase) -> bool:
    """Reviewers: staff of the committees above the branch (township staff for their subtree, county
    staff for the whole county), kept apart from the branch side: nobody holding a branch secretary's
    role over the branch (a general branch's too) and nobody who recorded the case's vote or its
    submission reviews it, even when their staff role covers the branch."""
    if not user_scope(user).manages(case.branch):
        return False
    if any(case.branch.path.startswith(path) for path in _secretary_paths(user)):
        return False
    return not (
        case.transitions.filter(action__in=BRANCH_SIDE_ACTIONS).filter(Q(actor=user) | Q(on_behalf_of=user)).exists()
    )


def can_allow_exception_in(user: User, branch: Organization) -> bool:
    """Only county staff may list a member who fails a rule (with a recorded reason)."""
    return any(
        a.role == Role.COUNTY_STAFF and branch.path.startswith(a.organization.path)
        for a in user_scope(user).assignments
        if a.organization is not None
    )


def can_allow_exception(user: User, case: PromotionCase) -> bool:
    return can_allow_exception_in(user, case.branch)


def next_actions(case: PromotionCase, user: User) -> list[str]:
    """The transitions of the case's table the user may take now, in the table's order (for the UI).
    Round-driven ones are listed too: the page links them to the round."""
    allowed: set[str] = set()
    if can_work_on_branch(user, case.branch):
        allowed |= BRANCH_TRANSITIONS
        if case.track == Track.DEVELOPMENT:
            allowed.discard("party_names_activist")  # already an activist on this track
    if can_review(user, case):
        allowed |= REVIEW_TRANSITIONS
    available = {t.name for t in case.get_available_stage_transitions()} & allowed
    return sorted(available, key=list(ACTION_LABELS).index)


def _require_branch_worker(actor: User, branch: Organization) -> None:
    if not can_work_on_branch(actor, branch):
        raise PermissionDenied


def _principal(actor: User | None, branch: Organization) -> User | None:
    return user_scope(actor).principal_for(branch) if actor is not None else None


def _audit(actor: User, branch: Organization, note: str = ""):
    """Entries of registered models (reports, rounds, nominations…) written inside name the actor."""
    return audit_context(actor, on_behalf_of=_principal(actor, branch), note=note)


def _today() -> date:
    return timezone.localdate()


def _text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise PromotionError({field: message})
    return value


def _not_in_future(day: date, field: str) -> None:
    if day > _today():
        raise PromotionError({field: _("The date cannot be in the future.")})


# --- the transition helper ---------------------------------------------------------------------


def _lock_case(case: PromotionCase) -> PromotionCase:
    """Re-read the case with its row locked (of=self: the branch and member rows stay free)."""
    return PromotionCase.objects.select_for_update(of=("self",)).select_related("branch", "member").get(pk=case.pk)


def _lock_case_as(case: PromotionCase, actor: User) -> PromotionCase:
    """The case locked, and the actor checked against the locked row's branch: the object the caller
    passed may be stale (the member, and the case with them, may have moved to another branch since it
    was read), so the early check on it alone would let the old branch's secretary act on the case."""
    locked = _lock_case(case)
    _require_branch_worker(actor, locked.branch)
    return locked


def _lock_cases(ids: Iterable[int]) -> dict[int, PromotionCase]:
    """Several cases locked in primary-key order, so two writers never wait on each other in a circle."""
    cases = PromotionCase.objects.select_for_update(of=("self",)).select_related("branch", "member")
    return {case.pk: case for case in cases.filter(pk__in=list(ids)).order_by("pk")}


def _lock_round(round: PromotionRound) -> PromotionRound:
    return PromotionRound.objects.select_for_update(of=("self",)).select_related("branch").get(pk=round.pk)


def _wrong_stage(case: PromotionCase, action: str) -> PromotionError:
    return PromotionError(
        _("%(name)s's case is at the stage “%(stage)s”: “%(action)s” is not possible at the current stage.")
        % {"name": case.member.name, "stage": case.get_stage_display(), "action": ACTION_LABELS[action]}
    )


def _step(
    case: PromotionCase,
    transition: str,
    *,
    actor: User | None,
    comment: str = "",
    round: PromotionRound | None = None,
    fields: dict[str, Any] | None = None,
) -> CaseTransition:
    """Take one transition on a case locked by the caller: the fsm method (which refuses any move not in
    the table), the new stage and `fields` saved, one CaseTransition and one audit entry written."""
    method = getattr(case, transition)
    if not can_proceed(method):
        raise _wrong_stage(case, transition)
    from_stage = case.stage
    fields = fields or {}
    before = {name: getattr(case, name) for name in fields}
    method()
    for name, value in fields.items():
        setattr(case, name, value)
    now = timezone.now()
    case.stage_since = now
    case.save(update_fields=["stage", "stage_since", "updated_at", *fields])
    principal = _principal(actor, case.branch)
    step = CaseTransition.objects.create(
        case=case,
        action=transition,
        from_stage=from_stage,
        to_stage=case.stage,
        round=round,
        actor=actor,
        on_behalf_of=principal,
        comment=comment,
        at=now,
    )
    changes = {"stage": [from_stage, case.stage]}
    changes.update({name: [before[name], value] for name, value in fields.items() if before[name] != value})
    audit_event(case, actor=actor, changes=changes, note=comment, on_behalf_of=principal)
    return step


def _history(
    case: PromotionCase, action: str, *, actor: User, comment: str, changes: dict[str, list[Any]]
) -> CaseTransition:
    """A step that keeps the stage (opening a case, moving it with its member): recorded the same way."""
    now = timezone.now()
    principal = _principal(actor, case.branch)
    step = CaseTransition.objects.create(
        case=case,
        action=action,
        from_stage=case.stage,
        to_stage=case.stage,
        actor=actor,
        on_behalf_of=principal,
        comment=comment,
        at=now,
    )
    opened = action == "open"
    audit_event(
        case,
        actor=actor,
        changes=changes,
        action=LogEntry.Action.CREATE if opened else LogEntry.Action.UPDATE,
        note=comment,
        on_behalf_of=principal,
    )
    return step


# --- cases and cultivation ---------------------------------------------------------------------


def case_open(
    *,
    member: Member,
    track: str,
    party_applied_on: date,
    month_only: bool = False,
    activist_since: date | None = None,
    actor: User,
) -> PromotionCase:
    """Open a member's case on a track from their Party application (recorded to the month at least;
    with `month_only` the date is kept as the month's first day).

    A member has one open case at a time (the pipeline counts people). Opening the development track
    for a member whose activist-track case has reached “Party activist” continues that case: it closes
    as CONTINUED in the same transaction, and its activist date is the new case's when none is given.
    Any other open case refuses the opening."""
    if track not in Track.values:
        raise PromotionError({"track": _("Choose the track.")})
    if month_only:
        party_applied_on = workdays.month_start(party_applied_on)
    _not_in_future(party_applied_on, "party_applied_on")
    if party_applied_on < member.birth_date:
        raise PromotionError({"party_applied_on": _("The application date is before the member's birth.")})
    if track == Track.ACTIVIST and activist_since is not None:
        raise PromotionError({"activist_since": _("The activist date belongs to the development track.")})
    with transaction.atomic(), _audit(actor, member.branch):
        locked = Member.objects.select_for_update().select_related("branch").get(pk=member.pk)
        _require_branch_worker(actor, locked.branch)  # the member may have moved since `member` was read
        if not locked.is_active:
            raise PromotionError(_("%(name)s is not an active member.") % {"name": locked.name})
        if locked.political_status != PoliticalStatus.LEAGUE_MEMBER:
            raise PromotionError(
                _("%(name)s is already a Party member (%(status)s).")
                % {"name": locked.name, "status": locked.get_political_status_display()}
            )
        # The member's row is locked: nobody opens or reopens another of their cases meanwhile.
        continued = None
        for other in PromotionCase.objects.open().filter(member=locked).select_for_update(of=("self",)).order_by("pk"):
            if other.track == track:
                raise PromotionError(_("%(name)s already has an open case on this track.") % {"name": locked.name})
            if track == Track.DEVELOPMENT and other.stage == Stage.ACTIVIST:
                continued = other
            else:
                hint = (
                    _("The development track follows once the Party has named the member an activist on it.")
                    if track == Track.DEVELOPMENT
                    else ""
                )
                raise _other_open_case(locked, other, hint=hint)
        if track == Track.DEVELOPMENT:
            activist_since = activist_since or (continued.activist_since if continued else None)
            if activist_since is None:
                raise PromotionError({"activist_since": _("Give the date the member became a Party activist.")})
            _not_in_future(activist_since, "activist_since")
            if activist_since < party_applied_on:
                raise PromotionError({"activist_since": _("A member becomes an activist after applying to the Party.")})
        case = PromotionCase(
            member=locked,
            track=track,
            branch_id=locked.branch_id,
            party_applied_on=party_applied_on,
            party_applied_month_only=month_only,
            activist_since=activist_since,
            created_by=actor,
        )
        try:
            with transaction.atomic():
                case.save()
        except IntegrityError as exc:  # the one-open-case constraint: another open case on this track
            raise PromotionError(_("%(name)s already has an open case on this track.") % {"name": locked.name}) from exc
        _history(
            case,
            "open",
            actor=actor,
            comment="",
            changes={
                "stage": [None, case.stage],
                "track": [None, track],
                "party_applied_on": [None, party_applied_on],
                "activist_since": [None, activist_since],
            },
        )
        if continued is not None:
            continued.member = locked
            reason = str(ACTION_LABELS["continue_on_development_track"])
            _step(
                continued,
                "continue_on_development_track",
                actor=actor,
                comment=_("A case on the track “%(track)s” has been opened.") % {"track": case.get_track_display()},
                fields={"closed_on": _today(), "closing_reason": reason},
            )
    return case


def _other_open_case(member: Member, other: PromotionCase, *, hint: str = "") -> PromotionError:
    """The refusal when the member's other case is open (one open case per member)."""
    message = _(
        "%(name)s already has an open case on the track “%(track)s”, at the stage “%(stage)s”: a member has one open case at a time."
    ) % {"name": member.name, "track": other.get_track_display(), "stage": other.get_stage_display()}
    return PromotionError(" ".join(filter(None, [message, hint])))


def cultivation_report_file(
    *, case: PromotionCase, year: int, quarter: int, content: str, actor: User
) -> CultivationReport:
    """The branch's quarterly report to the Party organization before recommendation (推荐前培养)."""
    content = _text(content, "content", _("Write the report."))
    if quarter not in (1, 2, 3, 4):
        raise PromotionError({"quarter": _("Choose a quarter from 1 to 4.")})
    if workdays.quarter_start(year, quarter) > _today():
        raise PromotionError({"quarter": _("This quarter has not begun yet.")})
    if (year, quarter) < workdays.quarter_of(case.party_applied_on):
        raise PromotionError({"quarter": _("This quarter is before the member's Party application.")})
    with transaction.atomic(), _audit(actor, case.branch):
        locked = _lock_case_as(case, actor)
        if locked.stage not in CULTIVATION_STAGES:
            raise PromotionError(
                _("Cultivation reports are filed before the hand-over; this case is at the stage “%(stage)s”.")
                % {"stage": locked.get_stage_display()}
            )
        try:
            with transaction.atomic():
                return CultivationReport.objects.create(
                    case=locked, year=year, quarter=quarter, content=content, filed_by=actor
                )
        except IntegrityError as exc:
            raise PromotionError(
                {
                    "quarter": _("The report on %(year)d Q%(quarter)d is already filed.")
                    % {"year": year, "quarter": quarter}
                }
            ) from exc


def follow_up_report_file(
    *, case: PromotionCase, month: date, thinking: str, work: str, study: str, actor: User
) -> FollowUpReport:
    """The monthly report on a recommended person's thinking, work and study (推荐后继续培养考察)."""
    month = workdays.month_start(month)
    texts = {
        "thinking": _text(thinking, "thinking", _("Describe the member's thinking.")),
        "work": _text(work, "work", _("Describe the member's work.")),
        "study": _text(study, "study", _("Describe the member's study.")),
    }
    if month > _today():
        raise PromotionError({"month": _("This month has not begun yet.")})
    with transaction.atomic(), _audit(actor, case.branch):
        locked = _lock_case_as(case, actor)
        if locked.stage not in FOLLOW_UP_STAGES:
            raise PromotionError(
                _(
                    "Follow-up reports are filed after the hand-over, until the Party admits the member; this case is at the stage “%(stage)s”."
                )
                % {"stage": locked.get_stage_display()}
            )
        if month < workdays.month_start(locked.recommended_on):
            raise PromotionError({"month": _("This month is before the recommendation.")})
        try:
            with transaction.atomic():
                return FollowUpReport.objects.create(case=locked, month=month, filed_by=actor, **texts)
        except IntegrityError as exc:
            raise PromotionError(
                {"month": _("The report on %(month)s is already filed.") % {"month": f"{month:%Y-%m}"}}
            ) from exc


def talk_record(*, case: PromotionCase, held_on: date, held_by: str, summary: str, actor: User) -> Talk:
    """A heart-to-heart talk (谈心谈话) with the member, at any open stage."""
    held_by = _text(held_by, "held_by", _("Say who held the talk."))
    summary = _text(summary, "summary", _("Summarize the talk."))
    _not_in_future(held_on, "held_on")
    with transaction.atomic(), _audit(actor, case.branch):
        locked = _lock_case_as(case, actor)
        if not locked.is_open:
            raise PromotionError(_("The case is closed (%(stage)s).") % {"stage": locked.get_stage_display()})
        return Talk.objects.create(case=locked, held_on=held_on, held_by=held_by, summary=summary, recorded_by=actor)


# --- rounds: list, opinions, vote, publicity, objections, submission ------------------------------


def _require_round_stage(round: PromotionRound, *stages: str) -> None:
    if round.stage not in stages:
        raise PromotionError(
            _("The round “%(title)s” is at the stage “%(stage)s”: this step is not possible at the current stage.")
            % {"title": round.title, "stage": round.get_stage_display()}
        )


def round_create(*, branch: Organization, track: str, title: str, actor: User) -> PromotionRound:
    _require_branch_worker(actor, branch)
    title = _text(title, "title", _("Give the round a title."))
    if track not in Track.values:
        raise PromotionError({"track": _("Choose the track.")})
    if not branch.is_branch:
        raise PromotionError(_("Rounds are held by branches."))
    if not branch.is_active:
        raise PromotionError(_("%(unit)s has been dissolved.") % {"unit": branch})
    with transaction.atomic(), _audit(actor, branch):
        try:
            with transaction.atomic():
                return PromotionRound.objects.create(branch=branch, track=track, title=title, created_by=actor)
        except IntegrityError as exc:  # one round under way per branch and track (the share cap is per branch)
            raise PromotionError(
                _("%(unit)s already has a round under way on this track; finish or close it first.") % {"unit": branch}
            ) from exc


def branch_nominees(branch_id: int) -> QuerySet[Nomination]:
    """The candidates the share cap counts: those still on the list in every round of the branch under
    way (a round per track; submitted or closed rounds are done with, and those who failed the vote or
    were upheld against went back to cultivation). The round page shows the same figure."""
    return (
        Nomination.objects.listed()
        .filter(round__branch_id=branch_id, case__stage__in=ROUND_STAGES)
        .exclude(round__stage__in=[RoundStage.SUBMITTED, RoundStage.CLOSED])
    )


def round_nominate(
    *,
    round: PromotionRound,
    case: PromotionCase,
    actor: User,
    short_wait_reason: str = "",
    exception_reason: str = "",
) -> Nomination:
    """Put a case on a round's preliminary list. Every rule is checked and the result kept with the
    nomination. A Party application more recent than usual passes with a written reason; any other
    failing rule (the share cap too) only with an exception given by county staff, with its reason."""
    _require_branch_worker(actor, round.branch)
    short_wait_reason = (short_wait_reason or "").strip()
    exception_reason = (exception_reason or "").strip()
    today = _today()
    with transaction.atomic(), _audit(actor, round.branch):
        # The branch row first: listings in the branch's rounds on both tracks take turns, so the share
        # cap (counted over all of them) cannot be passed by two listings at once.
        Organization.objects.select_for_update().only("pk").get(pk=round.branch_id)
        locked_round = _lock_round(round)
        _require_round_stage(locked_round, RoundStage.PRELIMINARY)
        locked = _lock_case(case)
        name = locked.member.name
        if not can_proceed(locked.nominate):
            raise _wrong_stage(locked, "nominate")
        if locked.branch_id != locked_round.branch_id:
            raise PromotionError(_("%(name)s's case belongs to another branch.") % {"name": name})
        if locked.track != locked_round.track:
            raise PromotionError(
                _("This round is on the track “%(track)s”.") % {"track": locked_round.get_track_display()}
            )
        result = eligibility.check(locked, today)
        active_members = Member.objects.active().filter(branch_id=locked_round.branch_id).count()
        # The cap is the branch's, not a round's (branch_nominees).
        listed = branch_nominees(locked_round.branch_id).exclude(case=locked).count() + 1
        checks = [*result.checks, eligibility.share_cap_check(listed=listed, active_members=active_members)]
        failing = [c for c in checks if not c.ok]
        short_wait = [c for c in failing if c.rule == eligibility.SHORT_WAIT_RULE]
        other = [c for c in failing if c.rule != eligibility.SHORT_WAIT_RULE]
        errors = {}  # every missing reason at once, each by its field
        if short_wait and not short_wait_reason:
            ask = _("Give the written reason.")
            errors["short_wait_reason"] = f"{short_wait[0].detail} {ask}"
        if other and not exception_reason:
            errors["exception_reason"] = _(
                "%(name)s cannot be listed: %(reasons)s Only county staff may allow an exception, with a reason."
            ) % {"name": name, "reasons": " ".join(c.detail for c in other)}
        if errors:
            raise PromotionError(errors)
        if other and not can_allow_exception(actor, locked):
            raise PermissionDenied
        fields = {
            "eligibility": [c.as_json() for c in checks],
            "is_priority": result.is_priority,
            "priority_reasons": "；".join(result.priority_reasons)[:200],
            "short_wait_reason": short_wait_reason if short_wait else "",
            "exception_reason": exception_reason if other else "",
            "exception_by": actor if other else None,
            "removed_at": None,
            "removed_reason": "",
        }
        # Listed again after being taken off this round's list: the same row, checked afresh.
        nomination, _created = Nomination.objects.update_or_create(round=locked_round, case=locked, defaults=fields)
        note = "\n".join(filter(None, [fields["short_wait_reason"], fields["exception_reason"]]))
        _step(locked, "nominate", actor=actor, round=locked_round, comment=note)
    return nomination


def round_remove_nominee(*, nomination: Nomination, actor: User, reason: str) -> None:
    """Take a nominee off the list before the vote; the case goes back to cultivation, and the
    nomination stays on record with its opinions and the reason."""
    round = nomination.round
    _require_branch_worker(actor, round.branch)
    reason = _text(reason, "reason", _("Give the reason."))
    with transaction.atomic(), _audit(actor, round.branch, note=reason):
        locked_round = _lock_round(round)
        _require_round_stage(locked_round, RoundStage.PRELIMINARY, RoundStage.OPINIONS)
        locked_nomination = Nomination.objects.select_for_update().get(pk=nomination.pk)
        if locked_nomination.removed_at is not None:
            raise PromotionError(_("This nominee has already been taken off the list."))
        case = _lock_case(nomination.case)
        if case.stage != Stage.NOMINATED:
            raise _wrong_stage(case, "remove_from_list")
        _take_off_list(locked_nomination, reason)
        _step(case, "remove_from_list", actor=actor, round=locked_round, comment=reason)


def _take_off_list(nomination: Nomination, reason: str) -> None:
    nomination.removed_at = timezone.now()
    nomination.removed_reason = reason[:200]
    nomination.save(update_fields=["removed_at", "removed_reason"])


def round_open_opinions(*, round: PromotionRound, actor: User) -> PromotionRound:
    """The preliminary list is settled: opinions are asked on each nominee (征求意见)."""
    _require_branch_worker(actor, round.branch)
    with transaction.atomic(), _audit(actor, round.branch):
        locked = _lock_round(round)
        _require_round_stage(locked, RoundStage.PRELIMINARY)
        if not locked.nominations.listed().exists():
            raise PromotionError(_("List at least one candidate first."))
        locked.open_opinions()
        locked.save(update_fields=["stage", "updated_at"])
    return locked


def opinion_record(*, nomination: Nomination, source: str, content: str, favourable: bool, actor: User) -> Opinion:
    round = nomination.round
    _require_branch_worker(actor, round.branch)
    if source not in OpinionSource.values:
        raise PromotionError({"source": _("Choose whose opinion this is.")})
    content = _text(content, "content", _("Write the opinion."))
    with transaction.atomic(), _audit(actor, round.branch):
        locked_round = _lock_round(round)
        _require_round_stage(locked_round, RoundStage.OPINIONS)
        current = Nomination.objects.select_related("case").get(pk=nomination.pk)
        if current.removed_at is not None or current.case.branch_id != locked_round.branch_id:
            raise PromotionError(_("This nominee has been taken off the list."))
        return Opinion.objects.create(
            nomination=nomination, source=source, content=content, favourable=favourable, recorded_by=actor
        )


def quorum_met(*, voting_members: int, present_members: int) -> bool:
    """More than the configured share (½, or ⅔) of the members entitled to vote are present."""
    numerator, denominator = (int(n) for n in settings.PROMOTION_RULES["quorum"].split("/"))
    return present_members * denominator > voting_members * numerator


def quorum_minimum(voting_members: int) -> int:
    """The fewest members present that make the quorum."""
    numerator, denominator = (int(n) for n in settings.PROMOTION_RULES["quorum"].split("/"))
    return voting_members * numerator // denominator + 1


def vote_passes(votes_for: int, *, voting_members: int, present_members: int) -> bool:
    """Votes for more than half of the members entitled to vote (expected to attend), or of those
    present where the locality counts so (PROMOTION_RULES pass_basis)."""
    basis = voting_members if settings.PROMOTION_RULES["pass_basis"] == "voting" else present_members
    return 2 * votes_for > basis


def voting_roster(branch: Organization, day: date) -> int:
    """The branch's members entitled to vote on a day: those in the League that day (joined, and not
    yet left) and in the branch's roster now (a member who moved away no longer counts here)."""
    return (
        Member.objects.filter(branch=branch, joined_on__lte=day)
        .filter(Q(status=MemberStatus.ACTIVE) | Q(left_on__gt=day))
        .count()
    )


def round_record_vote(
    *,
    round: PromotionRound,
    meeting_on: date,
    voting_members: int,
    present_members: int,
    votes: dict[int, tuple[int, int, int]],
    actor: User,
    meeting: Activity | None = None,
    voting_members_reason: str = "",
) -> PromotionRound:
    """The branch general meeting (团员大会): who was entitled to vote, who came, and per candidate the
    votes for, against and abstaining. Figures that cannot be true are refused, as is a meeting below
    the quorum; every candidate passes (on to publicity) or not (back to cultivation, vote kept)."""
    _require_branch_worker(actor, round.branch)
    _not_in_future(meeting_on, "meeting_on")
    if voting_members < 1:
        raise PromotionError({"voting_members": _("At least one member must be entitled to vote.")})
    if present_members < 0:
        raise PromotionError({"present_members": _("The number present cannot be negative.")})
    if present_members > voting_members:
        raise PromotionError(
            {
                "present_members": _("%(present)d present is more than the %(voting)d members entitled to vote.")
                % {"present": present_members, "voting": voting_members}
            }
        )
    if not quorum_met(voting_members=voting_members, present_members=present_members):
        raise PromotionError(
            {
                "present_members": _(
                    "%(present)d of %(voting)d members entitled to vote are present: more than %(share)s must be (at least %(needed)d). The meeting cannot vote."
                )
                % {
                    "present": present_members,
                    "voting": voting_members,
                    "share": QUORUM_LABELS[settings.PROMOTION_RULES["quorum"]],
                    "needed": quorum_minimum(voting_members),
                }
            }
        )
    if meeting is not None:
        if meeting.organization_id != round.branch_id:
            raise PromotionError({"meeting": _("The meeting record belongs to another unit.")})
        if meeting.kind != ActivityKind.GENERAL_MEETING or meeting.held_on != meeting_on:
            raise PromotionError(
                {"meeting": _("Choose the record of the branch general meeting held on %(day)s.") % {"day": meeting_on}}
            )
    voting_members_reason = (voting_members_reason or "").strip()
    with transaction.atomic(), _audit(actor, round.branch, note=voting_members_reason):
        locked = _lock_round(round)
        _require_round_stage(locked, RoundStage.OPINIONS)
        # Entitled to vote: the branch's roster on the meeting day. Fewer (some may not vote) needs the
        # reason on record; more is not possible.
        roster = voting_roster(locked.branch, meeting_on)
        if voting_members > roster:
            raise PromotionError(
                {
                    "voting_members": _("The branch had %(roster)d active members on %(day)s; %(voting)d cannot vote.")
                    % {"roster": roster, "day": meeting_on.isoformat(), "voting": voting_members}
                }
            )
        if voting_members < roster and not voting_members_reason:
            raise PromotionError(
                {
                    "voting_members_reason": _(
                        "The branch had %(roster)d active members on %(day)s: say why only %(voting)d were entitled to vote."
                    )
                    % {"roster": roster, "day": meeting_on.isoformat(), "voting": voting_members}
                }
            )
        nominations = list(locked.nominations.listed().select_related("case__member").order_by("pk"))
        if not nominations:  # everyone was taken off the list after opinions opened: no vote to record
            raise PromotionError(_("Nobody is on the list any more: there is no one to vote on. Close the round."))
        missing = [n.case.member.name for n in nominations if n.pk not in votes]
        if missing:
            raise PromotionError(_("Enter the votes for %(names)s.") % {"names": "、".join(missing)})
        if set(votes) - {n.pk for n in nominations}:
            raise PromotionError(_("Votes were entered for someone not on the list; reload the page."))
        for nomination in nominations:
            figures = votes[nomination.pk]
            if len(figures) != 3 or any(not isinstance(n, int) or n < 0 for n in figures):
                raise PromotionError(_("Votes are whole numbers, zero or more."))
            if sum(figures) > present_members:
                raise PromotionError(
                    _("%(name)s: %(total)d votes for, against and abstaining, but only %(present)d present.")
                    % {"name": nomination.case.member.name, "total": sum(figures), "present": present_members}
                )
        cases = _lock_cases(n.case_id for n in nominations)
        locked.record_vote()
        locked.meeting = meeting
        locked.meeting_on = meeting_on
        locked.voting_members = voting_members
        locked.present_members = present_members
        locked.save(update_fields=["stage", "meeting", "meeting_on", "voting_members", "present_members", "updated_at"])
        for nomination in nominations:
            votes_for, against, abstaining = votes[nomination.pk]
            nomination.votes_for, nomination.votes_against, nomination.votes_abstaining = votes_for, against, abstaining
            nomination.passed = vote_passes(votes_for, voting_members=voting_members, present_members=present_members)
            nomination.save(update_fields=["votes_for", "votes_against", "votes_abstaining", "passed"])
            comment = _(
                "Meeting of %(day)s: %(present)d of %(voting)d present; for %(for)d, against %(against)d, abstaining %(abstaining)d."
            ) % {
                "day": meeting_on.isoformat(),
                "present": present_members,
                "voting": voting_members,
                "for": votes_for,
                "against": against,
                "abstaining": abstaining,
            }
            if voting_members < roster:
                comment = f"{comment}\n{voting_members_reason}"
            transition = "pass_vote" if nomination.passed else "fail_vote"
            _step(cases[nomination.case_id], transition, actor=actor, round=locked, comment=comment)
        if not any(n.passed for n in nominations):
            locked.close()  # nobody to publicize: the round ends here, with its vote on record
            locked.save(update_fields=["stage", "updated_at"])
    return locked


def _round_candidates(round: PromotionRound, stage: str) -> list[Nomination]:
    """The round's listed nominees who passed the vote and whose case is still at `stage` in the round's
    branch (a member who moved away is taken off the list; the branch check keeps it so regardless)."""
    return list(
        round.nominations.listed()
        .filter(passed=True, case__stage=stage, case__branch_id=round.branch_id)
        .select_related("case__member")
        .order_by("pk")
    )


PUBLICITY_START_PAST_DAYS = 7
PUBLICITY_START_AHEAD_DAYS = 30


def round_start_publicity(*, round: PromotionRound, starts_on: date, actor: User) -> PromotionRound:
    """Publicity (公示) of those who passed, for the configured number of working days."""
    _require_branch_worker(actor, round.branch)
    with transaction.atomic(), _audit(actor, round.branch):
        locked = _lock_round(round)
        _require_round_stage(locked, RoundStage.VOTED)
        if starts_on < locked.meeting_on:
            raise PromotionError({"starts_on": _("Publicity starts after the meeting.")})
        # The start is recorded when the notice goes up, give or take a few days' delay in entering it:
        # a start long past would backdate a publicity nobody saw (its working days would have run out
        # before anyone could object), and a start far ahead is a typo rather than a plan.
        today = _today()
        if starts_on < today - timedelta(days=PUBLICITY_START_PAST_DAYS):
            raise PromotionError(
                {
                    "starts_on": _("Publicity cannot start more than %(days)d days ago.")
                    % {"days": PUBLICITY_START_PAST_DAYS}
                }
            )
        if starts_on > today + timedelta(days=PUBLICITY_START_AHEAD_DAYS):
            raise PromotionError(
                {
                    "starts_on": _("Publicity cannot start more than %(days)d days from now.")
                    % {"days": PUBLICITY_START_AHEAD_DAYS}
                }
            )
        candidates = _round_candidates(locked, Stage.VOTED)
        if not candidates:
            raise PromotionError(_("Nobody in this round is waiting for publicity."))
        cases = _lock_cases(n.case_id for n in candidates)
        locked.start_publicity()
        locked.publicity_starts_on = starts_on
        locked.publicity_ends_on = workdays.nth_working_day(
            starts_on, settings.PROMOTION_RULES["publicity_working_days"]
        )
        locked.save(update_fields=["stage", "publicity_starts_on", "publicity_ends_on", "updated_at"])
        comment = _("Publicity from %(start)s to %(end)s.") % {
            "start": starts_on.isoformat(),
            "end": locked.publicity_ends_on.isoformat(),
        }
        for nomination in candidates:
            _step(cases[nomination.case_id], "start_publicity", actor=actor, round=locked, comment=comment)
    return locked


def objection_record(*, nomination: Nomination, received_on: date, content: str, actor: User) -> Objection:
    round = nomination.round
    _require_branch_worker(actor, round.branch)
    content = _text(content, "content", _("Write down the objection."))
    _not_in_future(received_on, "received_on")
    with transaction.atomic(), _audit(actor, round.branch):
        locked_round = _lock_round(round)
        _require_round_stage(locked_round, RoundStage.PUBLICITY)
        if received_on < locked_round.publicity_starts_on:
            raise PromotionError({"received_on": _("Objections are received once publicity has started.")})
        case = _lock_case(nomination.case)
        if case.stage != Stage.PUBLICITY or case.branch_id != locked_round.branch_id:
            raise PromotionError(_("This candidate is no longer in publicity."))
        return Objection.objects.create(
            nomination=nomination, received_on=received_on, content=content, recorded_by=actor
        )


def objection_resolve(*, objection: Objection, upheld: bool, resolution: str, actor: User) -> Objection:
    """Settle an objection: dismissed, the candidate goes on; upheld, the case goes back to cultivation
    (everything recorded stays). The round ends when nobody is left in publicity."""
    round = objection.nomination.round
    _require_branch_worker(actor, round.branch)
    resolution = _text(resolution, "resolution", _("Say how the objection was resolved."))
    with transaction.atomic(), _audit(actor, round.branch):
        locked_round = _lock_round(round)
        _require_round_stage(locked_round, RoundStage.PUBLICITY)
        locked = Objection.objects.select_for_update().get(pk=objection.pk)
        if locked.resolved_on is not None:
            raise PromotionError(_("This objection has already been resolved."))
        locked.upheld = upheld
        locked.resolution = resolution
        locked.resolved_on = _today()
        locked.resolved_by = actor
        locked.save(update_fields=["upheld", "resolution", "resolved_on", "resolved_by"])
        if upheld:
            case = _lock_case(objection.nomination.case)
            if case.stage == Stage.PUBLICITY and case.branch_id == locked_round.branch_id:
                _step(case, "uphold_objection", actor=actor, round=locked_round, comment=resolution)
            _close_round_if_nobody_left(locked_round)
    return locked


def blocking_objections(round: PromotionRound | OuterRef, branch_id: int | OuterRef) -> QuerySet[Objection]:
    """The unresolved objections that hold a round's submission back: only those against candidates
    still in its publicity (on the list, the case in publicity in the round's branch). A candidate
    withdrawn or moved away is out of the round; an objection left open against them must not block
    the others. `round` and `branch_id` may be OuterRefs (the reminder's subquery)."""
    return Objection.objects.filter(
        nomination__round=round,
        resolved_on__isnull=True,
        nomination__removed_at__isnull=True,
        nomination__case__stage=Stage.PUBLICITY,
        nomination__case__branch_id=branch_id,
    )


def _close_round_if_nobody_left(round: PromotionRound) -> None:
    """A round (locked by the caller) whose candidates have all gone (an objection upheld, a case
    withdrawn) ends: nobody is left to vote on, publicize or submit."""
    if round.stage == RoundStage.OPINIONS:  # a preliminary list may be empty while it is drawn up
        left = round.nominations.listed().exists()
    elif round.stage == RoundStage.VOTED:
        left = bool(_round_candidates(round, Stage.VOTED))
    elif round.stage == RoundStage.PUBLICITY:
        left = bool(_round_candidates(round, Stage.PUBLICITY))
    else:
        return
    if not left:
        round.close()
        round.save(update_fields=["stage", "updated_at"])


def round_close(*, round: PromotionRound, reason: str, actor: User) -> PromotionRound:
    """Give up a round before its vote: the nominees go back to cultivation, their opinions kept."""
    _require_branch_worker(actor, round.branch)
    reason = _text(reason, "reason", _("Give the reason."))
    with transaction.atomic(), _audit(actor, round.branch, note=reason):
        locked = _lock_round(round)
        _require_round_stage(locked, RoundStage.PRELIMINARY, RoundStage.OPINIONS)
        nominations = list(locked.nominations.listed().order_by("pk"))
        cases = _lock_cases(n.case_id for n in nominations)
        for nomination in nominations:
            _take_off_list(nomination, reason)
            _step(cases[nomination.case_id], "remove_from_list", actor=actor, round=locked, comment=reason)
        locked.close()
        locked.save(update_fields=["stage", "updated_at"])
    return locked


def round_submit(*, round: PromotionRound, actor: User) -> PromotionRound:
    """After publicity, with every objection resolved, the candidates go to the committee above."""
    _require_branch_worker(actor, round.branch)
    today = _today()
    with transaction.atomic(), _audit(actor, round.branch):
        locked = _lock_round(round)
        _require_round_stage(locked, RoundStage.PUBLICITY)
        if today <= locked.publicity_ends_on:
            raise PromotionError(
                _("Publicity runs until %(day)s; submit the round after it ends.")
                % {"day": locked.publicity_ends_on.isoformat()}
            )
        open_objections = blocking_objections(locked, locked.branch_id)
        names = sorted(set(open_objections.values_list("nomination__case__member__name", flat=True)))
        if names:
            raise PromotionError(
                _("Resolve the objections to %(names)s before submitting.") % {"names": "、".join(names)}
            )
        candidates = _round_candidates(locked, Stage.PUBLICITY)
        cases = _lock_cases(n.case_id for n in candidates)
        _require_still_eligible(
            [(cases[n.case_id], n) for n in candidates],
            today,
            then=_("Bring the member's record up to date, or withdraw the case, then submit the round."),
        )
        locked.submit()
        locked.save(update_fields=["stage", "updated_at"])
        for nomination in candidates:
            _step(cases[nomination.case_id], "submit_for_review", actor=actor, round=locked)
    return locked


def _require_still_eligible(cases: list[tuple[PromotionCase, Nomination | None]], day: date, *, then: str) -> None:
    """The rules checked again on `day` (at submission, at approval): time has passed since the listing
    (a member may have left, had a sanction opened, reached the leaving age). A rule failing now that
    the listing does not excuse refuses, each case's reasons listed (eligibility.recheck), followed by
    what to do `then`."""
    failing = eligibility.recheck(cases, day)
    lines = [
        _("%(name)s no longer meets the rules: %(reasons)s")
        % {"name": case.member.name, "reasons": " ".join(c.detail for c in failing[case.pk])}
        for case, _nomination in cases
        if failing[case.pk]
    ]
    if lines:
        raise PromotionError(" ".join([*lines, then]))


def _latest_listing(case: PromotionCase) -> Nomination | None:
    """The listing that brought the case to review (its eligibility, exception and reasons)."""
    return Nomination.objects.listed().filter(case=case).order_by("-pk").first()


# --- review and after ----------------------------------------------------------------------------


def case_review(
    *, case: PromotionCase, decision: Literal["approve", "return", "reject"], comment: str, actor: User
) -> PromotionCase:
    """The committee above reviews (基层团委审核): approve, return to the branch, or reject. Returning
    and rejecting need a reason. Of two reviewers deciding at once, one wins; the other is told."""
    if decision not in REVIEW_DECISIONS:
        raise PromotionError({"decision": _("Choose a decision.")})
    comment = (comment or "").strip()
    if decision != "approve" and not comment:
        raise PromotionError({"comment": _("Give the reason for returning or rejecting the case.")})
    with transaction.atomic():
        locked = _lock_case(case)
        if not can_review(actor, locked):  # on the locked row: the case may have moved since it was read
            raise PermissionDenied
        if locked.stage != Stage.IN_REVIEW:
            decided = (
                locked.transitions.filter(action__in=REVIEW_TRANSITIONS)
                .select_related("actor")
                .order_by("-at", "-pk")
                .first()
            )
            if decided is not None:
                raise PromotionError(
                    _("%(name)s's case has just been reviewed by %(reviewer)s: %(decision)s.")
                    % {
                        "name": locked.member.name,
                        "reviewer": decided.actor,
                        "decision": ACTION_LABELS[decided.action],
                    }
                )
            raise _wrong_stage(locked, REVIEW_DECISIONS[decision])
        if decision == "approve":
            _require_still_eligible(
                [(locked, _latest_listing(locked))],
                _today(),
                then=_("The case cannot be approved: return it to the branch or reject it."),
            )
        fields = {"closed_on": _today(), "closing_reason": comment[:200]} if decision == "reject" else {}
        _step(locked, REVIEW_DECISIONS[decision], actor=actor, comment=comment, fields=fields)
    return locked


def case_resubmit(*, case: PromotionCase, comment: str, actor: User) -> PromotionCase:
    """A returned case goes back to review, with what the branch changed."""
    comment = _text(comment, "comment", _("Say what was changed since the case was returned."))
    with transaction.atomic():
        locked = _lock_case_as(case, actor)
        if locked.stage != Stage.RETURNED:
            raise _wrong_stage(locked, "submit_for_review")
        _require_still_eligible(
            [(locked, _latest_listing(locked))],
            _today(),
            then=_("Bring the member's record up to date, or take the case back to cultivation, then resubmit."),
        )
        _step(locked, "submit_for_review", actor=actor, comment=comment)
    return locked


def case_back_to_cultivation(*, case: PromotionCase, reason: str, actor: User) -> PromotionCase:
    """A returned case the branch does not resubmit goes back to cultivation, with the reason: the member
    is cultivated further and listed in a later round (voted and publicized afresh). Everything
    recorded stays: the earlier listing, its vote and the review's comment."""
    reason = _text(reason, "reason", _("Give the reason."))
    with transaction.atomic(), _audit(actor, case.branch, note=reason):
        locked = _lock_case_as(case, actor)
        _step(locked, "back_to_cultivation", actor=actor, comment=reason)
    return locked


def hand_over_party_organizations(branch: Organization) -> QuerySet[PartyOrganization]:
    """The Party organizations a branch may hand a case to: the one paired with the branch and those
    paired with the units above it, nearest first (one query)."""
    step = Organization.steplen
    paths = [branch.path[:end] for end in range(step, len(branch.path) + 1, step)]
    # The filter comes before the annotation, so `nearest` is the depth of the deepest paired unit on
    # the branch's own path (a Party organization may be paired with other units elsewhere too).
    return (
        PartyOrganization.objects.filter(units__path__in=paths)
        .annotate(nearest=Max("units__depth"))
        .order_by("-nearest", "name", "pk")
    )


def paired_party_organization(branch: Organization) -> PartyOrganization | None:
    """The branch's paired Party organization, or that of its nearest paired unit above."""
    if branch.party_organization_id:
        return branch.party_organization
    return hand_over_party_organizations(branch).first()


def case_hand_over(
    *,
    case: PromotionCase,
    handed_over_on: date,
    actor: User,
    party_organization: PartyOrganization | None = None,
) -> PromotionCase:
    """The branch hands the signed form to the Party organization (by default the one paired with the
    branch or the nearest unit above it); the recommendation's validity starts that day."""
    _not_in_future(handed_over_on, "handed_over_on")
    with transaction.atomic():
        locked = _lock_case_as(case, actor)
        # The pairings of the locked row's branch (the case may have moved since it was read).
        party_organization = _hand_over_target(locked.branch, party_organization, actor)
        if locked.stage == Stage.APPROVED and handed_over_on < timezone.localtime(locked.stage_since).date():
            raise PromotionError({"handed_over_on": _("The hand-over comes after the approval.")})
        # Valid for N years including the first day: recommended on 1 March 2026, valid until 28
        # February 2028, lapsed from 1 March 2028 if the Party has not acted.
        valid_until = add_years(handed_over_on, settings.PROMOTION_RULES["validity_years"]) - timedelta(days=1)
        _step(
            locked,
            "hand_over",
            actor=actor,
            comment=str(party_organization),
            fields={
                "party_organization": party_organization,
                "recommended_on": handed_over_on,
                "valid_until": valid_until,
            },
        )
    return locked


def _hand_over_target(
    branch: Organization, party_organization: PartyOrganization | None, actor: User
) -> PartyOrganization:
    """The Party organization a case of `branch` is handed to: the one chosen, checked, or the paired one."""
    party_organization = party_organization or paired_party_organization(branch)
    if party_organization is None:
        raise PromotionError(
            {
                "party_organization": _(
                    "No Party organization is paired with this branch or a unit above it; choose one."
                )
            }
        )
    if party_organization.county_id != _county_id(branch):
        raise PromotionError({"party_organization": _("Choose a Party organization of this county.")})
    # A wrong pick would send the member's record to an unrelated organizer: branch workers hand over
    # only along the branch's own pairings; county staff (those who may allow exceptions) may choose
    # any Party organization of the county.
    if (
        not can_allow_exception_in(actor, branch)
        and not hand_over_party_organizations(branch).filter(pk=party_organization.pk).exists()
    ):
        raise PromotionError(
            {"party_organization": _("Choose the Party organization paired with the branch or with a unit above it.")}
        )
    return party_organization


def _county_id(unit: Organization) -> int:
    return Organization.objects.only("pk").get(path=unit.path[: Organization.steplen]).pk


def case_record_party_decision(
    *,
    case: PromotionCase,
    decision: Literal["activist", "development", "probationary", "full", "not_adopted"],
    decided_on: date,
    actor: User,
    comment: str = "",
) -> list[str]:
    """Record what the Party organization decided, with its date. Returns warnings where the Party's
    own time rules look broken (activist under a year before becoming a development candidate,
    probation under a year): they are shown and kept in the history, not refused, because the League
    records the Party's decision rather than making it.

    A Party often tells the League late: naming the person activist or development candidate may be
    recorded on a recommendation the daily sweep has lapsed, when it was decided within the validity
    (decided_on ≤ valid_until); the case opens again at that stage. A decision dated after the validity
    is refused: the recommendation no longer held, the member is recommended again."""
    if decision not in PARTY_DECISIONS:
        raise PromotionError({"decision": _("Choose the decision.")})
    _not_in_future(decided_on, "decided_on")
    comment = (comment or "").strip()
    rules = settings.PROMOTION_RULES
    with transaction.atomic(), _audit(actor, case.branch, note=comment):
        # The member before the case, in the order of the member's own services (leaving, transfers:
        # member, then round, then case), so that the two never wait on each other in a circle.
        member = Member.objects.select_for_update().get(pk=case.member_id)
        locked = _lock_case_as(case, actor)
        transition = PARTY_DECISIONS[decision]
        if decision == "activist" and locked.track == Track.DEVELOPMENT:
            raise PromotionError({"decision": _("On this track the member is already a Party activist.")})
        if not can_proceed(getattr(locked, transition)):
            raise _wrong_stage(locked, transition)
        # A decision naming the person (activist, development candidate) holds only within the
        # recommendation's validity; recorded on a lapsed case, it reopens it (one open case a member).
        late = locked.stage == Stage.LAPSED
        naming = decision in ("activist", "development") and locked.stage in (Stage.RECOMMENDED, Stage.LAPSED)
        if naming and (
            (late and locked.valid_until is None) or (locked.valid_until and decided_on > locked.valid_until)
        ):
            raise PromotionError(
                {
                    "decided_on": _(
                        "The recommendation was valid until %(day)s: a decision taken after that cannot be recorded on it. The member has to be recommended again."
                    )
                    % {"day": locked.valid_until.isoformat() if locked.valid_until else "—"}
                }
            )
        if late:
            other = PromotionCase.objects.open().filter(member=member).exclude(pk=locked.pk).order_by("pk").first()
            if other is not None:
                raise _other_open_case(
                    member,
                    other,
                    hint=_("Withdraw it first if the Party's decision on the lapsed recommendation replaces it."),
                )
        previous = {
            "recommended_on": locked.recommended_on,
            "activist_since": locked.activist_since,
            "development_on": locked.development_on,
            "probationary_on": locked.probationary_on,
        }
        for name, day in previous.items():
            if day is not None and decided_on < day:
                raise PromotionError(
                    {
                        "decided_on": _("The decision cannot come before %(what)s (%(day)s).")
                        % {"what": PromotionCase._meta.get_field(name).verbose_name, "day": day.isoformat()}
                    }
                )
        warnings: list[str] = []
        fields: dict[str, Any] = {"closed_on": None, "closing_reason": ""} if late else {}
        if decision == "activist":
            fields["activist_since"] = decided_on
        elif decision == "development":
            fields["development_on"] = decided_on
            if locked.activist_since is None:
                warnings.append(_("No date is recorded for becoming a Party activist."))
            elif decided_on < add_years(locked.activist_since, rules["activist_years"]):
                warnings.append(
                    _("Activist since %(day)s: less than %(years)d years before becoming a development candidate.")
                    % {"day": locked.activist_since.isoformat(), "years": rules["activist_years"]}
                )
        elif decision == "probationary":
            fields["probationary_on"] = decided_on
        elif decision == "full":
            fields.update(full_member_on=decided_on, closed_on=decided_on)
            if decided_on < add_years(locked.probationary_on, rules["probation_years"]):
                warnings.append(
                    _("Probationary member since %(day)s: the probation is shorter than %(years)d years.")
                    % {"day": locked.probationary_on.isoformat(), "years": rules["probation_years"]}
                )
        else:
            fields.update(closed_on=decided_on, closing_reason=(comment or str(ACTION_LABELS[transition]))[:200])
        reopened = (
            _("Recorded after the recommendation lapsed: decided within its validity (until %(day)s).")
            % {"day": locked.valid_until.isoformat()}
            if late
            else ""
        )
        note = "\n".join(
            filter(None, [_("Decided on %(day)s.") % {"day": decided_on.isoformat()}, reopened, comment, *warnings])
        )
        _step(locked, transition, actor=actor, comment=note, fields=fields)
        status = {"probationary": PoliticalStatus.PROBATIONARY_PARTY, "full": PoliticalStatus.PARTY_MEMBER}.get(
            decision
        )
        if status is not None:
            member.political_status = status
            member.save(update_fields=["political_status", "updated_at"])
    return warnings


def case_withdraw(*, case: PromotionCase, reason: str, actor: User) -> PromotionCase:
    """Close an open case with a reason (e.g. the member asked to); nothing recorded is removed."""
    reason = _text(reason, "reason", _("Give the reason."))
    with transaction.atomic(), _audit(actor, case.branch, note=reason):
        return _withdraw(case.pk, reason=reason, actor=actor, check_worker=True)


def _lock_open_round_of(case_id: int) -> tuple[Nomination | None, PromotionRound | None]:
    """The case's latest listing and, when its round is still under way, the round locked. Callers lock
    the round before the case, in the order the round's services lock them, so that the two never wait
    on each other."""
    listed = Nomination.objects.listed().filter(case_id=case_id).select_related("round").order_by("-pk").first()
    if listed is None or listed.round.stage in (RoundStage.SUBMITTED, RoundStage.CLOSED):
        return listed, None
    return listed, _lock_round(listed.round)


def _withdraw(case_id: int, *, reason: str, actor: User | None, check_worker: bool = False) -> PromotionCase:
    """Withdraw a case, taking it off a round still under way. With `check_worker`, the actor is
    checked against the locked case's branch (a user's request; the leaving hook has checked its own)."""
    listed, round = _lock_open_round_of(case_id)
    (case,) = _lock_cases([case_id]).values()
    if check_worker:
        _require_branch_worker(actor, case.branch)
    if not case.is_open:
        raise _wrong_stage(case, "withdraw")
    stage = case.stage
    _step(
        case,
        "withdraw",
        actor=actor,
        round=round,
        comment=reason,
        fields={"closed_on": _today(), "closing_reason": reason[:200]},
    )
    if round is not None:
        if stage == Stage.NOMINATED:
            _take_off_list(listed, reason)
        _close_round_if_nobody_left(round)
    return case


# --- the member's life carries the cases (hooks called by members.lifecycle and members.transfers) ---


def cases_withdraw_for_leaving(*, member: Member, actor: User) -> int:
    """The member has left (over age, withdrawal, lapse, removal, out of the county): their cases not yet
    handed over are closed with the reason. Cases the branch has handed over stay open: the person is
    the Party's to decide on now (most leave the League over age on the way to Party membership), and
    its decisions are still recorded; only the follow-up reports stop (selectors.due_reports). Runs
    inside the caller's transaction, after its own checks."""
    reason = _("The member left the League (%(status)s).") % {"status": MemberStatus(member.status).label}
    if member.leaving_reason:
        reason = f"{reason} {member.leaving_reason}"
    case_ids = list(
        PromotionCase.objects.filter(member=member, stage__in=CULTIVATION_STAGES)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for case_id in case_ids:
        _withdraw(case_id, reason=reason, actor=actor)
    return len(case_ids)


def cases_follow_member(*, member: Member, from_branch: Organization, actor: User) -> int:
    """The member moved to another branch of the county: their open cases move with them. A case still
    in a round (listed, passed the vote, in publicity) is taken off the old branch's list and goes back
    to cultivation, its vote kept on record: the recommendation is the branch's that knows the member,
    so the new branch lists and votes on its own, and the old branch's secretary no longer acts on it.
    A round left with nobody ends. Cases submitted for review or later simply move."""
    to_branch = member.branch
    case_ids = list(PromotionCase.objects.open().filter(member=member).order_by("pk").values_list("pk", flat=True))
    comment = _("Moved from %(from)s to %(to)s with the member.") % {"from": from_branch, "to": to_branch}
    for case_id in case_ids:
        listed, round = _lock_open_round_of(case_id)  # the round before the case, as the round's services do
        (case,) = _lock_cases([case_id]).values()
        if case.stage in ROUND_STAGES:
            if listed is not None:
                _take_off_list(listed, comment)
            _step(case, "remove_from_list", actor=actor, round=round, comment=comment)
        case.branch = to_branch
        case.save(update_fields=["branch", "updated_at"])
        _history(case, "move", actor=actor, comment=comment, changes={"branch": [str(from_branch), str(to_branch)]})
        if round is not None:
            _close_round_if_nobody_left(round)
    return len(case_ids)


# --- the daily sweep -----------------------------------------------------------------------------

LAPSE_BATCH = 200


def lapse_expired_cases(day: date | None = None) -> int:
    """Recommendations the Party has not acted on within their validity lapse (the person has to be
    recommended again). In bounded batches, rows claimed with SKIP LOCKED: safe to run twice or in two
    workers at once. Each lapse has its transition and audit entry, with no actor (the system)."""
    day = day or _today()
    lapsed = 0
    while True:
        with transaction.atomic():
            due = list(
                PromotionCase.objects.select_for_update(of=("self",), skip_locked=True)
                .select_related("branch", "member")
                .filter(stage=Stage.RECOMMENDED, valid_until__lt=day)
                .order_by("pk")[:LAPSE_BATCH]
            )
            if not due:
                return lapsed
            for case in due:
                reason = _("Valid until %(day)s; the Party organization did not act in time.") % {
                    "day": case.valid_until.isoformat()
                }
                _step(
                    case, "lapse", actor=None, comment=reason, fields={"closed_on": day, "closing_reason": reason[:200]}
                )
        lapsed += len(due)


# --- the yearly plan -----------------------------------------------------------------------------


def plan_save(
    *,
    committee: Organization,
    year: int,
    targets: dict[tuple[int, str], int],
    note: str,
    actor: User,
) -> PromotionPlan:
    """A grassroots committee's 推优 plan for a year: how many members each unit under it should
    recommend on each track. `targets` is the whole plan: units left out (or at 0) have no target."""
    if committee.kind not in COMMITTEE_KINDS:
        raise PromotionError(_("Plans are made by township and other grassroots committees."))
    if not user_scope(actor).manages(committee):
        raise PermissionDenied
    today = _today()
    if not today.year - 1 <= year <= today.year + 1:
        raise PromotionError({"year": _("Choose last year, this year or next year.")})
    if any(not isinstance(value, int) or value < 0 for value in targets.values()):
        raise PromotionError({"targets": _("Targets are whole numbers, zero or more.")})
    wanted = {key: value for key, value in targets.items() if value}
    if any(track not in Track.values for _unit, track in wanted):
        raise PromotionError({"targets": _("Unknown track.")})
    unit_ids = {unit for unit, _track in wanted}
    units = set(
        Organization.objects.filter(pk__in=unit_ids, path__startswith=committee.path)
        .exclude(pk=committee.pk)
        .values_list("pk", flat=True)
    )
    if unit_ids - units:
        raise PromotionError({"targets": _("Targets are set for units under %(unit)s.") % {"unit": committee}})
    with transaction.atomic(), audit_context(actor, on_behalf_of=_principal(actor, committee), note=note.strip()):
        Organization.objects.select_for_update().get(pk=committee.pk)  # two savers of one plan take turns
        plan, created = PromotionPlan.objects.get_or_create(
            committee=committee, year=year, defaults={"note": note.strip(), "created_by": actor}
        )
        if not created and plan.note != note.strip():
            plan.note = note.strip()
            plan.save(update_fields=["note"])
        existing = {(t.organization_id, t.track): t for t in plan.targets.all()}
        for key, target in existing.items():
            if key not in wanted:
                target.delete()  # audited (PlanTarget is registered); the plan's history keeps it
            elif target.target != wanted[key]:
                target.target = wanted[key]
                target.save(update_fields=["target"])
        for (unit_id, track), value in wanted.items():
            if (unit_id, track) not in existing:
                PlanTarget.objects.create(plan=plan, organization_id=unit_id, track=track, target=value)
    return plan
