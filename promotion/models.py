"""The 推优 pipeline: recommending outstanding League members to the Party (domain.md §0, §6).

A `PromotionCase` is one member's recommendation on one track, from the Party application through
cultivation, a branch's recommendation round (`PromotionRound`, entered as a `Nomination`), publicity and
review, to the hand-over and the Party's decisions. Its `stage` is a state machine (django-fsm-2): the
allowed transitions are the decorated methods below and nothing else can change it (`protected=True`).
Services in promotion/services.py call these methods under a row lock, then write one `CaseTransition`
(the pipeline's own history, from which time in stage and period figures are derived) and one audit entry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from branches.models import Organization, PartyOrganization, subtree_filter

if TYPE_CHECKING:
    from branches.models import User


class Track(models.TextChoices):
    ACTIVIST = "activist", _("Applicant → activist (推荐为入党积极分子人选)")
    DEVELOPMENT = "development", _("Activist → development candidate (推荐为发展对象人选)")


class Stage(models.TextChoices):
    CULTIVATION = "cultivation", _("Cultivation before recommendation (推荐前培养)")
    NOMINATED = "nominated", _("On a preliminary list (初步名单)")
    VOTED = "voted", _("Passed by the branch general meeting")
    PUBLICITY = "publicity", _("In publicity (公示)")
    IN_REVIEW = "in_review", _("Waiting for review above")
    RETURNED = "returned", _("Returned to the branch")
    APPROVED = "approved", _("Approved, to be handed over")
    RECOMMENDED = "recommended", _("Recommended to the Party")
    ACTIVIST = "activist", _("Party activist (入党积极分子)")
    DEVELOPMENT = "development", _("Development candidate (发展对象)")
    PROBATIONARY = "probationary", _("Probationary Party member (预备党员)")
    FULL_MEMBER = "full_member", _("Full Party member (正式党员)")
    REJECTED = "rejected", _("Rejected in review")
    NOT_ADOPTED = "not_adopted", _("Not adopted by the Party")
    LAPSED = "lapsed", _("Recommendation lapsed")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    # An activist-track case whose member goes on as an activist on the development track (发展对象推优):
    # a member has one open case at a time, so the first closes when the second opens.
    CONTINUED = "continued", _("Continued on the development track")


TERMINAL_STAGES = frozenset(
    {Stage.FULL_MEMBER, Stage.REJECTED, Stage.NOT_ADOPTED, Stage.LAPSED, Stage.WITHDRAWN, Stage.CONTINUED}
)
OPEN_STAGES = frozenset(Stage.values) - TERMINAL_STAGES
# Before the hand-over the branch files a quarterly cultivation report (推荐前培养, domain.md §0).
CULTIVATION_STAGES = frozenset(
    {Stage.CULTIVATION, Stage.NOMINATED, Stage.VOTED, Stage.PUBLICITY, Stage.IN_REVIEW, Stage.RETURNED, Stage.APPROVED}
)
# After it, a monthly follow-up report (推荐后继续培养考察) until the Party admits the person.
FOLLOW_UP_STAGES = frozenset({Stage.RECOMMENDED, Stage.ACTIVIST, Stage.DEVELOPMENT})
# The Party's side of the pipeline: what the Party organization decides, the League records.
PARTY_STAGES = frozenset({Stage.RECOMMENDED, Stage.ACTIVIST, Stage.DEVELOPMENT, Stage.PROBATIONARY})


class PromotionCaseQuerySet(models.QuerySet["PromotionCase"]):
    def visible_to(self, user: User) -> Self:
        """Cases of the units the user works in through a League role; a Party organizer sees the cases
        handed over to their Party organization (read-only, the agreed fields: see the views)."""
        from branches.scope import user_scope

        if user.is_superuser:
            return self
        scope = user_scope(user)
        party_ids = [a.party_organization_id for a in scope.assignments if a.party_organization_id]
        handed_over = (
            Q(party_organization_id__in=party_ids, recommended_on__isnull=False) if party_ids else Q(pk__in=[])
        )
        return self.filter(subtree_filter(scope.record_paths, "branch__path") | handed_over)

    def open(self) -> Self:
        return self.exclude(stage__in=TERMINAL_STAGES)


class PromotionCase(FSMModelMixin, models.Model):
    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="promotion_cases", verbose_name=_("member")
    )
    track = models.CharField(_("track"), max_length=12, choices=Track.choices)
    # The member's branch, kept in step when the member transfers inside the county (the case moves too).
    branch = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="promotion_cases", verbose_name=_("branch")
    )
    stage = FSMField(_("stage"), max_length=16, choices=Stage.choices, default=Stage.CULTIVATION, protected=True)
    party_applied_on = models.DateField(_("Party application date"))
    party_applied_month_only = models.BooleanField(
        _("only the month is known"), default=False, help_text=_("The application date is recorded to the month.")
    )
    activist_since = models.DateField(_("activist since"), null=True, blank=True)
    recommended_on = models.DateField(_("recommended on"), null=True, blank=True)
    valid_until = models.DateField(_("recommendation valid until"), null=True, blank=True)
    party_organization = models.ForeignKey(
        PartyOrganization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="promotion_cases",
        verbose_name=_("handed over to"),
    )
    development_on = models.DateField(_("development candidate since"), null=True, blank=True)
    probationary_on = models.DateField(_("probationary member since"), null=True, blank=True)
    full_member_on = models.DateField(_("full member since"), null=True, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    closing_reason = models.CharField(_("closing reason"), max_length=200, blank=True)
    stage_since = models.DateTimeField(_("in this stage since"), auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PromotionCaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("推优 case")
        verbose_name_plural = _("推优 cases")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "track"],
                condition=~Q(stage__in=sorted(TERMINAL_STAGES)),
                name="one_open_case_per_member_and_track",
            )
        ]
        indexes = [models.Index(fields=["branch", "stage"]), models.Index(fields=["stage", "stage_since"])]

    def __str__(self) -> str:
        return f"{self.member} · {self.get_track_display()}"

    @property
    def is_open(self) -> bool:
        return self.stage not in TERMINAL_STAGES

    # The transition table. Bodies are empty on purpose: the services set dates and write history.
    @transition(field=stage, source=Stage.CULTIVATION, target=Stage.NOMINATED)
    def nominate(self) -> None: ...

    # Before the vote (the branch takes a nominee off its list), or after it when the member moves to
    # another branch: the old branch's vote and publicity do not carry to the new branch.
    @transition(field=stage, source=[Stage.NOMINATED, Stage.VOTED, Stage.PUBLICITY], target=Stage.CULTIVATION)
    def remove_from_list(self) -> None: ...

    @transition(field=stage, source=Stage.NOMINATED, target=Stage.VOTED)
    def pass_vote(self) -> None: ...

    @transition(field=stage, source=Stage.NOMINATED, target=Stage.CULTIVATION)
    def fail_vote(self) -> None: ...

    @transition(field=stage, source=Stage.VOTED, target=Stage.PUBLICITY)
    def start_publicity(self) -> None: ...

    @transition(field=stage, source=Stage.PUBLICITY, target=Stage.CULTIVATION)
    def uphold_objection(self) -> None: ...

    @transition(field=stage, source=[Stage.PUBLICITY, Stage.RETURNED], target=Stage.IN_REVIEW)
    def submit_for_review(self) -> None: ...

    @transition(field=stage, source=Stage.IN_REVIEW, target=Stage.APPROVED)
    def approve(self) -> None: ...

    @transition(field=stage, source=Stage.IN_REVIEW, target=Stage.RETURNED)
    def return_to_branch(self) -> None: ...

    # A returned case the branch does not resubmit as it is (the member needs more cultivation): it is
    # listed again in a later round, voted and publicized afresh.
    @transition(field=stage, source=Stage.RETURNED, target=Stage.CULTIVATION)
    def back_to_cultivation(self) -> None: ...

    @transition(field=stage, source=Stage.IN_REVIEW, target=Stage.REJECTED)
    def reject(self) -> None: ...

    @transition(field=stage, source=Stage.APPROVED, target=Stage.RECOMMENDED)
    def hand_over(self) -> None: ...

    # From LAPSED too: the Party may decide within the validity and tell the League after the daily
    # sweep lapsed the case (the service accepts only a decision dated within the validity).
    @transition(field=stage, source=[Stage.RECOMMENDED, Stage.LAPSED], target=Stage.ACTIVIST)
    def party_names_activist(self) -> None: ...

    @transition(field=stage, source=[Stage.RECOMMENDED, Stage.ACTIVIST, Stage.LAPSED], target=Stage.DEVELOPMENT)
    def party_names_development_candidate(self) -> None: ...

    # Taken only when the member's development-track case is opened (services.case_open).
    @transition(field=stage, source=Stage.ACTIVIST, target=Stage.CONTINUED)
    def continue_on_development_track(self) -> None: ...

    @transition(field=stage, source=Stage.DEVELOPMENT, target=Stage.PROBATIONARY)
    def party_admits_probationary(self) -> None: ...

    @transition(field=stage, source=Stage.PROBATIONARY, target=Stage.FULL_MEMBER)
    def party_confirms_full_member(self) -> None: ...

    @transition(field=stage, source=sorted(PARTY_STAGES), target=Stage.NOT_ADOPTED)
    def party_does_not_adopt(self) -> None: ...

    @transition(field=stage, source=Stage.RECOMMENDED, target=Stage.LAPSED)
    def lapse(self) -> None: ...

    @transition(field=stage, source=sorted(OPEN_STAGES), target=Stage.WITHDRAWN)
    def withdraw(self) -> None: ...


class CaseTransition(models.Model):
    """One step of a case: who moved it from which stage to which, when, and why. Append-only."""

    case = models.ForeignKey(PromotionCase, on_delete=models.PROTECT, related_name="transitions")
    action = models.CharField(_("action"), max_length=40)
    from_stage = models.CharField(_("from"), max_length=16, choices=Stage.choices)
    to_stage = models.CharField(_("to"), max_length=16, choices=Stage.choices)
    round = models.ForeignKey(
        "PromotionRound", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("round")
    )
    # Empty for the system's own steps (a recommendation lapsing when its validity ends).
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    comment = models.TextField(_("comment"), blank=True)
    at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("case transition")
        verbose_name_plural = _("case transitions")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["to_stage", "at"]), models.Index(fields=["case", "at"])]

    def __str__(self) -> str:
        return f"{self.case_id} {self.from_stage} → {self.to_stage}"


class RoundStage(models.TextChoices):
    PRELIMINARY = "preliminary", _("Preliminary list (初步名单)")
    OPINIONS = "opinions", _("Asking for opinions (征求意见)")
    VOTED = "voted", _("Voted by the branch general meeting (团员大会)")
    PUBLICITY = "publicity", _("In publicity (公示)")
    SUBMITTED = "submitted", _("Submitted for review")
    CLOSED = "closed", _("Closed")


class PromotionRoundQuerySet(models.QuerySet["PromotionRound"]):
    def visible_to(self, user: User) -> Self:
        from branches.scope import user_scope

        if user.is_superuser:
            return self
        return self.filter(subtree_filter(user_scope(user).record_paths, "branch__path"))


class PromotionRound(FSMModelMixin, models.Model):
    """A branch's recommendation round (推优批次) on one track: the preliminary list, the opinions, the
    branch general meeting's vote, publicity, then submission of the passed candidates for review."""

    branch = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="promotion_rounds", verbose_name=_("branch")
    )
    track = models.CharField(_("track"), max_length=12, choices=Track.choices)
    title = models.CharField(_("title"), max_length=100)
    stage = FSMField(
        _("stage"), max_length=12, choices=RoundStage.choices, default=RoundStage.PRELIMINARY, protected=True
    )
    # The branch general meeting (团员大会): members entitled to vote (from the roster) and present.
    meeting = models.ForeignKey(
        "branches.Activity",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("meeting record"),
    )
    meeting_on = models.DateField(_("meeting date"), null=True, blank=True)
    voting_members = models.PositiveIntegerField(_("members entitled to vote"), null=True, blank=True)
    present_members = models.PositiveIntegerField(_("members present"), null=True, blank=True)
    publicity_starts_on = models.DateField(_("publicity starts on"), null=True, blank=True)
    publicity_ends_on = models.DateField(_("publicity ends on"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PromotionRoundQuerySet.as_manager()

    class Meta:
        verbose_name = _("recommendation round")
        verbose_name_plural = _("recommendation rounds")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One round under way per branch and track: the share cap counts a branch's nominees across
            # its rounds, and several open rounds would let a branch list everyone a round at a time.
            models.UniqueConstraint(
                fields=["branch", "track"],
                condition=~Q(stage__in=["submitted", "closed"]),
                name="one_open_round_per_branch_and_track",
            ),
            models.CheckConstraint(
                name="round_present_within_voting",
                condition=Q(present_members__isnull=True)
                | Q(voting_members__isnull=True)
                | Q(present_members__lte=models.F("voting_members")),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @transition(field=stage, source=RoundStage.PRELIMINARY, target=RoundStage.OPINIONS)
    def open_opinions(self) -> None: ...

    @transition(field=stage, source=RoundStage.OPINIONS, target=RoundStage.VOTED)
    def record_vote(self) -> None: ...

    @transition(field=stage, source=RoundStage.VOTED, target=RoundStage.PUBLICITY)
    def start_publicity(self) -> None: ...

    @transition(field=stage, source=RoundStage.PUBLICITY, target=RoundStage.SUBMITTED)
    def submit(self) -> None: ...

    @transition(
        field=stage,
        source=[
            RoundStage.PRELIMINARY,
            RoundStage.OPINIONS,
            RoundStage.VOTED,
            RoundStage.PUBLICITY,
            RoundStage.SUBMITTED,
        ],
        target=RoundStage.CLOSED,
    )
    def close(self) -> None: ...


class NominationQuerySet(models.QuerySet["Nomination"]):
    def listed(self) -> Self:
        """Nominations still on their round's list (not taken off before the vote)."""
        return self.filter(removed_at__isnull=True)


class Nomination(models.Model):
    """A case on a round's list: the eligibility found when it was listed (kept, explained), any exception
    allowed, and the votes the branch general meeting gave it."""

    round = models.ForeignKey(PromotionRound, on_delete=models.PROTECT, related_name="nominations")
    case = models.ForeignKey(PromotionCase, on_delete=models.PROTECT, related_name="nominations")
    # [{"rule": "age", "ok": true, "detail": "…"}, …] as checked when listed.
    eligibility = models.JSONField(_("eligibility"), default=list)
    is_priority = models.BooleanField(_("priority candidate"), default=False)
    priority_reasons = models.CharField(_("why a priority candidate"), max_length=200, blank=True)
    short_wait_reason = models.TextField(
        _("reason for a shorter wait"),
        blank=True,
        help_text=_("Required when the Party application is more recent than the usual wait."),
    )
    exception_reason = models.TextField(_("exception allowed by the county"), blank=True)
    exception_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    votes_for = models.PositiveIntegerField(_("votes for"), null=True, blank=True)
    votes_against = models.PositiveIntegerField(_("votes against"), null=True, blank=True)
    votes_abstaining = models.PositiveIntegerField(_("abstentions"), null=True, blank=True)
    passed = models.BooleanField(_("passed"), null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Taken off the list before the vote (the case goes back to cultivation); kept, with the reason,
    # so the opinions already asked stay on record. Listing the case again clears it.
    removed_at = models.DateTimeField(_("taken off the list at"), null=True, blank=True)
    removed_reason = models.CharField(_("reason for taking off the list"), max_length=200, blank=True)

    objects = NominationQuerySet.as_manager()

    class Meta:
        verbose_name = _("nomination")
        verbose_name_plural = _("nominations")
        ordering = ["round", "pk"]
        constraints = [models.UniqueConstraint(fields=["round", "case"], name="nomination_once_per_round")]

    def __str__(self) -> str:
        return f"{self.round} · {self.case}"


class OpinionSource(models.TextChoices):
    PARTY_MEMBERS = "party_members", _("Party members")
    LEAGUE_MEMBERS = "league_members", _("League members")
    PARTY_ORGANIZATION = "party_organization", _("The Party organization")


class Opinion(models.Model):
    """An opinion asked for on a nominee (征求意见)."""

    nomination = models.ForeignKey(Nomination, on_delete=models.PROTECT, related_name="opinions")
    source = models.CharField(_("from"), max_length=20, choices=OpinionSource.choices)
    content = models.TextField(_("opinion"))
    favourable = models.BooleanField(_("favourable"), default=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("opinion")
        verbose_name_plural = _("opinions")
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.nomination} {self.get_source_display()}"


class Objection(models.Model):
    """An objection raised during publicity; the case goes on only when every objection is resolved."""

    nomination = models.ForeignKey(Nomination, on_delete=models.PROTECT, related_name="objections")
    received_on = models.DateField(_("received on"))
    content = models.TextField(_("objection"))
    resolution = models.TextField(_("resolution"), blank=True)
    upheld = models.BooleanField(_("upheld"), null=True, help_text=_("Upheld objections take the case off the list."))
    resolved_on = models.DateField(_("resolved on"), null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        ordering = ["received_on", "pk"]

    def __str__(self) -> str:
        return f"{self.nomination} {self.received_on}"


class CultivationReport(models.Model):
    """The quarterly report to the Party organization on a member before recommendation (推荐前培养)."""

    case = models.ForeignKey(PromotionCase, on_delete=models.PROTECT, related_name="cultivation_reports")
    year = models.PositiveSmallIntegerField(_("year"))
    quarter = models.PositiveSmallIntegerField(_("quarter"))
    content = models.TextField(_("performance in League work"))
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    filed_at = models.DateTimeField(_("filed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("cultivation report")
        verbose_name_plural = _("cultivation reports")
        ordering = ["-year", "-quarter"]
        constraints = [
            models.UniqueConstraint(fields=["case", "year", "quarter"], name="cultivation_report_once_a_quarter"),
            models.CheckConstraint(
                name="cultivation_report_quarter_valid", condition=Q(quarter__gte=1, quarter__lte=4)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case} {self.year}Q{self.quarter}"


class FollowUpReport(models.Model):
    """The monthly follow-up report on a recommended person (推荐后继续培养考察): thinking, work, study."""

    case = models.ForeignKey(PromotionCase, on_delete=models.PROTECT, related_name="follow_up_reports")
    month = models.DateField(_("month"), help_text=_("The first day of the month reported on."))
    thinking = models.TextField(_("thinking (思想)"))
    work = models.TextField(_("work (工作)"))
    study = models.TextField(_("study (学习)"))
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    filed_at = models.DateTimeField(_("filed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("follow-up report")
        verbose_name_plural = _("follow-up reports")
        ordering = ["-month"]
        constraints = [
            models.UniqueConstraint(fields=["case", "month"], name="follow_up_report_once_a_month"),
            models.CheckConstraint(name="follow_up_report_month_is_first_day", condition=Q(month__day=1)),
        ]

    def __str__(self) -> str:
        return f"{self.case} {self.month:%Y-%m}"


class Talk(models.Model):
    """A heart-to-heart talk (谈心谈话) with a person in the pipeline."""

    case = models.ForeignKey(PromotionCase, on_delete=models.PROTECT, related_name="talks")
    held_on = models.DateField(_("date"))
    held_by = models.CharField(_("talked with by"), max_length=50)
    summary = models.TextField(_("summary"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("talk")
        verbose_name_plural = _("talks")
        ordering = ["-held_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.case} {self.held_on}"


class PromotionPlan(models.Model):
    """A grassroots committee's yearly 推优 plan, in line with the Party's development plan."""

    committee = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="promotion_plans", verbose_name=_("committee")
    )
    year = models.PositiveSmallIntegerField(_("year"))
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("推优 plan")
        verbose_name_plural = _("推优 plans")
        ordering = ["-year"]
        constraints = [models.UniqueConstraint(fields=["committee", "year"], name="one_plan_per_committee_and_year")]

    def __str__(self) -> str:
        return f"{self.committee} {self.year}"


class PlanTarget(models.Model):
    """How many members a unit under the committee should recommend on a track in the plan's year."""

    plan = models.ForeignKey(PromotionPlan, on_delete=models.CASCADE, related_name="targets")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+", verbose_name=_("unit"))
    track = models.CharField(_("track"), max_length=12, choices=Track.choices)
    target = models.PositiveIntegerField(_("target"))

    class Meta:
        verbose_name = _("plan target")
        verbose_name_plural = _("plan targets")
        constraints = [
            models.UniqueConstraint(fields=["plan", "organization", "track"], name="plan_target_once_per_unit_track")
        ]

    def __str__(self) -> str:
        return f"{self.plan} {self.organization} {self.target}"


class CalendarDay(models.Model):
    """An exception to the Monday–Friday working week: a public holiday on a weekday, or a weekend day
    worked in its place (调休). Publicity periods count working days over these."""

    day = models.DateField(_("date"), unique=True)
    is_working_day = models.BooleanField(_("working day"))
    note = models.CharField(_("note"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("calendar exception")
        verbose_name_plural = _("calendar exceptions")
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day} {self.note}"
