"""The demo county's year of 推优: built through the services (so its history is real), with something
at every stage for every page to show, and added once."""

import io
from datetime import timedelta

from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db.models import Max, Min
from django.utils import timezone

from members.models import Evaluation, Member, Registration, Transfer
from promotion import due
from promotion.models import (
    CaseTransition,
    CultivationReport,
    FollowUpReport,
    Nomination,
    Objection,
    PromotionCase,
    PromotionPlan,
    PromotionRound,
    RoundStage,
    Stage,
    Talk,
)


def snapshot() -> dict[str, int]:
    return {
        "cases": PromotionCase.objects.count(),
        "transitions": CaseTransition.objects.count(),
        "rounds": PromotionRound.objects.count(),
        "cultivation": CultivationReport.objects.count(),
        "follow_up": FollowUpReport.objects.count(),
        "talks": Talk.objects.count(),
        "plans": PromotionPlan.objects.count(),
        "audit": LogEntry.objects.count(),
    }


def test_the_demo_county_gets_a_year_of_pipeline_once(db):
    """One seed for every check (it takes a while): stages, history, reports, waits, then a second run."""
    call_command("seed_demo", members=2000, stdout=io.StringIO())

    # Something at every stage, from cultivation to full member and each way out, for every page.
    assert set(PromotionCase.objects.values_list("stage", flat=True)) == set(Stage.values)
    rounds = set(PromotionRound.objects.values_list("stage", flat=True))
    assert {RoundStage.PRELIMINARY, RoundStage.OPINIONS, RoundStage.VOTED, RoundStage.PUBLICITY} <= rounds
    votes = Nomination.objects.filter(round__stage=RoundStage.VOTED)
    assert set(votes.values_list("passed", flat=True)) == {True, False}
    assert Objection.objects.filter(resolved_on__isnull=True, nomination__round__stage=RoundStage.PUBLICITY).exists()
    assert set(Objection.objects.exclude(upheld=None).values_list("upheld", flat=True)) == {True, False}
    assert PromotionCase.objects.filter(stage=Stage.IN_REVIEW, transitions__action="return_to_branch").exists()
    assert PromotionPlan.objects.count() == 10  # each township and street committee

    # The services' own history: a transition and an audit entry for every step, over more than a year.
    case_type = ContentType.objects.get_for_model(PromotionCase)
    assert CaseTransition.objects.count() == LogEntry.objects.filter(content_type=case_type).count()
    span = CaseTransition.objects.aggregate(first=Min("at"), last=Max("at"))
    assert span["last"] - span["first"] > timedelta(days=365) and span["last"] <= timezone.now()

    # Reports filed late and reports missing; reviews waiting a few days and too long.
    today = timezone.localdate()
    assert any(
        timezone.localtime(report.filed_at).date() > due.follow_up_due_on(report.month)
        for report in FollowUpReport.objects.all()
    )
    owed = due.due_reports(PromotionCase.objects.open(), today)
    assert any(report.overdue for reports in owed.values() for report in reports)
    waiting = [
        (today - timezone.localtime(case.stage_since).date()).days
        for case in PromotionCase.objects.filter(stage=Stage.IN_REVIEW)
    ]
    assert min(waiting) <= settings.PROMOTION_RULES["review_waiting_days"] < max(waiting)

    # Every change to a person's record is in the audit trail, the demo's bulk writes too: one entry
    # per member created, per registration and per evaluation (on the member), per transfer.
    member_type = ContentType.objects.get_for_model(Member)
    on_members = LogEntry.objects.filter(content_type=member_type)
    assert on_members.filter(action=LogEntry.Action.CREATE).count() == Member.objects.count()
    assert on_members.filter(changes__has_key="registration").count() == Registration.objects.count()
    assert on_members.filter(changes__has_key="evaluation").count() == Evaluation.objects.count()
    transfer_type = ContentType.objects.get_for_model(Transfer)
    assert LogEntry.objects.filter(content_type=transfer_type).count() == Transfer.objects.count() > 0
    # Each by the account that recorded it, as the services would write it.
    registration = Registration.objects.order_by("-pk").first()
    entry = on_members.get(object_pk=str(registration.member_id), changes__registration=["", registration.year])
    assert entry.actor_id == registration.recorded_by_id

    # Idempotent: a second run adds nothing.
    before = snapshot()
    call_command("seed_demo", stdout=io.StringIO())
    assert snapshot() == before
